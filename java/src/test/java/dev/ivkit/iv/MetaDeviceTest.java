package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
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

/**
 * Device hygiene without a GPU: the stages run with the model on libtorch's {@code meta} device (shapes and dtypes,
 * no data), where any tensor created on the host and mixed with the model's fails with "Expected all tensors to be on
 * the same device", as it would on CUDA: forward with capture, head patch and residual add; mean activations; the
 * exact scan; building an IV and evaluating it (teacher-forced and greedy, IV at every token); KV-cache generation.
 * Host reads of meta values give zeros ({@code Torch.toFloatArray}), so only placement is checked here, not numbers.
 * The IV-guided training step is {@code train.MetaTrainStepTest}.
 */
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
            assertEquals(m.config().nLayers(), scan.scorePrompt(ps.get(0), ScanMethod.ATP)[0].length);   // attribution patching
            // an IV from mean activations read back from mean_z.safetensors (on the host), as ivkit extract builds it
            Tensor hostMeanZ = torch.zeros(new long[] {m.config().nLayers(), m.config().nHeads(), m.config().headDim()});
            try (InstructionVector fromFile = InstructionVector.build(m, hostMeanZ, exact[0],
                    java.util.List.of(new HeadRanking.Head(1, 3, 0)), java.util.Map.of())) {
                assertTrue(fromFile.vector().is_meta());
            }
            // the general multiple-choice evaluation of the continual runner
            double[] sc = new dev.ivkit.eval.MultipleChoiceEval(m, tok).score("Once upon a time", " there was");
            assertEquals(2, sc.length);
            java.util.List<HeadRanking.Head> heads = java.util.List.of(new HeadRanking.Head(1, 3, 0), new HeadRanking.Head(4, 6, 0));
            try (InstructionVector iv = InstructionVector.build(m, meanZ, exact[0], heads, java.util.Map.of("task", "antonym"))) {
                assertTrue(iv.vector().is_meta(), "the IV is built where the model is");
                IvEvaluator.Result r = new IvEvaluator(m, tok).evaluate(IvEvaluatorTest.prompts(2, 2), iv.vector(), 2, 1f, 3, true);
                assertEquals(2, r.prompts());
            }
        }
    }

    @Test
    void aTensorLeftOnTheHostIsCaught() {
        // the premise and a negative control: host tensors mixed with the model's meta tensors fail, in libtorch's own
        // ops and in ivkit's kernels, as they would with a model on CUDA
        try (PointerScope s = new PointerScope();
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null, Device.META, null)) {
            Tensor tokens = torch.tensor(new long[] {1, 403, 407, 261}).reshape(1, 4);
            RunResult r = m.forward(tokens, HookPlan.builder().capture(HookSite.attnZ(1)).build());
            Tensor z = r.capture(HookSite.attnZ(1));                                       // [1, 4, 8, 8] on meta
            RuntimeException e = assertThrows(RuntimeException.class, () -> r.logits().add(torch.zeros(r.logits().sizes().vec().get())));
            assertTrue(e.getMessage().contains("same device"), e.getMessage());
            InvalidArgumentException k = assertThrows(InvalidArgumentException.class,
                    () -> dev.ivkit.kernels.Kernels.gatherHeads(z, torch.tensor(new long[] {3})));
            assertTrue(k.getMessage().contains("positions") && k.getMessage().contains("cpu"), k.getMessage());
            assertThrows(IllegalArgumentException.class, () -> dev.ivkit.util.Torch.rows(r.logits().reshape(4, -1), torch.tensor(new long[] {0})));
            // libtorch's meta gather does not check its index's device (CUDA does): Torch.gather does
            assertThrows(IllegalArgumentException.class, () -> dev.ivkit.util.Torch.gather(r.logits(), 2,
                    torch.zeros(new long[] {1, 4, 1}, dev.ivkit.util.Torch.options(torch.ScalarType.Long))));
        }
    }

    @Test
    void greedyGenerationOnMeta() {
        try (PointerScope s = new PointerScope();
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null, Device.META, null)) {
            int[] out = new dev.ivkit.model.Generator(m).generate(new int[] {1, 403, 407}, 6, new dev.ivkit.model.Sampler(0, 1, 0), t -> true);
            assertEquals(6, out.length);
        }
    }
}
