package dev.ivkit.train;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.RunResult;
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
    }

    /**
     * @param total scalar tensor to add to the CE loss (with gradient)
     * @param kl1   weighted KL at the answer-predicting position (reported)
     * @param kl2   weighted KL over real positions (reported)
     * @param pr    weighted head-preservation MSE (reported)
     */
    record Terms(Tensor total, double kl1, double kl2, double pr) {}
}
