package dev.ivkit.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.KlDirection;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RopeScaling;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.RunResult;
import dev.ivkit.model.WeightNames;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.ShardedCheckpointWriter;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainBatch;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Real-model sizes on the CPU: random-weight bf16 checkpoints in the exact shapes of Llama-3.2-1B and Llama-3.1-8B,
 * written once by ivkit's own sharded safetensors writer, then load time and peak RSS, forward tokens/s at 1x64 and
 * 4x128, one exact CIE scan of a 10-shot-length prompt (the naive scan's time extrapolated from one per-head
 * forward), and one IV-guided LoRA micro-step against a plain one. A plain timed main (each figure is one run of a
 * minutes-long job), not JMH; writes one JSON line per shape.
 *
 * <p>HOW TO RUN (from the repository root): {@code java -Xmx2g -cp benchmarks/target/benchmarks.jar
 * dev.ivkit.bench.SizeBench --shape llama-3.2-1b --dir DIR [--skip scan,train] [--out FILE]}.
 * The checkpoint is written under DIR/SHAPE (default: the JVM's temp folder) the first time and reused after.
 */
public final class SizeBench {
    private SizeBench() {}

    static ModelConfig shape(String name) {
        return switch (name) {
            case "llama-3.2-1b" -> new ModelConfig("llama", 2048, 8192, 16, 32, 8, 64, 128256, 131072, 1e-5, 500000.0,
                    RopeStyle.HALF, new RopeScaling(32, 1, 4, 8192), true, false, 128000, 128001);
            case "llama-3.1-8b" -> new ModelConfig("llama", 4096, 14336, 32, 32, 8, 128, 128256, 131072, 1e-5, 500000.0,
                    RopeStyle.HALF, new RopeScaling(8, 1, 4, 8192), false, false, 128000, 128001);
            default -> throw new IllegalArgumentException("--shape: llama-3.2-1b or llama-3.1-8b, got " + name);
        };
    }

    /** Peak and current resident set of this process in bytes (VmHWM, VmRSS of /proc/self/status). */
    static long[] rss() throws IOException {
        long hwm = 0, cur = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                hwm = Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            } else if (line.startsWith("VmRSS:")) {
                cur = Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return new long[] {hwm, cur};
    }

    static void write(Path dir, ModelConfig cfg) {
        long t0 = System.nanoTime();
        torch.manual_seed(11);
        ShardedCheckpointWriter.write(dir, cfg, torch.ScalarType.BFloat16, 2_000_000_000L, name -> {
            long[] s = HfCheckpoint.expectedShapes(cfg).get(name);
            if (s.length == 1) {
                return torch.ones(s, Torch.options(torch.ScalarType.BFloat16));
            }
            // N(0, 0.02^2) as transformers' initializer_range, generated in bf16 directly (no fp32 copy)
            return torch.randn(s, Torch.options(torch.ScalarType.BFloat16)).mul_(new Scalar(0.02));
        }, bytes -> System.err.printf("  written %.2f GB (%.0f s)%n", bytes / 1e9, (System.nanoTime() - t0) / 1e9));
    }

    static int[] randomIds(Random rng, int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1000 + rng.nextInt(vocab - 2000);
        }
        return ids;
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Forward tokens/s of a batch x len random batch, logits at the last position only (what scan and generate need). */
    static double forwardTokensPerSecond(LlamaModel m, int batch, int len, int reps) {
        Random rng = new Random(batch * 1000L + len);
        long best = Long.MAX_VALUE;
        for (int r = 0; r < reps + 1; r++) {
            try (PointerScope s = new PointerScope()) {
                long[] ids = new long[batch * len];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = 1000 + rng.nextInt(m.config().vocabSize() - 2000);
                }
                Tensor tokens = torch.tensor(ids).reshape(batch, len);
                long t0 = System.nanoTime();
                m.forward(tokens, null, HookPlan.empty(), null, LogitsMode.LAST).logits().sum().item_double();
                long dt = System.nanoTime() - t0;
                if (r > 0 || reps == 0) {
                    best = Math.min(best, dt);
                }
            }
        }
        return batch * (double) len / (best / 1e9);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        String shapeName = a.getOrDefault("--shape", "llama-3.2-1b");
        String skip = a.getOrDefault("--skip", "");
        ModelConfig cfg = shape(shapeName);
        Path dir = Path.of(a.getOrDefault("--dir", System.getProperty("java.io.tmpdir") + "/ivkit-size")).resolve(shapeName);
        Torch.init();
        JsonObject row = new JsonObject();
        row.addProperty("shape", shapeName);
        row.addProperty("parameters", cfg.parameterCount());
        row.addProperty("weight_bytes", cfg.parameterCount() * 2);
        row.addProperty("cores", Runtime.getRuntime().availableProcessors());
        row.addProperty("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset"));
        if (!Files.exists(dir.resolve(HfCheckpoint.INDEX))) {
            System.err.println("writing " + shapeName + " (" + cfg.parameterCount() * 2 / 1e9 + " GB bf16) to " + dir);
            long t0 = System.nanoTime();
            write(dir, cfg);
            row.addProperty("write_s", seconds(t0));
        }
        long[] before = rss();
        long t0 = System.nanoTime();
        LlamaModel m = ModelLoader.load(dir, null);
        row.addProperty("load_s", seconds(t0));
        long[] after = rss();
        row.addProperty("rss_before_load", before[1]);
        row.addProperty("peak_rss_after_load", after[0]);
        row.addProperty("dtype", m.dtype().toString());
        System.err.println("loaded: " + row);

        int reps = cfg.parameterCount() > 4e9 ? 1 : 2;
        row.addProperty("fwd_1x64_tok_s", forwardTokensPerSecond(m, 1, 64, reps));
        System.err.println("fwd 1x64: " + row.get("fwd_1x64_tok_s"));
        row.addProperty("fwd_4x128_tok_s", forwardTokensPerSecond(m, 4, 128, reps));
        System.err.println("fwd 4x128: " + row.get("fwd_4x128_tok_s"));
        Random rng = new Random(5);
        if (!skip.contains("scan")) {
            // a 10-shot Q:/A: prompt of Llama-3 tokens is ~100-130 tokens; random ids of that length, 1-token answer
            List<TokenizedPrompt> clean = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                clean.add(new TokenizedPrompt(randomIds(rng, 120, cfg.vocabSize()), randomIds(rng, 1, cfg.vocabSize())));
            }
            TokenizedPrompt p = new TokenizedPrompt(randomIds(rng, 120, cfg.vocabSize()), randomIds(rng, 1, cfg.vocabSize()));
            try (PointerScope s = new PointerScope()) {
                long ts = System.nanoTime();
                Tensor meanZ = MeanActivations.compute(m, clean, 1);
                row.addProperty("mean_activations_2_prompts_s", seconds(ts));
                CieScan scan = new CieScan(m, meanZ, PatchMode.ADD);
                ts = System.nanoTime();
                scan.scorePrompt(p, ScanMethod.EXACT);
                row.addProperty("exact_scan_s", seconds(ts));
                System.err.println("exact scan: " + row.get("exact_scan_s"));
                Tensor tokens = torch.tensor(java.util.Arrays.stream(p.promptIds()).asLongStream().toArray()).reshape(1, -1);
                ts = System.nanoTime();
                m.forward(tokens, null, HookPlan.empty(), null, LogitsMode.ALL).logits().sum().item_double();
                double one = seconds(ts);
                row.addProperty("naive_scan_s_extrapolated", one * (cfg.nLayers() * cfg.nHeads() + 1));
            }
        }
        if (!skip.contains("train")) {
            trainSteps(m, cfg, rng, row);
        }
        row.addProperty("peak_rss_total", rss()[0]);
        m.close();
        String json = new GsonBuilder().create().toJson(row);
        System.out.println(json);
        if (a.containsKey("--out")) {
            Files.writeString(Path.of(a.get("--out")), json + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
    }

    /** One plain LoRA micro-step and one IV-guided one (as TrainStepBench), batch 2 x 64 with 8-token answers. */
    static void trainSteps(LlamaModel m, ModelConfig cfg, Random rng, JsonObject row) {
        try (LoraAdapter adapter = LoraAdapter.create(cfg, LoraConfig.defaults(), 1)) {
            m.attachAdapter(adapter);
            m.setTraining(true);
            List<TokenizedPrompt> ex = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                ex.add(new TokenizedPrompt(randomIds(rng, 56, cfg.vocabSize()), randomIds(rng, 8, cfg.vocabSize())));
            }
            TrainBatch batch = TrainBatch.of(ex);
            List<HeadRanking.Head> heads = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                heads.add(new HeadRanking.Head(i % cfg.nLayers(), (i * 3) % cfg.nHeads(), 0));
            }
            torch.manual_seed(3);
            Tensor iv = torch.randn(cfg.dModel()).mul(new Scalar(0.1));
            iv.retainReference();
            IvGuidedRegulariser reg = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, cfg.nLayers() / 3,
                    IvGuidedRegulariser.Site.ATTN_OUT, 20, 0.1, 1, 2, KlDirection.REVERSE, false, heads,
                    new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0)));
            for (int k = 0; k < 2; k++) {
                boolean plain = k == 0;
                long t0 = System.nanoTime();
                try (PointerScope s = new PointerScope()) {
                    Tensor loss;
                    if (plain) {
                        RunResult r = m.forward(batch.tokens, batch.mask, HookPlan.empty(), null, LogitsMode.ALL);
                        loss = batch.crossEntropy(r.logits());
                    } else {
                        Regulariser.Prepared prep = reg.prepare(m, batch, 100, 100);
                        RunResult r = m.forward(batch.tokens, batch.mask, prep.trainingPlan(), null, LogitsMode.ALL);
                        loss = prep.loss(r, batch, 1, 1).total();   // as the Trainer: the CE folded into the fused KL
                    }
                    loss.backward();
                    loss.item_double();
                }
                row.addProperty(plain ? "plain_step_s" : "iv_guided_step_s", seconds(t0));
                System.err.println((plain ? "plain" : "iv-guided") + " step: " + seconds(t0) + " s");
            }
            m.detachAdapter();
        }
    }
}
