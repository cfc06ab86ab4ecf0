package dev.ivkit.util;

import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.global.torch;

/**
 * A scope in which libtorch's float32 GEMMs use reduced-precision products: bfloat16 inputs with float32 accumulation
 * through oneDNN on CPUs that have bfloat16 GEMMs (elsewhere libtorch keeps IEEE products), TF32 on CUDA
 * ({@link dev.ivkit.MatmulPrecision#REDUCED}). libtorch holds the setting in its process-wide context; scopes are
 * counted, so that overlapping scopes on several threads restore the settings found before the first one only when
 * the last one closes. Use it in try-with-resources; {@link #enter(boolean)} with false is a no-op scope.
 */
public final class ReducedMatmul implements AutoCloseable {
    private static final Object LOCK = new Object();
    private static int open;
    private static int savedCpu;
    private static int savedCuda;

    private final boolean active;
    private boolean closed;

    private ReducedMatmul(boolean active) {
        this.active = active;
    }

    /**
     * Opens a scope.
     *
     * @param reduced whether products are reduced in it (false: a scope that changes nothing)
     * @return the scope, to close
     */
    public static ReducedMatmul enter(boolean reduced) {
        if (reduced) {
            synchronized (LOCK) {
                Context c = torch.globalContext();
                if (open++ == 0) {
                    savedCpu = c.float32Precision(torch.Float32Backend.MKLDNN.value, torch.Float32Op.MATMUL.value);
                    savedCuda = c.float32Precision(torch.Float32Backend.CUDA.value, torch.Float32Op.MATMUL.value);
                    c.setFloat32Precision(torch.Float32Backend.MKLDNN.value, torch.Float32Op.MATMUL.value,
                            torch.Float32Precision.BF16.value);
                    c.setFloat32Precision(torch.Float32Backend.CUDA.value, torch.Float32Op.MATMUL.value,
                            torch.Float32Precision.TF32.value);
                }
            }
        }
        return new ReducedMatmul(reduced);
    }

    /** Whether reduced products are in force now (some scope is open). */
    public static boolean inForce() {
        synchronized (LOCK) {
            return open > 0;
        }
    }

    /** Restores the settings found before the first open scope when this is the last one; idempotent. */
    @Override
    public void close() {
        if (!active || closed) {
            return;
        }
        closed = true;
        synchronized (LOCK) {
            if (--open == 0) {
                Context c = torch.globalContext();
                c.setFloat32Precision(torch.Float32Backend.MKLDNN.value, torch.Float32Op.MATMUL.value, savedCpu);
                c.setFloat32Precision(torch.Float32Backend.CUDA.value, torch.Float32Op.MATMUL.value, savedCuda);
            }
        }
    }
}
