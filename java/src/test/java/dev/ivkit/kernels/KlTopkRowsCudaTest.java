package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ivkit.KlDirection;
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

/**
 * kl_topk_rows on a GPU against the fp64 dense reference ({@link TopkDense}) and the CPU kernel, and
 * {@link FusedKl#lossTopK}'s backward on the GPU against the CPU's, and {@link Kernels#topkLogprobs} on the GPU against
 * the CPU kernel. Skipped without CUDA.
 */
@Tag("cuda")
class KlTopkRowsCudaTest {
    @BeforeEach
    void requireCuda() {
        Torch.init();
        Assumptions.assumeTrue(Cuda.available(), () -> "skipped: no CUDA (" + Cuda.reason() + ")");
    }

    /** The reference's top-k at temperature t: ids int32, log q, log of the rest mass. */
    static Tensor[] topk(Tensor ref, int k, double t) {
        Tensor lq = ref.div(new Scalar(t)).log_softmax(1);
        Tensor ids = lq.topk(k, 1, true, true).get1();
        Tensor rest = lq.scatter(1, ids, new Scalar(Double.NEGATIVE_INFINITY)).logsumexp(new long[] {1}, false);
        return new Tensor[] {ids.to(torch.ScalarType.Int), lq.gather(1, ids).contiguous(), rest};
    }

    @ParameterizedTest
    @EnumSource(KlDirection.class)
    void cudaMatchesReferenceAndCpu(KlDirection dir) {
        try (PointerScope scope = new PointerScope()) {
            Device gpu = new Device("cuda:0");
            for (int[] shape : new int[][] {{4, 32000, 64}, {5, 1000, 10}, {3, 1000, 999}, {2, 7, 1}}) {
                torch.manual_seed(shape[1] + shape[2]);
                Tensor cur = torch.randn(shape[0], shape[1]).mul(new Scalar(3.0));
                Tensor[] c = topk(cur.add(torch.randn(shape[0], shape[1]).mul(new Scalar(2.0))), shape[2], 2.0);
                Tensor w = torch.ones(shape[0]);
                w.narrow(0, 0, 1).fill_(new Scalar(0.0));
                Tensor[] exact = TopkDense.valueAndGrad(cur, c[0], c[1], c[2], w, 2.0, dir);
                KlRowsResult cpu = Kernels.klTopkRows(cur, c[0], c[1], c[2], w, 2.0, dir, true, torch.ScalarType.Float);
                KlRowsResult r = Kernels.klTopkRows(cur.to(gpu, torch.ScalarType.Float), c[0].to(gpu, torch.ScalarType.Int),
                        c[1].to(gpu, torch.ScalarType.Float), c[2].to(gpu, torch.ScalarType.Float), w.to(gpu, torch.ScalarType.Float),
                        2.0, dir, true, torch.ScalarType.Float);
                String what = "kl_topk_rows cuda " + dir + " " + java.util.Arrays.toString(shape);
                Compare.assertClose(exact[0], r.loss().cpu(), 0, 1e-5, what + " loss vs fp64");
                Compare.assertClose(exact[1], r.grad().cpu(), 0, 1e-5, what + " grad vs fp64");
                Compare.assertClose(cpu.loss(), r.loss().cpu(), 0, 1e-5, what + " loss vs CPU kernel");
                Compare.assertClose(cpu.grad(), r.grad().cpu(), 0, 1e-5, what + " grad vs CPU kernel");
                assertEquals(0f, r.grad().cpu().narrow(0, 0, 1).abs().sum().item_float(), what + ": masked row grad");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(FusedKl.Reduction.class)
    void fusedLossTopKBackwardOnGpu(FusedKl.Reduction reduction) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(31);
            Device gpu = new Device("cuda:0");
            Tensor base = torch.randn(3, 4, 1000).mul(new Scalar(2.0)).to(torch.ScalarType.BFloat16);
            Tensor[] c = topk(base.to(torch.ScalarType.Float).reshape(12, 1000).add(torch.randn(12, 1000)), 16, 2.0);
            Tensor cur = base.clone().requires_grad_(true);
            FusedKl.lossTopK(cur, c[0], c[1], c[2], null, 2.0, KlDirection.REVERSE, reduction).backward();
            Tensor curG = base.to(gpu, torch.ScalarType.BFloat16).requires_grad_(true);
            Tensor fused = FusedKl.lossTopK(curG, c[0].to(gpu, torch.ScalarType.Int), c[1].to(gpu, torch.ScalarType.Float),
                    c[2].to(gpu, torch.ScalarType.Float), null, 2.0, KlDirection.REVERSE, reduction);
            fused.backward();
            // bf16 gradients: the two backends' fp32 values may round to neighbouring bf16 values (2^-8 relative)
            Compare.assertClose(cur.grad().to(torch.ScalarType.Float), curG.grad().cpu().to(torch.ScalarType.Float), 1e-2, 1e-7,
                    "lossTopK cuda .grad() " + reduction);
        }
    }

    @org.junit.jupiter.api.Test
    void topkLogprobsOnGpuMatchesCpu() {
        try (PointerScope scope = new PointerScope()) {
            Device gpu = new Device("cuda:0");
            for (int[] shape : new int[][] {{4, 32000, 64}, {3, 1000, 999}, {5, 1999, 1}}) {
                torch.manual_seed(shape[1]);
                Tensor x = torch.randn(shape[0], shape[1]).mul(new Scalar(3.0));
                TopkLogprobs cpu = Kernels.topkLogprobs(x, 2.0, shape[2]);
                TopkLogprobs g = Kernels.topkLogprobs(x.to(gpu, torch.ScalarType.Float), 2.0, shape[2]);
                String what = "topk_logprobs cuda " + java.util.Arrays.toString(shape);
                // random fp32 logits: no ties, so the same ids in the same order; values within fp32 rounding of the
                // row's log-sum-exp (the two backends sum in different orders)
                Compare.assertBitEqual(cpu.ids(), g.ids().cpu(), what + " ids");
                Compare.assertClose(cpu.logp(), g.logp().cpu(), 1e-6, 1e-5, what + " logp");
                Compare.assertClose(cpu.logRest(), g.logRest().cpu(), 1e-6, 1e-5, what + " logRest");
            }
            assertThrowsUnsupported(() -> Kernels.topkLogprobs(torch.randn(2, 5000).to(gpu, torch.ScalarType.Float), 1.0, 4097));
        }
    }

    private static void assertThrowsUnsupported(org.junit.jupiter.api.function.Executable call) {
        org.junit.jupiter.api.Assertions.assertThrows(dev.ivkit.UnsupportedException.class, call);
    }
}
