package dev.ivkit.kernels;

import dev.ivkit.KlDirection;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.ivkit.testutil.Errors.assertField;

import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** kl_rows (CPU) and FusedKl against the libtorch composite of {@link KlComposite}: value and autograd gradient. */
class KlRowsTest {
    static final double TOL = 1e-5;

    @BeforeAll
    static void init() {
        Torch.init();
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (KlDirection dir : KlDirection.values()) {
            for (double t : new double[] {1.0, 2.0}) {
                b.add(Arguments.of(dir, t, 3, 32000));   // 31.25 CPU chunks of 1024, 125 CUDA strides of 256
                b.add(Arguments.of(dir, t, 5, 1000));
                b.add(Arguments.of(dir, t, 4, 7));
                b.add(Arguments.of(dir, t, 2, 1));
            }
        }
        b.add(Arguments.of(KlDirection.REVERSE, 2.0, 2, 2048));  // exactly two chunks
        b.add(Arguments.of(KlDirection.FORWARD, 0.5, 3, 1025));  // one chunk + one element
        return b.build();
    }

    /** Float mask weights, the first row masked (weight 0), one row weighted 0.5. */
    private static Tensor weights(int rows) {
        Tensor w = torch.ones(rows);
        w.narrow(0, 0, 1).fill_(new Scalar(0.0));
        if (rows > 2) {
            w.narrow(0, 2, 1).fill_(new Scalar(0.5));
        }
        return w;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesComposite(KlDirection dir, double temperature, int rows, int vocab) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(rows * 1000L + vocab);
            Tensor s = torch.randn(rows, vocab).mul(new Scalar(3.0));
            Tensor t = torch.randn(rows, vocab).mul(new Scalar(3.0));
            Tensor w = weights(rows);
            Tensor[] expected = KlComposite.valueAndGrad(s, t, w, temperature, dir);
            KlRowsResult r = Kernels.klRows(s, t, w, temperature, dir, true);
            String what = "kl_rows " + dir + " T=" + temperature + " [" + rows + "," + vocab + "]";
            // Loss: within 1e-5 of the exact (fp64) composite; the fp32 composite itself carries rounding of a few ulp of
            // the row's log-sum-exp (1.4e-5 seen at KL ~ 11), so against it the bound is 1e-5 plus 2e-6 relative.
            Tensor[] exact = KlComposite.valueAndGrad(s, t, w, temperature, dir, torch.ScalarType.Double);
            Compare.assertClose(exact[0], r.loss(), 0, TOL, what + " loss vs fp64 composite");
            Compare.assertClose(expected[0], r.loss(), 2e-6, TOL, what + " loss vs fp32 composite");
            Compare.assertClose(expected[1], r.grad(), 0, TOL, what + " grad");
            Compare.assertClose(exact[1], r.grad(), 0, TOL, what + " grad vs fp64 composite");
            assertEquals(0f, r.loss().narrow(0, 0, 1).item_float(), what + ": masked row loss");
            assertEquals(0f, r.grad().narrow(0, 0, 1).abs().sum().item_float(), what + ": masked row grad");
            // without the gradient: same loss, no grad tensor
            KlRowsResult noGrad = Kernels.klRows(s, t, w, temperature, dir, false);
            assertNull(noGrad.grad());
            Compare.assertBitEqual(r.loss(), noGrad.loss(), what + " loss without grad");
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void boolAndUint8MasksEqualZeroOneWeights(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(5);
            Tensor s = torch.randn(6, 333), t = torch.randn(6, 333);
            Tensor keep = Torch.fromFloats(new float[] {1, 0, 1, 1, 0, 1}, 6);
            KlRowsResult byWeight = Kernels.klRows(s, t, keep, 2.0, dir, true);
            KlRowsResult byBool = Kernels.klRows(s, t, keep.to(torch.ScalarType.Bool), 2.0, dir, true);
            KlRowsResult byByte = Kernels.klRows(s, t, keep.to(torch.ScalarType.Byte), 2.0, dir, true);
            Compare.assertBitEqual(byWeight.loss(), byBool.loss(), "bool mask loss");
            Compare.assertBitEqual(byWeight.grad(), byBool.grad(), "bool mask grad");
            Compare.assertBitEqual(byWeight.loss(), byByte.loss(), "uint8 mask loss");
            Tensor[] expected = KlComposite.valueAndGrad(s, t, keep, 2.0, dir);
            Compare.assertClose(expected[1], byBool.grad(), 0, TOL, "bool mask grad vs composite");
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void hugeLogitsStayFinite(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            for (double temperature : new double[] {1.0, 2.0}) {
                torch.manual_seed(17);
                Tensor s = torch.rand(4, 3001).mul(new Scalar(2e4)).sub(new Scalar(1e4));   // uniform in [-1e4, 1e4]
                Tensor t = torch.rand(4, 3001).mul(new Scalar(2e4)).sub(new Scalar(1e4));
                s.narrow(0, 1, 1).copy_(t.narrow(0, 1, 1));                                // identical rows: KL 0
                KlRowsResult r = Kernels.klRows(s, t, null, temperature, dir, true);
                assertTrue(r.loss().isfinite().all().item_bool(), "finite loss");
                assertTrue(r.grad().isfinite().all().item_bool(), "finite grad");
                Tensor[] expected = KlComposite.valueAndGrad(s, t, null, temperature, dir);
                // log-probabilities of size 1e4 carry fp32 rounding of about 1e-3 in both implementations; the reverse
                // gradient multiplies them by p (up to ~1e3 here), hence the relative bound
                Compare.assertClose(expected[0], r.loss(), 1e-5, 1e-2, dir + " T=" + temperature + " loss at ±1e4");
                Compare.assertClose(expected[1], r.grad(), 1e-3, 1e-2, dir + " T=" + temperature + " grad at ±1e4");
                assertEquals(0f, r.loss().narrow(0, 1, 1).item_float(), 1e-6f, "identical rows");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void bf16InputFp32Math(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(23);
            Tensor s = torch.randn(5, 1999).mul(new Scalar(3.0)).to(torch.ScalarType.BFloat16);
            Tensor t = torch.randn(5, 1999).mul(new Scalar(3.0)).to(torch.ScalarType.BFloat16);
            Tensor w = weights(5);
            Tensor[] expected = KlComposite.valueAndGrad(s, t, w, 2.0, dir);  // on the bf16 values, in fp32
            KlRowsResult f32 = Kernels.klRows(s, t, w, 2.0, dir, true, torch.ScalarType.Float);
            assertEquals(torch.ScalarType.Float, Torch.dtype(f32.grad()));
            Compare.assertClose(expected[0], f32.loss(), 0, TOL, "bf16 loss");
            Compare.assertClose(expected[1], f32.grad(), 0, TOL, "bf16 input, fp32 grad");
            KlRowsResult bf = Kernels.klRows(s, t, w, 2.0, dir, true);
            assertEquals(torch.ScalarType.BFloat16, Torch.dtype(bf.grad()));
            Compare.assertBitEqual(f32.grad().to(torch.ScalarType.BFloat16), bf.grad(), "bf16 grad = fp32 grad rounded once");
        }
    }

    static Stream<Arguments> fusedCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (KlDirection dir : KlDirection.values()) {
            for (FusedKl.Reduction red : FusedKl.Reduction.values()) {
                b.add(Arguments.of(dir, red));
            }
        }
        return b.build();
    }

    @ParameterizedTest
    @MethodSource("fusedCases")
    void fusedLossBackwardMatchesCompositeBackward(KlDirection dir, FusedKl.Reduction reduction) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(31);
            Tensor base = torch.randn(3, 4, 1000).mul(new Scalar(2.0));   // [B, T, V]
            Tensor ref = torch.randn(3, 4, 1000).mul(new Scalar(2.0));
            Tensor keep = torch.ones(3, 4).to(torch.ScalarType.Bool);
            keep.narrow(0, 0, 1).narrow(1, 0, 2).fill_(new Scalar(0));      // two padding positions
            Tensor w = keep.to(torch.ScalarType.Float).reshape(-1);

            Tensor cur = base.clone().requires_grad_(true);
            Tensor fused = FusedKl.loss(cur, ref, keep, 2.0, dir, reduction);
            fused.backward();

            Tensor cur2 = base.clone().requires_grad_(true);
            Tensor rows = KlComposite.rows(cur2, ref, w, 2.0, dir);
            double den = switch (reduction) {
                case SUM -> 1;
                case BATCHMEAN -> 3;    // batch size, as torch's 'batchmean' on [B, T, V]
                case MEAN -> 10;        // unmasked rows
            };
            Tensor composite = rows.sum().div(new Scalar(den));
            composite.backward();

            String what = "FusedKl " + dir + " " + reduction;
            assertEquals(0, fused.dim(), what + " is a scalar");
            assertEquals(composite.item_double(), fused.item_double(), TOL, what + " value");
            Compare.assertClose(cur2.grad(), cur.grad(), 0, TOL, what + " .grad()");
            assertEquals(0f, cur.grad().narrow(0, 0, 1).narrow(1, 0, 2).abs().sum().item_float(), what + " masked grad");
        }
    }

    @Test
    void fusedMeanOfAllMaskedRowsIsZero() {
        try (PointerScope scope = new PointerScope()) {
            Tensor cur = torch.randn(2, 50).requires_grad_(true);
            Tensor fused = FusedKl.loss(cur, torch.randn(2, 50), torch.zeros(2), 2.0, KlDirection.REVERSE, FusedKl.Reduction.MEAN);
            fused.backward();
            assertEquals(0.0, fused.item_double());
            assertEquals(0f, cur.grad().abs().sum().item_float());
        }
    }

    @Test
    void invalidArgumentsNameTheField() {
        try (PointerScope scope = new PointerScope()) {
            Tensor s = torch.randn(4, 10), t = torch.randn(4, 10);
            assertField("reference", () -> Kernels.klRows(s, torch.randn(4, 11), null, 1, KlDirection.FORWARD, true));
            assertField("reference", () -> Kernels.klRows(s, torch.randn(5, 10), null, 1, KlDirection.FORWARD, true));
            assertField("reference", () -> Kernels.klRows(s, t.to(torch.ScalarType.BFloat16), null, 1, KlDirection.FORWARD, true));
            assertField("temperature", () -> Kernels.klRows(s, t, null, 0, KlDirection.FORWARD, true));
            assertField("temperature", () -> Kernels.klRows(s, t, null, -2, KlDirection.REVERSE, true));
            assertField("temperature", () -> Kernels.klRows(s, t, null, Double.NaN, KlDirection.REVERSE, true));
            assertField("temperature", () -> Kernels.klRows(s, t, null, Double.POSITIVE_INFINITY, KlDirection.REVERSE, true));
            assertField("current", () -> Kernels.klRows(s.to(torch.ScalarType.Double), t.to(torch.ScalarType.Double), null, 1,
                    KlDirection.FORWARD, true));
            assertField("current", () -> Kernels.klRows(torch.randn(10), torch.randn(10), null, 1, KlDirection.FORWARD, true));
            assertField("current", () -> Kernels.klRows(torch.randn(10, 4).t(), t, null, 1, KlDirection.FORWARD, true));
            assertField("direction", () -> Kernels.klRows(s, t, null, 1, null, true));
            assertField("mask", () -> Kernels.klRows(s, t, torch.ones(3), 1, KlDirection.FORWARD, true));
            assertField("mask", () -> Kernels.klRows(s, t, torch.ones(4).to(torch.ScalarType.Long), 1, KlDirection.FORWARD, true));
            assertField("gradDtype", () -> Kernels.klRows(s, t, null, 1, KlDirection.FORWARD, true, torch.ScalarType.Half));
            assertField("reduction", () -> FusedKl.loss(s, t, null, 1, KlDirection.FORWARD, null));
            assertField("temperature", () -> FusedKl.loss(s, t, null, 0, KlDirection.FORWARD, FusedKl.Reduction.MEAN));
        }
    }

    @Test
    void nativeChecksTheSameContract() {
        try (PointerScope scope = new PointerScope()) {
            Tensor s = torch.randn(2, 3), t = torch.randn(2, 3), loss = torch.zeros(2);
            int code = IvkitNative.ivkit_kl_rows(s.data_ptr().address(), t.data_ptr().address(), 2, 3, 0, 0, 0, 0f, 0,
                    loss.data_ptr().address(), 0, 0, 1);
            assertEquals(Status.INVALID_ARGUMENT, Status.of(code));
            assertTrue(IvkitNative.ivkit_last_error().contains("temperature"), IvkitNative.ivkit_last_error());
            code = IvkitNative.ivkit_kl_rows(s.data_ptr().address(), t.data_ptr().address(), 2, 3, 0, 0, 0, 1f, 7,
                    loss.data_ptr().address(), 0, 0, 1);
            assertTrue(IvkitNative.ivkit_last_error().contains("direction"), IvkitNative.ivkit_last_error());
            code = IvkitNative.ivkit_kl_rows(s.data_ptr().address(), t.data_ptr().address(), 2, 3, 0, 0, 1, 1f, 0,
                    loss.data_ptr().address(), 0, 0, 1);
            assertTrue(IvkitNative.ivkit_last_error().contains("mask"), IvkitNative.ivkit_last_error());
        }
    }

    @Test
    void threadsDoNotChangeTheResult() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor s = torch.randn(37, 5000), t = torch.randn(37, 5000);
            Tensor l1 = torch.zeros(37), l4 = torch.zeros(37), g1 = torch.zeros(37, 5000), g4 = torch.zeros(37, 5000);
            assertEquals(0, IvkitNative.ivkit_kl_rows(s.data_ptr().address(), t.data_ptr().address(), 37, 5000, 0, 0, 0, 2f, 1,
                    l1.data_ptr().address(), g1.data_ptr().address(), 0, 1));
            assertEquals(0, IvkitNative.ivkit_kl_rows(s.data_ptr().address(), t.data_ptr().address(), 37, 5000, 0, 0, 0, 2f, 1,
                    l4.data_ptr().address(), g4.data_ptr().address(), 0, 4));
            Compare.assertBitEqual(l1, l4, "loss, 1 vs 4 threads");
            Compare.assertBitEqual(g1, g4, "grad, 1 vs 4 threads");
        }
    }
}
