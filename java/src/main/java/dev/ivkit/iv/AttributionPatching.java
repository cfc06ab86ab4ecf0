package dev.ivkit.iv;

import dev.ivkit.UnsupportedException;
import dev.ivkit.kernels.PatchMode;
import dev.ivkit.model.LlamaModel;
import org.bytedeco.pytorch.Tensor;

/** Attribution patching (first-order estimate of the scan). */
final class AttributionPatching {
    private AttributionPatching() {}

    static double[][][] score(LlamaModel model, Tensor meanZ, PatchMode mode, PromptTokens prompt) {
        throw new UnsupportedException("attribution patching is not implemented yet; use --method exact");
    }
}
