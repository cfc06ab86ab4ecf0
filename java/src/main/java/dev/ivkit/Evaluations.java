package dev.ivkit;

import dev.ivkit.iv.InstructionVector;
import dev.ivkit.pipeline.Evaluation;
import dev.ivkit.pipeline.Probing;
import dev.ivkit.pipeline.TaskInput;
import dev.ivkit.results.EvalFile;
import dev.ivkit.results.ProbeFile;

/** The work behind {@link IvkitModel#evaluate} and {@link IvkitModel#probe}: options mapped onto the pipeline. */
final class Evaluations {
    private Evaluations() {}

    /** {@code ivkit evaluate} on an open model, with the same defaults and the same numbers. */
    static EvalFile.Eval evaluate(IvkitModel m, EvaluateOptions o, ProgressListener listener, CancellationToken cancel) {
        cancel.throwIfCancelled("evaluate before it started");
        Evaluation.Settings s = new Evaluation.Settings(o.prompts, o.shots, o.maxNewTokens, o.scale, o.layer, o.sweep);
        TaskInput task = load(o.spec, o.shots, listener);
        if (o.iv != null) {
            return Evaluation.run(m.llama(), m.tokenizer(), m.path().toString(), task, o.iv, null, s, listener, cancel);
        }
        try (InstructionVector iv = InstructionVector.load(o.ivDir)) {
            return Evaluation.run(m.llama(), m.tokenizer(), m.path().toString(), task, iv, o.ivDir, s, listener, cancel);
        }
    }

    /** {@code ivkit probe} on an open model, with the same defaults and the same numbers. */
    static ProbeFile.Probe probe(IvkitModel m, ProbeOptions o, ProgressListener listener, CancellationToken cancel) {
        cancel.throwIfCancelled("probe before it started");
        Probing.Settings s = new Probing.Settings(o.prompts, o.shots);
        TaskInput task = load(o.spec, o.shots, listener);
        return Probing.run(m.llama(), m.tokenizer(), m.path().toString(), task, s, listener, cancel);
    }

    /** Reports the PREPARE stage, then loads and splits the task for prompts of {@code shots} demonstrations. */
    private static TaskInput load(TaskSpec t, int shots, ProgressListener listener) {
        listener.onStage(ProgressListener.Stage.PREPARE, "task " + t.task());
        return TaskInput.load(t.task(), t.split(), t.instructions(), t.format().cliName(), t.seed(), shots);
    }
}
