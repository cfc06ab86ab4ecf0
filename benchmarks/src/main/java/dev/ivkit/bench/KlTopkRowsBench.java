package dev.ivkit.bench;

import dev.ivkit.KlDirection;
import dev.ivkit.kernels.FusedKl;
import dev.ivkit.kernels.Kernels;
import dev.ivkit.kernels.TopkLogprobs;
import dev.ivkit.util.Torch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The reference cache's top-k KL on a revisit, forward + backward to the current logits: {@link FusedKl#lossTopK}
 * (native kl_topk_rows + the surrogate identity) against what ReferenceCache did before the kernel, a dense reference
 * (the cached arrays to tensors, log-sum-exp, gather, the rest shift, scatter) followed by {@link FusedKl#loss}. Both from the same cached
 * entry (Java arrays, as the cache keeps them: the kernel path also pays their copy into tensors). T = 2, REVERSE,
 * 'batchmean', fp32. {@code entryKernel} / {@code entryComposite}: making that entry from reference logits,
 * {@link Kernels#topkLogprobs} against the libtorch ops ReferenceCache.put used before it (log_softmax, topk, scatter of -inf, logsumexp),
 * both ending in Java arrays as the cache keeps them.
 *
 * <p>HOW TO RUN: {@code java -jar benchmarks/target/benchmarks.jar KlTopkRowsBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class KlTopkRowsBench {
    /** rows x vocab */
    @Param({"256x32000"})
    public String shape;

    /** cached tokens per row */
    @Param({"64"})
    public int k;

    static final double T = 2.0;

    private Tensor current;
    private int rows;
    private long[] ids;
    private float[] logq;
    private float[] logRest;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        int[] s = ForwardBench.parseShape(shape);
        rows = s[0];
        torch.manual_seed(5);
        current = torch.randn(s[0], s[1]).mul(new Scalar(3.0));
        try (PointerScope scope = new PointerScope()) {   // the cached entry, as ReferenceCache.put makes it
            Tensor lq = current.add(torch.randn(s[0], s[1])).div(new Scalar(T)).log_softmax(1);
            T_TensorTensor_T top = lq.topk(k, 1, true, true);
            ids = Torch.toLongArray(top.get1());
            logq = Torch.toFloatArray(top.get0());
            logRest = Torch.toFloatArray(lq.scatter(1, top.get1(), new Scalar(Double.NEGATIVE_INFINITY))
                    .logsumexp(new long[] {1}, false));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        current.close();
    }

    @Benchmark
    public float kernel() {
        try (PointerScope scope = new PointerScope()) {
            Tensor leaf = current.detach().requires_grad_(true);
            Tensor id = torch.tensor(ids).reshape(rows, k).to(torch.ScalarType.Int);
            Tensor loss = FusedKl.lossTopK(leaf, id, Torch.fromFloats(logq, rows, k), Torch.fromFloats(logRest, rows), null, T,
                    KlDirection.REVERSE, FusedKl.Reduction.BATCHMEAN);
            loss.backward();
            return leaf.grad().data_ptr_float().get(0);
        }
    }

    @Benchmark
    public float composite() {
        try (PointerScope scope = new PointerScope()) {
            Tensor leaf = current.detach().requires_grad_(true);
            Tensor loss = FusedKl.loss(leaf, denseReference(leaf.detach()), null, T, KlDirection.REVERSE, FusedKl.Reduction.BATCHMEAN);
            loss.backward();
            return leaf.grad().data_ptr_float().get(0);
        }
    }

    @Benchmark
    public float entryKernel() {
        try (PointerScope scope = new PointerScope()) {
            TopkLogprobs e = Kernels.topkLogprobs(current, T, k);
            int[] id = new int[rows * k];
            e.ids().data_ptr_int().get(id);
            return id[0] + Torch.toFloatArray(e.logp())[0] + Torch.toFloatArray(e.logRest())[0];
        }
    }

    @Benchmark
    public float entryComposite() {
        try (PointerScope scope = new PointerScope()) {
            Tensor lq = current.div(new Scalar(T)).log_softmax(1);
            T_TensorTensor_T top = lq.topk(k, 1, true, true);
            float[] rest = Torch.toFloatArray(lq.scatter(1, top.get1(), new Scalar(Double.NEGATIVE_INFINITY))
                    .logsumexp(new long[] {1}, false));
            long[] id = Torch.toLongArray(top.get1());
            return id[0] + Torch.toFloatArray(top.get0())[0] + rest[0];
        }
    }

    /** The dense reference with every row kept: T · log q̃, q̃ the cached top-k + the rest spread in the current proportions. */
    private Tensor denseReference(Tensor x) {
        Scalar t = new Scalar(T);
        Tensor id = torch.tensor(ids).reshape(rows, k);
        Tensor lse = x.div(t).logsumexp(new long[] {1}, true);
        Tensor logPRest = Torch.gather(x, 1, id).div(t).sub(lse).exp().sum(new long[] {1}, true, new ScalarTypeOptional()).neg()
                .add(new Scalar(1)).clamp_min(new Scalar(1e-12)).log();
        Tensor shift = Torch.fromFloats(logRest, rows, 1).sub(lse).sub(logPRest).mul(t);
        Tensor dense = x.add(shift);
        dense.scatter_(1, id, Torch.fromFloats(logq, rows, k).mul(t));
        return dense;
    }
}
