package dev.ivkit.train;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.RunResult;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Extra training terms computed around the training forward: {@link #prepare} runs before it (reference passes,
 * without gradients) and returns the hooks the training pass needs and the function that turns its result into loss
 * terms.
 */
public interface Regulariser {
    /**
     * Runs the reference passes of one batch, before its training forward.
     *
     * @param model      the model being trained (its adapter is toggled as the reference needs, and restored)
     * @param batch      the batch the training forward will run on
     * @param step       the optimizer step, 0-based
     * @param totalSteps the number of optimizer steps of the run
     * @return the hooks the training pass needs and the function that computes the terms from its result
     */
    Prepared prepare(LlamaModel model, TrainBatch batch, int step, int totalSteps);

    /** One batch's share of the regulariser. */
    interface Prepared {
        /**
         * Captures the training forward must make (merged into its plan).
         *
         * @return the hook plan; empty when nothing is needed
         */
        HookPlan trainingPlan();

        /**
         * The terms, given the training forward's result.
         *
         * @param training the training forward's result: logits [batch, len, vocab] with gradient and the captures of
         *                 {@link #trainingPlan()}
         * @return the loss to add and the weighted terms to report
         */
        Terms terms(RunResult training);

        /**
         * The whole training loss of the batch: {@code ceScale · CE + termsScale · terms}, CE being
         * {@link TrainBatch#crossEntropy} of the training logits. This default computes the CE and {@link #terms}
         * separately and adds them by autograd; a regulariser may override it to compute the same loss more cheaply
         * (e.g. one gradient into the logits for both), equal up to float rounding.
         *
         * @param training   the training forward's result (as for {@link #terms})
         * @param batch      the batch this share was prepared for (its answer rows and labels give the CE)
         * @param ceScale    the CE's factor in the returned loss (1 for one process; the rank's weight in a
         *                   data-parallel run)
         * @param termsScale the terms' factor in the returned loss
         * @return the loss to backward, and the unscaled CE value and terms for logging
         */
        default Loss loss(RunResult training, TrainBatch batch, double ceScale, double termsScale) {
            Tensor ce = batch.crossEntropy(training.logits());
            Terms terms = terms(training);
            Tensor total = scaled(ce, ceScale).add(scaled(terms.total(), termsScale));
            return new Loss(total, Torch.item(ce), terms);
        }
    }

    /** {@code t · scale}; {@code t} itself when the scale is 1. */
    private static Tensor scaled(Tensor t, double scale) {
        return scale == 1 ? t : t.mul(new Scalar(scale));
    }

    /**
     * A batch's whole training loss ({@link Prepared#loss}).
     *
     * @param total scalar tensor to backward: the scaled CE plus the scaled terms (with gradient)
     * @param ce    the unscaled mean answer cross-entropy (reported)
     * @param terms the unscaled terms (reported); where the loss was computed fused, its {@code total} holds the terms'
     *              value without gradient
     */
    record Loss(Tensor total, double ce, Terms terms) {}

    /**
     * @param total scalar tensor to add to the CE loss (with gradient; in the {@link Loss} of a fused
     *              {@link Prepared#loss}, the terms' value without gradient)
     * @param kl1   weighted KL at the answer-predicting position (reported)
     * @param kl2   weighted KL over real positions (reported)
     * @param pr    weighted head-preservation MSE (reported)
     */
    record Terms(Tensor total, double kl1, double kl2, double pr) {}
}
