package dev.ivkit;

/**
 * Progress of a facade operation ({@link IvkitModel#extractIv}, {@link IvkitModel#train}, {@link IvkitModel#evaluate},
 * {@link IvkitModel#probe}). Every method has an empty
 * default, so a listener implements only what it needs. Callbacks run on the thread doing the work, between two units
 * of work; they should return quickly. An exception thrown from a callback aborts the operation (use a
 * {@link CancellationToken} for an orderly stop).
 */
public interface ProgressListener {
    /** The stages an operation goes through, in this order (an operation skips the ones it has not). */
    enum Stage {
        /** reading the task file, splitting it, sampling and tokenizing prompts */
        PREPARE,
        /** mean head activations over the clean prompts */
        MEAN_ACTIVATIONS,
        /** the head scan: one step per scanned prompt */
        SCAN,
        /** ranking heads and building the instruction vector */
        BUILD_VECTOR,
        /** held-out loss before training (no adapter) */
        EVAL_BEFORE,
        /** training: one step per optimizer step */
        TRAIN,
        /** held-out loss after training */
        EVAL_AFTER,
        /** evaluating an instruction vector: one step per setting and layer evaluated */
        EVALUATE,
        /** the knowledge probe: bare and instructed answer probabilities */
        PROBE,
        /** the operation finished */
        DONE
    }

    /**
     * A stage begins.
     *
     * @param stage  the stage
     * @param detail a short human-readable description (counts, file names); never null
     */
    default void onStage(Stage stage, String detail) {}

    /**
     * One unit of work of a stage is done.
     *
     * @param stage {@link Stage#SCAN}, {@link Stage#TRAIN} or {@link Stage#EVALUATE}
     * @param done  units done so far (1-based; for a resumed training, counts the steps before the resume too)
     * @param total units of the whole stage
     * @param value {@link Stage#TRAIN}: the step's loss (CE plus regulariser terms); {@link Stage#SCAN}: the prompt's
     *              unpatched probability of its first answer token; {@link Stage#EVALUATE}: the top-1 accuracy of
     *              the setting and layer just evaluated
     */
    default void onStep(Stage stage, int done, int total, double value) {}

    /**
     * Something worth telling a user that does not stop the operation (prompts left out as longer than the context,
     * a training resumed from a checkpoint).
     *
     * @param message one line of text
     */
    default void onMessage(String message) {}

    /** @return a listener that ignores everything */
    static ProgressListener none() {
        return new ProgressListener() {};
    }
}
