package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * gather_heads on a GPU: the same cases as {@link GatherHeadsTest}, against the same composite computed on the CPU
 * (bit-exact: a gather copies, the accumulation sums in fp32 in batch order as the CPU kernel does). Skipped without
 * CUDA.
 */
@Tag("cuda")
class GatherHeadsCudaTest {
    private static final Device GPU = new Device("cuda:0");

    @BeforeEach
    void requireCuda() {
        Torch.init();
        Assumptions.assumeTrue(Cuda.available(), () -> "skipped: no CUDA (" + Cuda.reason() + ")");
    }

    @ParameterizedTest
    @MethodSource("dev.ivkit.kernels.GatherHeadsTest#cases")
    void gatherMatchesCpuComposite(torch.ScalarType dtype, int b, int t, int h, int d) {
        try (PointerScope s = new PointerScope()) {
            GatherHeadsTest.Input in = GatherHeadsTest.Input.draw(b * 7L + d, dtype, b, t, h, d);
            Tensor z = in.z(), pos = in.pos();
            Tensor got = Kernels.gatherHeads(z.to(GPU, dtype), pos.to(GPU, torch.ScalarType.Long));
            assertTrue(got.is_cuda());
            assertEquals(dtype, Torch.dtype(got));
            Compare.assertBitEqual(GatherHeadsTest.composite(z, pos), got.cpu(), "gather cuda " + dtype);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.ivkit.kernels.GatherHeadsTest#cases")
    void accumulateMatchesCpuKernel(torch.ScalarType dtype, int b, int t, int h, int d) {
        try (PointerScope s = new PointerScope()) {
            GatherHeadsTest.Input in = GatherHeadsTest.Input.draw(b * 13L + d, dtype, b, t, h, d);
            Tensor z = in.z(), pos = in.pos();
            Tensor acc = torch.randn(h, d);
            Tensor accGpu = acc.to(GPU, torch.ScalarType.Float);
            Kernels.gatherHeadsAccumulate(z, pos, acc);
            Kernels.gatherHeadsAccumulate(z.to(GPU, dtype), pos.to(GPU, torch.ScalarType.Long), accGpu);
            // fp32 sums of the same terms; the GPU kernel may add rows in another order: 1 ulp-scale tolerance
            Compare.assertClose(acc, accGpu.cpu(), 1e-6, 1e-6, "accumulate cuda " + dtype);
        }
    }

    @Test
    void rejectedCallsLeaveTheDeviceUsable() {
        try (PointerScope s = new PointerScope()) {
            Tensor z = torch.randn(2, 3, 4, 5).to(GPU, torch.ScalarType.Float);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.gatherHeads(z, Torch.fromLongs(0, 3).to(GPU, torch.ScalarType.Long)));
            assertEquals("positions", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.gatherHeads(z, Torch.fromLongs(0, 1)));  // host positions
            assertEquals("positions", e.field());
            Tensor pos = Torch.fromLongs(2, 0);
            Compare.assertBitEqual(GatherHeadsTest.composite(z.cpu(), pos),
                    Kernels.gatherHeads(z, pos.to(GPU, torch.ScalarType.Long)).cpu(), "gather after rejected calls");
        }
    }
}
