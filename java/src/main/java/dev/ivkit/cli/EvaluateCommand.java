package dev.ivkit.cli;

import dev.ivkit.CancellationToken;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.pipeline.Evaluation;
import dev.ivkit.pipeline.TaskInput;
import dev.ivkit.results.EvalFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * {@code --max-new-tokens > 0} greedy answers scored by exact match, F1 and ROUGE-L (the work is
 * {@link Evaluation}'s). Writes {@code DIR/eval.json} ({@link EvalFile}).
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Evaluate an instruction vector: zero-shot (and shuffled few-shot) with and without it.")
final class EvaluateCommand implements Callable<Integer> {
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
        Evaluation.Settings settings = new Evaluation.Settings(prompts, shots, maxNewTokens, scale, where.layer, where.sweep);
        TaskInput task = taskOptions.input(shots);
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open(); InstructionVector iv = InstructionVector.load(ivDir)) {
            EvalFile.Eval e = Evaluation.run(loaded.model(), loaded.tokenizer(), modelOptions.model.toString(), task, iv,
                    ivDir, settings, TaskOptions.messages("evaluate"), new CancellationToken());
            EvalFile.write(out.resolve(EvalFile.NAME), e);
            for (Map.Entry<String, List<EvalFile.LayerScore>> s : e.settings().entrySet()) {
                for (EvalFile.LayerScore r : s.getValue()) {
                    System.out.printf(Locale.ROOT, "%-16s layer %-8s top1 %.3f  nll %.4f  f1 %.3f%n", s.getKey(),
                            r.layer() < 0 ? "none" : r.layer(), r.top1(), r.nll(), r.f1());
                }
            }
            System.out.println("evaluate: wrote " + out.resolve(EvalFile.NAME));
            return 0;
        }
    }
}
