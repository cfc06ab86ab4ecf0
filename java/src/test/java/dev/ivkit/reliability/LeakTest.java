package dev.ivkit.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import dev.ivkit.train.AdamW;
import dev.ivkit.util.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Native memory does not grow over many training steps: stories260K with a LoRA adapter, each step (forward with
 * dropout, cross-entropy, backward, AdamW) in its own {@link PointerScope}. RSS (VmRSS) is read every 100 steps after
 * a warm-up of a third of the steps (at least 100); growth is the end against the first of those readings (the
 * reading right after the warm-up's System.gc() is reported but not used: the heap shrinks for a while after it). {@code -Dleak.steps} / {@code -Dleak.maxGrowth}: CI runs 300
 * steps with a 10 % bound (the JVM's own heap and JIT still settle in so few steps); {@code mvn -Pleak} runs 10,000
 * with 2 %.
 */
class LeakTest {
    static final int STEPS = Integer.getInteger("leak.steps", 300);
    static final double MAX_GROWTH = Double.parseDouble(System.getProperty("leak.maxGrowth", "0.10"));

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void trainingStepsDoNotGrowResidentMemory() throws Exception {
        Path bin = SharedData.stories260K().resolve("stories260K.bin");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs /proc");
        Torch.init();
        int warmup = Math.max(100, STEPS / 3);
        long rssWarm = 0, rssBase = 0, rssEnd, rssPeak = 0, t0 = 0;
        try (LlamaModel m = ModelLoader.load(bin, null);
             LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(8, 16, 0.1, java.util.List.of("q_proj", "v_proj")), 1);
             AdamW opt = new AdamW(a.parameters(), 0.9, 0.999, 1e-8, 0.0)) {
            m.attachAdapter(a);
            m.setAdapterEnabled(true);
            m.setTraining(true);
            int batch = 2, seq = 32, vocab = m.config().vocabSize();
            for (int step = 0; step < STEPS; step++) {
                if (step == warmup) {
                    System.gc();
                    rssWarm = rssKb();
                    t0 = System.nanoTime();
                }
                if (step > warmup && step % 100 == 0) {
                    long r = rssKb();
                    rssBase = rssBase == 0 ? r : rssBase;  // the baseline: 100 steps after the warm-up
                    rssPeak = Math.max(rssPeak, r);
                }
                try (PointerScope s = new PointerScope()) {
                    torch.manual_seed(step);
                    Tensor ids = torch.randint(vocab, new long[] {batch, seq + 1}, Torch.options(torch.ScalarType.Long));
                    Tensor in = ids.narrow(1, 0, seq), target = ids.narrow(1, 1, seq).reshape(-1);
                    Tensor logits = m.forward(in, null, HookPlan.empty(), null, LogitsMode.ALL).logits();
                    Tensor loss = torch.cross_entropy(logits.reshape(-1, vocab), target);
                    loss.backward();
                    opt.step(1e-3);
                    opt.zeroGrad();
                }
            }
            rssEnd = rssKb();  // before the model and adapter are freed
            rssPeak = Math.max(rssPeak, rssEnd);
            m.setTraining(false);
        }
        if (rssBase == 0) {
            rssBase = rssWarm;
        }
        double growth = (double) (rssEnd - rssBase) / rssBase;
        double msPerStep = (System.nanoTime() - t0) / 1e6 / (STEPS - warmup);
        System.out.printf(Locale.ROOT, "leak: %d steps (warm-up %d): VmRSS %,d kB after warm-up (after GC), %,d kB "
                + "100 steps later (baseline), %,d kB at the end: %+.2f %% (bound %.0f %%), peak %,d kB (%+.2f %%), "
                + "%.1f ms/step%n", STEPS, warmup, rssWarm, rssBase, rssEnd, 100 * growth, 100 * MAX_GROWTH, rssPeak,
                100.0 * (rssPeak - rssBase) / rssBase, msPerStep);
        assertTrue(growth < MAX_GROWTH, String.format(Locale.ROOT, "VmRSS grew %.2f %% (%,d -> %,d kB) over %d steps",
                100 * growth, rssBase, rssEnd, STEPS - warmup - 100));
    }

    /**
     * The logits workspace neither leaks nor outlives its model: inference forwards with {@link LogitsBuffer#WORKSPACE}
     * on a vocab-32,000 model whose largest call needs a 65.5 MB workspace (shapes rotate, so it is reused at smaller
     * sizes), then models made, used once and closed in turn. Were a workspace kept past close() or reallocated per
     * call, VmRSS would grow by 65.5 MB per model or call; the bound is one workspace in all.
     */
    @Test
    void logitsWorkspaceNeitherLeaksNorOutlivesItsModel() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs /proc");
        Torch.init();
        ModelConfig cfg = new ModelConfig("llama", 32, 64, 1, 2, 1, 16, 32000, 512, 1e-5, 10000.0, RopeStyle.HALF, null,
                false, false, 1, 2);
        int[][] shapes = {{4, 128}, {2, 64}, {1, 200}, {3, 100}};
        long wsBytes = 4L * 128 * cfg.vocabSize() * 4;
        long base = 0, end;
        try (LlamaModel m = TestModels.random(cfg, 11)) {
            for (int call = 0; call < 80; call++) {
                if (call == 20) {
                    System.gc();
                    base = rssKb();
                }
                try (PointerScope s = new PointerScope()) {
                    int[] bt = shapes[call % shapes.length];
                    torch.manual_seed(call);
                    Tensor ids = torch.randint(cfg.vocabSize(), new long[] {bt[0], bt[1]});
                    Tensor logits = m.forward(ids, null, HookPlan.empty(), null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits();
                    assertTrue(Double.isFinite(logits.sum().item_double()));
                }
            }
            assertEquals(wsBytes, m.logitsWorkspaceBytes(), "the workspace holds the largest call (4x128) only");
            end = rssKb();
        }
        long calls = end - base;
        for (int model = 0; model < 8; model++) {
            try (LlamaModel m = TestModels.random(cfg, 20 + model); PointerScope s = new PointerScope()) {
                m.forward(torch.randint(cfg.vocabSize(), new long[] {4, 128}), null, HookPlan.empty(), null, LogitsMode.ALL,
                        LogitsBuffer.WORKSPACE);
                assertEquals(wsBytes, m.logitsWorkspaceBytes());
            }
        }
        System.gc();
        long models = rssKb() - end;
        System.out.printf(Locale.ROOT, "leak (logits workspace %,d kB): VmRSS %+,d kB over 60 calls, %+,d kB over 8 models%n",
                wsBytes / 1024, calls, models);
        assertTrue(calls * 1024 < wsBytes, "VmRSS grew " + calls + " kB over 60 workspace forwards");
        assertTrue(models * 1024 < wsBytes, "VmRSS grew " + models + " kB over 8 models made, used and closed");
    }

    /** The long run outside Maven: {@code java -cp <test classpath> -Dleak.steps=10000 -Dleak.maxGrowth=0.02 -Divkit.shared=… LeakTest}. */
    public static void main(String[] args) throws Exception {
        new LeakTest().trainingStepsDoNotGrowResidentMemory();
        System.out.println("leak: passed");
    }
}
