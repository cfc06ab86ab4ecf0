package dev.ivkit.kernels;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The argument checks of {@link Kernels}' entry points: shapes, dtypes, devices, index ranges; each error names the argument. */
final class KernelArgs {
    private KernelArgs() {}

    /** Row indices in range and distinct, checked in Java for the CUDA path (its indices live in device memory). */
    static void checkRows(Tensor rows, long nRows) {
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

    static void checkTargets(long[] r, long[] p, long[] h, long[] s) {
        java.util.HashSet<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < r.length; i++) {
            if (r[i] < 0 || r[i] >= s[0]) {
                throw new InvalidArgumentException("rows", "rows[" + i + "]=" + r[i] + " is out of range [0, " + s[0] + ")");
            }
            if (p[i] < 0 || p[i] >= s[1]) {
                throw new InvalidArgumentException("positions", "positions[" + i + "]=" + p[i] + " is out of range [0, " + s[1] + ")");
            }
            if (h[i] < 0 || h[i] >= s[2]) {
                throw new InvalidArgumentException("heads", "heads[" + i + "]=" + h[i] + " is out of range [0, " + s[2] + ")");
            }
            if (!seen.add((r[i] * s[1] + p[i]) * s[2] + h[i])) {
                throw new InvalidArgumentException("heads", "patch " + i + " targets (row " + r[i] + ", position " + p[i]
                        + ", head " + h[i] + ") twice");
            }
        }
    }

    static long[] zShape(Tensor z) {
        if (z.dim() != 4) {
            throw new InvalidArgumentException("z", "expected [batch, seq, heads, d_head], got " + Torch.shape(z));
        }
        requireContiguous("z", z);
        return Torch.sizes(z);
    }

    static void checkPositions(Tensor positions, long batch, long seq) {
        if (Torch.dtype(positions) != torch.ScalarType.Long || positions.dim() != 1 || positions.size(0) != batch
                || !positions.is_contiguous()) {
            throw new InvalidArgumentException("positions", "expected contiguous int64 [" + batch + "], got "
                    + Torch.dtype(positions) + " " + Torch.shape(positions));
        }
        if (!positions.is_cuda()) {
            return;  // the CPU kernel range-checks positions itself, without a host copy
        }
        long[] p = Torch.toLongArray(positions);
        for (int b = 0; b < p.length; b++) {
            if (p[b] < 0 || p[b] >= seq) {
                throw new InvalidArgumentException("positions", "positions[" + b + "]=" + p[b] + " is out of range [0, " + seq + ")");
            }
        }
    }

    static void sameDevice(Tensor a, Tensor b, String name) {
        if (!Torch.sameDevice(a, b)) {
            throw new InvalidArgumentException(name, "must be on the same device as the activation ("
                    + a.device().str().getString() + "), got " + b.device().str().getString());
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
