package dev.ivkit.bench;

import dev.ivkit.KlDirection;
import dev.ivkit.MatmulPrecision;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.RunResult;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainBatch;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
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
 * A 3-epoch run of LoRA training micro-steps (forward, loss, backward into the adapter; no optimizer update) over 8
 * examples in batches of 4 (reshuffled every epoch: 6 micro-steps), three ways: plain LoRA, IV-guided without the
 * reference cache (a reference pass every step) and IV-guided with a fresh reference cache per run (the first epoch
 * computes and stores every example's reference, the next two reuse it). Examples, heads and weights as
 * {@link TrainStepBench} (random ids, 48–56-token prompts with 8-token answers, α1 = 20, α2 = 0.1, α_pr = 1 on 10 heads,
 * T = 2, constant IV schedule). {@code paired} runs all three in every call (rotating which goes first) into aux
 * counters, so that the ratios {@code cachedNs / plainNs} (the target: ≤ 1.25 averaged over the 3 epochs, first
 * included) and {@code uncachedNs / plainNs} come from the same stretch of time; {@code cachedFirstEpochNs /
 * plainFirstEpochNs} is the first epoch's ratio (every reference computed), the rest that of the two epochs reusing them.
 *
 * <p>HOW TO RUN: {@code java -jar benchmarks/target/benchmarks.jar CachedRefBench} ({@code -p topK=exact} for the
 * exact full-row cache, {@code -p precision=reduced} for the reduced-precision reference GEMMs alone).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class CachedRefBench {
    static final int EPOCHS = 3, EXAMPLES = 8, BATCH = 4;

    @Param({"random22M"})
    public String model;

    @Param("../shared/data/models/stories260K/stories260K.bin")
    public String storiesPath;

    /** Tokens per position the cache keeps: a number, or {@code exact} for full rows. */
    @Param({"64"})
    public String topK;

    /**
     * Precision of the reference pass's float32 GEMMs ({@link MatmulPrecision}): {@code full} (IEEE) or {@code reduced}
     * (bfloat16 products, float32 sums, on CPUs with bfloat16 GEMMs) in both IV-guided runs.
     */
    @Param({"full", "reduced"})
    public String precision;

    /** Wall time of the three 3-epoch runs, summed over one iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class RunTimes {
        public long plainNs;
        public long uncachedNs;
        public long cachedNs;
        /** The first epoch's share of {@code plainNs} and {@code cachedNs} (the cache fills in it, the rest reuses it). */
        public long plainFirstEpochNs;
        public long cachedFirstEpochNs;
        long calls;

        @Setup(Level.Iteration)
        public void reset() {
            plainNs = 0;
            uncachedNs = 0;
            cachedNs = 0;
            plainFirstEpochNs = 0;
            cachedFirstEpochNs = 0;
        }
    }

    private LlamaModel m;
    private LoraAdapter adapter;
    private final List<TrainBatch> batches = new ArrayList<>();   // epoch-major: EPOCHS × (EXAMPLES / BATCH)
    private IvGuidedRegulariser.Config uncached;
    private IvGuidedRegulariser.Config cached;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        m = ForwardBench.loadModel(model, storiesPath);
        adapter = LoraAdapter.create(m.config(), LoraConfig.defaults(), 1);
        m.attachAdapter(adapter);
        m.setTraining(true);
        Random rng = new Random(7);
        List<TokenizedPrompt> ex = TrainStepBench.randomExamples(m, rng, EXAMPLES);
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            List<TokenizedPrompt> order = new ArrayList<>(ex);
            Collections.shuffle(order, new Random(100 + epoch));
            for (int b = 0; b < EXAMPLES; b += BATCH) {
                batches.add(TrainBatch.of(order.subList(b, b + BATCH)));
            }
        }
        List<HeadRanking.Head> heads = TrainStepBench.preservedHeads(m);
        Tensor iv = TrainStepBench.randomIv(m);
        IvSchedule constant = new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0);
        MatmulPrecision products = switch (precision) {
            case "full" -> MatmulPrecision.FULL;
            case "reduced" -> MatmulPrecision.REDUCED;
            default -> throw new IllegalArgumentException("precision: full or reduced, got '" + precision + "'");
        };
        int k = topK.equals("exact") ? IvGuidedRegulariser.EXACT_CACHE : Integer.parseInt(topK);
        uncached = new IvGuidedRegulariser.Config(iv, m.config().nLayers() / 3, IvGuidedRegulariser.Site.ATTN_OUT, 20, 0.1, 1, 2,
                KlDirection.REVERSE, false, heads, constant, 0, products);
        cached = new IvGuidedRegulariser.Config(iv, m.config().nLayers() / 3, IvGuidedRegulariser.Site.ATTN_OUT, 20, 0.1, 1, 2,
                KlDirection.REVERSE, false, heads, constant, k, products);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        m.close();
        adapter.close();
    }

    private long firstEpochNs;

    /**
     * One 3-epoch run of micro-steps with {@code reg} (null: plain LoRA); returns the summed loss and leaves the first
     * epoch's wall time in {@link #firstEpochNs}.
     */
    private double run(Regulariser reg) {
        double sum = 0;
        long t0 = System.nanoTime();
        for (int s = 0; s < batches.size(); s++) {
            if (s == EXAMPLES / BATCH) {
                firstEpochNs = System.nanoTime() - t0;
            }
            try (PointerScope scope = new PointerScope()) {
                TrainBatch b = batches.get(s);
                Regulariser.Prepared prep = reg == null ? null : reg.prepare(m, b, s, batches.size());
                RunResult r = m.forward(b.tokens, b.mask, prep == null ? HookPlan.empty() : prep.trainingPlan(), null, LogitsMode.ALL);
                // as the Trainer: with a regulariser its whole loss (the CE folded into the fused KL)
                Tensor loss = prep == null ? b.crossEntropy(r.logits()) : prep.loss(r, b, 1, 1).total();
                loss.backward();
                sum += loss.item_double();
            }
        }
        return sum;
    }

    @Benchmark
    public double plain() {
        return run(null);
    }

    @Benchmark
    public double ivGuidedUncached() {
        return run(new IvGuidedRegulariser(uncached));
    }

    @Benchmark
    public double ivGuidedCached() {
        return run(new IvGuidedRegulariser(cached));   // a fresh cache: the first epoch pays every reference
    }

    @Benchmark
    public double paired(RunTimes times) {
        long first = times.calls++ % 3;
        double loss = 0;
        for (int i = 0; i < 3; i++) {
            long which = (first + i) % 3;
            long t0 = System.nanoTime();
            loss += which == 0 ? plain() : which == 1 ? ivGuidedUncached() : ivGuidedCached();
            long dt = System.nanoTime() - t0;
            if (which == 0) {
                times.plainNs += dt;
                times.plainFirstEpochNs += firstEpochNs;
            } else if (which == 1) {
                times.uncachedNs += dt;
            } else {
                times.cachedNs += dt;
                times.cachedFirstEpochNs += firstEpochNs;
            }
        }
        return loss;
    }
}
