package dev.ivkit.bench;

import dev.ivkit.bench.JmhResults.Metric;
import dev.ivkit.bench.JmhResults.Result;
import dev.ivkit.bench.Ratios.Ratio;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the results table of {@code benchmarks/README.md} (between its {@code results:begin/end} markers) from one
 * JMH JSON result and the {@code .meta} file beside it (key=value lines written by {@code benchmarks/run.sh}: machine,
 * date, commit, command). Figures are the median over measurement iterations with the min-max range.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.ivkit.bench.ResultsTable RESULT.json README.md}
 */
public final class ResultsTable {
    static final String BEGIN = "<!-- results:begin -->";
    static final String END = "<!-- results:end -->";
    /** Forward flop/s as a fraction of the best GEMM flop/s, for the ~20M model at 512 tokens per forward. */
    static final double ROOFLINE_TARGET = 0.60;
    /** Forward time with hook_z captured at every layer, as a multiple of the plain forward's. */
    static final double CAPTURE_TARGET = 1.05;
    /** EXACT scan speed-up over NAIVE as a share of the ideal FLOP ratio, random22M at 10-shot prompts (issue 19). */
    static final double SCAN_IDEAL_SHARE = 0.80;
    /** IV-guided training time as a multiple of plain LoRA's over a 3-epoch run with the reference cache (issue 19). */
    static final double TRAIN_STEP_TARGET = 1.25;
    /** Organism pretraining gradient: two row shards on two threads ≤ this × one shard's time (OrganismStepBench). */
    static final double SHARD_TARGET = 0.8;

    private ResultsTable() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ResultsTable RESULT.json README.md   (RESULT.meta must sit beside RESULT.json)");
            System.exit(2);
        }
        Path json = Path.of(args[0]);
        Path meta = Path.of(args[0].replaceFirst("\\.json$", "") + ".meta");
        Path readme = Path.of(args[1]);
        String table = render(json.getFileName().toString(), readResults(json), readMeta(meta));
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b < 0 || e < b) {
            throw new IllegalStateException(readme + " lacks the markers " + BEGIN + " and " + END);
        }
        Files.writeString(readme, text.substring(0, b + BEGIN.length()) + "\n" + table + text.substring(e), StandardCharsets.UTF_8);
        System.out.println("results table of " + json + " written to " + readme);
    }

    static Map<String, String> readMeta(Path meta) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(meta, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return m;
    }

    static List<Result> readResults(Path json) throws IOException {
        return JmhResults.read(json);
    }

    static String render(String source, List<Result> results, Map<String, String> meta) {
        StringBuilder t = new StringBuilder();
        String jdk = meta.getOrDefault("jdk", "?");
        t.append("Run ").append(meta.getOrDefault("date", "?")).append(", commit `").append(meta.getOrDefault("commit", "?"))
                .append("`, result file `results/").append(source).append("`.\n\n");
        t.append("Machine: ").append(meta.getOrDefault("cores", "?")).append(" cores, ").append(meta.getOrDefault("cpu", "?"))
                .append("; OPENBLAS_CORETYPE=").append(meta.getOrDefault("openblas_coretype", "?"))
                .append(", OPENBLAS_NUM_THREADS=").append(meta.getOrDefault("openblas_num_threads", "?"))
                .append(", IVKIT_THREADS=").append(meta.getOrDefault("ivkit_threads", "?"))
                .append(", GLIBC_TUNABLES=").append(meta.getOrDefault("glibc_tunables", "unset"))
                .append("; JDK ").append(jdk).append("; ").append(meta.getOrDefault("libtorch", "?")).append(".\n\n");
        t.append("Command: `").append(meta.getOrDefault("command", "?")).append("`\n\n");
        t.append("Figures: median over measurement iterations (min–max in brackets).\n\n");
        t.append("| benchmark | figure | ratio | target | met |\n|---|---|---|---|---|\n");

        double bestGemm = 0;
        String bestGemmShape = "";
        for (Result r : results) {
            if (r.name().equals("GemmBench.matmul") && r.secondary().containsKey("flops") && r.secondary().get("flops").p50() > bestGemm) {
                bestGemm = r.secondary().get("flops").p50();
                bestGemmShape = r.param("mkn");
            }
        }
        for (Result r : results) {
            if (!r.name().equals("ForwardBench.forward")) {
                continue;
            }
            Metric tok = r.secondary().get("tokens");
            Metric flops = r.secondary().get("flops");
            double ratio = bestGemm > 0 ? flops.p50() / bestGemm : Double.NaN;
            boolean targeted = r.param("model").equals("random22M");
            Result fresh = partner(results, "ForwardBench.forwardFresh", r);
            row(t, "forward " + r.param("model") + " " + r.param("shape").replace("x", "×") + " (fp32, logits ALL)",
                    fmt(tok.p50()) + " tokens/s [" + fmt(tok.min()) + "–" + fmt(tok.max()) + "], "
                            + fmt(flops.p50() / 1e9) + " GFLOP/s"
                            + (fresh == null ? "" : "; fresh logits per call " + fmt(fresh.secondary().get("tokens").p50()) + " tokens/s"),
                    Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%.2f of best GEMM", ratio),
                    targeted ? String.format(Locale.ROOT, "≥ %.2f", ROOFLINE_TARGET) : "—",
                    targeted && !Double.isNaN(ratio) ? (ratio >= ROOFLINE_TARGET ? "met" : "not met") : "—");
        }
        for (Result r : results) {
            if (r.name().equals("CaptureBench.capture") || r.name().equals("CaptureBench.captureMean")) {
                captureRow(t, r, partner(results, "CaptureBench.plain", r),
                        partner(results, r.name().equals("CaptureBench.capture") ? "CaptureBench.paired" : "CaptureBench.pairedMean", r));
            }
        }
        for (Result r : results) {
            if (!r.name().equals("GemmBench.matmul")) {
                continue;
            }
            int[] s = ForwardBench.parseShape(r.param("mkn"));
            Metric f = r.secondary().get("flops");
            Result into = partner(results, "GemmBench.matmulInto", r);
            Metric fi = into == null ? null : into.secondary().get("flops");
            row(t, "GEMM fp32 " + s[0] + "×" + s[1] + " @ " + s[1] + "×" + s[2] + (r.param("mkn").equals(bestGemmShape) ? " (best)" : ""),
                    fmt(f.p50() / 1e9) + " GFLOP/s [" + fmt(f.min() / 1e9) + "–" + fmt(f.max() / 1e9) + "]"
                            + (fi == null ? "" : "; into a reused output " + fmt(fi.p50() / 1e9) + " GFLOP/s [" + fmt(fi.min() / 1e9)
                                    + "–" + fmt(fi.max() / 1e9) + "]"),
                    fi == null ? "—" : String.format(Locale.ROOT, "fresh output %.2f× the reused one's rate", f.p50() / fi.p50()), "—", "—");
        }
        for (Result r : results) {
            if (r.name().equals("AddRowsBench.kernel")) {
                int[] s = ForwardBench.parseShape(r.param("shape"));
                speedupRow(t, "add_rows " + r.param("dtype") + " x " + s[0] + "×" + s[1] + ", " + s[2] + " rows", r,
                        partner(results, "AddRowsBench.composite", r));
            }
        }
        for (Result r : results) {
            if (r.name().equals("GatherHeadsBench.gather") || r.name().equals("GatherHeadsBench.accumulate")) {
                boolean acc = r.name().endsWith("accumulate");
                speedupRow(t, "gather_heads" + (acc ? " accumulate (fp32 sum)" : "") + " " + r.param("dtype") + " z "
                        + r.param("shape").replace("x", "×") + ", last position", r,
                        partner(results, r.name() + "Composite", r));
            }
        }
        for (Result r : results) {
            if (r.name().equals("PatchHeadsBench.kernel")) {
                int[] s = ForwardBench.parseShape(r.param("shape"));
                boolean row0 = r.param("targets").equals("row0");
                speedupRow(t, "patch_heads " + r.param("mode") + " " + r.param("dtype") + " z " + r.param("shape").replace("x", "×")
                        + ", n = " + (row0 ? s[2] + " (every head, row 0)" : s[0] * s[2] + " (every head, every row)"), r,
                        partner(results, "PatchHeadsBench.composite", r));
            }
        }
        for (Result r : results) {
            if (r.name().equals("ScanBench.exact")) {
                scanRow(t, r, partner(results, "ScanBench.naive", r));
            }
        }
        for (Result r : results) {
            if (r.name().equals("TrainStepBench.ivGuided")) {
                trainStepRow(t, r, partner(results, "TrainStepBench.plainLora", r), partner(results, "TrainStepBench.paired", r));
            }
        }
        for (Result r : results) {
            if (r.name().equals("CachedRefBench.paired")) {
                threeEpochRow(t, r);
            }
        }
        for (Result r : results) {
            if (r.name().equals("KlTopkRowsBench.kernel")) {
                speedupRow(t, "KL fwd+bwd against a cached top-" + r.param("k") + ", fp32 " + r.param("shape").replace("x", " rows × V ")
                        + " (kl_topk_rows vs dense rebuild + kl_rows)", r, partner(results, "KlTopkRowsBench.composite", r));
            }
            if (r.name().equals("KlTopkRowsBench.entryKernel")) {
                speedupRow(t, "reference-cache entries, top-" + r.param("k") + " of fp32 " + r.param("shape").replace("x", " rows × V ")
                        + " (topk_logprobs vs log_softmax + topk + scatter + logsumexp)", r, partner(results, "KlTopkRowsBench.entryComposite", r));
            }
        }
        for (Result r : results) {
            if (r.name().equals("OrganismStepBench.paired")) {
                shardRow(t, r);
            }
        }
        Map<String, Result> klComposites = new LinkedHashMap<>();
        for (Result r : results) {
            if (r.name().equals("KlRowsBench.composite")) {
                klComposites.put(r.param("shape"), r);
            }
        }
        for (Result r : results) {
            if (!r.name().equals("KlRowsBench.fused")) {
                continue;
            }
            Result c = klComposites.get(r.param("shape"));
            int[] s = ForwardBench.parseShape(r.param("shape"));
            String unit = unit(r.primary().unit());
            double speedup = value(Ratios.speedup(r, c));
            double tensorMb = 4.0 * s[0] * s[1] / 1e6;  // one rows×V fp32 tensor
            row(t, "KL fwd+bwd fp32 " + s[0] + " rows × V " + s[1] + " (T=2, reverse)",
                    "fused " + fmt(r.primary().p50()) + " " + unit + " [" + fmt(r.primary().min()) + "–" + fmt(r.primary().max()) + "]"
                            + (c == null ? "" : ", composite " + fmt(c.primary().p50()) + " " + unit
                            + " [" + fmt(c.primary().min()) + "–" + fmt(c.primary().max()) + "]")
                            + "; extra memory: fused " + fmt(4.0 * s[0] / 1e3) + " kB + grad buffer " + fmt(tensorMb)
                            + " MB, composite 6 × " + fmt(tensorMb) + " MB",
                    Double.isNaN(speedup) ? "—" : String.format(Locale.ROOT, "%.1f× faster than composite", speedup),
                    "≥ 2×", Double.isNaN(speedup) ? "—" : speedup >= 2 ? "met" : "not met");
        }
        for (Result r : results) {
            if (r.name().startsWith("JniOverheadBench.")) {
                String what = switch (r.name()) {
                    case "JniOverheadBench.baseline" -> "JNI baseline (empty Java method)";
                    case "JniOverheadBench.rawNoop" -> "JNI ivkit_noop() raw peer";
                    case "JniOverheadBench.kernelsNoop" -> "JNI Kernels.noop() (+ status check)";
                    default -> r.name();
                };
                row(t, what, fmt(r.primary().p50()) + " " + unit(r.primary().unit()) + " [" + fmt(r.primary().min()) + "–"
                        + fmt(r.primary().max()) + "]", "—", "—", "—");
            }
        }
        return t.toString();
    }

    static Result partner(List<Result> results, String name, Result r) {
        return JmhResults.partner(results, name, r);
    }

    /** Median with unit and [min–max]. */
    private static String figure(Metric m, String unit) {
        return fmt(m.p50()) + " " + unit + " [" + fmt(m.min()) + "–" + fmt(m.max()) + "]";
    }

    /** A native kernel against the libtorch composite it replaces (times per call): target > 1×. */
    private static void speedupRow(StringBuilder t, String what, Result kernel, Result composite) {
        String unit = unit(kernel.primary().unit());
        double speedup = value(Ratios.speedup(kernel, composite));
        row(t, what, "kernel " + figure(kernel.primary(), unit) + (composite == null ? "" : ", composite " + figure(composite.primary(), unit)),
                Double.isNaN(speedup) ? "—" : String.format(Locale.ROOT, "%.1f× faster than composite", speedup),
                "> 1×", Double.isNaN(speedup) ? "—" : speedup > 1 ? "met" : "not met");
    }

    /**
     * A forward with hook_z captures against the plain forward: the time ratio of the paired benchmark (both forwards
     * timed back to back in each call, so they see the same load) when present, else the ratio of the separate
     * rates; target ≤ CAPTURE_TARGET.
     */
    private static void captureRow(StringBuilder t, Result r, Result plain, Result paired) {
        boolean mean = r.name().endsWith("captureMean");
        Ratio captureRatio = Ratios.captureOverPlain(r, plain, paired);
        double ratio = value(captureRatio);
        row(t, (mean ? "mean-capture" : "capture") + " hook_z at last, every layer, " + r.param("model")
                        + " 4×128 (fp32, logits NONE)",
                (mean ? "mean-capture " : "capture ") + figure(r.secondary().get("tokens"), "tokens/s")
                        + (plain == null ? "" : ", plain " + figure(plain.secondary().get("tokens"), "tokens/s")),
                Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%.3f× plain time", ratio)
                        + (captureRatio.paired() ? " (paired)" : ""),
                String.format(Locale.ROOT, "≤ %.2f×", CAPTURE_TARGET),
                Double.isNaN(ratio) ? "—" : ratio <= CAPTURE_TARGET ? "met" : "not met");
    }

    /** IV-guided against plain LoRA micro-step; the ratio from the paired benchmark's counters when the run has them. */
    private static void trainStepRow(StringBuilder t, Result iv, Result plain, Result paired) {
        String unit = unit(iv.primary().unit());
        Ratio stepRatio = Ratios.ivGuidedOverPlain(iv, plain, paired);
        boolean isPaired = stepRatio != null && stepRatio.paired();
        double ratio = value(stepRatio);
        row(t, "LoRA train micro-step " + iv.param("model") + ", 4×64 tokens, IV-guided vs plain (fwd+bwd, no update)",
                "IV-guided " + figure(iv.primary(), unit) + (plain == null ? "" : ", plain " + figure(plain.primary(), unit)),
                Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%.2f× plain time", ratio) + (isPaired ? " (paired)" : ""),
                "— (the target is the 3-epoch run's)", "—");
    }

    /** A 3-epoch IV-guided run with and without the reference cache against plain LoRA (CachedRefBench.paired). */
    private static void threeEpochRow(StringBuilder t, Result r) {
        double cached = value(Ratios.threeEpochsOverPlain(r, "cachedNs")), uncached = value(Ratios.threeEpochsOverPlain(r, "uncachedNs"));
        String k = r.param("topK");
        String products = r.param("precision") == null || r.param("precision").equals("full") ? ""
                : ", " + r.param("precision") + " reference GEMMs (bfloat16 products)";
        row(t, "LoRA training, 3 epochs over 8 examples (batch 4) " + r.param("model") + ", IV-guided with the reference cache (k = "
                        + k + ") and without" + products + ", vs plain (fwd+bwd, no update)",
                "paired call " + figure(r.primary(), unit(r.primary().unit())) + " (all three runs)",
                Double.isNaN(cached) ? "—" : String.format(Locale.ROOT, "%.2f× plain time with the cache, %.2f× without (paired)", cached, uncached),
                String.format(Locale.ROOT, "≤ %.2f× (with the cache)", TRAIN_STEP_TARGET),
                Double.isNaN(cached) ? "—" : cached <= TRAIN_STEP_TARGET ? "met" : "not met");
    }

    /** The organism's gradient on two row shards against one shard, timed back to back (aux counters): ratio ≤ SHARD_TARGET. */
    private static void shardRow(StringBuilder t, Result r) {
        double ratio = value(Ratios.twoShardsOverOne(r));
        row(t, "organism pretraining gradient, 64 × ≤ 96 tokens (d 128, 4 layers): 2 row shards on 2 threads vs 1 shard",
                "paired call " + figure(r.primary(), unit(r.primary().unit())) + " (both gradients)",
                Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%.2f× one shard's time (paired)", ratio),
                String.format(Locale.ROOT, "≤ %.2f×", SHARD_TARGET),
                Double.isNaN(ratio) ? "—" : ratio <= SHARD_TARGET ? "met" : "not met");
    }

    /** CIE scan EXACT against NAIVE (scans/s), with the ideal FLOP ratio from the flops counters. */
    private static void scanRow(StringBuilder t, Result exact, Result naive) {
        double ops = exact.primary().p50();
        long tokens = Math.round(exact.secondary().get("promptTokens").p50() / ops);
        long answer = Math.round(exact.secondary().get("answerTokens").p50() / ops);
        String what = "CIE scan " + exact.param("model") + ", 10-shot prompt T = " + tokens + ", n = " + answer + " (ADD, fp32)";
        if (naive == null) {
            row(t, what, "exact " + msPerCall(exact.primary()), "—", "—", "—");
            return;
        }
        double speedup = Ratios.exactOverNaive(exact, naive).value();
        double ideal = (naive.secondary().get("flops").p50() / naive.primary().p50()) / (exact.secondary().get("flops").p50() / ops);
        boolean target = exact.param("model").equals("random22M");   // the target is random22M's
        row(t, what, "exact " + msPerCall(exact.primary()) + ", naive " + msPerCall(naive.primary()),
                String.format(Locale.ROOT, "%.1f× faster than naive = %.2f of the ideal FLOP ratio %.1f×", speedup, speedup / ideal, ideal),
                target ? String.format(Locale.ROOT, "≥ %.2f of ideal", SCAN_IDEAL_SHARE) : "—",
                !target ? "—" : speedup / ideal >= SCAN_IDEAL_SHARE ? "met" : "not met");
    }

    /** A rate in calls/s as ms per call: median [fastest–slowest]. */
    private static String msPerCall(Metric rate) {
        return fmt(1000 / rate.p50()) + " ms/scan [" + fmt(1000 / rate.max()) + "–" + fmt(1000 / rate.min()) + "]";
    }

    /** The ratio's median, NaN when the run lacks its partner. */
    private static double value(Ratio r) {
        return r == null ? Double.NaN : r.value();
    }

    private static void row(StringBuilder t, String... cells) {
        t.append("| ").append(String.join(" | ", cells)).append(" |\n");
    }

    private static String unit(String jmhUnit) {
        return switch (jmhUnit) {
            case "us/op" -> "µs/call";
            case "ns/op" -> "ns/call";
            default -> jmhUnit;
        };
    }

    /** About three significant digits below 1000; whole numbers with thousands grouped above. */
    static String fmt(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (v >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
