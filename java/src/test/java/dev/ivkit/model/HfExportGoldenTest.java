package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.Llama2cCheckpoint;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K written in Hugging Face layout (q/k rows permuted as convert_llama_weights_to_hf.py does) and loaded
 * back through the HF path in rotate-half mode gives the llama2.c model's logits.
 */
class HfExportGoldenTest {
    @Test
    void hfLayoutRoundTripMatchesLlama2c(@TempDir Path tmp) {
        Path bin = SharedData.stories260K().resolve("stories260K.bin");
        Checkpoint src = Llama2cCheckpoint.load(bin);
        HfCheckpoint.write(tmp, src, torch.ScalarType.Float);
        try (PointerScope s = new PointerScope();
             LlamaModel orig = ModelLoader.load(bin, null);
             LlamaModel hf = ModelLoader.load(tmp, null)) {
            assertEquals(RopeStyle.INTERLEAVED, orig.config().ropeStyle());
            assertEquals(RopeStyle.HALF, hf.config().ropeStyle());
            assertEquals(orig.config().parameterCount(), hf.config().parameterCount());
            long[] ids = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267};
            Tensor tokens = torch.tensor(ids).reshape(1, ids.length);
            Tensor a = orig.forward(tokens, HookPlan.empty()).logits();
            Tensor b = hf.forward(tokens, HookPlan.empty()).logits();
            // 1e-5 absolute plus 1e-6 relative: the permuted head dimensions change fp32 summation order, which moves
            // logits of magnitude ~10 by up to ~10 ulp (measured max 1.05e-5); a wrong permutation moves them by ~1.
            Compare.assertClose(a, b, 1e-6, 1e-5, "llama2.c (interleaved) vs HF export (rotate-half) logits");
        }
    }
}
