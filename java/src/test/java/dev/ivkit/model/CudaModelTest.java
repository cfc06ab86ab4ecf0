package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.kernels.Cuda;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * stories260K on a CUDA device against the same model on the CPU (runs only where a GPU is present; CPU CI skips it
 * with the reason): weights, KV cache, RoPE tables and masks on the device, logits equal within fp32 tolerance,
 * KV-cache generation gives the CPU's tokens, a LoRA adapter follows the model to its device.
 */
class CudaModelTest {
    private static final Path BIN = SharedData.stories260K().resolve("stories260K.bin");

    @Test
    void forwardGenerationAndAdapterOnCuda() {
        assumeTrue(Cuda.available(), "no usable CUDA: " + Cuda.reason());
        try (PointerScope s = new PointerScope();
             LlamaModel cpu = ModelLoader.load(BIN, null);
             LlamaModel gpu = ModelLoader.load(BIN, null, Device.cuda(0), null)) {
            assertEquals(Device.cuda(0), gpu.device());
            assertTrue(gpu.weights().values().stream().allMatch(Tensor::is_cuda));
            long[] ids = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};
            Tensor tokens = torch.tensor(ids).reshape(1, ids.length);
            Tensor a = cpu.forward(tokens, HookPlan.empty()).logits();
            Tensor b = gpu.forward(tokens, HookPlan.empty()).logits();
            assertTrue(b.is_cuda());
            // fp32 on both; cuBLAS may use TF32-free but differently ordered sums: 1e-4 on logits of magnitude ~10
            Compare.assertClose(a, b.cpu(), 1e-5, 1e-4, "CPU vs CUDA logits");
            Sampler greedy = new Sampler(0, 1, 0);
            int[] prompt = {1, 403, 407};
            assertEquals(java.util.Arrays.toString(new Generator(cpu).generate(prompt, 40, greedy, t -> true)),
                    java.util.Arrays.toString(new Generator(gpu).generate(prompt, 40, new Sampler(0, 1, 0), t -> true)));
            try (LoraAdapter adapter = LoraAdapter.create(gpu.config(), LoraConfig.defaults(), 1)) {
                gpu.attachAdapter(adapter);
                assertTrue(adapter.weights(LoraConfig.modulePath(0, LoraConfig.defaults().targets().iterator().next()))[0].is_cuda());
                gpu.detachAdapter();
            }
        }
    }
}
