package dev.ivkit.kernels;

import dev.ivkit.KlDirection;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.params.provider.MethodSource;

/** kl_rows on a GPU against the fp64 composite and the CPU kernel (mirrors KlRowsTest). Skipped without CUDA. */
@Tag("cuda")
class KlRowsCudaTest {
    static final double TOL = 1e-5;

    @BeforeEach
    void requireCuda() {
        Torch.init();
        Assumptions.assumeTrue(Cuda.available(), () -> "skipped: no CUDA (" + Cuda.reason() + ")");
    }

    @ParameterizedTest
    @MethodSource("dev.ivkit.kernels.KlRowsTest#cases")  // the CPU test's shapes
    void cudaMatchesComposite(KlDirection dir, double temperature, int rows, int vocab) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(rows * 1000L + vocab);
            Tensor s = torch.randn(rows, vocab).mul(new Scalar(3.0));
            Tensor t = torch.randn(rows, vocab).mul(new Scalar(3.0));
            Tensor w = torch.ones(rows);
            w.narrow(0, 0, 1).fill_(new Scalar(0.0));
            Tensor[] exact = KlComposite.valueAndGrad(s, t, w, temperature, dir, torch.ScalarType.Double);
            Device gpu = new Device("cuda:0");
            KlRowsResult r = Kernels.klRows(s.to(gpu, torch.ScalarType.Float), t.to(gpu, torch.ScalarType.Float),
                    w.to(gpu, torch.ScalarType.Float), temperature, dir, true);
            KlRowsResult cpu = Kernels.klRows(s, t, w, temperature, dir, true);
            String what = "kl_rows cuda " + dir + " T=" + temperature + " [" + rows + "," + vocab + "]";
            Compare.assertClose(exact[0], r.loss().cpu(), 0, TOL, what + " loss vs fp64 composite");
            Compare.assertClose(exact[1], r.grad().cpu(), 0, TOL, what + " grad vs fp64 composite");
            Compare.assertClose(cpu.loss(), r.loss().cpu(), 0, TOL, what + " loss vs CPU kernel");
            assertEquals(0f, r.grad().cpu().narrow(0, 0, 1).abs().sum().item_float(), what + ": masked row grad");
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void cudaHugeLogitsAndBf16(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(17);
            Device gpu = new Device("cuda:0");
            Tensor s = torch.rand(4, 3001).mul(new Scalar(2e4)).sub(new Scalar(1e4));
            Tensor t = torch.rand(4, 3001).mul(new Scalar(2e4)).sub(new Scalar(1e4));
            KlRowsResult r = Kernels.klRows(s.to(gpu, torch.ScalarType.Float), t.to(gpu, torch.ScalarType.Float), null, 1.0, dir, true);
            Tensor[] expected = KlComposite.valueAndGrad(s, t, null, 1.0, dir);
            Compare.assertClose(expected[0], r.loss().cpu(), 1e-5, 1e-2, "loss at ±1e4");
            Compare.assertClose(expected[1], r.grad().cpu(), 1e-3, 1e-2, "grad at ±1e4");

            Tensor sb = torch.randn(5, 1999).mul(new Scalar(3.0)).to(torch.ScalarType.BFloat16);
            Tensor tb = torch.randn(5, 1999).mul(new Scalar(3.0)).to(torch.ScalarType.BFloat16);
            Tensor[] exact = KlComposite.valueAndGrad(sb, tb, null, 2.0, dir, torch.ScalarType.Double);
            KlRowsResult rb = Kernels.klRows(sb.to(gpu, torch.ScalarType.BFloat16), tb.to(gpu, torch.ScalarType.BFloat16), null, 2.0,
                    dir, true, torch.ScalarType.Float);
            Compare.assertClose(exact[0], rb.loss().cpu(), 0, TOL, "bf16 loss");
            Compare.assertClose(exact[1], rb.grad().cpu(), 0, TOL, "bf16 grad");
        }
    }

    @ParameterizedTest
    @EnumSource(FusedKl.Reduction.class)
    void fusedBackwardOnGpu(FusedKl.Reduction reduction) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(31);
            Device gpu = new Device("cuda:0");
            Tensor base = torch.randn(3, 4, 1000).mul(new Scalar(2.0)).to(gpu, torch.ScalarType.Float);
            Tensor ref = torch.randn(3, 4, 1000).mul(new Scalar(2.0)).to(gpu, torch.ScalarType.Float);
            Tensor cur = base.clone().requires_grad_(true);
            Tensor fused = FusedKl.loss(cur, ref, null, 2.0, KlDirection.REVERSE, reduction);
            fused.backward();
            Tensor cur2 = base.clone().requires_grad_(true);
            double den = switch (reduction) {
                case SUM -> 1;
                case BATCHMEAN -> 3;
                case MEAN -> 12;
            };
            Tensor composite = KlComposite.rows(cur2, ref, null, 2.0, KlDirection.REVERSE).sum().div(new Scalar(den));
            composite.backward();
            assertEquals(composite.item_double(), fused.item_double(), TOL, "value");
            Compare.assertClose(cur2.grad().cpu(), cur.grad().cpu(), 0, TOL, "FusedKl cuda .grad() " + reduction);
        }
    }
}
