package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ivkit.KlDirection;
import dev.ivkit.kernels.FusedKl;
import dev.ivkit.kernels.Kernels;
import dev.ivkit.kernels.KlRowsResult;
import dev.ivkit.kernels.TopkDense;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import java.util.Arrays;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Kernels#klTopkRows} and {@link FusedKl#lossTopK} against what they replace: a dense reference q̃ of the cached
 * entry ({@link TopkDense}, rounded to the logits' dtype) followed by the fused KL ({@link Kernels#klRows} /
 * {@link FusedKl#loss}), the entries made by {@link ReferenceCache#put} from reference logits; and against the fp64
 * KL of that dense reference ({@link TopkDense}). Both directions, float and bool masks, float32 and bfloat16, V = 1000
 * and 32000, |logits| ~ 1e3 and a current rest mass of ~1e-13.
 */
class KlTopkRowsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    /** The cached entry of {@code ref}'s rows, as ReferenceCache.put makes it, and the composite's reference logits. */
    record Cached(Tensor ids, Tensor logq, Tensor logRest, Tensor dense) {}

    static Cached cache(Tensor ref, Tensor current, int k, double t) {
        int rows = (int) ref.size(0);
        ReferenceCache cache = new ReferenceCache(k, t, true);
        ReferenceCache.Entry e = put(cache, ref);
        long[] ids = Arrays.stream(e.ids()).asLongStream().toArray();
        Tensor id = torch.tensor(ids).reshape(rows, k).to(torch.ScalarType.Int), logq = Torch.fromFloats(e.values(), rows, k),
                logRest = Torch.fromFloats(e.logRest(), rows);
        // the dense reference q̃ (built in fp64, rounded to the logits' dtype as a dense reference would be) for kl_rows
        Tensor dense = TopkDense.referenceLogits(current, id, logq, logRest, t).to(current.scalar_type());
        return new Cached(id, logq, logRest, dense);
    }

    /** The entry {@link ReferenceCache#put} makes of every row of {@code ref}, as one example with no preserved heads. */
    static ReferenceCache.Entry put(ReferenceCache cache, Tensor ref) {
        ReferenceCache.Key key = new ReferenceCache.Key(new long[] {1, 2, 3}, 0, 1.0);
        cache.put(new ReferenceCache.Key[] {key}, new long[][] {allRows((int) ref.size(0))}, ref, new Tensor[0]);
        return cache.get(key);
    }

    static long[] allRows(int rows) {
        return java.util.stream.LongStream.range(0, rows).toArray();
    }

    /** Float mask weights: the first row masked (weight 0), the third weighted 0.5. */
    static Tensor weights(int rows) {
        Tensor w = torch.ones(rows);
        w.narrow(0, 0, 1).fill_(new Scalar(0.0));
        if (rows > 2) {
            w.narrow(0, 2, 1).fill_(new Scalar(0.5));
        }
        return w;
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (KlDirection dir : KlDirection.values()) {
            b.add(Arguments.of(dir, 2.0, 4, 32000, 64));
            b.add(Arguments.of(dir, 1.0, 5, 1000, 10));
            b.add(Arguments.of(dir, 0.7, 3, 1000, 1));
            b.add(Arguments.of(dir, 2.0, 3, 1000, 999));
        }
        return b.build();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesCacheComposite(KlDirection dir, double t, int rows, int vocab, int k) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(rows * 1000L + vocab + k);
            Tensor cur = torch.randn(rows, vocab).mul(new Scalar(3.0));
            Tensor ref = cur.add(torch.randn(rows, vocab).mul(new Scalar(2.0)));
            Tensor w = weights(rows);
            Cached c = cache(ref, cur, k, t);
            KlRowsResult want = Kernels.klRows(cur, c.dense(), w, t, dir, true);
            KlRowsResult got = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), w, t, dir, true, torch.ScalarType.Float);
            Tensor[] exact = TopkDense.valueAndGrad(cur, c.ids(), c.logq(), c.logRest(), w, t, dir);
            String what = "kl_topk_rows " + dir + " T=" + t + " [" + rows + "," + vocab + "] k=" + k;
            // The kernel against fp64: its own fp32 error, as kl_rows' (1e-5 absolute, KlRowsTest). Against the composite:
            // that plus the composite's fp32 rounding of the dense reference (x_j + T·shift, then a second log-sum-exp),
            // a few ulp of |log q̃| ~ 20, i.e. 1e-5 relative on top.
            Compare.assertClose(exact[0], got.loss(), 0, 1e-5, what + " loss vs fp64");
            Compare.assertClose(exact[1], got.grad(), 0, 1e-5, what + " grad vs fp64");
            Compare.assertClose(want.loss(), got.loss(), 1e-5, 1e-5, what + " loss vs composite");
            Compare.assertClose(want.grad(), got.grad(), 1e-5, 1e-5, what + " grad vs composite");
            assertEquals(0f, got.loss().narrow(0, 0, 1).item_float(), what + ": masked row loss");
            assertEquals(0f, got.grad().narrow(0, 0, 1).abs().sum().item_float(), what + ": masked row grad");
            KlRowsResult noGrad = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), w, t, dir, false, torch.ScalarType.Float);
            assertNull(noGrad.grad());
            Compare.assertBitEqual(got.loss(), noGrad.loss(), what + " loss without grad");
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void fusedLossTopKBackwardMatchesFusedLossOnTheDenseReference(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(41);
            Tensor base = torch.randn(3, 4, 1000).mul(new Scalar(2.0));   // [B, T, V]
            Tensor ref = base.add(torch.randn(3, 4, 1000));
            Tensor keep = torch.ones(3, 4).to(torch.ScalarType.Bool);
            keep.narrow(0, 0, 1).narrow(1, 0, 2).fill_(new Scalar(0));      // two padding positions
            Cached c = cache(ref.reshape(12, 1000), base.reshape(12, 1000), 16, 2.0);
            for (FusedKl.Reduction red : FusedKl.Reduction.values()) {
                Tensor cur = base.clone().requires_grad_(true);
                Tensor fused = FusedKl.lossTopK(cur, c.ids(), c.logq(), c.logRest(), keep, 2.0, dir, red);
                fused.backward();
                Tensor cur2 = base.clone().requires_grad_(true);
                Tensor composite = FusedKl.loss(cur2, c.dense().reshape(3, 4, 1000), keep, 2.0, dir, red);
                composite.backward();
                String what = "lossTopK " + dir + " " + red;
                assertEquals(0, fused.dim(), what + " is a scalar");
                assertEquals(composite.item_double(), fused.item_double(), 1e-5, what + " value");
                Compare.assertClose(cur2.grad(), cur.grad(), 1e-5, 1e-5, what + " .grad()");
                assertEquals(0f, cur.grad().narrow(0, 0, 1).narrow(1, 0, 2).abs().sum().item_float(), what + " masked grad");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void boolMaskEqualsZeroOneWeights(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(5);
            Tensor cur = torch.randn(6, 333), ref = torch.randn(6, 333);
            Cached c = cache(ref, cur, 8, 2.0);
            Tensor keep = Torch.fromFloats(new float[] {1, 0, 1, 1, 0, 1}, 6);
            KlRowsResult byWeight = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), keep, 2.0, dir, true, torch.ScalarType.Float);
            KlRowsResult byBool = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), keep.to(torch.ScalarType.Bool), 2.0, dir,
                    true, torch.ScalarType.Float);
            Compare.assertBitEqual(byWeight.loss(), byBool.loss(), "bool mask loss");
            Compare.assertBitEqual(byWeight.grad(), byBool.grad(), "bool mask grad");
            KlRowsResult want = Kernels.klRows(cur, c.dense(), keep.to(torch.ScalarType.Bool), 2.0, dir, true);
            Compare.assertClose(want.grad(), byBool.grad(), 1e-5, 1e-5, "bool mask grad vs composite");
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void bf16InputFp32Math(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(23);
            Tensor cur = torch.randn(5, 1999).mul(new Scalar(3.0)).to(torch.ScalarType.BFloat16);
            Tensor curF = cur.to(torch.ScalarType.Float);
            Tensor ref = torch.randn(5, 1999).mul(new Scalar(3.0));
            Tensor w = weights(5);
            Cached c = cache(ref, curF, 32, 2.0);   // the composite on the bf16 values, in fp32
            KlRowsResult want = Kernels.klRows(curF, c.dense(), w, 2.0, dir, true);
            KlRowsResult f32 = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), w, 2.0, dir, true, torch.ScalarType.Float);
            Compare.assertClose(want.loss(), f32.loss(), 1e-5, 1e-5, "bf16 loss vs fp32 composite");
            Compare.assertClose(want.grad(), f32.grad(), 1e-5, 1e-5, "bf16 input, fp32 grad vs fp32 composite");
            KlRowsResult bf = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), w, 2.0, dir, true);   // current's dtype
            assertEquals(torch.ScalarType.BFloat16, Torch.dtype(bf.grad()));
            Compare.assertBitEqual(f32.grad().to(torch.ScalarType.BFloat16), bf.grad(), "bf16 grad = fp32 grad rounded once");
            Compare.assertBitEqual(f32.loss(), bf.loss(), "loss independent of the grad dtype");
        }
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void largeLogitsAndTinyRestMass(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(17);
            // |logits| up to 1e3: the kernel within 1e-5 relative of fp64 (measured: loss 3e-5 of 630, grad 2e-8); the fp32
            // composite's own rounding of log-probabilities of ~1e3 / T puts it 2.4e-6 off in the gradient
            Tensor cur = torch.rand(4, 3001).mul(new Scalar(2e3)).sub(new Scalar(1e3));
            Tensor ref = torch.rand(4, 3001).mul(new Scalar(2e3)).sub(new Scalar(1e3));
            Cached c = cache(ref, cur, 32, 2.0);
            KlRowsResult got = Kernels.klTopkRows(cur, c.ids(), c.logq(), c.logRest(), null, 2.0, dir, true, torch.ScalarType.Float);
            Tensor[] exact = TopkDense.valueAndGrad(cur, c.ids(), c.logq(), c.logRest(), null, 2.0, dir);
            KlRowsResult want = Kernels.klRows(cur, c.dense(), null, 2.0, dir, true);
            Compare.assertClose(exact[0], got.loss(), 1e-5, 1e-6, dir + " loss at ±1e3 vs fp64");
            Compare.assertClose(exact[1], got.grad(), 1e-5, 1e-7, dir + " grad at ±1e3 vs fp64");
            Compare.assertClose(want.loss(), got.loss(), 1e-5, 1e-5, dir + " loss at ±1e3 vs composite");
            Compare.assertClose(want.grad(), got.grad(), 1e-5, 1e-5, dir + " grad at ±1e3 vs composite");

            // the cached ids 30 above the rest (T = 1): the current rest mass P ~ 1e-13, which 1 − Σ p_i in fp32 loses (the
            // composite clamps it at 1e-12 and renormalises: not compared here); the fp64 reference sums it directly
            Tensor ref2 = torch.randn(3, 32000).mul(new Scalar(3.0));
            Cached c2 = cache(ref2, ref2, 64, 1.0);
            Tensor cur2 = ref2.scatter(1, c2.ids().to(torch.ScalarType.Long), ref2.gather(1, c2.ids().to(torch.ScalarType.Long))
                    .add(new Scalar(30.0)));
            KlRowsResult tiny = Kernels.klTopkRows(cur2, c2.ids(), c2.logq(), c2.logRest(), null, 1.0, dir, true, torch.ScalarType.Float);
            Tensor[] exact2 = TopkDense.valueAndGrad(cur2, c2.ids(), c2.logq(), c2.logRest(), null, 1.0, dir);
            Compare.assertClose(exact2[0], tiny.loss(), 1e-6, 1e-5, dir + " loss, rest mass ~1e-13, vs fp64");
            Compare.assertClose(exact2[1], tiny.grad(), 1e-5, 1e-6, dir + " grad, rest mass ~1e-13, vs fp64");
        }
    }
}
