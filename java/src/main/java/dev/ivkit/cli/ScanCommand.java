package dev.ivkit.cli;

import dev.ivkit.CancellationToken;
import dev.ivkit.CancelledException;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.PatchMode;
import dev.ivkit.ProgressListener;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.pipeline.ResumableScan;
import dev.ivkit.pipeline.ScanMismatchException;
import dev.ivkit.util.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
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
 * <p>Resumable ({@link ResumableScan}, which does the work): after every prompt {@code DIR/scan.partial.json} holds
 * the scores so far and a fingerprint of the arguments (options, task and tokenizer bytes, model fingerprint); a
 * re-run with the same arguments continues from there and produces the same {@code scan.json} ({@link
 * dev.ivkit.iv.ScanFile}), byte for byte; other arguments are refused unless {@code --restart}. {@code scan.json}
 * holds no timings; they go to {@code scan.timing.json}.
 */
@Command(name = "scan", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Mean head activations and each head's causal indirect effect on a task.")
final class ScanCommand implements Callable<Integer> {
    static final String SCAN = ResumableScan.SCAN;
    static final String MEAN_Z = ResumableScan.MEAN_Z;
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
        ResumableScan.Settings settings = new ResumableScan.Settings(scanMethod, patchMode, taskOptions.format, shots,
                nScanShots, shuffled, prompts, meanPrompts, taskOptions.seed, batch);
        TaskDataset data = taskOptions.load();
        taskOptions.split(data, Math.max(shots, nScanShots));   // a task too small is refused before the model loads

        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open(); PointerScope scope = new PointerScope()) {
            ResumableScan.Source src = new ResumableScan.Source(loaded.model(), loaded.tokenizer(), loaded.tokenizerPath(),
                    modelOptions.model.toString(), data, taskOptions.task,
                    modelOptions.dtype == null ? "checkpoint" : modelOptions.dtype, new Main.Version().getVersion()[0]);
            if (restart) {
                Files.deleteIfExists(out.resolve(TIMING));
            }
            Bar bar = new Bar();
            ResumableScan.Outcome o;
            try {
                o = ResumableScan.run(src, settings, out, restart, bar, bar.stop);
            } catch (ScanMismatchException e) {
                throw new InvalidArgumentException("out", e.file() + " was made with other arguments (" + e.field()
                        + " differs, or the file is unreadable); use the same arguments to resume, or --restart to discard it");
            } catch (CancelledException e) {
                if (!bar.stop.isCancelled()) {
                    throw e;
                }
                System.err.println("scan: stopped after " + bar.done + " of " + bar.total + " prompts; re-run to continue");
                return 0;
            }
            if (o.reused()) {
                System.out.println("scan: " + out.resolve(SCAN) + " is already complete for these arguments");
                return 0;
            }
            long tEnd = System.nanoTime();
            int scoredHere = o.scoredThisRun();
            Map<String, Object> timing = new LinkedHashMap<>();
            timing.put("method", lower(scanMethod));
            timing.put("mean_z_seconds", o.meanZSeconds());
            timing.put("scan_seconds", o.scanSeconds());
            timing.put("prompts_scored_this_run", scoredHere);
            timing.put("seconds_per_prompt", scoredHere == 0 ? Double.NaN : o.scanSeconds() / scoredHere);
            timing.put("wall_seconds", (tEnd - t0) / 1e9);
            JsonFiles.write(out.resolve(TIMING), timing);
            System.out.printf(Locale.ROOT, "scan: %d prompts, %s %s, %.1f s; wrote %s%n", o.scan().prompts(),
                    lower(scanMethod), lower(patchMode), (tEnd - t0) / 1e9, out.resolve(SCAN));
            System.out.println(validity(o.scan()));
            return 0;
        }
    }

    /** One line on whether the scan can mean anything: clean vs corrupted accuracy, heads significantly above zero. */
    static String validity(dev.ivkit.iv.ScanFile f) {
        if (f.cleanAccuracy() == null || f.cieCiLow() == null) {
            return "validity: not recorded (scan.json from before validity was measured)";
        }
        var sig = new dev.ivkit.iv.ScanValidity.Interval(f.cieCiLow(), f.cieCiHigh()).significant();
        StringBuilder top = new StringBuilder();
        for (int i = 0; i < Math.min(3, sig.size()); i++) {
            top.append(i == 0 ? " (" : ", ").append('L').append(sig.get(i).layer()).append('H').append(sig.get(i).head());
        }
        return String.format(Locale.ROOT, "validity: clean accuracy %.3f, corrupted %.3f; %d head(s) with a 95%% CI of the CIE above 0%s",
                f.cleanAccuracy(), f.corruptedAccuracy(), sig.size(), top.length() == 0 ? "" : top.append(sig.size() > 3 ? ", ...)" : ")"));
    }

    /** The progress bar and messages on stderr, and the test hooks --stop-after and --pause-ms. */
    private final class Bar implements ProgressListener {
        final CancellationToken stop = new CancellationToken();
        private Progress progress;
        int done;
        int total;
        private int scoredHere;

        @Override
        public void onStage(Stage stage, String detail) {
            if (stage == Stage.SCAN && stopAfter != null && stopAfter <= 0) {
                stop.cancel("stopped");
            }
        }

        @Override
        public void onStep(Stage stage, int done, int total, double value) {
            if (progress == null) {
                progress = new Progress("scan", total, done - 1);
            }
            progress.update(done);
            this.done = done;
            this.total = total;
            if (stopAfter != null && ++scoredHere >= stopAfter) {
                stop.cancel("stopped");
            }
            if (pauseMs > 0) {
                try {
                    Thread.sleep(pauseMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void onMessage(String message) {
            System.err.println("scan: " + message);
        }
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
