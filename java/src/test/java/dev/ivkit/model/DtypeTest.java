package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** bf16 and fp16 forwards of stories260K against the fp32 forward. */
class DtypeTest {
    @Test
    void reducedPrecisionTracksFloat32() {
        Path bin = SharedData.stories260K().resolve("stories260K.bin");
        long[] ids = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426};
        try (PointerScope s = new PointerScope(); LlamaModel f32 = ModelLoader.load(bin, null)) {
            Tensor ref = f32.forward(torch.tensor(ids).reshape(1, ids.length), HookPlan.empty()).logits().select(0, 0);
            float[] r = Torch.toFloatArray(ref);
            for (torch.ScalarType dt : new torch.ScalarType[] {torch.ScalarType.BFloat16, torch.ScalarType.Half}) {
                try (LlamaModel m = ModelLoader.load(bin, dt)) {
                    assertEquals(dt, m.dtype());
                    Tensor got = m.forward(torch.tensor(ids).reshape(1, ids.length), HookPlan.empty()).logits().select(0, 0);
                    assertEquals(dt, Torch.dtype(got));
                    float[] g = Torch.toFloatArray(got);
                    double maxDiff = 0, maxAbs = 0;
                    for (int i = 0; i < r.length; i++) {
                        maxDiff = Math.max(maxDiff, Math.abs(r[i] - g[i]));
                        maxAbs = Math.max(maxAbs, Math.abs(r[i]));
                    }
                    // bf16 keeps 8 mantissa bits (relative step 2^-8 = 0.4 %); through 5 layers we allow 3 % of the
                    // largest logit. fp16 (11 bits) is held to the same bound.
                    assertTrue(maxDiff < 0.03 * maxAbs, dt + ": max |diff| " + maxDiff + " vs max |logit| " + maxAbs);
                    int agree = 0;
                    for (int p = 0; p < ids.length; p++) {
                        float[] rr = java.util.Arrays.copyOfRange(r, p * 512, (p + 1) * 512);
                        float[] gg = java.util.Arrays.copyOfRange(g, p * 512, (p + 1) * 512);
                        agree += Sampler.argmax(rr) == Sampler.argmax(gg) ? 1 : 0;
                    }
                    assertTrue(agree >= ids.length - 2, dt + ": top-1 agrees at " + agree + " of " + ids.length + " positions");
                }
            }
        }
    }
}
