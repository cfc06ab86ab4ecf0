package dev.ivkit.bench;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.dist.DistConfig;
import dev.ivkit.train.GradientSync;
import dev.ivkit.dist.Launcher;
import dev.ivkit.dist.ProcessGroup;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;

/**
 * Plain timed main (not JMH): data-parallel scaling of LoRA training on stories260K. One process trains with global
 * micro-batch G; then two worker JVMs on 127.0.0.1 train with G/2 each (same global batch, Gloo all-reduce). Each
 * run first trains a few warm-up steps, then times {@code steps} steps; rank 0 also reports the time spent inside
 * the gradient all-reduce (which includes waiting for the slower rank).
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar dev.ivkit.bench.DistScalingBench [MODEL.bin] [G] [steps]}
 */
public final class DistScalingBench {
    private DistScalingBench() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args.length > 0 ? args[0] : "../shared/data/models/stories260K/stories260K.bin").toAbsolutePath();
        int global = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        if (DistConfig.inEnv(System.getenv())) {
            try (ProcessGroup pg = ProcessGroup.init(DistConfig.fromEnv(System.getenv()))) {
                run(model, global / pg.worldSize(), steps, pg);
            }
            System.exit(0);
        }
        double one = run(model, global, steps, null);
        List<String> jvm = new ArrayList<>(Launcher.inheritedJvmArgs());
        jvm.add("-Xmx512m");
        int rc = Launcher.run(new Launcher.Spec(2, 1, 0, "127.0.0.1", Launcher.freePort("127.0.0.1"), Duration.ofSeconds(120),
                jvm, null), DistScalingBench.class.getName(), List.of(model.toString(), Integer.toString(global), Integer.toString(steps)));
        if (rc != 0) {
            throw new IllegalStateException("workers failed: exit " + rc);
        }
    }

    /** Trains warm-up + timed steps; returns ms per timed step. */
    private static double run(Path modelPath, int microBatch, int steps, ProcessGroup pg) throws Exception {
        int world = pg == null ? 1 : pg.worldSize(), warm = 3;
        List<TokenizedPrompt> data = synthetic(microBatch * world * (warm + steps), 7);
        Path out = Files.createTempDirectory("ivkit-dist-bench");
        try (PointerScope s = new PointerScope(); LlamaModel m = ModelLoader.load(modelPath, null)) {
            LoraConfig lc = new LoraConfig(8, 16, 0, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"));
            TrainConfig cfg = TrainConfig.defaults().withLr(1e-3).withBatch(microBatch, 1).withCheckpointEvery(1_000_000);
            GradientSync sync = pg;
            try (LoraAdapter a = LoraAdapter.create(m.config(), lc, 1)) {
                new Trainer(m, cfg, null, out.resolve("warm")).distributed(sync).train(a, data.subList(0, microBatch * world * warm), null, false);
            }
            long ar0 = pg == null ? 0 : pg.allreduceNanos();
            long t0 = System.nanoTime();
            try (LoraAdapter a = LoraAdapter.create(m.config(), lc, 1)) {
                new Trainer(m, cfg, null, out.resolve("timed")).distributed(sync).train(a, data.subList(microBatch * world * warm, data.size()), null, false);
            }
            double ms = (System.nanoTime() - t0) / 1e6 / steps;
            if (pg == null || pg.rank() == 0) {
                String ar = pg == null ? "" : String.format(Locale.ROOT, ", all-reduce %.2f ms/step (%.1f%%)",
                        (pg.allreduceNanos() - ar0) / 1e6 / steps, 100.0 * (pg.allreduceNanos() - ar0) / 1e6 / steps / ms);
                System.out.printf(Locale.ROOT, "DistScalingBench: %d process(es) x micro-batch %d, %d LoRA params: %.1f ms/step%s%n",
                        world, microBatch, paramCount(m, lc), ms, ar);
            }
            return ms;
        } finally {
            try (var files = Files.walk(out)) {   // each rank made its own (only rank 0's holds files)
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static long paramCount(LlamaModel m, LoraConfig lc) {
        try (LoraAdapter a = LoraAdapter.create(m.config(), lc, 1)) {
            long n = 0;
            for (var t : a.parameters()) {
                n += t.numel();
            }
            return n;
        }
    }

    /** Seeded random prompts of 64 tokens with 2-token answers (timing only). */
    private static List<TokenizedPrompt> synthetic(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] p = new int[64], t = new int[2];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) {
                p[j] = 3 + r.nextInt(500);
            }
            t[0] = 3 + r.nextInt(500);
            t[1] = 3 + r.nextInt(500);
            out.add(new TokenizedPrompt(p, t));
        }
        return out;
    }
}
