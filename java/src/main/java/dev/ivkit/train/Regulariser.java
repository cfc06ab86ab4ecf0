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
    Prepared prepare(LlamaModel model, TrainBatch batch, int step, int totalSteps);

    /** One batch's share of the regulariser. */
    interface Prepared {
        /** Captures the training forward must make (merged into its plan). */
        HookPlan trainingPlan();

        /** The terms, given the training forward's result (logits [batch, len, vocab] with gradient). */
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
