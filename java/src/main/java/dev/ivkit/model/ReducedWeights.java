package dev.ivkit.model;

import dev.ivkit.util.ReducedMatmul;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * bfloat16 copies of a model's float32 weights for {@link ReducedMatmul} scopes: a weight is converted on its first
 * reduced GEMM and reconverted when its version counter shows an in-place change (a merged adapter, loaded weights).
 * The copies are held outside any caller's {@code PointerScope} and freed by {@link #close()}; half the float32
 * weights' size once every weight has been used. Confined to its model's thread, like the model.
 */
final class ReducedWeights {
    private record Copy(long version, Tensor low) {}

    private final Map<String, Copy> copies = new HashMap<>();

    /**
     * Whether {@code x · w} takes the reduced path: a reduced scope is open on this thread, the activations are
     * float32 and need no gradient, and the device has fast bfloat16 GEMMs (CUDA, or a CPU with them).
     */
    static boolean applies(Tensor x, Tensor w) {
        if (!ReducedMatmul.inForce() || x.scalar_type().intern() != torch.ScalarType.Float || w.scalar_type().intern() != torch.ScalarType.Float
                || x.is_meta()) {
            return false;
        }
        if (GradMode.is_enabled() && (x.requires_grad() || w.requires_grad())) {
            return false;
        }
        return x.is_cuda() || (x.is_cpu() && ReducedMatmul.cpuHasBf16Gemm());
    }

    /** x W^T (+ b) with bfloat16 products and float32 sums, widened to float32; {@code key} names the weight. */
    Tensor linear(String key, Tensor x, Tensor w, Tensor b) {
        Tensor lw = low(key, w);
        Tensor xl = x.to(torch.ScalarType.BFloat16);
        Tensor y = b == null ? torch.linear(xl, lw) : torch.linear(xl, lw, new TensorOptional(b.to(torch.ScalarType.BFloat16)));
        return y.to(torch.ScalarType.Float);
    }

    private Tensor low(String key, Tensor w) {
        long version = w.__dispatch__version();
        Copy c = copies.get(key);
        if (c != null && c.version == version) {
            return c.low;
        }
        if (c != null) {
            c.low.releaseReference();
        }
        Tensor low;
        try (NoGradGuard g = new NoGradGuard()) {
            low = w.detach().to(torch.ScalarType.BFloat16);
        }
        low.retainReference();   // survives the caller's PointerScope; released on reconversion or close()
        copies.put(key, new Copy(version, low));
        return low;
    }

    /** Bytes of the copies held now. */
    long bytes() {
        long n = 0;
        for (Copy c : copies.values()) {
            n += c.low.numel() * 2;
        }
        return n;
    }

    void close() {
        for (Copy c : copies.values()) {
            c.low.releaseReference();
        }
        copies.clear();
    }
}
