package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.PatchMode;
import dev.ivkit.hooks.HeadPatch;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.model.Device;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RunResult;
import dev.ivkit.testutil.SharedData;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Scratch: forward with capture, patch and add on the meta device. */
class MetaDeviceTest {
    @Test
    void forwardWithHooksOnMeta() {
        try (PointerScope s = new PointerScope();
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null, Device.META, null)) {
            assertTrue(m.weights().values().stream().allMatch(Tensor::is_meta));
            Tensor tokens = torch.tensor(new long[] {1, 403, 407, 261, 378, 432, 383, 1, 317, 381, 261, 352, 266, 268}).reshape(2, 7);
            Tensor z = torch.zeros(new long[] {2, 8}, dev.ivkit.util.Torch.options(torch.ScalarType.Float).device(
                    new org.bytedeco.pytorch.DeviceOptional(Device.META.torch())));
            Tensor v = torch.zeros(new long[] {m.config().dModel()}, dev.ivkit.util.Torch.options(torch.ScalarType.Float).device(
                    new org.bytedeco.pytorch.DeviceOptional(Device.META.torch())));
            HookPlan plan = HookPlan.builder().capture(HookSite.attnZ(2)).capture(HookSite.residPost(3), Positions.last())
                    .patch(new HeadPatch(2, 5, Positions.of(4, 6), z, PatchMode.ADD, null))
                    .add(new ResidualAdd(HookSite.residPost(1), Positions.last(), v, 1f, null)).build();
            RunResult r = m.forward(tokens, plan);
            assertTrue(r.logits().is_meta());
            assertArrayEquals(new long[] {2, 7, m.config().vocabSize()}, r.logits().sizes().vec().get());
        }
    }

    @Test
    void meanActivationsAndExactScanOnMeta() throws Exception {
        java.nio.file.Path dir = SharedData.stories260K();
        try (PointerScope s = new PointerScope();
             dev.ivkit.model.tokenizer.Tokenizer tok = dev.ivkit.model.tokenizer.Tokenizer.load(dir.resolve("tok512.bin"));
             LlamaModel m = ModelLoader.load(dir.resolve("stories260K.bin"), null, Device.META, null)) {
            java.util.List<dev.ivkit.data.prompt.TokenizedPrompt> ps = CieScanTest.prompts(tok, 1, 3, false);
            Tensor meanZ = MeanActivations.compute(m, ps, 2);
            assertTrue(meanZ.is_meta());
            CieScan scan = new CieScan(m, meanZ, PatchMode.ADD);
            double[][][] exact = scan.scorePrompt(ps.get(0), ScanMethod.EXACT);
            assertEquals(m.config().nLayers(), exact[0].length);
        }
    }
}
