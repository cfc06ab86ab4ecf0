package dev.ivkit.bench;

import dev.ivkit.kernels.Kernels;
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
 * {@code x[rows[i]] += scale * scales[i] * v[i]} in place: ivkit's native kernel ({@link Kernels#addRowsInPlace},
 * Java validation included) against the libtorch composite of AddRowsTest (index_select, add in fp32, index_copy_).
 * Both compute in fp32 and round once, so they give bit-identical results; x accumulates across calls, which does
 * not change the work.
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or {@code java -jar benchmarks/target/benchmarks.jar AddRowsBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class AddRowsBench {
    /** rows of x x d x selected rows */
    @Param({"4096x4096x64", "512x64x64"})
    public String shape;

    @Param({"fp32", "bf16"})
    public String dtype;

    private static final float SCALE = 1.75f;

    private torch.ScalarType type;
    private Tensor x;
    private Tensor rows;
    private Tensor v;
    private Tensor scales;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        int[] s = ForwardBench.parseShape(shape);
        type = Torch.parseDtype(dtype);
        torch.manual_seed(11);
        x = torch.randn(s[0], s[1]).to(type);
        rows = torch.randperm(s[0]).narrow(0, 0, s[2]).contiguous();
        v = torch.randn(s[2], s[1]).to(type);
        scales = torch.rand(s[2]);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, rows, v, scales}) {
            t.close();
        }
    }

    @Benchmark
    public Tensor kernel() {
        try (PointerScope scope = new PointerScope()) {
            Kernels.addRowsInPlace(x, rows, v, scales, SCALE);
        }
        return x;
    }

    @Benchmark
    public Tensor composite() {
        try (PointerScope scope = new PointerScope()) {
            Tensor factor = scales.mul(new Scalar(SCALE)).unsqueeze(1);                    // [n, 1]
            Tensor updated = Composites.asFloat(x.index_select(0, rows)).add(Composites.asFloat(v).mul(factor));  // [n, d] fp32
            x.index_copy_(0, rows, type == torch.ScalarType.Float ? updated : updated.to(type));
        }
        return x;
    }
}
