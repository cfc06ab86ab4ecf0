package dev.ivkit.bench;

import dev.ivkit.kernels.Kernels;
import dev.ivkit.PatchMode;
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
 * {@code z[rows[i], positions[i], heads[i], :] (=|+=) values[i]} in place on z [batch, seq, heads, d_head]: ivkit's
 * native kernel ({@link Kernels#patchHeadsInPlace}, Java validation included) against the libtorch composite of
 * PatchHeadsTest on the flattened [batch*seq*heads, d_head] view: flat index {@code (row*seq + pos)*heads + head}
 * computed from the same three index tensors, then {@code index_copy_} of the values (REPLACE) or
 * {@code index_select}, add in float32, {@code index_copy_} (ADD). Targets: every head of row 0 at the last position
 * ({@code row0}: n = heads) or every head of every row at the last position ({@code allRows}: n = batch*heads); one
 * value vector per target. z accumulates across ADD calls, which does not change the work.
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or {@code java -jar benchmarks/target/benchmarks.jar PatchHeadsBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class PatchHeadsBench {
    /** batch x seq x heads x d_head */
    @Param({"4x128x32x128", "4x128x6x64"})
    public String shape;

    @Param({"fp32", "bf16"})
    public String dtype;

    @Param({"REPLACE", "ADD"})
    public String mode;

    /** row0: every head of row 0 at the last position; allRows: every head of every row at the last position. */
    @Param({"row0", "allRows"})
    public String targets;

    private torch.ScalarType type;
    private PatchMode patchMode;
    private Tensor z;
    private Tensor rows;
    private Tensor positions;
    private Tensor heads;
    private Tensor values;
    private long seq;
    private long nHeads;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        int[] s = ForwardBench.parseShape(shape);
        type = Torch.parseDtype(dtype);
        patchMode = PatchMode.valueOf(mode);
        seq = s[1];
        nHeads = s[2];
        int nRows = switch (targets) {
            case "row0" -> 1;
            case "allRows" -> s[0];
            default -> throw new IllegalArgumentException("targets: unknown '" + targets + "' (row0 or allRows)");
        };
        int n = nRows * s[2];
        long[] r = new long[n], p = new long[n], h = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = i / s[2];
            p[i] = s[1] - 1;
            h[i] = i % s[2];
        }
        torch.manual_seed(17);
        z = torch.randn(s[0], s[1], s[2], s[3]).to(type);
        rows = Torch.fromLongs(r);
        positions = Torch.fromLongs(p);
        heads = Torch.fromLongs(h);
        values = torch.randn(n, s[3]).to(type);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {z, rows, positions, heads, values}) {
            t.close();
        }
    }

    @Benchmark
    public Tensor kernel() {
        try (PointerScope scope = new PointerScope()) {
            Kernels.patchHeadsInPlace(z, rows, positions, heads, values, patchMode);
        }
        return z;
    }

    @Benchmark
    public Tensor composite() {
        try (PointerScope scope = new PointerScope()) {
            Tensor flat = rows.mul(new Scalar(seq)).add(positions).mul(new Scalar(nHeads)).add(heads);  // [n]
            Tensor zf = z.reshape(-1, z.size(3));                          // contiguous z: a view, so in place
            if (patchMode == PatchMode.REPLACE) {
                zf.index_copy_(0, flat, values);
            } else {
                Tensor updated = Composites.asFloat(zf.index_select(0, flat)).add(Composites.asFloat(values));  // [n, d_head] fp32
                zf.index_copy_(0, flat, type == torch.ScalarType.Float ? updated : updated.to(type));
            }
        }
        return z;
    }
}
