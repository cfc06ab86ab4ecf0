package dev.ivkit.train;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * What data-parallel training needs from the other ranks. {@link dev.ivkit.train.Trainer} calls
 * {@link #allreduceMean} once per optimizer step, after the backward passes of all its micro-batches and before
 * clipping, so every rank clips and steps on the same global gradient.
 */
public interface GradientSync {
    /**
     * This process's index among the ranks.
     *
     * @return 0 to {@code worldSize() - 1}; 0 is the leader
     */
    int rank();

    /**
     * The number of data-parallel processes.
     *
     * @return at least 1
     */
    int worldSize();

    /**
     * Replaces each tensor, in place, by its mean over all ranks.
     *
     * @param tensors the tensors, the same list (order and shapes) on every rank
     */
    void allreduceMean(List<Tensor> tensors);

    /**
     * Replaces each value, in place, by its sum over all ranks (float64).
     *
     * @param values the values, of the same length on every rank
     */
    void allreduceSum(double[] values);

    /**
     * Copies rank {@code root}'s tensors into every rank's, in place (no autograd).
     *
     * @param tensors the tensors, the same list (order and shapes) on every rank
     * @param root    the rank whose values are copied
     */
    void broadcast(List<Tensor> tensors, int root);
}
