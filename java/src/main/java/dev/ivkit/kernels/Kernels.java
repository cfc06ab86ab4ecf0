package dev.ivkit.kernels;

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

    /** Version string of the loaded CPU native library. */
    public static String nativeVersion() {
        return IvkitNative.ivkit_version();
    }

    /** One call into the CPU library that does nothing: the JNI crossing cost. */
    public static void noop() {
        Status.check(IvkitNative.ivkit_noop(), IvkitNative::ivkit_last_error);
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
        requireContiguous("x", x);
        int dtype = dtypeCode("x", x);
        if (Torch.dtype(v) != Torch.dtype(x)) {
            throw new InvalidArgumentException("v", "dtype " + v.scalar_type() + " differs from x's " + x.scalar_type());
        }
        requireContiguous("v", v);
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
        checkRows(rows, nRows);
        boolean cuda = x.is_cuda();
        for (Tensor t : new Tensor[] {v, rows, scales}) {
            if (t != null && t.is_cuda() != cuda) {
                throw new InvalidArgumentException("device", "x, v, rows and scales must be on one device");
            }
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

    /** Row indices in range and distinct: checked in Java so that the CUDA path (device memory) is covered too. */
    private static void checkRows(Tensor rows, long nRows) {
        long[] r = Torch.toLongArray(rows);
        java.util.BitSet seen = new java.util.BitSet();
        for (int i = 0; i < r.length; i++) {
            if (r[i] < 0 || r[i] >= nRows) {
                throw new InvalidArgumentException("rows", "rows[" + i + "]=" + r[i] + " is out of range [0, " + nRows + ")");
            }
            if (seen.get((int) r[i])) {
                throw new InvalidArgumentException("rows", "rows[" + i + "]=" + r[i] + " is selected twice");
            }
            seen.set((int) r[i]);
        }
    }

    static void requireContiguous(String name, Tensor t) {
        if (!t.is_contiguous()) {
            throw new InvalidArgumentException(name, "must be contiguous");
        }
    }

    /** Maps a tensor's dtype to the ABI's ivkit_dtype_t. */
    static int dtypeCode(String name, Tensor t) {
        torch.ScalarType st = Torch.dtype(t);
        if (st == torch.ScalarType.Float) {
            return 0;
        }
        if (st == torch.ScalarType.BFloat16) {
            return 1;
        }
        if (st == torch.ScalarType.Half) {
            return 2;
        }
        throw new InvalidArgumentException(name, "unsupported dtype " + st + " (float32, bfloat16 or float16)");
    }
}
