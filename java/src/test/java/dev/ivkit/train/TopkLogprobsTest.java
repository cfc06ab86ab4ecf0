package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.ivkit.testutil.Errors.assertField;

import dev.ivkit.kernels.Kernels;
import dev.ivkit.kernels.TopkLogprobs;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import java.util.Arrays;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Kernels#topkLogprobs} against what it replaces: the entry {@link ReferenceCache#put} makes with libtorch
 * (log_softmax, topk, and the rest's log-sum-exp after scattering -inf over the kept ids), and the rest mass against
 * an fp64 sum of the other tokens' probabilities. float32 and bfloat16, V = 1000 and 32000, k from 1 to V − 1, a
 * rest mass of ~1e-10 and |logits| ~ 1e3.
 */
class TopkLogprobsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of(4, 32000, 64, 2.0, "f32"), Arguments.of(5, 1000, 1, 0.7, "f32"),
                Arguments.of(3, 1000, 999, 1.0, "f32"), Arguments.of(3, 5000, 700, 2.0, "f32"),
                Arguments.of(4, 32000, 64, 2.0, "bf16"), Arguments.of(3, 1999, 32, 1.0, "bf16"));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesCachePut(int rows, int vocab, int k, double t, String dtype) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(rows * 7L + vocab + k);
            Tensor x = torch.randn(rows, vocab).mul(new Scalar(3.0));
            if (dtype.equals("bf16")) {
                x = x.to(torch.ScalarType.BFloat16);
            }
            check(x, k, t, "[" + rows + "," + vocab + "] k=" + k + " T=" + t + " " + dtype);
        }
    }

    @Test
    void largeLogitsAndTinyRestMass() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(9);
            check(torch.rand(4, 3001).mul(new Scalar(2e3)).sub(new Scalar(1e3)), 32, 2.0, "|logits| ~ 1e3");
            Tensor x = torch.randn(3, 32000).mul(new Scalar(3.0));
            Tensor hot = torch.rand(3, 32000).topk(64, 1, true, true).get1();
            x.scatter_(1, hot, x.gather(1, hot).add(new Scalar(30.0)));   // the kept mass ~1 - 1e-10
            check(x, 64, 1.0, "rest ~1e-10");
        }
    }

    /** The kernel against ReferenceCache.put's composite on the same (fp32 view of the) logits, and the rest in fp64. */
    private static void check(Tensor x, int k, double t, String what) {
        int rows = (int) x.size(0);
        TopkLogprobs got = Kernels.topkLogprobs(x, t, k);
        ReferenceCache.Entry e = composite(x, k, t);
        int[] ids = Arrays.stream(Torch.toLongArray(got.ids().to(torch.ScalarType.Long))).mapToInt(v -> (int) v).toArray();
        float[] logp = Torch.toFloatArray(got.logp());
        // a top-k set per row, by descending value: distinct ids whose logits are, as a multiset, the composite's top-k
        // logits (the same set up to ties at the k-th value: bfloat16 logits have many)
        for (int r = 0; r < rows; r++) {
            int[] a = Arrays.copyOfRange(ids, r * k, (r + 1) * k);
            for (int i = 1; i < k; i++) {
                assertTrue(logp[r * k + i - 1] >= logp[r * k + i], what + ": row " + r + " not by descending value at " + i);
            }
            assertEquals(k, Arrays.stream(a).distinct().count(), what + ": row " + r + " ids distinct");
        }
        Tensor xf = x.to(torch.ScalarType.Float);
        Tensor cacheIds = torch.tensor(Arrays.stream(e.ids()).asLongStream().toArray()).reshape(rows, k);
        Compare.assertBitEqual(Torch.gather(xf, 1, cacheIds).sort(1, true).get0(),
                Torch.gather(xf, 1, got.ids().to(torch.ScalarType.Long)).sort(1, true).get0(), what + ": top-k logits");
        // log-probabilities: the composite's fp32 log_softmax and the kernel's (fp32 logits / T, double log-sum-exp) differ
        // by a few ulp of the row's |log-sum-exp| (up to ~1e3 / T here): 1e-6 relative plus 2e-6 absolute at O(10)
        Tensor cpLogp = Torch.fromFloats(e.values(), rows, k);
        Tensor sortedWant = cpLogp.sort(1, true).get0(), sortedGot = got.logp().sort(1, true).get0();
        double scale = x.to(torch.ScalarType.Float).abs().max().item_double() / t;
        Compare.assertClose(sortedWant, sortedGot, 1e-6, 2e-6 + 4e-7 * scale, what + ": logp vs composite");
        // the rest: vs the composite's logsumexp (fp32), and vs an fp64 sum of the other tokens' probabilities
        Compare.assertClose(Torch.fromFloats(e.logRest(), rows), got.logRest(), 1e-5, 2e-6 + 4e-7 * scale, what + ": logRest vs composite");
        Tensor p = x.to(torch.ScalarType.Double).div(new Scalar(t)).log_softmax(1).exp();
        Tensor off = torch.ones_like(p).scatter(1, got.ids().to(torch.ScalarType.Long), new Scalar(0.0));
        Tensor rest64 = p.mul(off).sum(new long[] {1}, false, new ScalarTypeOptional()).log();
        Compare.assertClose(rest64, got.logRest(), 1e-6, 2e-6 + 4e-7 * scale, what + ": logRest vs fp64");
    }

    /**
     * The entry the reference cache made with libtorch before the kernel: log_softmax(x / T), topk, and the rest's
     * log-sum-exp after scattering -inf over the kept ids (one row per logits row).
     */
    static ReferenceCache.Entry composite(Tensor x, int k, double t) {
        Tensor lq = x.to(torch.ScalarType.Float).div(new Scalar(t)).log_softmax(1);
        T_TensorTensor_T top = lq.topk(k, 1, true, true);
        float[] rest = Torch.toFloatArray(lq.scatter(1, top.get1(), new Scalar(Double.NEGATIVE_INFINITY))
                .logsumexp(new long[] {1}, false));
        int[] ids = Arrays.stream(Torch.toLongArray(top.get1())).mapToInt(v -> (int) v).toArray();
        return new ReferenceCache.Entry(ids, Torch.toFloatArray(top.get0()), rest, new float[0][]);
    }

    @Test
    void invalidArgumentsNameTheField() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(3, 10);
            assertField("k", () -> Kernels.topkLogprobs(x, 1, 0));
            assertField("k", () -> Kernels.topkLogprobs(x, 1, 10));
            assertField("temperature", () -> Kernels.topkLogprobs(x, 0, 2));
            assertField("temperature", () -> Kernels.topkLogprobs(x, Double.NaN, 2));
            assertField("logits", () -> Kernels.topkLogprobs(torch.randn(10), 1, 2));
            assertField("logits", () -> Kernels.topkLogprobs(null, 1, 2));
            assertField("logits", () -> Kernels.topkLogprobs(x.to(torch.ScalarType.Double), 1, 2));
            assertField("logits", () -> Kernels.topkLogprobs(torch.randn(10, 3).t(), 1, 2));
            TopkLogprobs none = Kernels.topkLogprobs(torch.randn(0, 10), 1, 2);
            assertEquals(0, none.ids().size(0));
        }
    }
}
