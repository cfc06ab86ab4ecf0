package dev.ivkit.cli;

import dev.ivkit.CancellationToken;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.pipeline.Probing;
import dev.ivkit.pipeline.TaskInput;
import dev.ivkit.results.ProbeFile;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit probe}: knowledge vs instruction following on the first {@code --prompts} held-out queries.
 * {@code bare} = mean P(y | x) with the zero-shot prompt of the input alone; {@code instructed} = mean P(y | c, x)
 * with c = {@code --shots} demonstrations from train, or, when {@code --shots 0} and the task has an instruction
 * (SuperNI), the IV authors' instruction prompt. Probabilities are per-token geometric means (see
 * {@link KnowledgeProbe}; the work is {@link Probing}'s). Prints both; with {@code --out DIR} also writes
 * {@code DIR/probe.json} ({@link ProbeFile}).
 */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Knowledge vs instruction following: P(y|x) bare and P(y|c,x) with demonstrations or instruction.")
final class ProbeCommand implements Callable<Integer> {
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
        Probing.Settings settings = new Probing.Settings(prompts, shots);
        TaskInput task = taskOptions.input(shots);
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open()) {
            ProbeFile.Probe r = Probing.run(loaded.model(), loaded.tokenizer(), modelOptions.model.toString(), task,
                    settings, TaskOptions.messages("probe"), new CancellationToken());
            System.out.printf(Locale.ROOT, "task:                 %s (%d examples)%n", r.task(), r.examples());
            System.out.printf(Locale.ROOT, "P(y | x) bare:        %.6f%n", r.bare());
            System.out.printf(Locale.ROOT, "P(y | c, x) with %s: %.6f%n", r.context(), r.instructed());
            if (out != null) {
                ProbeFile.write(out.resolve(ProbeFile.NAME), r);
            }
            return 0;
        }
    }
}
