package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay, as torch.optim.AdamW computes it:
 * {@code p ← p·(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr · m̂ / (√v̂ + ε)} with bias-corrected
 * m̂, v̂. Its state is plain tensors, so checkpoints store it as safetensors and a resumed run continues bit for bit.
 */
public final class AdamW implements AutoCloseable {
    private final List<Tensor> params;
    private final List<Tensor> m = new ArrayList<>();
    private final List<Tensor> v = new ArrayList<>();
    private final double beta1, beta2, eps, weightDecay;
    private long step;

    /**
     * An optimizer over {@code params} with zeroed moments and step count 0.
     *
     * @param params      the trained tensors, updated in place; at least one
     * @param beta1       decay of the first moment (torch default 0.9)
     * @param beta2       decay of the second moment (torch default 0.999)
     * @param eps         added to √v̂ in the denominator
     * @param weightDecay decoupled weight decay per unit learning rate; 0 for none
     * @throws InvalidArgumentException when {@code params} is empty
     */
    public AdamW(List<Tensor> params, double beta1, double beta2, double eps, double weightDecay) {
        if (params.isEmpty()) {
            throw new InvalidArgumentException("params", "nothing to optimise");
        }
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Tensor p : params) {
            Tensor a = torch.zeros_like(p.detach()), b = torch.zeros_like(p.detach());
            a.retainReference();
            b.retainReference();
            m.add(a);
            v.add(b);
        }
    }

    /**
     * One update; parameters without a gradient are skipped. Increments the step count.
     *
     * @param lr the learning rate of this step
     */
    public void step(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i), grad = p.grad();
                if (grad == null || !grad.defined()) {
                    continue;
                }
                if (weightDecay != 0) {
                    p.mul_(new Scalar(1 - lr * weightDecay));
                }
                m.get(i).mul_(new Scalar(beta1)).add_(grad, new Scalar(1 - beta1));
                v.get(i).mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
                Tensor denom = v.get(i).sqrt().div(new Scalar(Math.sqrt(bc2))).add(new Scalar(eps));
                p.addcdiv_(m.get(i), denom, new Scalar(-lr / bc1));
            }
        }
    }

    /**
     * Scales the gradients of {@code params} so that their global L2 norm is at most {@code maxNorm} (no clipping when
     * {@code maxNorm} ≤ 0) and returns the norm before clipping (NaN/Inf when a gradient is not finite, in which case
     * nothing is scaled).
     *
     * @param params  the tensors whose gradients are clipped; those without a gradient are ignored
     * @param maxNorm the largest global L2 norm allowed; 0 or less: no clipping
     * @return the global L2 norm before clipping; 0 when no tensor has a gradient
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope(); NoGradGuard g = new NoGradGuard()) {
            // summed on the gradients' device in float64, in parameter order: one host read per call, not one per tensor
            Tensor total = null;
            for (Tensor p : params) {
                Tensor gr = p.grad();
                if (gr != null && gr.defined()) {
                    Tensor sq = gr.to(torch.ScalarType.Double).pow(new Scalar(2)).sum();
                    total = total == null ? sq : total.add(sq);
                }
            }
            double norm = Math.sqrt(total == null ? 0 : dev.ivkit.util.Torch.item(total));
            if (Double.isFinite(norm) && maxNorm > 0 && norm > maxNorm) {
                double f = maxNorm / (norm + 1e-6);
                for (Tensor p : params) {
                    Tensor gr = p.grad();
                    if (gr != null && gr.defined()) {
                        gr.mul_(new Scalar(f));
                    }
                }
            }
            return norm;
        }
    }

    /** Sets every parameter's gradient to zero (keeps the tensors). */
    public void zeroGrad() {
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g != null && g.defined()) {
                g.zero_();
            }
        }
    }

    /**
     * The number of updates made (restored by {@link #load}).
     *
     * @return the step count used for bias correction
     */
    public long stepCount() {
        return step;
    }

    /**
     * State tensors by name for checkpoints.
     *
     * @return the first and second moments of parameter i as {@code m.i} and {@code v.i}, in parameter order; the
     *         tensors are live (owned by this optimizer)
     */
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            s.put("m." + i, m.get(i));
            s.put("v." + i, v.get(i));
        }
        return s;
    }

    /**
     * Restores state written by {@link #state()} and the step count.
     *
     * @param state     the moments by name, as {@link #state()} returns them; copied into this optimizer's tensors
     * @param stepCount the step count to continue from
     * @throws InvalidArgumentException when a moment is missing or has a different number of elements
     */
    public void load(Map<String, Tensor> state, long stepCount) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor a = state.get("m." + i), b = state.get("v." + i);
                if (a == null || b == null || a.numel() != m.get(i).numel() || b.numel() != v.get(i).numel()) {
                    throw new InvalidArgumentException("optimizer", "checkpoint optimizer state does not match parameter " + i);
                }
                m.get(i).copy_(a.reshape(dev.ivkit.util.Torch.sizes(m.get(i))));
                v.get(i).copy_(b.reshape(dev.ivkit.util.Torch.sizes(v.get(i))));
            }
        }
        this.step = stepCount;
    }

    @Override
    public void close() {
        for (Tensor t : m) {
            t.releaseReference();
        }
        for (Tensor t : v) {
            t.releaseReference();
        }
    }
}
