package dev.ivkit.bench;

import dev.ivkit.kernels.Kernels;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of crossing into ivkit's native library: {@code ivkit_noop()} through the raw JavaCPP peer
 * ({@link Kernels#rawNoop()}, a static call the JIT inlines; the peer itself is package-private) and through
 * {@link Kernels#noop()} (which also checks the status), against an empty Java baseline. Kernel timings minus
 * {@code kernelsNoop} are the kernel's own work.
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or {@code java -jar benchmarks/target/benchmarks.jar JniOverheadBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class JniOverheadBench {
    @Setup(Level.Trial)
    public void setup() {
        Kernels.nativeVersion();  // loads the library outside the measurement
    }

    @Benchmark
    public void baseline() {}

    @Benchmark
    public int rawNoop() {
        return Kernels.rawNoop();
    }

    @Benchmark
    public void kernelsNoop() {
        Kernels.noop();
    }
}
