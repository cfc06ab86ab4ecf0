package dev.ivkit.kernels;

/**
 * Thread count of the BLAS under libtorch (OpenBLAS), changed at run time — {@code OPENBLAS_NUM_THREADS} is read only
 * when the library loads. A trainer that runs one single-threaded shard per core turns BLAS threading off while it
 * does: two shards × two BLAS threads on two cores oversubscribe (2.6–2.9× slower steps, organism notes).
 */
public final class Blas {
    private Blas() {}

    /**
     * The loaded OpenBLAS's thread count, or -1 when none is loaded (another BLAS).
     *
     * @return the thread count, or -1 when no OpenBLAS is loaded
     */
    public static int threads() {
        dev.ivkit.util.Torch.init();
        return IvkitNative.ivkit_blas_get_threads();
    }

    /**
     * Sets the thread count (≥ 1); returns the count before, or -1 when no OpenBLAS is loaded (nothing changed).
     *
     * @param n the new thread count, at least 1
     * @return the thread count before the call, or -1 when no OpenBLAS is loaded
     */
    public static int setThreads(int n) {
        if (n < 1) {
            throw new dev.ivkit.InvalidArgumentException("threads", "must be >= 1, got " + n);
        }
        dev.ivkit.util.Torch.init();
        return IvkitNative.ivkit_blas_set_threads(n);
    }
}
