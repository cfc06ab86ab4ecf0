package dev.ivkit.util;

import dev.ivkit.InvalidArgumentException;
import java.util.Arrays;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** Small helpers over the libtorch presets: loading, thread setup, dtype names, host copies. */
public final class Torch {
    private static volatile boolean initialised;

    private Torch() {}

    /**
     * Loads libtorch once and sets libtorch's intra-op threads: {@code IVKIT_THREADS} if set, else 1. Why 1: on 2-core
     * machines libtorch's OpenMP threads spin-wait, and with any other busy process a stories260K forward took 880 ms
     * instead of 24 ms (measured); GEMMs are threaded by OpenBLAS anyway ({@code OPENBLAS_NUM_THREADS}, read once at
     * start-up; see benchmarks/README.md for the measured trade-off). Never run both at 2 threads on 2 cores.
     */
    public static synchronized void init() {
        if (initialised) {
            return;
        }
        Loader.load(torch.class);
        String env = System.getenv("IVKIT_THREADS");
        int threads = 1;
        if (env != null && !env.isBlank()) {
            try {
                threads = Integer.parseInt(env.trim());
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("IVKIT_THREADS", "not a number: '" + env + "'");
            }
        }
        torch.set_num_threads(Math.max(1, threads));
        initialised = true;
    }

    /** The tensor's dtype as the canonical enum constant (the presets return non-interned copies: never compare raw). */
    public static torch.ScalarType dtype(Tensor t) {
        return t.scalar_type().intern();
    }

    /** {@code t} on {@code like}'s device, keeping t's dtype (no copy when already there). */
    public static Tensor onDevice(Tensor t, Tensor like) {
        return sameDevice(t, like) ? t : t.to(like.device(), dtype(t));
    }

    /** @return true when both tensors live on the same device (type and index) */
    public static boolean sameDevice(Tensor a, Tensor b) {
        // boolean queries for host and meta tensors: no Device object or string per call on the kernels' hot path
        if (a.is_cuda() || b.is_cuda()) {
            return a.is_cuda() && b.is_cuda() && a.device().index() == b.device().index();
        }
        return a.is_meta() == b.is_meta();   // otherwise both are host (CPU) tensors or both meta
    }

    /**
     * Rows {@code index} of {@code t} along dim 0, as {@code index_select(0, index)}. On the shape-only meta device
     * (device-hygiene tests) it uses advanced indexing instead, which has a meta kernel in C++ libtorch 2.10 where
     * index_select has none; both give the same values and gradients.
     */
    public static Tensor rows(Tensor t, Tensor index) {
        if (!t.is_meta() && !index.is_meta()) {
            return t.index_select(0, index);
        }
        if (!sameDevice(t, index)) {  // as index_select would refuse (advanced indexing accepts host indices)
            throw new IllegalArgumentException("Expected all tensors to be on the same device, but found "
                    + t.device().str().getString() + " and " + index.device().str().getString() + " (index_select)");
        }
        org.bytedeco.pytorch.TensorOptionalList l = new org.bytedeco.pytorch.TensorOptionalList();
        l.push_back(new org.bytedeco.pytorch.TensorOptional(index));
        return torch.index(t, l);
    }

    /**
     * {@code t.gather(dim, index)} after checking that both live on one device: libtorch's meta device does not check
     * gather's index (CUDA does), so every gather with an index goes through here for the device-hygiene tests.
     *
     * @param t     the source
     * @param dim   the dimension
     * @param index int64 indices, on t's device
     * @return the gathered values
     */
    public static Tensor gather(Tensor t, long dim, Tensor index) {
        if (!sameDevice(t, index)) {
            throw new IllegalArgumentException("Expected all tensors to be on the same device, but found "
                    + t.device().str().getString() + " and " + index.device().str().getString() + " (gather)");
        }
        return t.gather(dim, index);
    }

    public static String shape(Tensor t) {
        return Arrays.toString(t.sizes().vec().get());
    }

    public static long[] sizes(Tensor t) {
        return t.sizes().vec().get();
    }

    /**
     * The values of {@code t} as float32 on the host (a device-to-host copy for CUDA tensors). A meta tensor has no
     * values: it gives zeros of the right length, so stages run end to end in the device-hygiene test.
     */
    public static float[] toFloatArray(Tensor t) {
        if (t.is_meta()) {
            return new float[(int) t.numel()];
        }
        Tensor c = t.to(torch.ScalarType.Float).contiguous().cpu();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    /** The values of {@code t} as int64 on the host; a meta tensor gives zeros of the right length (see {@link #toFloatArray}). */
    public static long[] toLongArray(Tensor t) {
        if (t.is_meta()) {
            return new long[(int) t.numel()];
        }
        Tensor c = t.to(torch.ScalarType.Long).contiguous().cpu();
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    /** The single value of {@code t} as a double on the host; 0 for a meta tensor (see {@link #toFloatArray}). */
    public static double item(Tensor t) {
        return t.is_meta() ? 0 : t.item_double();
    }

    /** The single value of {@code t} as a long on the host; 0 for a meta tensor (see {@link #toFloatArray}). */
    public static long itemLong(Tensor t) {
        return t.is_meta() ? 0 : t.item_long();
    }

    public static Tensor fromLongs(long... values) {
        return torch.tensor(values);
    }

    /** A float64 tensor [values.length] holding a copy of {@code values} (the presets have no tensor(double...)). */
    public static Tensor fromDoubles(double[] values) {
        Tensor t = torch.zeros(new long[] {values.length}, options(torch.ScalarType.Double));
        if (values.length > 0) {
            t.data_ptr_double().put(values);
        }
        return t;
    }

    public static Tensor fromFloats(float[] values, long... shape) {
        return torch.tensor(values).reshape(shape);
    }

    public static Scalar scalar(double v) {
        return new Scalar(v);
    }

    public static TensorOptions options(torch.ScalarType dtype) {
        return new TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(dtype));
    }

    /** Parses fp32 / float32 / bf16 / bfloat16 / fp16 / float16. */
    public static torch.ScalarType parseDtype(String s) {
        return switch (s.toLowerCase()) {
            case "fp32", "float32", "float" -> torch.ScalarType.Float;
            case "bf16", "bfloat16" -> torch.ScalarType.BFloat16;
            case "fp16", "float16", "half" -> torch.ScalarType.Half;
            default -> throw new InvalidArgumentException("dtype", "unknown dtype '" + s + "' (fp32, bf16 or fp16)");
        };
    }
}
