package dev.ivkit.bench;

import dev.ivkit.kernels.Blas;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.organism.OrganismConfig;
import dev.ivkit.organism.OrganismTrainer;
import dev.ivkit.organism.ShardedGradient;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The organism's pretraining gradient (forward + backward of a 64 × ≤ 96-token batch, the default organism's size):
 * one shard with BLAS on every core (the trainer before sharding), against two row shards on two threads with
 * single-threaded BLAS
 * ({@link ShardedGradient}). Every call times both back to back (alternating which goes first) into aux counters, so
 * load that drifts on this shared machine cancels out of the ratio. No optimizer update (the same for both).
 * Target: two shards ≤ 0.8 × one shard's time on 2 cores.
 *
 * <p>HOW TO RUN: {@code java -jar benchmarks/target/benchmarks.jar OrganismStepBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 4)
@Measurement(iterations = 3, time = 6)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class OrganismStepBench {
    private OrganismTrainer tr;
    private LlamaModel model;
    private ShardedGradient one, two;
    private int step;

    /** Wall time of the one-shard and the two-shard gradient, summed over one iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class PairTimes {
        public long oneShardNs;
        public long twoShardsNs;
        long calls;

        @Setup(Level.Iteration)
        public void reset() {
            oneShardNs = 0;
            twoShardsNs = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        tr = new OrganismTrainer(OrganismConfig.defaults());
        Map<String, Tensor> w = tr.initialWeights();
        w.values().forEach(t -> t.requires_grad_(true));
        List<Tensor> params = new ArrayList<>(w.values());
        model = new LlamaModel(tr.modelConfig(), w, torch.ScalarType.Float);
        one = new ShardedGradient(model, params, 1);
        two = new ShardedGradient(model, params, 2);
    }

    @Benchmark
    public double paired(PairTimes times) {
        OrganismTrainer.Batch b = tr.batch(step++ % 16);
        boolean twoFirst = (times.calls++ & 1) == 1;
        double loss = 0;
        for (int k = 0; k < 2; k++) {
            boolean useTwo = (k == 0) == twoFirst;
            long t0 = System.nanoTime();
            if (useTwo) {
                loss += two.compute(b);
            } else {   // one shard as before sharding: BLAS on every core (run.sh sets OPENBLAS_NUM_THREADS=1)
                int before = Blas.setThreads(Runtime.getRuntime().availableProcessors());
                try {
                    loss += one.compute(b);
                } finally {
                    if (before > 0) {
                        Blas.setThreads(before);
                    }
                }
            }
            long dt = System.nanoTime() - t0;
            if (useTwo) {
                times.twoShardsNs += dt;
            } else {
                times.oneShardNs += dt;
            }
        }
        return loss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        two.close();
        one.close();
        model.close();
    }
}
