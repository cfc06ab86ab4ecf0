package dev.ivkit.kernels;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * An fp64 accuracy reference for the top-k KL: the dense reference distribution q̃ of a cached top-k entry, written
 * from its definition (the cached log q on the ids; elsewhere log Q + log p_j − log P, P the current mass off the ids,
 * summed directly in fp64, clamped at 1e-30 as the kernel does), returned as logits T · log q̃ so that {@link KlComposite} can take the KL against it.
 */
public final class TopkDense {
    private TopkDense() {}

    /**
     * @param current [rows, V] logits (any float dtype)
     * @param ids     int32 [rows, k]
     * @param logq    float32 [rows, k]
     * @param logRest float32 [rows]
     * @param t       the temperature
     * @return float64 [rows, V] reference logits
     */
    public static Tensor referenceLogits(Tensor current, Tensor ids, Tensor logq, Tensor logRest, double t) {
        Tensor lp = current.to(torch.ScalarType.Double).div(new Scalar(t)).log_softmax(1);
        Tensor id = ids.to(torch.ScalarType.Long);
        Tensor off = torch.ones_like(lp).scatter(1, id, new Scalar(0.0));
        Tensor logP = lp.exp().mul(off).sum(new long[] {1}, true, new ScalarTypeOptional()).clamp_min(new Scalar(1e-30)).log();
        Tensor dense = lp.add(logRest.to(torch.ScalarType.Double).reshape(-1, 1)).sub(logP);
        dense.scatter_(1, id, logq.to(torch.ScalarType.Double));
        return dense.mul(new Scalar(t));
    }

    /**
     * [per-row weighted KL, its gradient w.r.t. current] in fp64 against {@link #referenceLogits}.
     *
     * @param weights float32 [rows] or null
     * @return two float64 tensors, [rows] and [rows, V]
     */
    public static Tensor[] valueAndGrad(Tensor current, Tensor ids, Tensor logq, Tensor logRest, Tensor weights, double t,
            dev.ivkit.KlDirection dir) {
        return KlComposite.valueAndGrad(current, referenceLogits(current, ids, logq, logRest, t), weights, t, dir,
                torch.ScalarType.Double);
    }
}
