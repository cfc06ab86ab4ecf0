package dev.ivkit.bench;

import dev.ivkit.kernels.FusedKl;
import dev.ivkit.KlDirection;
import dev.ivkit.util.Torch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
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
 * Temperature-scaled KL over rows of logits, forward + backward to the current logits: {@link FusedKl#loss} (the
 * native kl_rows kernel + the surrogate identity) against the libtorch composite of KlRowsTest
 * ({@code log_softmax} of both, {@code kl_div(log_target)}, row sums, 'batchmean', autograd backward). Each call makes
 * a fresh leaf over the same logits, runs forward and {@code backward()}, and returns the gradient. T = 2, the authors'
 * direction (REVERSE).
 *
 * <p>Extra memory (analytic, rows × V fp32 = 4·rows·V bytes per tensor): the composite keeps log p and log q for the
 * backward and makes s/T, the elementwise KL and two backward temporaries on the way, six rows×V tensors in all besides
 * the final gradient; the fused path writes the per-row loss (4·rows bytes) and the kernel's gradient buffer, whose
 * scaled copy becomes the final gradient. See benchmarks/README.md, "KL kernel".
 *
 * <p>HOW TO RUN: {@code java -jar benchmarks/target/benchmarks.jar KlRowsBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class KlRowsBench {
    /** rows x vocab */
    @Param({"2048x32000"})
    public String shape;

    static final double T = 2.0;

    private Tensor current;
    private Tensor reference;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        int[] s = ForwardBench.parseShape(shape);
        torch.manual_seed(5);
        current = torch.randn(s[0], s[1]).mul(new Scalar(3.0));
        reference = torch.randn(s[0], s[1]).mul(new Scalar(3.0));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        current.close();
        reference.close();
    }

    @Benchmark
    public float fused() {
        try (PointerScope scope = new PointerScope()) {
            Tensor leaf = current.detach().requires_grad_(true);
            Tensor loss = FusedKl.loss(leaf, reference, null, T, KlDirection.REVERSE, FusedKl.Reduction.BATCHMEAN);
            loss.backward();
            return leaf.grad().data_ptr_float().get(0);
        }
    }

    @Benchmark
    public float composite() {
        try (PointerScope scope = new PointerScope()) {
            Tensor leaf = current.detach().requires_grad_(true);
            Tensor lp = leaf.div(new Scalar(T)).log_softmax(-1);
            Tensor lq = reference.div(new Scalar(T)).log_softmax(-1);
            Tensor loss = torch.kl_div(lq, lp, 0, true).sum().div(new Scalar(leaf.size(0)));  // KL(p_cur || p_ref), batchmean
            loss.backward();
            return leaf.grad().data_ptr_float().get(0);
        }
    }
}
