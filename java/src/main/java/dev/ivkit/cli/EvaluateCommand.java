package dev.ivkit.cli;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit evaluate}: does the instruction vector make the model do the task? On the first {@code --prompts}
 * held-out queries (test, then valid): zero-shot without and with the vector at {@code --layer} (default: the layer
 * in the vector's metadata) or at every layer ({@code --sweep}); with {@code --shots N > 0} also N-shot prompts with
 * shuffled demo labels, without and with the vector (Todd et al.). Teacher-forced top-1/2/3 and NLL, and with
 * {@code --max-new-tokens > 0} greedy answers scored by exact match, F1 and ROUGE-L. Writes {@code DIR/eval.json}.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Evaluate an instruction vector: zero-shot (and shuffled few-shot) with and without it.")
final class EvaluateCommand implements Callable<Integer> {
    static final String EVAL = "eval.json";

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Option(names = "--iv", required = true, description = "folder written by ivkit extract")
    Path ivDir;

    static final class Where {
        @Option(names = "--layer", description = "layer to add the vector at (default: the vector's own)")
        Integer layer;

        @Option(names = "--sweep", description = "evaluate the vector at every layer")
        boolean sweep;
    }

    @ArgGroup(exclusive = true)
    Where where = new Where();

    @Option(names = "--prompts", defaultValue = "50", description = "held-out queries evaluated (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--shots", defaultValue = "0", description = "> 0 adds the shuffled-label N-shot setting "
            + "(default: ${DEFAULT-VALUE})")
    int shots;

    @Option(names = "--max-new-tokens", defaultValue = "8", description = "greedy answer length; 0 = teacher-forced "
            + "scores only (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--scale", defaultValue = "1", description = "multiplier of the vector (default: ${DEFAULT-VALUE})")
    float scale;

    @Option(names = "--out", required = true, description = "output folder (eval.json)")
    Path out;

    @Override
    public Integer call() {
        ScanCommand.requirePositive("prompts", prompts);
        if (maxNewTokens < 0) {
            throw new InvalidArgumentException("max-new-tokens", "must be >= 0, got " + maxNewTokens);
        }
        PromptBuilder builder = taskOptions.builder();
        TaskDataset data = taskOptions.load();
        Splits splits = taskOptions.split(data, shots);
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open(); InstructionVector iv = InstructionVector.load(ivDir)) {
            LlamaModel model = loaded.model();
            iv.requireCompatible(model, ivDir.resolve(InstructionVector.TENSORS));
            String fingerprint = ModelFingerprint.of(model);
            Object ivFingerprint = iv.metadata().get("model_fingerprint");
            if (ivFingerprint != null && !fingerprint.equals(ivFingerprint)) {
                System.err.println("evaluate: warning: the vector was built on model " + ivFingerprint
                        + ", this model is " + fingerprint + " (same shapes)");
            }
            int layer = where.layer != null ? where.layer : ivLayer(iv, model.config().nLayers());
            var queries = TaskOptions.heldOutQueries(splits, Math.min(prompts, splits.test().size() + splits.valid().size()));
            IvEvaluator ev = new IvEvaluator(model, loaded.tokenizer());

            List<List<Prompt>> lists = new ArrayList<>();
            lists.add(TaskOptions.prompts(builder, queries, splits.train(), 0, false, null));
            if (shots > 0) {
                lists.add(TaskOptions.prompts(builder, queries, splits.train(), shots, true, new Random(taskOptions.seed + 2)));
            }
            List<Integer> keep = TaskOptions.fitting("evaluate", loaded.tokenizer(), model.config().maxSeqLen(),
                    maxNewTokens, lists);
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("zero_shot", run(ev, TaskOptions.select(lists.get(0), keep), iv, layer));
            if (shots > 0) {
                settings.put("shuffled_" + shots + "_shot", run(ev, TaskOptions.select(lists.get(1), keep), iv, layer));
            }

            Map<String, Object> result = new LinkedHashMap<>();
            result.put("format", "ivkit-eval");
            result.put("ivkit_version", new Main.Version().getVersion()[0]);
            result.put("model", modelOptions.model.toString());
            result.put("model_fingerprint", fingerprint);
            result.put("iv", ivDir.toString());
            result.put("task", data.name());
            result.put("task_file", taskOptions.task.toString());
            result.put("prompt_format", taskOptions.format);
            result.put("seed", taskOptions.seed);
            result.put("prompts", keep.size());
            result.put("skipped_long_prompts", queries.size() - keep.size());
            result.put("shots", shots);
            result.put("scale", scale);
            result.put("max_new_tokens", maxNewTokens);
            result.put("layer", where.sweep ? "sweep" : layer);
            result.put("settings", settings);
            JsonFiles.write(out.resolve(EVAL), result);
            for (Map.Entry<String, Object> e : settings.entrySet()) {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> rs = (List<Map<String, Object>>) e.getValue();
                for (Map<String, Object> r : rs) {
                    System.out.printf(Locale.ROOT, "%-16s layer %-8s top1 %.3f  nll %.4f  f1 %.3f%n", e.getKey(),
                            (int) r.get("layer") < 0 ? "none" : r.get("layer"), r.get("top1"), r.get("nll"), r.get("f1"));
                }
            }
            System.out.println("evaluate: wrote " + out.resolve(EVAL));
            return 0;
        }
    }

    /** The baseline then the vector at the chosen layer, or at every layer with --sweep. */
    private List<Map<String, Object>> run(IvEvaluator ev, List<Prompt> ps, InstructionVector iv, int layer) {
        List<IvEvaluator.Result> rs = where.sweep ? ev.sweep(ps, iv.vector(), scale, maxNewTokens, true)
                : List.of(ev.evaluate(ps, null, -1, scale, maxNewTokens, true),
                        ev.evaluate(ps, iv.vector(), layer, scale, maxNewTokens, true));
        List<Map<String, Object>> out = new ArrayList<>();
        for (IvEvaluator.Result r : rs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", r.layer());
            m.put("prompts", r.prompts());
            m.put("top1", r.top1());
            m.put("top2", r.top2());
            m.put("top3", r.top3());
            m.put("nll", r.nll());
            m.put("exact_match", r.exactMatch());
            m.put("f1", r.f1());
            m.put("rouge_l", r.rougeL());
            out.add(m);
        }
        return out;
    }

    private static int ivLayer(InstructionVector iv, int nLayers) {
        Object l = iv.metadata().get("layer");
        return l instanceof Number n ? n.intValue() : nLayers / 3;
    }
}
