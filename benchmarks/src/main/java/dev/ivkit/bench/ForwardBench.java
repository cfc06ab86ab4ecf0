package dev.ivkit.bench;

import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import dev.ivkit.util.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * Full-sequence fp32 forward of {@link LlamaModel} (no hooks, {@link LogitsMode#ALL}: logits for every position) in
 * forwards/s, with tokens/s and flop/s as secondary metrics. FLOPs per forward: {@link #forwardFlops}.
 *
 * <p>{@link #forward} writes the logits into the model's workspace ({@link LogitsBuffer#WORKSPACE}), as the library's
 * scans, evaluations and decoders do: the default inference path and the one the roofline ratio is read from.
 * {@link #forwardFresh} allocates them per call ({@link LogitsBuffer#FRESH}, the public forward's default, what
 * training does): at random22M's 65.5 MB of logits its first-touch page faults are the difference.
 *
 * <p>Models: {@code stories260K} (Karpathy's llama2.c checkpoint, read from {@link #storiesPath}) and
 * {@code random22M}, a seeded random Llama of {@link #RANDOM_22M} (22.6M parameters, tied 32000-token embedding).
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or
 * {@code java -jar benchmarks/target/benchmarks.jar ForwardBench -p model=random22M -p shape=4x128}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class ForwardBench {
    /** d_model 384, SwiGLU 1152, 6 layers, 6 query heads and 2 key/value heads of 64, vocab 32000 tied, context 512. */
    public static final ModelConfig RANDOM_22M = new ModelConfig("llama", 384, 1152, 6, 6, 2, 64, 32000, 512,
            1e-5, 10000.0, RopeStyle.HALF, null, true, false, 1, 2);

    @Param({"stories260K", "random22M"})
    public String model;

    /** batch x positions; both give 512 tokens per forward. */
    @Param({"4x128", "1x512"})
    public String shape;

    /** Relative to the working directory: run from the repository root with ../shared beside it. */
    @Param("../shared/data/models/stories260K/stories260K.bin")
    public String storiesPath;

    private LlamaModel llama;
    private Tensor tokens;
    private long tokensPerCall;
    private long flopsPerCall;

    @Setup(Level.Trial)
    public void setup() {
        Torch.init();
        llama = loadModel(model, storiesPath);
        int[] bt = parseShape(shape);
        torch.manual_seed(42);
        tokens = torch.randint(llama.config().vocabSize(), new long[] {bt[0], bt[1]});
        tokensPerCall = (long) bt[0] * bt[1];
        flopsPerCall = forwardFlops(llama.config(), bt[0], bt[1], true);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        tokens.close();
        llama.close();
    }

    /** The forward with logits in the model's workspace. */
    @Benchmark
    public float forward(Work work) {
        return run(work, LogitsBuffer.WORKSPACE);
    }

    /** The forward with a fresh logits tensor per call. */
    @Benchmark
    public float forwardFresh(Work work) {
        return run(work, LogitsBuffer.FRESH);
    }

    private float run(Work work, LogitsBuffer buffer) {
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = llama.forward(tokens, null, null, null, LogitsMode.ALL, buffer).logits();
            work.add(tokensPerCall, flopsPerCall);
            return logits.data_ptr_float().get();
        }
    }

    /**
     * Matmul FLOPs of one full-sequence forward: 2 x (matmul weights) x tokens, where the weights are q, k, v, o,
     * gate, up, down per layer plus the lm_head when logits are computed (embedding lookup, norms, RoPE and softmax
     * are not counted), plus attention 4 x batch x seq^2 x (n_heads x d_head) per layer: q k^T and p v each
     * 2 x seq^2 x d_head per head over the full square, which is what the masked implementation computes (a causal
     * kernel would need half).
     */
    public static long forwardFlops(ModelConfig c, int batch, int seq, boolean logits) {
        long d = c.dModel();
        long q = (long) c.nHeads() * c.headDim();
        long kv = (long) c.nKvHeads() * c.headDim();
        long perLayer = d * q + 2 * d * kv + q * d + 3 * d * c.hiddenDim();
        long weights = c.nLayers() * perLayer + (logits ? (long) c.vocabSize() * d : 0);
        long tokens = (long) batch * seq;
        long attention = c.nLayers() * 4L * batch * seq * seq * q;
        return 2 * weights * tokens + attention;
    }

    /** The fp32 benchmark model by name: {@code stories260K} (read from {@code storiesPath}) or {@code random22M}. */
    static LlamaModel loadModel(String model, String storiesPath) {
        return switch (model) {
            case "stories260K" -> ModelLoader.load(requireFile(storiesPath, "stories260K", "storiesPath"), torch.ScalarType.Float);
            case "random22M" -> randomModel(RANDOM_22M, 1234);
            default -> throw new IllegalArgumentException("model: unknown '" + model + "' (stories260K or random22M)");
        };
    }

    /** A model of {@code cfg} with seeded N(0, 0.02^2) matrices and unit norm weights. */
    static LlamaModel randomModel(ModelConfig cfg, long seed) {
        torch.manual_seed(seed);
        long d = cfg.dModel();
        long q = (long) cfg.nHeads() * cfg.headDim();
        long kv = (long) cfg.nKvHeads() * cfg.headDim();
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put(WeightNames.EMBED, randn(cfg.vocabSize(), d));
        w.put(WeightNames.FINAL_NORM, torch.ones(d));
        if (!cfg.tiedEmbeddings()) {
            w.put(WeightNames.LM_HEAD, randn(cfg.vocabSize(), d));
        }
        for (int l = 0; l < cfg.nLayers(); l++) {
            w.put(WeightNames.attnNorm(l), torch.ones(d));
            w.put(WeightNames.q(l), randn(q, d));
            w.put(WeightNames.k(l), randn(kv, d));
            w.put(WeightNames.v(l), randn(kv, d));
            w.put(WeightNames.o(l), randn(d, q));
            w.put(WeightNames.mlpNorm(l), torch.ones(d));
            w.put(WeightNames.gate(l), randn(cfg.hiddenDim(), d));
            w.put(WeightNames.up(l), randn(cfg.hiddenDim(), d));
            w.put(WeightNames.down(l), randn(d, cfg.hiddenDim()));
        }
        return new LlamaModel(cfg, w, torch.ScalarType.Float);
    }

    private static Tensor randn(long rows, long cols) {
        return torch.randn(rows, cols).mul_(new Scalar(0.02));
    }

    static int[] parseShape(String s) {
        String[] p = s.split("x");
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = Integer.parseInt(p[i].trim());
        }
        return out;
    }

    /** {@code path} as a Path, or an error naming the JMH parameter that sets it. */
    static Path requireFile(String path, String what, String param) {
        Path p = Path.of(path);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(what + " not found at " + p.toAbsolutePath().normalize()
                    + ": run from the repository root with ../shared beside it, or pass -p " + param + "=PATH");
        }
        return p;
    }
}
