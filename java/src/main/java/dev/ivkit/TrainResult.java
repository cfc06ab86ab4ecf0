package dev.ivkit;

import dev.ivkit.model.LoraAdapter;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link IvkitModel#train} did: the per-step losses of the steps it ran, the held-out loss before and after,
 * and the trained adapter (attached to the model; owned by the {@link IvkitModel}, valid until its next
 * {@code train} or its {@code close}).
 */
public final class TrainResult {
    private final int steps;
    private final int startStep;
    private final List<Double> losses;
    private final double evalLossBefore;
    private final double evalLossAfter;
    private final int trainExamples;
    private final int evalExamples;
    private final boolean ivGuided;
    private final Path adapterDir;
    private final Path metricsFile;
    private final LoraAdapter adapter;

    TrainResult(int steps, int startStep, List<Double> losses, double evalLossBefore, double evalLossAfter,
            int trainExamples, int evalExamples, boolean ivGuided, Path adapterDir, Path metricsFile, LoraAdapter adapter) {
        this.steps = steps;
        this.startStep = startStep;
        this.losses = List.copyOf(losses);
        this.evalLossBefore = evalLossBefore;
        this.evalLossAfter = evalLossAfter;
        this.trainExamples = trainExamples;
        this.evalExamples = evalExamples;
        this.ivGuided = ivGuided;
        this.adapterDir = adapterDir;
        this.metricsFile = metricsFile;
        this.adapter = adapter;
    }

    /** @return the optimizer steps of the whole run, including those before a resume */
    public int steps() {
        return steps;
    }

    /** @return the step this call started from: 0, or the checkpoint's step when resumed */
    public int startStep() {
        return startStep;
    }

    /**
     * @return the loss (CE plus regulariser terms) of each step this call ran, in order: element i is step
     *         {@code startStep() + i + 1}
     */
    public List<Double> losses() {
        return losses;
    }

    /** @return mean answer cross-entropy on the held-out examples without an adapter (NaN when there were none) */
    public double evalLossBefore() {
        return evalLossBefore;
    }

    /** @return mean answer cross-entropy on the held-out examples with the trained adapter (NaN when none) */
    public double evalLossAfter() {
        return evalLossAfter;
    }

    /** @return training examples per pass (after cycling to the step count, when steps were set) */
    public int trainExamples() {
        return trainExamples;
    }

    /** @return held-out examples */
    public int evalExamples() {
        return evalExamples;
    }

    /** @return whether training was IV-guided */
    public boolean ivGuided() {
        return ivGuided;
    }

    /** @return the saved adapter's folder (PEFT layout), or null when training ran without an outDir */
    public Path adapterDir() {
        return adapterDir;
    }

    /** @return {@code metrics.jsonl} (step, loss, ce, kl, kl1, kl2, pr, lr per step), or null without an outDir */
    public Path metricsFile() {
        return metricsFile;
    }

    /** @return the trained adapter, attached to the model */
    public LoraAdapter adapter() {
        return adapter;
    }
}
