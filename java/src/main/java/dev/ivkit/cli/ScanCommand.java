package dev.ivkit.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.util.Progress;
import dev.ivkit.IvkitException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.io.SafetensorsFile;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.pipeline.ScanPrompts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit scan}: mean head activations and the causal indirect effect of every head.
 *
 * <p>Steps: load and split the task (seeded, {@link TaskDataset#split(double, long)}); mean z at the last prompt token
 * over {@code --mean-prompts} clean {@code --shots}-shot prompts (queries sampled with replacement from train, demos
 * from train; {@code DIR/mean_z.safetensors}); then score {@code --prompts} prompts whose queries are the held-out
 * examples (test, then valid, in split order). Defaults follow the two protocols:
 * <ul>
 *   <li>{@code --mode replace} (Todd et al.): scan prompts have {@code --shots} demos with shuffled labels;
 *   <li>{@code --mode add} (the IV authors' code): scan prompts are zero-shot and not corrupted.
 * </ul>
 * {@code --scan-shots} and {@code --corrupt} override those. Prompts longer than the model's context are skipped
 * (counted in scan.json).
 *
 * <p>Resumable: after every prompt {@code DIR/scan.partial.json} holds the scores so far and a fingerprint of the
 * arguments (options, task and tokenizer bytes, model fingerprint); a re-run with the same arguments continues
 * from there and produces the same {@code scan.json}, byte for byte; other arguments are refused unless
 * {@code --restart}. {@code scan.json} holds no timings; they go to {@code scan.timing.json}.
 */
@Command(name = "scan", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Mean head activations and each head's causal indirect effect on a task.")
final class ScanCommand implements Callable<Integer> {
    static final String SCAN = "scan.json";
    static final String PARTIAL = "scan.partial.json";
    static final String MEAN_Z = "mean_z.safetensors";
    static final String TIMING = "scan.timing.json";

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Option(names = "--shots", defaultValue = "10", description = "demonstrations per mean-activation prompt "
            + "(default: ${DEFAULT-VALUE})")
    int shots;

    @Option(names = "--scan-shots", description = "demonstrations per scanned prompt (default: --shots for "
            + "replace, 0 for add)")
    Integer scanShots;

    @Option(names = "--prompts", defaultValue = "25", description = "prompts scanned (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--mean-prompts", defaultValue = "100", description = "prompts averaged for mean z "
            + "(default: ${DEFAULT-VALUE})")
    int meanPrompts;

    @Option(names = "--method", defaultValue = "exact", description = "exact, naive or atp (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--mode", defaultValue = "replace", description = "replace (Todd) or add (the IV authors) "
            + "(default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--corrupt", description = "shuffled (demo labels permuted) or none (default: shuffled for "
            + "replace, none for add)")
    String corrupt;

    @Option(names = "--batch", defaultValue = "8", description = "prompts per forward for mean z (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--restart", description = "discard a previous scan in --out made with other arguments")
    boolean restart;

    @Option(names = "--out", required = true, description = "output folder")
    Path out;

    /** Test hook: stop (without scan.json) after this many prompts scored in this run. */
    @Option(names = "--stop-after", hidden = true)
    Integer stopAfter;

    /** Test hook: sleep this long after each checkpoint (to kill a child process midway). */
    @Option(names = "--pause-ms", hidden = true, defaultValue = "0")
    long pauseMs;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        ScanMethod scanMethod = parse(ScanMethod.class, "method", method);
        PatchMode patchMode = parse(PatchMode.class, "mode", mode);
        int nScanShots = scanShots != null ? scanShots : patchMode == PatchMode.REPLACE ? shots : 0;
        String corruption = corrupt != null ? corrupt : patchMode == PatchMode.REPLACE ? "shuffled" : "none";
        if (!corruption.equals("shuffled") && !corruption.equals("none")) {
            throw new InvalidArgumentException("corrupt", "must be shuffled or none, got " + corruption);
        }
        boolean shuffled = corruption.equals("shuffled") && nScanShots > 0;
        requirePositive("prompts", prompts);
        requirePositive("mean-prompts", meanPrompts);
        requirePositive("batch", batch);
        if (nScanShots < 0) {
            throw new InvalidArgumentException("scan-shots", "must be >= 0, got " + nScanShots);
        }
        PromptBuilder builder = taskOptions.builder();
        TaskDataset data = taskOptions.load();
        Splits splits = taskOptions.split(data, Math.max(shots, nScanShots));

        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open(); PointerScope scope = new PointerScope()) {
            LlamaModel model = loaded.model();
            Tokenizer tok = loaded.tokenizer();
            int ctx = model.config().maxSeqLen();
            String fingerprint = ModelFingerprint.of(model);

            Map<String, Object> args = new LinkedHashMap<>();
            args.put("method", lower(scanMethod));
            args.put("mode", lower(patchMode));
            args.put("format", taskOptions.format);
            args.put("corrupt", shuffled ? "shuffled" : "none");
            args.put("shots", shots);
            args.put("scan_shots", nScanShots);
            args.put("prompts_requested", prompts);
            args.put("mean_prompts_requested", meanPrompts);
            args.put("seed", taskOptions.seed);
            args.put("dtype", modelOptions.dtype == null ? "checkpoint" : modelOptions.dtype);
            args.put("task", data.name());
            args.put("task_sha256", JsonFiles.sha256(data.source() == null ? taskOptions.task : data.source()));
            args.put("tokenizer_sha256", JsonFiles.sha256(loaded.tokenizerPath()));
            args.put("model_fingerprint", fingerprint);
            String argsFp = JsonFiles.sha256(JsonFiles.toJson(args)).substring(0, 16);

            Files.createDirectories(out);
            if (!checkExisting(argsFp)) {
                System.out.println("scan: " + out.resolve(SCAN) + " is already complete for these arguments");
                return 0;
            }

            // mean-activation prompts (clean, queries from train) and scanned prompts (held-out queries)
            ScanPrompts sampled = ScanPrompts.sample(tok, ctx, builder, splits, shots, nScanShots, shuffled, meanPrompts,
                    prompts, taskOptions.seed);
            List<TokenizedPrompt> meanTp = sampled.mean(), scanTp = sampled.scan();
            List<Prompt> kept = sampled.scanPrompts();
            int meanSkipped = sampled.meanSkipped(), scanSkipped = sampled.scanSkipped();
            if (meanSkipped + scanSkipped > 0) {
                System.err.println("scan: skipped " + meanSkipped + " of " + meanPrompts + " mean-activation prompts and "
                        + scanSkipped + " of " + prompts + " scan prompts longer than the context (" + ctx + " tokens)");
            }

            long tMean = System.nanoTime();
            Tensor meanZ = meanZ(model, meanTp, argsFp);
            long tScan = System.nanoTime();
            List<Map<String, Object>> done = resumed(argsFp);
            int startDone = done.size();
            if (startDone > scanTp.size()) {
                throw new ModelFormatException(out.resolve(PARTIAL), null, "holds " + startDone + " prompts but the scan has "
                        + scanTp.size() + "; re-run with --restart");
            }
            if (startDone > 0) {
                System.err.println("scan: resuming after " + startDone + " of " + scanTp.size() + " prompts");
            }
            CieScan scan = new CieScan(model, meanZ, patchMode);
            Progress progress = new Progress("scan", scanTp.size(), startDone);
            int scoredHere = 0;
            for (int i = startDone; i < scanTp.size(); i++) {
                if (stopAfter != null && scoredHere >= stopAfter) {
                    System.err.println("scan: stopped after " + i + " of " + scanTp.size() + " prompts; re-run to continue");
                    return 0;
                }
                double[][][] r;
                try (PointerScope s = new PointerScope()) {
                    r = scan.scorePrompt(scanTp.get(i), scanMethod);
                }
                done.add(promptEntry(i, kept.get(i), scanTp.get(i), r));
                Map<String, Object> partial = new LinkedHashMap<>();
                partial.put("args_fingerprint", argsFp);
                partial.put("args", args);
                partial.put("done", done);
                JsonFiles.write(out.resolve(PARTIAL), partial);
                scoredHere++;
                progress.update(i + 1);
                if (pauseMs > 0) {
                    Thread.sleep(pauseMs);
                }
            }
            if (startDone == scanTp.size()) {
                progress.update(scanTp.size());
            }

            ScanScores scores = scores(done, model.config().nLayers(), model.config().nHeads());
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("format", "ivkit-scan");
            result.put("ivkit_version", new Main.Version().getVersion()[0]);
            result.put("method", lower(scanMethod));
            result.put("mode", lower(patchMode));
            result.put("layers", model.config().nLayers());
            result.put("heads", model.config().nHeads());
            result.put("prompts", scanTp.size());
            result.put("mean_prompts", meanTp.size());
            result.put("skipped_long_prompts", scanSkipped);
            result.put("skipped_long_mean_prompts", meanSkipped);
            result.put("task", data.name());
            result.put("task_file", taskOptions.task.toString());
            result.put("shots", shots);
            result.put("scan_shots", nScanShots);
            result.put("corrupt", shuffled ? "shuffled" : "none");
            result.put("prompt_format", taskOptions.format);
            result.put("seed", taskOptions.seed);
            result.put("model", modelOptions.model.toString());
            result.put("model_fingerprint", fingerprint);
            result.put("dtype", args.get("dtype"));
            result.put("args_fingerprint", argsFp);
            result.put("cie", scores.meanDProb());
            result.put("nll_delta", scores.meanDNll());
            result.put("per_prompt", done);
            JsonFiles.write(out.resolve(SCAN), result);
            Files.deleteIfExists(out.resolve(PARTIAL));
            long tEnd = System.nanoTime();

            Map<String, Object> timing = new LinkedHashMap<>();
            timing.put("method", lower(scanMethod));
            timing.put("mean_z_seconds", (tScan - tMean) / 1e9);
            timing.put("scan_seconds", (tEnd - tScan) / 1e9);
            timing.put("prompts_scored_this_run", scoredHere);
            timing.put("seconds_per_prompt", scoredHere == 0 ? Double.NaN : (tEnd - tScan) / 1e9 / scoredHere);
            timing.put("wall_seconds", (tEnd - t0) / 1e9);
            JsonFiles.write(out.resolve(TIMING), timing);
            System.out.printf(Locale.ROOT, "scan: %d prompts, %s %s, %.1f s; wrote %s%n", scanTp.size(), lower(scanMethod),
                    lower(patchMode), (tEnd - t0) / 1e9, out.resolve(SCAN));
            return 0;
        }
    }

    /**
     * Checks what a previous run left in --out: false when scan.json is already complete for these arguments; throws
     * when it or the partial file came from other arguments (unless --restart, which removes them).
     */
    private boolean checkExisting(String argsFp) throws IOException {
        Path scanFile = out.resolve(SCAN), partial = out.resolve(PARTIAL);
        for (Path p : new Path[] {partial, scanFile}) {
            if (!Files.exists(p)) {
                continue;
            }
            String previous = previousFingerprint(p);
            if (argsFp.equals(previous) && !restart) {
                if (p.equals(scanFile) && !Files.exists(partial)) {
                    return false;
                }
                continue;
            }
            if (!restart) {
                throw new InvalidArgumentException("out", p + " was made with other arguments (or is unreadable); "
                        + "use the same arguments to resume, or --restart to discard it");
            }
        }
        if (restart) {
            for (String f : new String[] {PARTIAL, SCAN, MEAN_Z, TIMING}) {
                Files.deleteIfExists(out.resolve(f));
            }
        }
        return true;
    }

    private static String previousFingerprint(Path p) {
        try {
            JsonElement e = JsonFiles.readObject(p).get("args_fingerprint");
            return e == null ? null : e.getAsString();
        } catch (IvkitException | UnsupportedOperationException | IllegalStateException e) {
            return null;
        }
    }

    /** Per-prompt scores of a partial file with this fingerprint (none when there is no partial file). */
    private List<Map<String, Object>> resumed(String argsFp) {
        List<Map<String, Object>> done = new ArrayList<>();
        Path p = out.resolve(PARTIAL);
        if (!Files.exists(p)) {
            return done;
        }
        JsonObject o = JsonFiles.readObject(p);
        if (!argsFp.equals(previousFingerprint(p))) {
            throw new InvalidArgumentException("out", p + " was made with other arguments; use --restart");
        }
        JsonArray a = o.getAsJsonArray("done");
        for (int i = 0; i < a.size(); i++) {
            JsonObject e = a.get(i).getAsJsonObject();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", e.get("index").getAsInt());
            m.put("query", e.get("query").getAsString());
            m.put("target", e.get("target").getAsString());
            m.put("prompt_tokens", e.get("prompt_tokens").getAsInt());
            m.put("clean_prob", e.get("clean_prob").getAsDouble());
            m.put("clean_nll", e.get("clean_nll").getAsDouble());
            m.put("cie", JsonFiles.matrix(p, e, "cie"));
            m.put("nll_delta", JsonFiles.matrix(p, e, "nll_delta"));
            if ((int) m.get("index") != i) {
                throw new ModelFormatException(p, "done", "entry " + i + " has index " + m.get("index"));
            }
            done.add(m);
        }
        return done;
    }

    private static Map<String, Object> promptEntry(int i, Prompt p, TokenizedPrompt tp, double[][][] r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", i);
        m.put("query", p.query().input());
        m.put("target", p.target());
        m.put("prompt_tokens", tp.promptIds().length);
        m.put("clean_prob", r[2][0][0]);
        m.put("clean_nll", r[2][0][1]);
        m.put("cie", r[0]);
        m.put("nll_delta", r[1]);
        return m;
    }

    static ScanScores scores(List<Map<String, Object>> done, int layers, int heads) {
        int n = done.size();
        double[][][] dp = new double[n][][], dn = new double[n][][];
        double[] cp = new double[n], cn = new double[n];
        for (int i = 0; i < n; i++) {
            dp[i] = (double[][]) done.get(i).get("cie");
            dn[i] = (double[][]) done.get(i).get("nll_delta");
            cp[i] = (double) done.get(i).get("clean_prob");
            cn[i] = (double) done.get(i).get("clean_nll");
            if (dp[i].length != layers || dp[i][0].length != heads) {
                throw new IvkitException("prompt " + i + " has scores for " + dp[i].length + " × " + dp[i][0].length
                        + " heads, the model has " + layers + " × " + heads);
            }
        }
        return new ScanScores(dp, dn, cp, cn);
    }

    /** mean z from --out when it was computed with these arguments, else computed and saved there. */
    private Tensor meanZ(LlamaModel model, List<TokenizedPrompt> meanTp, String argsFp) {
        Path f = out.resolve(MEAN_Z);
        if (Files.exists(f)) {
            try (SafetensorsFile sf = Safetensors.open(f)) {
                if (argsFp.equals(sf.metadata().get("args_fingerprint")) && sf.contains("mean_z")) {
                    return sf.read("mean_z");
                }
            } catch (IvkitException e) {
                // unreadable: recompute
            }
        }
        Tensor m = MeanActivations.compute(model, meanTp, batch);
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        t.put("mean_z", m);
        Safetensors.write(f, t, Map.of("format", "ivkit-mean-z", "args_fingerprint", argsFp,
                "prompts", String.valueOf(meanTp.size()), "shots", String.valueOf(shots)));
        return m;
    }

    static <E extends Enum<E>> E parse(Class<E> type, String option, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(lower(e));
        }
        throw new InvalidArgumentException(option, "must be one of " + sb + ", got " + value);
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static void requirePositive(String option, int v) {
        if (v <= 0) {
            throw new InvalidArgumentException(option, "must be positive, got " + v);
        }
    }
}
