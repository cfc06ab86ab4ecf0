package dev.ivkit.kernels;

import dev.ivkit.KlDirection;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The libtorch composite the fused KL kernel is checked against: log_softmax of both rows and
 * {@code torch.kl_div(input, target, reduction=none, log_target=true)} summed over the vocabulary, in fp32 (or
 * fp64 as an accuracy reference), with the gradient taken by autograd.
 */
final class KlComposite {
    private KlComposite() {}

    /**
     * Per-row weighted KL [rows] of fp32 copies of the logits, as a graph from {@code current} (which must require grad).
     * {@code weights} is a float32 [rows] tensor or null.
     */
    static Tensor rows(Tensor current, Tensor reference, Tensor weights, double temperature, KlDirection dir) {
        long v = current.size(-1);
        Tensor lp = current.div(new Scalar(temperature)).log_softmax(-1).reshape(-1, v);
        Tensor lq = reference.to(current.scalar_type()).div(new Scalar(temperature)).log_softmax(-1).reshape(-1, v);
        // kl_div(input, target) = exp(target) * (target - input) with log_target
        Tensor kl = dir == KlDirection.REVERSE
                ? torch.kl_div(lq, lp, 0, true).sum(-1)   // KL(p_cur || p_ref), the authors' F.kl_div(log p_ref, p_cur)
                : torch.kl_div(lp, lq, 0, true).sum(-1);  // KL(p_ref || p_cur)
        return weights == null ? kl : kl.mul(weights);
    }

    /** [loss rows, d sum(loss rows) / d current] of the composite, in fp32. */
    static Tensor[] valueAndGrad(Tensor current, Tensor reference, Tensor weights, double temperature, KlDirection dir) {
        return valueAndGrad(current, reference, weights, temperature, dir, torch.ScalarType.Float);
    }

    /** The composite computed in {@code type} (float32, or float64 for an accuracy reference). */
    static Tensor[] valueAndGrad(Tensor current, Tensor reference, Tensor weights, double temperature, KlDirection dir,
            torch.ScalarType type) {
        Tensor leaf = current.to(type).detach().clone().requires_grad_(true);
        Tensor loss = rows(leaf, reference, weights == null ? null : weights.to(type), temperature, dir);
        loss.sum().backward();
        return new Tensor[] {loss.detach(), leaf.grad()};
    }
}
