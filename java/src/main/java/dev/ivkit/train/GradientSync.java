package dev.ivkit.train;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * What data-parallel training needs from the other ranks. {@link dev.ivkit.train.Trainer} calls
 * {@link #allreduceMean} once per optimizer step, after the backward passes of all its micro-batches and before
 * clipping, so every rank clips and steps on the same global gradient.
 */
public interface GradientSync {
    int rank();

    int worldSize();

    /** Replaces each tensor, in place, by its mean over all ranks. */
    void allreduceMean(List<Tensor> tensors);

    /** Replaces each value, in place, by its sum over all ranks (float64). */
    void allreduceSum(double[] values);

    /** Copies rank {@code root}'s tensors into every rank's, in place (no autograd). */
    void broadcast(List<Tensor> tensors, int root);
}
