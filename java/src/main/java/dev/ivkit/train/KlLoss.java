package dev.ivkit.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Row-wise temperature-scaled KL between current logits (with gradient) and reference logits (constant), as a
 * libtorch composite: the reference implementation the fused kernel is tested against, and the fallback.
 */
public final class KlLoss {
    private KlLoss() {}

    /**
     * @param current   [rows, vocab] (requires grad)
     * @param reference [rows, vocab]
     * @return [rows] float32 KL per row
     */
    public static Tensor rows(Tensor current, Tensor reference, double temperature, KlDirection dir) {
        Tensor lp = current.to(torch.ScalarType.Float).div(new Scalar(temperature)).log_softmax(1);
        Tensor lq = reference.to(torch.ScalarType.Float).detach().div(new Scalar(temperature)).log_softmax(1);
        Tensor kl = dir == KlDirection.REVERSE ? lp.exp().mul(lp.sub(lq)) : lq.exp().mul(lq.sub(lp));
        return kl.sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }
}
