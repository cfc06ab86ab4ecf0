package dev.ivkit.cli;

import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.model.ModelFingerprint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit probe}: knowledge vs instruction following on the first {@code --prompts} held-out queries.
 * {@code bare} = mean P(y | x) with the zero-shot prompt of the input alone; {@code instructed} = mean P(y | c, x)
 * with c = {@code --shots} demonstrations from train, or, when {@code --shots 0} and the task has an instruction
 * (SuperNI), the IV authors' instruction prompt. Probabilities are per-token geometric means (see
 * {@link KnowledgeProbe}). Prints both; with {@code --out DIR} also writes {@code DIR/probe.json}.
 */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Knowledge vs instruction following: P(y|x) bare and P(y|c,x) with demonstrations or instruction.")
final class ProbeCommand implements Callable<Integer> {
    static final String PROBE = "probe.json";

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Option(names = "--prompts", defaultValue = "50", description = "held-out examples probed (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--shots", defaultValue = "5", description = "demonstrations in the instructed prompt "
            + "(default: ${DEFAULT-VALUE})")
    int shots;

    @Option(names = "--out", description = "output folder (probe.json)")
    Path out;

    @Override
    public Integer call() {
        ScanCommand.requirePositive("prompts", prompts);
        PromptBuilder builder = taskOptions.builder();
        TaskDataset data = taskOptions.load();
        Splits splits = taskOptions.split(data, shots);
        List<TaskExample> queries = TaskOptions.heldOutQueries(splits,
                Math.min(prompts, splits.test().size() + splits.valid().size()));
        List<Prompt> bare = TaskOptions.prompts(builder, queries, splits.train(), 0, false, null);
        List<Prompt> instructed;
        String context;
        if (shots == 0 && data.instruction().isPresent()) {
            instructed = new ArrayList<>();
            for (TaskExample q : queries) {
                instructed.add(PromptBuilder.superNiInstruction(data.instruction().get(), q));
            }
            context = "instruction";
        } else {
            instructed = TaskOptions.prompts(builder, queries, splits.train(), shots, false, new Random(taskOptions.seed + 3));
            context = shots + "-shot demonstrations";
        }
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open()) {
            List<Integer> keep = TaskOptions.fitting("probe", loaded.tokenizer(), loaded.model().config().maxSeqLen(), 0,
                    List.of(bare, instructed));
            KnowledgeProbe.Result r = new KnowledgeProbe(loaded.model(), loaded.tokenizer())
                    .run(TaskOptions.select(bare, keep), TaskOptions.select(instructed, keep));
            System.out.printf(Locale.ROOT, "task:                 %s (%d examples)%n", data.name(), r.examples());
            System.out.printf(Locale.ROOT, "P(y | x) bare:        %.6f%n", r.bare());
            System.out.printf(Locale.ROOT, "P(y | c, x) with %s: %.6f%n", context, r.instructed());
            if (out != null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("format", "ivkit-probe");
                m.put("ivkit_version", new Main.Version().getVersion()[0]);
                m.put("model", modelOptions.model.toString());
                m.put("model_fingerprint", ModelFingerprint.of(loaded.model()));
                m.put("task", data.name());
                m.put("task_file", taskOptions.task.toString());
                m.put("prompt_format", taskOptions.format);
                m.put("seed", taskOptions.seed);
                m.put("context", context);
                m.put("shots", shots);
                m.put("examples", r.examples());
                m.put("bare", r.bare());
                m.put("instructed", r.instructed());
                JsonFiles.write(out.resolve(PROBE), m);
            }
            return 0;
        }
    }
}
