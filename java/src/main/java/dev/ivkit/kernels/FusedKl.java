package dev.ivkit.kernels;

import dev.ivkit.KlDirection;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The fused KL kernel ({@link Kernels#klRows}) as an autograd-aware loss. The kernel computes the per-row values and
 * the gradient w.r.t. the current logits natively, in one call and without materialising a softmax; the gradient
 * enters autograd by the surrogate identity of design.md:
 * <pre>
 *   value     = sum_r loss[r] / denominator                       (computed natively, no graph)
 *   surrogate = dot(current, grad.detach()) / denominator        (d surrogate / d current = grad / denominator)
 *   result    = surrogate - surrogate.detach() + value            (value of `value`, gradient of `surrogate`)
 * </pre>
 * so {@code result.backward()} puts exactly the fused gradient into {@code current.grad()} (and further back through
 * whatever produced {@code current}). The reference gets no gradient.
 */
public final class FusedKl {
    private FusedKl() {}

    /** How the per-row losses become one scalar. */
    public enum Reduction {
        /** Sum over rows divided by the sum of the mask weights (the number of unmasked rows; all rows without a mask). */
        MEAN,
        /**
         * Sum over rows divided by {@code current.size(0)}: PyTorch's {@code reduction='batchmean'}, which the IV authors
         * use; for logits [B, T, V] it divides by B, not by B·T, and masked rows still count in the denominator.
         */
        BATCHMEAN,
        /** Sum over rows. */
        SUM
    }

    /**
     * KL between {@code softmax(current / T)} and {@code softmax(reference / T)} per row, reduced to a scalar whose
     * gradient w.r.t. {@code current} is the fused kernel's.
     *
     * @param current     logits [..., V] that require grad (float32, bfloat16 or float16)
     * @param reference   logits of the same shape, dtype and device (treated as constant)
     * @param mask        null, or one bool/uint8/float32 entry per row (see {@link Kernels#klRows})
     * @param temperature T &gt; 0 (the authors use 2, no T² factor)
     * @param dir         {@link KlDirection#REVERSE} for the authors' KL(p_cur || p_ref), FORWARD for distillation
     * @param reduction   how the per-row values become the scalar loss
     * @return a 0-dim float32 tensor (the current logits' dtype promoted with float32)
     */
    public static Tensor loss(Tensor current, Tensor reference, Tensor mask, double temperature, KlDirection dir,
            Reduction reduction) {
        return lossAndRows(current, reference, mask, temperature, dir, reduction, null)[0];
    }

    /**
     * {@link #loss} and, detached, the per-row values it reduces (each row's KL times its mask weight, before the
     * reduction's denominator: callers that weight rows of several terms in one call split the terms from these), with
     * {@code fold}'s value and gradient rows carried in the same surrogate (see {@link Fold}).
     *
     * @param current     logits [rows, V] that require grad (float32, bfloat16 or float16)
     * @param reference   logits of the same shape, dtype and device (treated as constant)
     * @param mask        null, or one bool/uint8/float32 entry per row (see {@link Kernels#klRows})
     * @param temperature T &gt; 0
     * @param dir         the KL direction
     * @param reduction   how the per-row values become the scalar loss
     * @param fold        another loss's value and gradient to carry in the same surrogate, or null
     * @return {the loss plus the fold's value, with the sum of both gradients; the KL's per-row values [rows] float32}
     */
    public static Tensor[] lossAndRows(Tensor current, Tensor reference, Tensor mask, double temperature, KlDirection dir,
            Reduction reduction, Fold fold) {
        requireArgs(current, reduction);
        KlRowsResult r;
        try (NoGradGuard g = new NoGradGuard()) {
            r = Kernels.klRows(current.detach().contiguous(), reference == null ? null : reference.detach().contiguous(), mask,
                    temperature, dir, true);
        }
        return surrogate(current, mask, r, reduction, fold);
    }

    /**
     * The KL of {@link #loss} against a cached top-k reference ({@link Kernels#klTopkRows}: the k cached tokens'
     * log-probabilities and the log of the rest mass per row), reduced to a scalar whose gradient w.r.t. {@code current}
     * is the kernel's. Equals {@code loss(current, dense, ...)} with {@code dense} the reference logits that spread the
     * cached rest mass over the other tokens in the current proportions (ReferenceCache's top-k mode).
     *
     * @param current     logits [..., V] that require grad (float32, bfloat16 or float16)
     * @param ids         int32 [rows, k], rows = current.numel() / V: the cached token ids per row
     * @param logq        float32 [rows, k]: the reference's log-probabilities at those ids (temperature T)
     * @param logRest     float32 [rows]: log of the reference's mass on the other tokens
     * @param mask        null, or one bool/uint8/float32 entry per row (see {@link Kernels#klRows})
     * @param temperature T &gt; 0
     * @param dir         {@link KlDirection#REVERSE} for KL(p_cur || q), FORWARD for KL(q || p_cur)
     * @param reduction   how the per-row values become the scalar loss
     * @return a 0-dim float32 tensor (the current logits' dtype promoted with float32)
     */
    public static Tensor lossTopK(Tensor current, Tensor ids, Tensor logq, Tensor logRest, Tensor mask, double temperature,
            KlDirection dir, Reduction reduction) {
        return lossTopKAndRows(current, ids, logq, logRest, mask, temperature, dir, reduction, null)[0];
    }

    /**
     * {@link #lossTopK} and, detached, the per-row values it reduces, with {@code fold} carried in the same surrogate (as
     * {@link #lossAndRows}).
     *
     * @param current     logits [rows, V] that require grad
     * @param ids         int32 [rows, k]: the cached token ids per row
     * @param logq        float32 [rows, k]: the reference's log-probabilities at those ids
     * @param logRest     float32 [rows]: log of the reference's mass on the other tokens
     * @param mask        null, or one bool/uint8/float32 entry per row
     * @param temperature T &gt; 0
     * @param dir         the KL direction
     * @param reduction   how the per-row values become the scalar loss
     * @param fold        another loss's value and gradient to carry in the same surrogate, or null
     * @return {the loss plus the fold's value, with the sum of both gradients; the KL's per-row values [rows] float32}
     */
    public static Tensor[] lossTopKAndRows(Tensor current, Tensor ids, Tensor logq, Tensor logRest, Tensor mask,
            double temperature, KlDirection dir, Reduction reduction, Fold fold) {
        requireArgs(current, reduction);
        KlRowsResult r;
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor c = current.detach().contiguous();
            r = Kernels.klTopkRows(c, ids, logq, logRest, mask, temperature, dir, true, Torch.dtype(c));
        }
        return surrogate(current, mask, r, reduction, fold);
    }

    private static void requireArgs(Tensor current, Reduction reduction) {
        if (reduction == null) {
            throw new InvalidArgumentException("reduction", "must not be null");
        }
        if (current == null) {
            throw new InvalidArgumentException("current", "must not be null");
        }
    }

    /** value + (surrogate − surrogate.detach()) of the class comment, from the kernel's per-row losses and gradient. */
    private static Tensor[] surrogate(Tensor current, Tensor mask, KlRowsResult r, Reduction reduction, Fold fold) {
        Tensor den;
        Tensor value;
        try (NoGradGuard g = new NoGradGuard()) {
            den = denominator(current, mask, r.loss(), reduction);
            value = r.loss().sum().div(den);
            if (fold != null) {   // in place into the kernel's fresh gradient: one [rows, V] gradient for both losses
                Tensor rows = reduction == Reduction.SUM ? fold.rows() : fold.rows().mul(den);   // the surrogate divides by den
                r.grad().reshape(-1, r.grad().size(-1)).index_add_(0, Torch.onDevice(fold.index(), current),
                        rows.to(Torch.dtype(r.grad())));
                value = value.add(fold.value());
            }
        }
        // a dot product, not current * grad: no [rows, V] product is materialised; its backward is grad * (1 / den)
        // (meta tensors: libtorch 2.10's C++ build has no meta kernel for dot; the product's sum has the same shape)
        Tensor flatGrad = r.grad().reshape(-1);
        Tensor dot = current.is_meta() ? current.reshape(-1).mul(flatGrad).sum() : current.reshape(-1).dot(flatGrad);
        Tensor surrogate = dot.to(torch.ScalarType.Float).div(den);
        return new Tensor[] {surrogate.sub(surrogate.detach()).add(value), r.loss()};
    }

    /**
     * Another loss of the same logits, already evaluated, whose value and gradient ride in the KL's surrogate: the
     * result's value gets {@code value} added and its gradient w.r.t. the current logits gets {@code rows} added at the
     * rows {@code index} (whatever the mask), so one [rows, V] gradient reaches autograd instead of two. Applied in
     * place to the kernel's fresh gradient; the fold's tensors are not changed.
     *
     * @param index int64 [n]: rows of the current logits (viewed as [rows, V]); duplicates add up
     * @param rows  [n, V]: the other loss's gradient at those rows (any floating dtype; cast to the gradient's)
     * @param value 0-dim float32: the other loss's value, on the logits' device
     */
    public record Fold(Tensor index, Tensor rows, Tensor value) {}

    /** A 0-dim float32 tensor on the logits' device; never 0 (an all-masked MEAN gives value 0 and gradient 0). */
    private static Tensor denominator(Tensor current, Tensor mask, Tensor loss, Reduction reduction) {
        Tensor one = torch.ones(new long[] {}, loss.options());
        return switch (reduction) {
            case SUM -> one;
            case BATCHMEAN -> one.mul(Torch.scalar(current.size(0)));
            case MEAN -> {
                if (mask == null) {
                    yield one.mul(Torch.scalar(loss.size(0)));
                }
                Tensor w = mask.to(torch.ScalarType.Float).sum();
                yield w.add(w.eq(Torch.scalar(0)).to(torch.ScalarType.Float));
            }
        };
    }
}
