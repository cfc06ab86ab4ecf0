package dev.ivkit.kernels;

import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** add_rows on a GPU against the CPU reference (bit-exact: same fp32 math, one rounding). Skipped without CUDA. */
@Tag("cuda")
class AddRowsCudaTest {
    @BeforeEach
    void requireCuda() {
        Torch.init();
        Assumptions.assumeTrue(Cuda.available(), () -> "skipped: no CUDA (" + Cuda.reason() + ")");
    }

    enum Dt { FLOAT, BF16, HALF }

    @ParameterizedTest
    @EnumSource(Dt.class)
    void cudaMatchesCpu(Dt dt) {
        torch.ScalarType dtype = switch (dt) {
            case FLOAT -> torch.ScalarType.Float;
            case BF16 -> torch.ScalarType.BFloat16;
            case HALF -> torch.ScalarType.Half;
        };
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(7);
            Tensor x = torch.randn(333, 4097).to(dtype);
            Tensor rows = torch.randperm(333).narrow(0, 0, 123).contiguous();
            Tensor v = torch.randn(123, 4097).to(dtype);
            Tensor scales = torch.rand(123).sub(new Scalar(0.5));
            Device gpu = new Device("cuda:0");
            Tensor xg = x.to(gpu, dtype), vg = v.to(gpu, dtype), rg = rows.to(gpu, torch.ScalarType.Long),
                    sg = scales.to(gpu, torch.ScalarType.Float);
            Kernels.addRowsInPlace(x, rows, v, scales, 0.5f);
            Kernels.addRowsInPlace(xg, rg, vg, sg, 0.5f);
            torch_cuda_sync();
            Compare.assertBitEqual(x, xg.cpu(), "add_rows cuda vs cpu " + dtype);
        }
    }

    private static void torch_cuda_sync() {
        org.bytedeco.pytorch.global.torch_cuda.getCurrentCUDAStream((byte) 0).synchronize();
    }
}
