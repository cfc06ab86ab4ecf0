package dev.ivkit.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
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
 * Causal-indirect-effect head scan of one prompt ({@link CieScan#scorePrompt}, ADD mode) with
 * {@link ScanMethod#EXACT} (prefix cached; the suffix layer by layer as one growing batch of the clean row and every
 * head's patched copy, one lm_head call at the end) against
 * {@link ScanMethod#NAIVE} (one full forward per head), in scans/s. The prompt: {@value #SHOTS}-shot Q:/A: (Todd et
 * al.'s format) from a function-vector task file, demonstration labels shuffled, tokenized with stories260K's
 * tok512; meanZ from {@link MeanActivations} over {@value #CLEAN_PROMPTS} clean (unshuffled) prompts in setup.
 * Secondary counters per scan: {@code promptTokens} T (the teacher-forced input), {@code answerTokens} n, and
 * {@code flops}: the matmul + attention FLOPs of the method ({@link #naiveFlops}, {@link #exactFlops}), so the table
 * can print the ideal FLOP ratio beside the measured time ratio.
 *
 * <p>HOW TO RUN: {@code benchmarks/run.sh}, or {@code java -jar benchmarks/target/benchmarks.jar ScanBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)   // the exact scan runs more Java per scan: 1 warm-up iteration left it 3-6 % short of its JIT-compiled rate
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dai.djl.offline=true"})
public class ScanBench {
    static final int SHOTS = 10;
    static final int CLEAN_PROMPTS = 4;

    @Param({"stories260K", "random22M"})
    public String model;

    /** Relative to the working directory: run from the repository root with ../shared beside it. */
    @Param("../shared/data/models/stories260K/stories260K.bin")
    public String storiesPath;

    @Param("../shared/data/models/stories260K/tok512.bin")
    public String tokenizerPath;

    @Param("../shared/data/function_vectors/abstractive/antonym.json")
    public String taskPath;

    private LlamaModel llama;
    private Tensor meanZ;
    private CieScan scan;
    private TokenizedPrompt prompt;

    /** Per-scan amounts, reported as rates next to scans/s (divide by the primary score for per-scan values). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long promptTokens;
        public long answerTokens;
        public long flops;

        @Setup(Level.Iteration)
        public void reset() {
            promptTokens = 0;
            answerTokens = 0;
            flops = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Torch.init();
        llama = ForwardBench.loadModel(model, storiesPath);
        Path task = ForwardBench.requireFile(taskPath, "task file", "taskPath");
        try (Tokenizer tok = Tokenizer.load(ForwardBench.requireFile(tokenizerPath, "tok512.bin", "tokenizerPath"))) {
            List<TokenizedPrompt> clean = prompts(tok, task, CLEAN_PROMPTS, false, 1);
            prompt = prompts(tok, task, 1, true, 2).get(0);
            meanZ = MeanActivations.compute(llama, clean, CLEAN_PROMPTS);
        }
        scan = new CieScan(llama, meanZ, PatchMode.ADD);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        meanZ.close();
        llama.close();
    }

    @Benchmark
    public double exact(Counters c) {
        return run(ScanMethod.EXACT, exactFlops(llama.config(), teacherForced(), prompt.targetIds().length), c);
    }

    @Benchmark
    public double naive(Counters c) {
        return run(ScanMethod.NAIVE, naiveFlops(llama.config(), teacherForced(), prompt.targetIds().length), c);
    }

    private double run(ScanMethod method, long flops, Counters c) {
        double[][][] r = scan.scorePrompt(prompt, method);
        c.promptTokens += teacherForced();
        c.answerTokens += prompt.targetIds().length;
        c.flops += flops;
        return r[0][0][0];
    }

    private int teacherForced() {
        return prompt.promptIds().length + prompt.targetIds().length - 1;
    }

    /**
     * NAIVE as CieScan runs it: a clean forward plus one per (layer, head), each over all T tokens with logits at
     * every position: (L*H + 1) * (blocks(1, T, T, L) + lmHead(T)).
     */
    static long naiveFlops(ModelConfig c, int t, int n) {
        long perForward = blocks(c, 1, t, t, c.nLayers()) + lmHead(c, t);
        return ((long) c.nLayers() * c.nHeads() + 1) * perForward;
    }

    /**
     * EXACT as CieScan runs it: the prefix of T-n tokens once into a KV cache (no logits), the clean suffix of n
     * tokens through all layers (logits for n), and for each layer l the H patched copies of the suffix through
     * layers l..L-1 with logits (CieScan runs the clean row and the copies as one batch that grows at each layer and
     * applies the lm_head once; the same sum): blocks(1, T-n, T-n, L) + blocks(1, n, T, L) + lmHead(n)
     * + sum_l (blocks(H, n, T, L-l) + lmHead(H*n)).
     */
    static long exactFlops(ModelConfig c, int t, int n) {
        int layers = c.nLayers(), heads = c.nHeads();
        long f = blocks(c, 1, t - n, t - n, layers) + blocks(c, 1, n, t, layers) + lmHead(c, n);
        for (int l = 0; l < layers; l++) {
            f += blocks(c, heads, n, t, layers - l) + lmHead(c, (long) heads * n);
        }
        return f;
    }

    /**
     * Decoder-block FLOPs of {@code rows} x {@code tokens} queries attending over {@code keys} positions, through
     * {@code layers} layers: 2 * (matmul weights per layer) per token, plus q k^T and p v over the full
     * [tokens, keys] rectangle per head (4 * tokens * keys * n_heads * d_head), as ForwardBench counts them.
     */
    static long blocks(ModelConfig c, long rows, long tokens, long keys, int layers) {
        long d = c.dModel(), q = (long) c.nHeads() * c.headDim(), kv = (long) c.nKvHeads() * c.headDim();
        long weights = d * q + 2 * d * kv + q * d + 3 * d * c.hiddenDim();
        return layers * (2 * weights * rows * tokens + 4 * rows * tokens * keys * q);
    }

    /** lm_head FLOPs for {@code tokens} positions: 2 * vocab * d_model each. */
    static long lmHead(ModelConfig c, long tokens) {
        return 2L * c.vocabSize() * c.dModel() * tokens;
    }

    /**
     * {@code count} prompts of {@value #SHOTS} Q:/A: demonstrations and a query, labels shuffled among the
     * demonstrations when asked; the answer is the query's output after a space. (The minimal logic of the library
     * tests' ScanPrompts, which this module cannot see.)
     */
    static List<TokenizedPrompt> prompts(Tokenizer tok, Path json, int count, boolean shuffled, long seed) throws IOException {
        List<String[]> pairs = new ArrayList<>();
        for (JsonElement e : JsonParser.parseString(Files.readString(json)).getAsJsonArray()) {
            pairs.add(new String[] {e.getAsJsonObject().get("input").getAsString(), e.getAsJsonObject().get("output").getAsString()});
        }
        Random rng = new Random(seed);
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Collections.shuffle(pairs, rng);
            List<String> labels = new ArrayList<>();
            for (String[] d : pairs.subList(0, SHOTS)) {
                labels.add(d[1]);
            }
            if (shuffled) {
                Collections.shuffle(labels, rng);
            }
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < SHOTS; k++) {
                sb.append("Q: ").append(pairs.get(k)[0]).append("\nA: ").append(labels.get(k)).append("\n\n");
            }
            sb.append("Q: ").append(pairs.get(SHOTS)[0]).append("\nA:");
            int[] ids = tok.encode(sb.toString(), true);
            int[] full = tok.encode(sb + " " + pairs.get(SHOTS)[1], true);
            int[] answer = Arrays.copyOfRange(full, ids.length, full.length);
            out.add(new TokenizedPrompt(ids, answer.length == 0 ? new int[] {full[full.length - 1]} : answer));
        }
        return out;
    }
}
