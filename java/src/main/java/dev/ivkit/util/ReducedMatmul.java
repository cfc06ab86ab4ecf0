package dev.ivkit.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A scope in which the calling thread's model GEMMs on float32 activations use bfloat16 products
 * ({@link dev.ivkit.MatmulPrecision#REDUCED}): {@code dev.ivkit.model} multiplies bfloat16 copies of the activations
 * and of the weights (converted once per weight and kept until the weight changes) with float32 accumulation and
 * widens the bfloat16 result back to float32. Only where it pays: on CUDA, and on CPUs with bfloat16 GEMMs (AVX512-BF16
 * or AMX, {@link #cpuHasBf16Gemm()}); elsewhere the products stay IEEE float32. The flag is per thread (other threads'
 * GEMMs, e.g. parallel training jobs, are untouched) and scopes nest. Use it in try-with-resources;
 * {@link #enter(boolean)} with false is a scope that changes nothing.
 */
public final class ReducedMatmul implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static final boolean CPU_BF16 = probeCpu(Path.of("/proc/cpuinfo"));

    private final boolean active;
    private final Thread owner;
    private boolean closed;

    private ReducedMatmul(boolean active) {
        this.active = active;
        this.owner = Thread.currentThread();
    }

    /**
     * Opens a scope on the calling thread.
     *
     * @param reduced whether products are reduced in it (false: a scope that changes nothing)
     * @return the scope, to close on the same thread
     */
    public static ReducedMatmul enter(boolean reduced) {
        if (reduced) {
            DEPTH.get()[0]++;
        }
        return new ReducedMatmul(reduced);
    }

    /**
     * Whether a reduced scope is open on the calling thread.
     *
     * @return true inside an open {@code enter(true)} scope of this thread
     */
    public static boolean inForce() {
        return DEPTH.get()[0] > 0;
    }

    /**
     * Whether this machine's CPU has bfloat16 GEMMs that make reduced products faster (read once from
     * {@code /proc/cpuinfo}: the {@code avx512_bf16} or {@code amx_bf16} flag).
     *
     * @return false where the flags are absent or unreadable
     */
    public static boolean cpuHasBf16Gemm() {
        return CPU_BF16;
    }

    /** Whether the cpuinfo file at {@code p} lists a bfloat16 GEMM flag (package-visible for tests). */
    static boolean probeCpu(Path p) {
        try {
            for (String line : Files.readAllLines(p)) {
                if (line.startsWith("flags")) {
                    for (String f : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                        if (f.equals("avx512_bf16") || f.equals("amx_bf16")) {
                            return true;
                        }
                    }
                    return false;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    /**
     * Ends the scope; idempotent.
     *
     * @throws IllegalStateException when closed on another thread than the one that opened it
     */
    @Override
    public void close() {
        if (!active || closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a ReducedMatmul scope must be closed on the thread that opened it");
        }
        closed = true;
        DEPTH.get()[0]--;
    }
}
