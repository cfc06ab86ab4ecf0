package dev.ivkit.kernels;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.KlDirection;
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

    /** Checks logits [rows, V] or [..., V] (contiguous, V &ge; 1) named {@code name}; returns {rows, V}. */
    static long[] logits(String name, Tensor t) {
        if (t == null || t.dim() < 2) {
            throw new InvalidArgumentException(name, "expected logits [rows, V] or [..., V], got "
                    + (t == null ? "null" : Torch.shape(t)));
        }
        requireContiguous(name, t);
        long vocab = t.size(-1);
        if (vocab < 1) {
            throw new InvalidArgumentException(name, "vocabulary size must be >= 1, got " + Torch.shape(t));
        }
        return new long[] {t.numel() / vocab, vocab};
    }

    /** A temperature finite and &gt; 0 (also as a float). */
    static void temperature(double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature) || (float) temperature <= 0f) {
            throw new InvalidArgumentException("temperature", "must be finite and > 0, got " + temperature);
        }
    }

    /** The scalar options of the KL kernels: temperature finite and &gt; 0, a direction, grad dtype float32 or current's. */
    static void klOptions(double temperature, KlDirection dir, torch.ScalarType gradDtype, Tensor current) {
        temperature(temperature);
        if (dir == null) {
            throw new InvalidArgumentException("direction", "must not be null");
        }
        if (gradDtype != torch.ScalarType.Float && gradDtype != Torch.dtype(current)) {
            throw new InvalidArgumentException("gradDtype", "must be float32 or current's dtype " + Torch.dtype(current) + ", got " + gradDtype);
        }
    }

    /** The ABI's mask_kind of a KL row mask (null: 0, bool/uint8: 1, float32: 2), after checking it has one entry per row. */
    static int maskKind(Tensor mask, long rows, Tensor current) {
        if (mask == null) {
            return 0;
        }
        torch.ScalarType mt = Torch.dtype(mask);
        int kind;
        if (mt == torch.ScalarType.Bool || mt == torch.ScalarType.Byte) {
            kind = 1;
        } else if (mt == torch.ScalarType.Float) {
            kind = 2;
        } else {
            throw new InvalidArgumentException("mask", "unsupported dtype " + mt + " (bool, uint8 or float32)");
        }
        if (mask.numel() != rows || !(mask.dim() == 1 || mask.dim() == current.dim() - 1)) {
            throw new InvalidArgumentException("mask", "expected one entry per row ([" + rows + "] or the leading shape of "
                    + Torch.shape(current) + "), got " + Torch.shape(mask));
        }
        requireContiguous("mask", mask);
        sameDevice(current, mask, "mask");
        return kind;
    }

    /**
     * Checks a cached top-k reference for {@code rows} rows of {@code vocab} logits: ids int32 [rows, k] (1 &le; k &lt;
     * vocab), logq float32 of the same shape, logRest float32 [rows], all contiguous on current's device; returns k.
     */
    static long cachedTopK(Tensor ids, Tensor logq, Tensor logRest, long rows, long vocab, Tensor current) {
        if (ids == null || Torch.dtype(ids) != torch.ScalarType.Int || ids.dim() != 2 || ids.size(0) != rows) {
            throw new InvalidArgumentException("ids", "expected int32 [" + rows + ", k], got "
                    + (ids == null ? "null" : Torch.dtype(ids) + " " + Torch.shape(ids)));
        }
        long k = ids.size(1);
        if (k < 1 || k >= vocab) {
            throw new InvalidArgumentException("ids", "k must be in [1, " + vocab + "), got " + k);
        }
        if (logq == null || Torch.dtype(logq) != torch.ScalarType.Float || !java.util.Arrays.equals(Torch.sizes(logq), Torch.sizes(ids))) {
            throw new InvalidArgumentException("logq", "expected float32 " + Torch.shape(ids) + ", got "
                    + (logq == null ? "null" : Torch.dtype(logq) + " " + Torch.shape(logq)));
        }
        if (logRest == null || Torch.dtype(logRest) != torch.ScalarType.Float || logRest.dim() != 1 || logRest.size(0) != rows) {
            throw new InvalidArgumentException("logRest", "expected float32 [" + rows + "], got "
                    + (logRest == null ? "null" : Torch.dtype(logRest) + " " + Torch.shape(logRest)));
        }
        for (Object[] a : new Object[][] {{"ids", ids}, {"logq", logq}, {"logRest", logRest}}) {
            requireContiguous((String) a[0], (Tensor) a[1]);
            sameDevice(current, (Tensor) a[1], (String) a[0]);
        }
        return k;
    }

    /** The CUDA path's id check (the CPU kernel checks its ids itself): each in [0, vocab), none twice in a row. */
    static void checkTopkIds(Tensor ids, long vocab) {
        long[] flat = Torch.toLongArray(ids.to(torch.ScalarType.Long));
        int k = (int) ids.size(1);
        java.util.BitSet seen = new java.util.BitSet();
        for (int r = 0; r < flat.length / k; r++) {
            seen.clear();
            for (int i = 0; i < k; i++) {
                long id = flat[r * k + i];
                if (id < 0 || id >= vocab) {
                    throw new InvalidArgumentException("ids", "ids[" + r + ", " + i + "]=" + id + " is out of range [0, " + vocab + ")");
                }
                if (seen.get((int) id)) {
                    throw new InvalidArgumentException("ids", "ids[" + r + ", :] holds " + id + " twice");
                }
                seen.set((int) id);
            }
        }
    }
}
