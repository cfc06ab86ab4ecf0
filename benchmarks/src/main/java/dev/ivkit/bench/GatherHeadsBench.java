package dev.ivkit.bench;

import dev.ivkit.kernels.Kernels;
import dev.ivkit.util.Torch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
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
 * Reading z [batch, seq, heads, d_head] at one position per batch row (the last): ivkit's native kernels
 * ({@link Kernels#gatherHeads}, {@link Kernels#gatherHeadsAccumulate} into a float32 [heads, d_head] sum; Java
 * validation included) against the libtorch composites of GatherHeadsTest: {@code index_select} of rows
 * {@code b*seq + pos} on the [batch*seq, heads, d_head] view, and for the sum that gather in float32 summed over rows
 * and added to the accumulator. Shapes: 32 heads of 128 (Llama-7B-like) and 6 heads of 64 (random22M).
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or {@code java -jar benchmarks/target/benchmarks.jar GatherHeadsBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class GatherHeadsBench {
    /** batch x seq x heads x d_head */
    @Param({"4x128x32x128", "4x128x6x64"})
    public String shape;

    @Param({"fp32", "bf16"})
    public String dtype;

    private Tensor z;
    private Tensor positions;
    private Tensor acc;
    private long batch;
    private long seq;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        int[] s = ForwardBench.parseShape(shape);
        batch = s[0];
        seq = s[1];
        torch.manual_seed(13);
        z = torch.randn(s[0], s[1], s[2], s[3]).to(Torch.parseDtype(dtype));
        long[] last = new long[s[0]];
        java.util.Arrays.fill(last, s[1] - 1);
        positions = Torch.fromLongs(last);
        acc = torch.zeros(s[2], s[3]);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {z, positions, acc}) {
            t.close();
        }
    }

    @Benchmark
    public long gather() {
        try (PointerScope scope = new PointerScope()) {
            return Kernels.gatherHeads(z, positions).numel();
        }
    }

    @Benchmark
    public long gatherComposite() {
        try (PointerScope scope = new PointerScope()) {
            return composite().numel();
        }
    }

    @Benchmark
    public Tensor accumulate() {
        try (PointerScope scope = new PointerScope()) {
            Kernels.gatherHeadsAccumulate(z, positions, acc);
        }
        return acc;
    }

    @Benchmark
    public Tensor accumulateComposite() {
        try (PointerScope scope = new PointerScope()) {
            Tensor rows = composite();
            acc.add_(Composites.asFloat(rows).sum(new long[] {0}, false, new ScalarTypeOptional()));
        }
        return acc;
    }

    /** GatherHeadsTest's composite: z.reshape(b*t, h, d).index_select(0, arange(b)*t + positions). */
    private Tensor composite() {
        Tensor rows = torch.arange(new Scalar(0), new Scalar(batch)).mul(new Scalar(seq)).add(positions);
        return z.reshape(batch * seq, z.size(2), z.size(3)).index_select(0, rows);
    }
}
