package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.PatchMode;
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
 * patch_heads on a GPU: the same cases as {@link PatchHeadsTest}, against the CPU kernel on the same inputs
 * (bit-exact: REPLACE copies, ADD is one fp32 add and one rounding per element on both). Skipped without CUDA.
 */
@Tag("cuda")
class PatchHeadsCudaTest {
    private static final Device GPU = new Device("cuda:0");

    @BeforeEach
    void requireCuda() {
        Torch.init();
        Assumptions.assumeTrue(Cuda.available(), () -> "skipped: no CUDA (" + Cuda.reason() + ")");
    }

    private static Tensor gpu(Tensor t) {
        return t.to(GPU, Torch.dtype(t));
    }

    @ParameterizedTest
    @MethodSource("dev.ivkit.kernels.PatchHeadsTest#cases")
    void cudaMatchesCpu(torch.ScalarType dtype, PatchMode mode, int b, int t, int h, int d, int n, boolean perPatch) {
        try (PointerScope s = new PointerScope()) {
            PatchHeadsTest.Case c = PatchHeadsTest.Case.draw(dtype, b, t, h, d, n, perPatch);
            Tensor z = c.z(), zg = gpu(z);
            Kernels.patchHeadsInPlace(z, c.rows(), c.positions(), c.heads(), c.values(), mode);
            Kernels.patchHeadsInPlace(zg, gpu(c.rows()), gpu(c.positions()), gpu(c.heads()), gpu(c.values()), mode);
            Compare.assertBitEqual(z, zg.cpu(), "patch cuda " + mode + " " + dtype);
        }
    }

    @Test
    void rejectedCallsLeaveTheDeviceUsable() {
        try (PointerScope s = new PointerScope()) {
            Tensor z = gpu(torch.zeros(2, 3, 4, 5));
            Tensor v = gpu(torch.ones(5));
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Kernels.patchHeadsInPlace(z,
                    gpu(Torch.fromLongs(2)), gpu(Torch.fromLongs(0)), gpu(Torch.fromLongs(0)), v, PatchMode.ADD));
            assertEquals("rows", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.patchHeadsInPlace(z,
                    gpu(Torch.fromLongs(0, 0)), gpu(Torch.fromLongs(1, 1)), gpu(Torch.fromLongs(2, 2)), v, PatchMode.ADD));
            assertEquals("heads", e.field());   // the same (row, position, head) twice
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.patchHeadsInPlace(z,
                    Torch.fromLongs(0), gpu(Torch.fromLongs(0)), gpu(Torch.fromLongs(0)), v, PatchMode.ADD));  // host rows
            assertEquals("rows", e.field());
            Kernels.patchHeadsInPlace(z, gpu(Torch.fromLongs(1)), gpu(Torch.fromLongs(2)), gpu(Torch.fromLongs(3)), v, PatchMode.ADD);
            Tensor expected = torch.zeros(2, 3, 4, 5);
            expected.select(0, 1).select(0, 2).select(0, 3).fill_(new org.bytedeco.pytorch.Scalar(1.0));
            Compare.assertBitEqual(expected, z.cpu(), "patch after rejected calls");
        }
    }
}
