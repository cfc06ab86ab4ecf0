package dev.ivkit.kernels;

import dev.ivkit.UnsupportedException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

/** Availability of ivkit's CUDA library and torch's current stream. Decided once, with the reason kept. */
public final class Cuda {
    private static volatile String unavailableReason;
    private static volatile boolean probed;

    private Cuda() {}

    /**
     * True when the CUDA kernels were built, load, and see at least one device, and libtorch has CUDA.
     *
     * @return whether CUDA kernels can run here
     */
    public static boolean available() {
        return reason() == null;
    }

    /**
     * Why CUDA is unavailable, or null when it is available.
     *
     * @return the reason, or null when CUDA is available
     */
    public static synchronized String reason() {
        if (!probed) {
            unavailableReason = probe();
            probed = true;
        }
        return unavailableReason;
    }

    private static String probe() {
        try {
            Loader.load(IvkitCudaNative.class);
        } catch (Throwable t) {
            return "ivkit was built without its CUDA library (build with mvn -Pcuda): " + t.getClass().getSimpleName();
        }
        int n = IvkitCudaNative.ivkit_cuda_device_count();
        if (n <= 0) {
            return "the CUDA library sees no device (no GPU or driver)";
        }
        if (!torch.cuda_is_available()) {
            return "libtorch has no CUDA (the CPU pytorch jar is on the class path)";
        }
        return null;
    }

    /** The current CUDA stream of t's device as a raw cudaStream_t, or an UnsupportedException naming the reason. */
    static long requireStream(Tensor t) {
        String why = reason();
        if (why != null) {
            throw new UnsupportedException("CUDA requested but unavailable: " + why);
        }
        return torch_cuda.getCurrentCUDAStream(t.device().index()).stream().address();
    }
}
