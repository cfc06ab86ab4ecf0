package dev.ivkit.report;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.ivkit.results.ResultsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Hand-made inputs in the formats ivkit writes (scan.json, eval.json, probe.json, metrics.jsonl and the continual
 * runner's results.json), with realistic shapes and a seeded pseudo-random texture. Field names follow the writers:
 * cli/ScanCommand, results/EvalFile, results/ProbeFile, train/Trainer and continual/SequenceRunner.
 */
public final class ReportFixtures {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
    public static final List<String> TASKS = List.of("task195_sentiment", "task1343_amazon_us_reviews_rating",
            "task1310_amazon_review_summary", "task1292_yelp_review_full_text_categorization", "task363_sst2_polarity");

    private ReportFixtures() {}

    static void write(Path f, Object value) {
        try {
            Files.createDirectories(f.getParent());
            Files.writeString(f, GSON.toJson(value) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double[][] cie(int layers, int heads, long seed) {
        Random r = new Random(seed);
        double[][] m = new double[layers][heads];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                m[l][h] = r.nextGaussian() * 0.004;
            }
        }
        // a few strong heads in the middle layers, one negative
        m[layers / 2][1] = 0.09;
        m[layers / 2 - 1][heads - 2] = 0.06;
        m[layers / 3][heads / 2] = 0.035;
        m[layers - 2][0] = -0.02;
        return m;
    }

    public static Path scan(Path dir, int layers, int heads) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("format", "ivkit-scan");
        o.put("ivkit_version", "ivkit 0.1.0-SNAPSHOT");
        o.put("method", "exact");
        o.put("mode", "replace");
        o.put("layers", layers);
        o.put("heads", heads);
        o.put("prompts", 25);
        o.put("task", "antonym");
        o.put("cie", cie(layers, heads, 1));
        o.put("nll_delta", cie(layers, heads, 2));
        o.put("per_prompt", List.of(Map.of("index", 0, "query", "hot", "target", "cold")));
        o.put("some_future_field", Map.of("x", 1));
        Path f = dir.resolve("scan.json");
        write(f, o);
        return f;
    }

    public static Path evalSweep(Path dir, int layers) {
        List<Object> zs = new ArrayList<>(), sh = new ArrayList<>();
        zs.add(result(-1, 0.08, 0.05));
        sh.add(result(-1, 0.21, 0.12));
        for (int l = 0; l < layers; l++) {
            double bump = Math.exp(-Math.pow((l - layers * 0.4) / (layers * 0.18), 2));
            zs.add(result(l, 0.08 + 0.5 * bump, 0.05 + 0.3 * bump));
            sh.add(result(l, 0.21 + 0.4 * bump, 0.12 + 0.25 * bump));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("zero_shot", zs);
        settings.put("shuffled_10_shot", sh);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("format", "ivkit-eval");
        o.put("task", "antonym");
        o.put("prompts", 50);
        o.put("skipped_long_prompts", 0);
        o.put("shots", 10);
        o.put("scale", 1.0);
        o.put("max_new_tokens", 8);
        o.put("layer", "sweep");
        o.put("settings", settings);
        Path f = dir.resolve("eval.json");
        write(f, o);
        return f;
    }

    static Map<String, Object> result(int layer, double top1, double f1) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer", layer);
        m.put("prompts", 50);
        m.put("top1", top1);
        m.put("top2", Math.min(1, top1 + 0.1));
        m.put("top3", Math.min(1, top1 + 0.15));
        m.put("nll", 3.2 - top1);
        m.put("exact_match", top1 * 0.8);
        m.put("f1", f1);
        m.put("rouge_l", f1);
        return m;
    }

    public static Path probe(Path dir, String task, double bare, double instructed) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("format", "ivkit-probe");
        o.put("task", task);
        o.put("context", "instruction");
        o.put("shots", 0);
        o.put("examples", 40);
        o.put("bare", bare);
        o.put("instructed", instructed);
        Path f = dir.resolve("probe.json");
        write(f, o);
        return f;
    }

    public static Path metrics(Path dir, int steps) {
        StringBuilder sb = new StringBuilder();
        Gson g = new Gson();
        for (int s = 1; s <= steps; s++) {
            double ce = 2.5 * Math.exp(-s / 30.0) + 0.6 + 0.05 * Math.sin(s);
            double kl = 0.3 * Math.exp(-s / 50.0);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s);
            m.put("epoch", s / 50);
            m.put("loss", ce + 0.5 * kl);
            m.put("ce", ce);
            m.put("kl", kl);
            m.put("kl1", kl * 0.7);
            m.put("kl2", kl * 0.3);
            m.put("pr", 0.0);
            m.put("lr", 1e-4 * Math.min(1, s / 10.0));
            sb.append(g.toJson(m)).append('\n');
            if (s % 50 == 0) {
                sb.append(g.toJson(Map.of("step", s, "eval_ce", ce + 0.1))).append('\n');
            }
        }
        Path f = dir.resolve("metrics.jsonl");
        try {
            Files.createDirectories(dir);
            Files.writeString(f, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    /** A continual study: {@code methods} × {@code seeds} over {@link #TASKS}, in SequenceRunner's layout. */
    public static Path results(Path dir, List<String> methods, int seeds) {
        int t = TASKS.size();
        Random r = new Random(7);
        double[] base = {0.31, 0.12, 0.18, 0.09, 0.52};
        Map<String, Object> initial = new LinkedHashMap<>();
        initial.put("spec_fingerprint", "abc");
        initial.put("accuracy", base);
        List<Object> iv = new ArrayList<>(), knowledge = new ArrayList<>();
        for (int j = 0; j < t; j++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", TASKS.get(j));
            e.put("layer", 3);
            e.put("heads", List.of(List.of(3, 1, 0.09), List.of(2, 6, 0.06)));
            e.put("cie", cie(5, 8, 10 + j));
            List<Object> sweep = new ArrayList<>();
            for (int l = 0; l < 5; l++) {
                sweep.add(Map.of("layer", l, "top1", base[j] + 0.1 * Math.exp(-Math.pow(l - 2 - j % 2, 2)), "nll", 2.0));
            }
            e.put("layer_sweep_top1", sweep);
            iv.add(e);
            knowledge.add(Map.of("task", TASKS.get(j), "knowledge_p", 0.05 + 0.02 * j, "instruction_p", 0.2 + 0.05 * j));
        }
        initial.put("iv", iv);
        initial.put("knowledge", knowledge);
        initial.put("general", Map.of("copa", Map.of("items", 50, "acc", 0.55, "acc_norm", 0.56)));

        Map<String, Object> ms = new LinkedHashMap<>();
        for (int mi = 0; mi < methods.size(); mi++) {
            double forget = 0.25 - 0.06 * mi;  // later methods forget less
            Map<String, Object> perSeed = new LinkedHashMap<>();
            List<double[]> apb = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                double[][] mat = new double[t][t];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        double learned = 0.55 + 0.3 * j / t + 0.03 * r.nextGaussian();
                        mat[i][j] = j > i ? base[j] + 0.02 * r.nextGaussian()
                                : Math.max(0, learned - forget * (i - j) / t + 0.02 * r.nextGaussian());
                    }
                }
                double ap = 0, bwt = 0, fwt = 0;
                for (int j = 0; j < t; j++) {
                    ap += mat[t - 1][j] / t;
                }
                for (int j = 0; j < t - 1; j++) {
                    bwt += (mat[t - 1][j] - mat[j][j]) / (t - 1);
                }
                for (int j = 1; j < t; j++) {
                    fwt += (mat[j - 1][j] - base[j]) / (t - 1);
                }
                apb.add(new double[] {ap, bwt, fwt});
                List<Object> dyn = new ArrayList<>();
                for (int k = 0; k < t; k++) {
                    List<Object> stage = new ArrayList<>();
                    for (int j = 0; j <= k; j++) {
                        double cos = Math.min(1, 1 - (forget + 0.05) * (k - j) * 0.8 + 0.03 * r.nextGaussian());
                        Map<String, Object> e = new LinkedHashMap<>();
                        e.put("task", TASKS.get(j));
                        e.put("task_index", j);
                        e.put("accuracy", mat[k][j]);
                        e.put("iv_cosine", cos);
                        e.put("head_jaccard", Math.max(0, cos - 0.2));
                        e.put("cie_spearman", cos * 0.9);
                        e.put("cie_rel_change", 1 - cos);
                        if (j < k) {
                            double lost = mat[j][j] - mat[k][j];
                            Map<String, Object> rec = new LinkedHashMap<>();
                            rec.put("accuracy_with_pre_iv", mat[k][j] + 0.4 * lost);
                            rec.put("lost", lost);
                            rec.put("share_regained", lost > 1e-9 ? 0.4 : null);
                            e.put("recovery", rec);
                        }
                        e.put("knowledge", Map.of("knowledge_p", 0.05 + 0.02 * j + 0.01 * r.nextGaussian(),
                                "instruction_p", 0.2 + 0.05 * j - forget * 0.3 * (k - j) / t + 0.01 * r.nextGaussian()));
                        stage.add(e);
                    }
                    dyn.add(stage);
                }
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("accuracy_matrix", mat);
                e.put("AP", ap);
                e.put("BWT", bwt);
                e.put("FWT", fwt);
                e.put("train_loss_last", List.of(0.9, 0.8, 0.85, 0.7, 0.75));
                e.put("general", List.of());
                e.put("iv_dynamics", dyn);
                perSeed.put(Integer.toString(s), e);
            }
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("seeds", perSeed);
            Map<String, Object> summary = new LinkedHashMap<>();
            String[] names = {"AP", "BWT", "FWT"};
            for (int k = 0; k < 3; k++) {
                final int kk = k;
                double mean = apb.stream().mapToDouble(a -> a[kk]).average().orElse(Double.NaN);
                summary.put(names[k], Map.of("mean", mean, "n", apb.size()));
            }
            mm.put("summary", summary);
            ms.put(methods.get(mi), mm);
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("format", ResultsFile.FORMAT);
        o.put("schema_version", ResultsFile.SCHEMA_VERSION);
        o.put("sequence", "seq1");
        o.put("tasks", TASKS);
        o.put("task_metrics", List.of("first_token", "first_token", "rougeL", "first_token", "first_token"));
        o.put("definitions", Map.of("AP", "1/T * sum_j R[T-1][j]"));
        o.put("initial", initial);
        o.put("methods", ms);
        Path f = dir.resolve("results.json");
        write(f, o);
        return f;
    }

    /** Everything: a continual study at the top, scan/eval/probe/train runs in subfolders. */
    public static Path full(Path dir) {
        results(dir, List.of("naive", "iv-guided", "lwf", "ewc", "replay", "olora"), 3);
        scan(dir.resolve("scan-antonym"), 8, 8);
        evalSweep(dir.resolve("eval-antonym"), 8);
        probe(dir.resolve("probe-antonym"), "antonym", 0.11, 0.46);
        metrics(dir.resolve("train-ivg"), 200);
        return dir;
    }
}
