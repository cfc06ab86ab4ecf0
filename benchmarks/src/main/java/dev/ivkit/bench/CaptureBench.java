package dev.ivkit.bench;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.MeanAccumulator;
import dev.ivkit.hooks.Positions;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.RunResult;
import dev.ivkit.util.Torch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * The cost of reading activations during a forward: the fp32 forward of batch x seq 4x128 with no hooks
 * ({@link #plain}), with {@code blocks.L.attn.hook_z} captured at {@link Positions#last()} for every layer (all
 * heads, one capture per layer: {@link #capture}), and with the same captures summed into one
 * {@link MeanAccumulator} per layer ({@link #captureMean}, as {@code MeanActivations} does). All three use
 * {@link LogitsMode#NONE}: without the lm_head the forward is cheaper, so the capture's share is the larger one.
 * Plans are built once per trial (they are immutable); accumulators keep summing across calls. The capture ratio
 * of the results table comes from {@link #paired} and {@link #pairedMean}, which time a plain and a capturing
 * forward back to back in every call (alternating which goes first), so both see the same machine load; the three
 * separate benchmarks give the absolute rates.
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or
 * {@code java -jar benchmarks/target/benchmarks.jar CaptureBench -p model=random22M}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class CaptureBench {
    static final int BATCH = 4;
    static final int SEQ = 128;

    @Param({"stories260K", "random22M"})
    public String model;

    /** Relative to the working directory: run from the repository root with ../shared beside it. */
    @Param("../shared/data/models/stories260K/stories260K.bin")
    public String storiesPath;

    private LlamaModel llama;
    private Tensor tokens;
    private HookPlan capturePlan;
    private HookPlan meanPlan;
    private MeanAccumulator[] accumulators;
    private long flopsPerCall;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        llama = ForwardBench.loadModel(model, storiesPath);
        torch.manual_seed(42);
        tokens = torch.randint(llama.config().vocabSize(), new long[] {BATCH, SEQ});
        int layers = llama.config().nLayers();
        HookPlan.Builder cap = HookPlan.builder();
        HookPlan.Builder mean = HookPlan.builder();
        accumulators = new MeanAccumulator[layers];
        for (int l = 0; l < layers; l++) {
            accumulators[l] = new MeanAccumulator();
            cap.capture(HookSite.attnZ(l), Positions.last());
            mean.captureMean(HookSite.attnZ(l), Positions.last(), accumulators[l]);
        }
        capturePlan = cap.build();
        meanPlan = mean.build();
        flopsPerCall = ForwardBench.forwardFlops(llama.config(), BATCH, SEQ, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (MeanAccumulator a : accumulators) {
            a.close();
        }
        tokens.close();
        llama.close();
    }

    @Benchmark
    public long plain(Work work) {
        return run(HookPlan.empty(), work);
    }

    @Benchmark
    public long capture(Work work) {
        return run(capturePlan, work);
    }

    @Benchmark
    public long captureMean(Work work) {
        return run(meanPlan, work);
    }

    /**
     * Wall time of the plain and the capturing forward, summed over one iteration of {@link #paired} or
     * {@link #pairedMean}: the capture ratio is captureNs / plainNs of the same iteration, so load that drifts
     * between benchmarks (this machine is shared) cancels out.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class PairTimes {
        public long plainNs;
        public long captureNs;
        long calls;

        @Setup(Level.Iteration)
        public void reset() {
            plainNs = 0;
            captureNs = 0;
        }
    }

    /** A plain forward and a capturing forward back to back, in alternating order; times in {@link PairTimes}. */
    @Benchmark
    public long paired(PairTimes times) {
        return pair(capturePlan, times);
    }

    /** As {@link #paired}, with the captures summed into mean accumulators. */
    @Benchmark
    public long pairedMean(PairTimes times) {
        return pair(meanPlan, times);
    }

    private long pair(HookPlan withCaptures, PairTimes times) {
        boolean plainFirst = (times.calls++ & 1) == 0;
        long captured = 0;
        for (int k = 0; k < 2; k++) {
            boolean plain = (k == 0) == plainFirst;
            long t0 = System.nanoTime();
            captured += forward(plain ? HookPlan.empty() : withCaptures);
            long dt = System.nanoTime() - t0;
            if (plain) {
                times.plainNs += dt;
            } else {
                times.captureNs += dt;
            }
        }
        return captured;
    }

    /** One forward counted in {@code work}. */
    private long run(HookPlan plan, Work work) {
        long captured = forward(plan);
        work.add((long) BATCH * SEQ, flopsPerCall);
        return captured;
    }

    /** One forward in its own scope; returns the number of captured tensors (and the last layer's count of accumulated rows). */
    private long forward(HookPlan plan) {
        try (PointerScope scope = new PointerScope()) {
            RunResult r = llama.forward(tokens, null, plan, null, LogitsMode.NONE);
            return r.captures().size() + accumulators[accumulators.length - 1].count();
        }
    }
}
