package dev.ivkit.model.io;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Package helpers for tensor allocation and for handing results out of an internal {@link PointerScope}. */
final class TensorOpts {
    private TensorOpts() {}

    static Tensor empty(long[] shape, ScalarType dtype) {
        TensorOptions o = new TensorOptions().dtype(new ScalarTypeOptional(dtype));
        return torch.empty(shape, o, new MemoryFormatOptional());
    }

    /**
     * Takes a tensor on which {@code retainReference()} was called inside a scope that is now closed, and gives it to
     * the caller's innermost scope if there is one (so it is freed with the caller's other results); otherwise the
     * caller holds the only reference and frees it with {@code close()} (or the GC does).
     */
    static Tensor handOver(Tensor t) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }
}
