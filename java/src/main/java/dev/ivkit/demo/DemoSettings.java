package dev.ivkit.demo;

import dev.ivkit.InvalidArgumentException;

/**
 * Sizes of one {@code ivkit demo} run.
 *
 * @param evalPerTask   test queries per task (accuracies, recovery)
 * @param valPerTask    validation queries per task (train-split words) for choosing the IV layer
 * @param ivPrompts     clean 5-shot prompts per task for mean z and the exact CIE scan
 * @param ivHeads       top-k heads of the IV
 * @param probePerTask  examples per task in the knowledge probe
 * @param trainExamples instruction examples per fine-tuning task (one epoch: trainExamples / batch steps)
 * @param batch         fine-tuning batch size
 * @param lr            fine-tuning learning rate (constant)
 * @param seeds         seeds 1..N per method
 */
public record DemoSettings(int evalPerTask, int valPerTask, int ivPrompts, int ivHeads, int probePerTask, int trainExamples,
        int batch, double lr, int seeds) {
    public DemoSettings {
        if (evalPerTask <= 0 || valPerTask <= 0 || ivPrompts <= 0 || ivHeads <= 0 || probePerTask <= 0 || trainExamples <= 0
                || batch <= 0 || !(lr > 0) || seeds <= 0) {
            throw new InvalidArgumentException("demo", "every size must be positive");
        }
    }

    /** The default demo: 40 test queries per task, 8 scan prompts, 48 steps of batch 16 per fine-tuning task. */
    public static DemoSettings full(int seeds) {
        return new DemoSettings(40, 20, 8, 4, 12, 768, 16, 1e-3, seeds);
    }

    /** A much smaller run (tests): a handful of queries and 4 steps per task. */
    public static DemoSettings quick(int seeds) {
        return new DemoSettings(6, 4, 2, 4, 3, 32, 8, 1e-3, seeds);
    }

    public int stepsPerTask() {
        return (trainExamples + batch - 1) / batch;
    }
}
