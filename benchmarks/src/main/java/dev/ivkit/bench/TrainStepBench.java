package dev.ivkit.bench;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.KlDirection;
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
 * One training micro-step (forward, loss, backward into the LoRA weights; no optimizer update, which is the same for
 * both): plain LoRA against IV-guided (reference pass with the adapter off, IV pass from layer L, fused KL at the
 * predicting position and over real positions, head preservation of 10 heads). Batch 4 × 64-token sequences with
 * 8-token answers (random ids, left padding of 0–8), LoRA rank 8 on q/v, α1 = 20, α2 = 0.1, α_pr = 1, T = 2.
 * Target: IV-guided ≤ 1.25 × plain. {@code paired} times one plain and one IV-guided micro-step back to back in every
 * call (alternating which goes first) into aux counters, so that load drifting on a shared machine cancels out of the
 * ratio (the separate benchmarks, minutes apart, moved by ±30 % between runs of the same code).
 *
 * <p>HOW TO RUN: {@code java -jar benchmarks/target/benchmarks.jar TrainStepBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class TrainStepBench {
    @Param({"stories260K", "random22M"})
    public String model;

    @Param("../shared/data/models/stories260K/stories260K.bin")
    public String storiesPath;

    /** Wall time of the plain and the IV-guided micro-steps, summed over one iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class PairTimes {
        public long plainNs;
        public long ivGuidedNs;
        long calls;

        @Setup(Level.Iteration)
        public void reset() {
            plainNs = 0;
            ivGuidedNs = 0;
        }
    }

    private LlamaModel m;
    private LoraAdapter adapter;
    private TrainBatch batch;
    private IvGuidedRegulariser reg;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        m = ForwardBench.loadModel(model, storiesPath);
        adapter = LoraAdapter.create(m.config(), LoraConfig.defaults(), 1);
        m.attachAdapter(adapter);
        m.setTraining(true);
        Random rng = new Random(7);
        batch = TrainBatch.of(randomExamples(m, rng, 4));
        List<HeadRanking.Head> heads = preservedHeads(m);
        Tensor iv = randomIv(m);
        reg = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, m.config().nLayers() / 3, IvGuidedRegulariser.Site.ATTN_OUT,
                20, 0.1, 1, 2, KlDirection.REVERSE, false, heads, new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0)));
    }

    /** {@code n} examples of random token ids: 48–56-token prompts, 8-token answers (ids from 3 up). */
    static List<TokenizedPrompt> randomExamples(LlamaModel m, Random rng, int n) {
        List<TokenizedPrompt> ex = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            int[] p = new int[56 - rng.nextInt(9)], t = new int[8];
            for (int i = 0; i < p.length; i++) {
                p[i] = 3 + rng.nextInt(m.config().vocabSize() - 3);
            }
            for (int i = 0; i < t.length; i++) {
                t[i] = 3 + rng.nextInt(m.config().vocabSize() - 3);
            }
            ex.add(new TokenizedPrompt(p, t));
        }
        return ex;
    }

    /** The 10 preserved heads of the IV-guided benchmarks, spread over layers and heads. */
    static List<HeadRanking.Head> preservedHeads(LlamaModel m) {
        List<HeadRanking.Head> heads = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            heads.add(new HeadRanking.Head(i % m.config().nLayers(), (i * 3) % m.config().nHeads(), 0));
        }
        return heads;
    }

    /** A seeded random IV of norm about 0.1·√d_model, retained beyond the caller's scope. */
    static Tensor randomIv(LlamaModel m) {
        torch.manual_seed(3);
        Tensor iv = torch.randn(m.config().dModel()).mul(new Scalar(0.1));
        iv.retainReference();
        return iv;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        m.close();
        adapter.close();
    }

    @Benchmark
    public double plainLora() {
        try (PointerScope s = new PointerScope()) {
            RunResult r = m.forward(batch.tokens, batch.mask, HookPlan.empty(), null, LogitsMode.ALL);
            Tensor loss = batch.crossEntropy(r.logits());
            loss.backward();
            return loss.item_double();
        }
    }

    @Benchmark
    public double paired(PairTimes times) {
        boolean plainFirst = (times.calls++ & 1) == 0;
        double loss = 0;
        for (int k = 0; k < 2; k++) {
            boolean plain = (k == 0) == plainFirst;
            long t0 = System.nanoTime();
            loss += plain ? plainLora() : ivGuided();
            long dt = System.nanoTime() - t0;
            if (plain) {
                times.plainNs += dt;
            } else {
                times.ivGuidedNs += dt;
            }
        }
        return loss;
    }

    @Benchmark
    public double ivGuided() {
        try (PointerScope s = new PointerScope()) {
            Regulariser.Prepared prep = reg.prepare(m, batch, 100, 100);
            RunResult r = m.forward(batch.tokens, batch.mask, prep.trainingPlan(), null, LogitsMode.ALL);
            Tensor loss = prep.loss(r, batch, 1, 1).total();   // as the Trainer: the CE folded into the fused KL
            loss.backward();
            return loss.item_double();
        }
    }
}
