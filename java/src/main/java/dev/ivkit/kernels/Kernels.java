package dev.ivkit.kernels;

import dev.ivkit.KlDirection;
import dev.ivkit.PatchMode;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Java entry points of ivkit's native kernels. Each op validates its tensors here (exact messages naming the
 * argument), then dispatches on the tensors' device to the CPU library or the CUDA library. Asking for CUDA in a
 * build without the CUDA library, or on a machine without a GPU, is an {@link UnsupportedException}, never a silent
 * CPU run.
 */
public final class Kernels {
    private Kernels() {}

    /**
     * Version string of the loaded CPU native library.
     *
     * @return the version the CPU library reports
     */
    public static String nativeVersion() {
        return IvkitNative.ivkit_version();
    }

    /** One call into the CPU library that does nothing: the JNI crossing cost. */
    public static void noop() {
        Status.check(IvkitNative.ivkit_noop(), IvkitNative::ivkit_last_error);
    }

    /**
     * The raw peer's {@code ivkit_noop()}, status unchecked: the bare JNI crossing, for JniOverheadBench (the peer
     * itself is package-private).
     *
     * @return the native status code (0)
     */
    public static int rawNoop() {
        return IvkitNative.ivkit_noop();
    }

    /**
     * Adds {@code scale * scales[i] * v[i]} to row {@code rows[i]} of {@code x}, in place.
     *
     * @param x      [nRows, d] or [batch, pos, d] (viewed as [batch*pos, d]); float32, bfloat16 or float16; contiguous
     * @param rows   [n] int64, distinct, each in [0, nRows)
     * @param v      [n, d] (one vector per row) or [d] (one shared vector); same dtype and device as x
     * @param scales [n] float32 per-row factors, or null for 1
     * @param scale  global factor
     */
    public static void addRowsInPlace(Tensor x, Tensor rows, Tensor v, Tensor scales, float scale) {
        if (x.dim() < 2) {
            throw new InvalidArgumentException("x", "expected [rows, d] or [batch, pos, d], got " + Torch.shape(x));
        }
        long d = x.size(-1);
        long nRows = x.numel() / Math.max(d, 1);
        KernelArgs.requireContiguous("x", x);
        int dtype = KernelArgs.dtypeCode("x", x);
        if (Torch.dtype(v) != Torch.dtype(x)) {
            throw new InvalidArgumentException("v", "dtype " + v.scalar_type() + " differs from x's " + x.scalar_type());
        }
        KernelArgs.requireContiguous("v", v);
        if (Torch.dtype(rows) != torch.ScalarType.Long || rows.dim() != 1) {
            throw new InvalidArgumentException("rows", "expected a 1-D int64 tensor, got " + rows.scalar_type() + " " + Torch.shape(rows));
        }
        long n = rows.size(0);
        long vRowStride;
        if (v.dim() == 1 && v.size(0) == d) {
            vRowStride = 0;
        } else if (v.dim() == 2 && v.size(0) == n && v.size(1) == d) {
            vRowStride = 1;
        } else {
            throw new InvalidArgumentException("v", "expected [" + n + ", " + d + "] or [" + d + "], got " + Torch.shape(v));
        }
        if (scales != null && (Torch.dtype(scales) != torch.ScalarType.Float || scales.dim() != 1 || scales.size(0) != n)) {
            throw new InvalidArgumentException("scales", "expected float32 [" + n + "], got " + scales.scalar_type() + " " + Torch.shape(scales));
        }
        KernelArgs.sameDevice(x, v, "v");
        KernelArgs.sameDevice(x, rows, "rows");
        if (scales != null) {
            KernelArgs.sameDevice(x, scales, "scales");
        }
        if (x.is_meta()) {
            return;  // shape-only tensors: arguments checked, no work
        }
        boolean cuda = x.is_cuda();
        if (cuda) {
            KernelArgs.checkRows(rows, nRows);  // the CPU kernel checks its indices itself, without a host copy
        }
        long scalesPtr = scales == null ? 0 : scales.contiguous().data_ptr().address();
        if (!cuda) {
            Status.check(IvkitNative.ivkit_add_rows(x.data_ptr().address(), nRows, d, dtype, v.data_ptr().address(), vRowStride,
                    rows.contiguous().data_ptr().address(), scalesPtr, n, scale), IvkitNative::ivkit_last_error);
        } else {
            long stream = Cuda.requireStream(x);
            Status.check(IvkitCudaNative.ivkit_cuda_add_rows(x.data_ptr().address(), nRows, d, dtype, v.data_ptr().address(),
                    vRowStride, rows.contiguous().data_ptr().address(), scalesPtr, n, scale, stream),
                    IvkitCudaNative::ivkit_cuda_last_error);
        }
    }

    /**
     * Reads z at one position per batch row.
     *
     * @param z         [batch, seq, heads, d_head] contiguous
     * @param positions [batch] int64 in [0, seq)
     * @return [batch, heads, d_head], same dtype and device as z
     */
    public static Tensor gatherHeads(Tensor z, Tensor positions) {
        long[] s = KernelArgs.zShape(z);
        KernelArgs.checkPositions(positions, s[0], s[1]);
        Tensor out = torch.zeros(new long[] {s[0], s[2], s[3]}, z.options());
        gather(z, s, positions, out, 0);
        return out;
    }

    /**
     * Adds z at one position per batch row, summed over rows, into a float32 running sum (for mean activations).
     *
     * @param z [batch, seq, heads, d_head] contiguous
     * @param positions [batch] int64 in [0, seq)
     * @param acc [heads, d_head] float32 on z's device; updated in place
     */
    public static void gatherHeadsAccumulate(Tensor z, Tensor positions, Tensor acc) {
        long[] s = KernelArgs.zShape(z);
        KernelArgs.checkPositions(positions, s[0], s[1]);
        if (Torch.dtype(acc) != torch.ScalarType.Float || acc.dim() != 2 || acc.size(0) != s[2] || acc.size(1) != s[3]
                || !acc.is_contiguous() || !Torch.sameDevice(acc, z)) {
            throw new InvalidArgumentException("acc", "expected a contiguous float32 [" + s[2] + ", " + s[3] + "] on z's device, got "
                    + Torch.dtype(acc) + " " + Torch.shape(acc));
        }
        gather(z, s, positions, acc, 1);
    }

    private static void gather(Tensor z, long[] s, Tensor positions, Tensor out, int accumulate) {
        int dtype = KernelArgs.dtypeCode("z", z);
        KernelArgs.sameDevice(z, positions, "positions");
        if (z.is_meta()) {
            return;  // shape-only tensors: arguments checked, no work
        }
        if (!z.is_cuda()) {
            Status.check(IvkitNative.ivkit_gather_heads(z.data_ptr().address(), s[0], s[1], s[2], s[3], dtype,
                    positions.data_ptr().address(), out.data_ptr().address(), accumulate), IvkitNative::ivkit_last_error);
        } else {
            long stream = Cuda.requireStream(z);
            Status.check(IvkitCudaNative.ivkit_cuda_gather_heads(z.data_ptr().address(), s[0], s[1], s[2], s[3], dtype,
                    positions.data_ptr().address(), out.data_ptr().address(), accumulate, stream),
                    IvkitCudaNative::ivkit_cuda_last_error);
        }
    }

    /**
     * Overwrites (REPLACE) or adds to (ADD) single heads of z, in place:
     * {@code z[rows[i], positions[i], heads[i], :] (=|+=) values[i]}.
     *
     * @param z         [batch, seq, heads, d_head] contiguous
     * @param rows      [n] int64 batch rows
     * @param positions [n] int64 positions
     * @param heads     [n] int64 query-head indices; the (row, position, head) triples must be distinct
     * @param values    [n, d_head] or [d_head] (shared), z's dtype and device
     * @param mode      REPLACE overwrites the head, ADD adds to it
     */
    public static void patchHeadsInPlace(Tensor z, Tensor rows, Tensor positions, Tensor heads, Tensor values, PatchMode mode) {
        long[] s = KernelArgs.zShape(z);
        int dtype = KernelArgs.dtypeCode("z", z);
        for (Object[] a : new Object[][] {{"rows", rows}, {"positions", positions}, {"heads", heads}}) {
            Tensor t = (Tensor) a[1];
            if (Torch.dtype(t) != torch.ScalarType.Long || t.dim() != 1 || !t.is_contiguous()) {
                throw new InvalidArgumentException((String) a[0], "expected a contiguous 1-D int64 tensor, got "
                        + Torch.dtype(t) + " " + Torch.shape(t));
            }
            KernelArgs.sameDevice(z, t, (String) a[0]);
        }
        long n = rows.size(0);
        if (positions.size(0) != n || heads.size(0) != n) {
            throw new InvalidArgumentException("positions", "rows, positions and heads must have one length, got "
                    + n + ", " + positions.size(0) + ", " + heads.size(0));
        }
        if (Torch.dtype(values) != Torch.dtype(z)) {
            throw new InvalidArgumentException("values", "dtype " + Torch.dtype(values) + " differs from z's " + Torch.dtype(z));
        }
        KernelArgs.requireContiguous("values", values);
        KernelArgs.sameDevice(z, values, "values");
        long stride;
        if (values.dim() == 1 && values.size(0) == s[3]) {
            stride = 0;
        } else if (values.dim() == 2 && values.size(0) == n && values.size(1) == s[3]) {
            stride = 1;
        } else {
            throw new InvalidArgumentException("values", "expected [" + n + ", " + s[3] + "] or [" + s[3] + "], got " + Torch.shape(values));
        }
        if (z.is_meta()) {
            return;  // shape-only tensors: arguments checked, no work
        }
        if (z.is_cuda()) {  // the CPU kernel checks ranges and duplicates itself, without host copies
            KernelArgs.checkTargets(Torch.toLongArray(rows), Torch.toLongArray(positions), Torch.toLongArray(heads), s);
        }
        int m = mode == PatchMode.REPLACE ? 0 : 1;
        if (!z.is_cuda()) {
            Status.check(IvkitNative.ivkit_patch_heads(z.data_ptr().address(), s[0], s[1], s[2], s[3], dtype,
                    rows.data_ptr().address(), positions.data_ptr().address(), heads.data_ptr().address(),
                    values.data_ptr().address(), stride, n, m), IvkitNative::ivkit_last_error);
        } else {
            long stream = Cuda.requireStream(z);
            Status.check(IvkitCudaNative.ivkit_cuda_patch_heads(z.data_ptr().address(), s[0], s[1], s[2], s[3], dtype,
                    rows.data_ptr().address(), positions.data_ptr().address(), heads.data_ptr().address(),
                    values.data_ptr().address(), stride, n, m, stream), IvkitCudaNative::ivkit_cuda_last_error);
        }
    }

    /**
     * Temperature-scaled KL divergence per row of logits and, optionally, its gradient w.r.t. the current logits, in
     * one streaming pass per row (no softmax is materialised). With {@code a = current / T}, {@code b = reference / T},
     * {@code p = softmax(a)}, {@code q = softmax(b)} and {@code w_r} the row's mask weight:
     * <ul>
     *   <li>FORWARD: {@code loss[r] = w_r KL(q || p)}, {@code grad[r] = w_r (p - q) / T}</li>
     *   <li>REVERSE: {@code loss[r] = w_r KL(p || q)}, {@code grad[r] = w_r p ⊙ (log p - log q - KL(p || q)) / T}</li>
     * </ul>
     * No T² factor (the IV authors use none). The gradient has the current logits' dtype.
     *
     * @param current     [..., V] float32, bfloat16 or float16, contiguous (the rows are all leading positions)
     * @param reference   same shape, dtype and device as current
     * @param mask        null (all rows weight 1), or one entry per row (shape [rows] or current's leading shape),
     *                    contiguous: bool/uint8 (0 = masked) or float32 weights; masked rows get loss 0 and grad 0
     * @param temperature T, finite and &gt; 0
     * @param dir         FORWARD for KL(q || p), REVERSE for KL(p || q)
     * @param withGrad    also write the gradient
     * @return the per-row loss and, when {@code withGrad}, the gradient in the current logits' dtype
     */
    public static KlRowsResult klRows(Tensor current, Tensor reference, Tensor mask, double temperature, KlDirection dir,
            boolean withGrad) {
        return klRows(current, reference, mask, temperature, dir, withGrad, current == null ? null : Torch.dtype(current));
    }

    /**
     * As {@link #klRows(Tensor, Tensor, Tensor, double, KlDirection, boolean)}, with the gradient's dtype (float32 or
     * current's).
     *
     * @param current logits as in {@link #klRows(Tensor, Tensor, Tensor, double, KlDirection, boolean)}
     * @param reference logits of the same shape, dtype and device
     * @param mask null, or one entry per row
     * @param temperature T, finite and &gt; 0
     * @param dir FORWARD or REVERSE
     * @param withGrad also write the gradient
     * @param gradDtype the gradient's dtype: float32 or current's
     * @return the per-row loss and the gradient (null without {@code withGrad})
     */
    public static KlRowsResult klRows(Tensor current, Tensor reference, Tensor mask, double temperature, KlDirection dir,
            boolean withGrad, torch.ScalarType gradDtype) {
        long[] rv = KernelArgs.logits("current", current);
        int dtype = KernelArgs.dtypeCode("current", current);
        long rows = rv[0], vocab = rv[1];
        if (reference == null || !java.util.Arrays.equals(Torch.sizes(reference), Torch.sizes(current))) {
            throw new InvalidArgumentException("reference", "expected the shape of current " + Torch.shape(current) + ", got "
                    + (reference == null ? "null" : Torch.shape(reference)));
        }
        if (Torch.dtype(reference) != Torch.dtype(current)) {
            throw new InvalidArgumentException("reference", "dtype " + Torch.dtype(reference) + " differs from current's " + Torch.dtype(current));
        }
        KernelArgs.requireContiguous("reference", reference);
        KernelArgs.sameDevice(current, reference, "reference");
        KernelArgs.klOptions(temperature, dir, gradDtype, current);
        int maskKind = KernelArgs.maskKind(mask, rows, current);
        Tensor loss = current.new_empty(new long[] {rows}, Torch.options(torch.ScalarType.Float));
        Tensor grad = withGrad ? GradBuffer.take(current, gradDtype) : null;
        if (current.is_meta()) {
            return new KlRowsResult(loss, grad);  // shape-only tensors: arguments checked, no work
        }
        long maskPtr = mask == null ? 0 : mask.data_ptr().address();
        long gradPtr = grad == null ? 0 : grad.data_ptr().address();
        int gradCode = gradDtype == torch.ScalarType.Float ? 0 : dtype;
        if (rows > 0) {
            if (!current.is_cuda()) {
                Status.check(IvkitNative.ivkit_kl_rows(current.data_ptr().address(), reference.data_ptr().address(), rows, vocab,
                        dtype, maskPtr, maskKind, (float) temperature, (dir == KlDirection.FORWARD ? 0 : 1), loss.data_ptr().address(), gradPtr, gradCode,
                        torch.get_num_threads()), IvkitNative::ivkit_last_error);
            } else {
                long stream = Cuda.requireStream(current);
                Status.check(IvkitCudaNative.ivkit_cuda_kl_rows(current.data_ptr().address(), reference.data_ptr().address(), rows,
                        vocab, dtype, maskPtr, maskKind, (float) temperature, (dir == KlDirection.FORWARD ? 0 : 1), loss.data_ptr().address(), gradPtr,
                        gradCode, stream), IvkitCudaNative::ivkit_cuda_last_error);
            }
        }
        return new KlRowsResult(loss, grad);
    }

    /**
     * {@link #klTopkRows(Tensor, Tensor, Tensor, Tensor, Tensor, double, KlDirection, boolean, torch.ScalarType)} with
     * the gradient in the current logits' dtype.
     *
     * @param current     logits [rows, V] or [..., V]
     * @param ids         int32 [rows, k]: the cached token ids per row
     * @param logq        float32 [rows, k]: their cached log-probabilities
     * @param logRest     float32 [rows]: the log of the cached rest mass
     * @param mask        null or one entry per row
     * @param temperature T, finite and &gt; 0
     * @param dir         FORWARD or REVERSE
     * @param withGrad    also write the gradient
     * @return the per-row loss and the gradient (null without {@code withGrad})
     */
    public static KlRowsResult klTopkRows(Tensor current, Tensor ids, Tensor logq, Tensor logRest, Tensor mask,
            double temperature, KlDirection dir, boolean withGrad) {
        return klTopkRows(current, ids, logq, logRest, mask, temperature, dir, withGrad,
                current == null ? null : Torch.dtype(current));
    }

    /**
     * The KL of {@link #klRows} against a cached top-k reference (ids, their log-probabilities and the log of the rest
     * mass, as ReferenceCache keeps them) instead of a reference row: the KL of the two distributions coarse-grained to
     * the k cached tokens and one rest bucket, equal (value and gradient) to {@code klRows} against the dense reference
     * that spreads the cached rest mass over the other tokens in the current proportions. Formulas:
     * native/include/ivkit/ivkit.h, {@code ivkit_kl_topk_rows}.
     *
     * @param current     logits [rows, V] or [..., V] (viewed as rows); float32, bfloat16 or float16; contiguous
     * @param ids         int32 [rows, k], 1 &le; k &lt; V: the cached token ids per row, in range and distinct in a row
     * @param logq        float32 [rows, k]: the reference's log-probabilities at temperature T at those ids
     * @param logRest     float32 [rows]: log of the reference's mass on the other V − k tokens
     * @param mask        null or one entry per row, as in {@link #klRows}; masked rows' ids are not read
     * @param temperature T, finite and &gt; 0
     * @param dir         FORWARD for KL(q || p), REVERSE for KL(p || q)
     * @param withGrad    also write the gradient
     * @param gradDtype   the gradient's dtype: float32 or current's
     * @return the per-row loss and the gradient (null without {@code withGrad})
     * @throws InvalidArgumentException naming the argument (ids out of range or repeated: "ids")
     */
    public static KlRowsResult klTopkRows(Tensor current, Tensor ids, Tensor logq, Tensor logRest, Tensor mask,
            double temperature, KlDirection dir, boolean withGrad, torch.ScalarType gradDtype) {
        return TopkOps.klTopkRows(current, ids, logq, logRest, mask, temperature, dir, withGrad, gradDtype);
    }

    /**
     * The reference cache's entry of each logits row: its k most likely tokens at temperature T, their log-probabilities
     * {@code log_softmax(logits / T)} and the log of the other tokens' mass (summed on its own in double, so a rest of
     * 1e-20 keeps its digits; at least log 1e-30). One streaming pass per row on the CPU, a radix select per row on CUDA.
     *
     * @param logits      [rows, V] or [..., V] (viewed as rows); float32, bfloat16 or float16; contiguous
     * @param temperature T, finite and &gt; 0
     * @param k           tokens kept per row, 1 &le; k &lt; V
     * @return ids int32 [rows, k] (a top-k set by descending value; ties in any order), logp float32 [rows, k], logRest
     *         float32 [rows]
     * @throws UnsupportedException on CUDA for k &gt; 4096, or without the CUDA library
     */
    public static TopkLogprobs topkLogprobs(Tensor logits, double temperature, int k) {
        return TopkOps.topkLogprobs(logits, temperature, k);
    }
}
