package dev.ivkit.bench;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Shared pieces of the libtorch composites the kernel benchmarks compare against. */
final class Composites {
    private Composites() {}

    /** The fp32 view a composite computes in; fp32 tensors pass through without a conversion call. */
    static Tensor asFloat(Tensor t) {
        return Torch.dtype(t) == torch.ScalarType.Float ? t : t.to(torch.ScalarType.Float);
    }
}
