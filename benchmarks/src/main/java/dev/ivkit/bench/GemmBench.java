package dev.ivkit.bench;

import dev.ivkit.util.Torch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
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
 * fp32 GEMM through libtorch's matmul, [m, k] @ [k, n], 2mkn flop per call (secondary metric {@code flops}): the
 * roofline that {@link ForwardBench} is compared against. Shapes: the 22M model's gate/up projection over 512 tokens
 * (512x384 @ 384x1152), its down projection (512x1152 @ 1152x384), its lm_head (512x384 @ 384x32000), and 1024^3.
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or {@code java -jar benchmarks/target/benchmarks.jar GemmBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class GemmBench {
    /** m x k x n */
    @Param({"512x384x1152", "512x1152x384", "512x384x32000", "1024x1024x1024"})
    public String mkn;

    private Tensor a;
    private Tensor b;
    private Tensor out;
    private long flopsPerCall;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        int[] s = ForwardBench.parseShape(mkn);
        torch.manual_seed(7);
        a = torch.randn(s[0], s[1]);
        b = torch.randn(s[1], s[2]);
        out = torch.zeros(s[0], s[2]);   // touched once here, so matmulInto never page-faults on its output
        flopsPerCall = 2L * s[0] * s[1] * s[2];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        out.close();
    }

    @Benchmark
    public float matmul(Work work) {
        try (PointerScope scope = new PointerScope()) {
            Tensor c = a.matmul(b);
            work.add(0, flopsPerCall);
            return c.data_ptr_float().get();
        }
    }

    /** The same product written into one output allocated in setup: the difference to {@link #matmul} is the cost of a fresh output. */
    @Benchmark
    public float matmulInto(Work work) {
        try (PointerScope scope = new PointerScope()) {
            torch.matmul_out(out, a, b);
            work.add(0, flopsPerCall);
            return out.data_ptr_float().get();
        }
    }
}
