package dev.ivkit.pipeline;

import dev.ivkit.CancellationToken;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.PatchMode;
import dev.ivkit.ProgressListener;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanPartialFile;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.iv.ScanValidity;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.io.SafetensorsFile;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A head scan as {@code ivkit scan} and the facade's extraction run it: mean head activations over clean few-shot
 * prompts ({@link MeanActivations}, prompts as {@link ScanPrompts} samples them), then each head's causal indirect
 * effect on every scanned prompt ({@link CieScan}). Prints nothing: progress goes to a {@link ProgressListener}, and a
 * {@link CancellationToken} (or an interrupt) stops it before the mean activations or between two prompts.
 *
 * <p>With a work folder it is resumable: {@value #MEAN_Z} holds the mean activations, {@value #PARTIAL}
 * ({@link ScanPartialFile}) the prompts scored so far (rewritten after each one), and {@value #SCAN}
 * ({@link ScanFile}) the finished scan. A run with the same settings, task, tokenizer and model continues where the
 * last one stopped and writes the same {@value #SCAN}, byte for byte, as an uninterrupted one; a finished scan is
 * reused as it is; a folder holding a scan made otherwise is refused with a {@link ScanMismatchException} unless the
 * run restarts, which deletes it first. Without a folder nothing is written and nothing is resumed.
 */
public final class ResumableScan {
    /** The finished scan in a work folder. */
    public static final String SCAN = "scan.json";
    /** The scores so far of an unfinished scan in a work folder. */
    public static final String PARTIAL = "scan.partial.json";
    /** The mean activations ({@code mean_z}, [layers, heads, head_dim]) in a work folder. */
    public static final String MEAN_Z = "mean_z.safetensors";

    private ResumableScan() {}

    /**
     * What is scanned and how (what {@code ivkit scan}'s options and {@code ExtractOptions} set). The batch size is not
     * part of a scan's identity: a resumed scan keeps the mean activations already computed.
     *
     * @param method       how each head's effect is computed
     * @param mode         how a head is patched with its mean activation
     * @param promptFormat prompt format name (qa, none, io, question)
     * @param shots        demonstrations per mean-activation prompt (&ge; 0)
     * @param scanShots    demonstrations per scanned prompt (&ge; 0)
     * @param shuffled     shuffle the labels of the scanned prompts' demos (no effect without demos)
     * @param prompts      prompts scanned (&gt; 0)
     * @param meanPrompts  prompts averaged for the mean activations (&gt; 0)
     * @param seed         seed of the split and of the prompt sampling
     * @param batch        prompts per forward for the mean activations (&gt; 0)
     */
    public record Settings(ScanMethod method, PatchMode mode, String promptFormat, int shots, int scanShots,
            boolean shuffled, int prompts, int meanPrompts, long seed, int batch) {
        /**
         * Checks every setting; an invalid one is an {@link InvalidArgumentException} naming it.
         *
         * @param method       how each head's effect is computed
         * @param mode         how a head is patched
         * @param promptFormat prompt format name
         * @param shots        demonstrations per mean-activation prompt
         * @param scanShots    demonstrations per scanned prompt
         * @param shuffled     shuffle the scanned prompts' demo labels
         * @param prompts      prompts scanned
         * @param meanPrompts  prompts averaged
         * @param seed         seed
         * @param batch        prompts per forward for the mean activations
         */
        public Settings {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(mode, "mode");
            TaskFiles.style(Objects.requireNonNull(promptFormat, "promptFormat"));
            for (Object[] v : new Object[][] {{"prompts", prompts}, {"meanPrompts", meanPrompts}, {"batch", batch}}) {
                if ((int) v[1] <= 0) {
                    throw new InvalidArgumentException((String) v[0], "must be positive, got " + v[1]);
                }
            }
            if (shots < 0 || scanShots < 0) {
                throw new InvalidArgumentException(shots < 0 ? "shots" : "scanShots", "must be >= 0, got "
                        + Math.min(shots, scanShots));
            }
        }

        /** @return {@code shuffled} or {@code none}, as the scanned prompts are (none without demos) */
        public String corrupt() {
            return shuffled && scanShots > 0 ? "shuffled" : "none";
        }
    }

    /**
     * The model and task a scan runs on, and the provenance its {@value #SCAN} records.
     *
     * @param model         the model (with whatever adapter is attached)
     * @param tokenizer     its tokenizer
     * @param tokenizerPath the tokenizer's file (its bytes are part of the scan's identity)
     * @param modelPath     the model file or folder, as recorded
     * @param data          the loaded task
     * @param taskPath      the task file or folder as given (its bytes are part of the identity when the task was
     *                      not read from a single file)
     * @param dtype         the compute dtype, as recorded (the CLI records {@code checkpoint} for the checkpoint's own)
     * @param ivkitVersion  the version recorded as {@code ivkit_version}
     */
    public record Source(LlamaModel model, Tokenizer tokenizer, Path tokenizerPath, String modelPath, TaskDataset data,
            Path taskPath, String dtype, String ivkitVersion) {}

    /**
     * A finished scan.
     *
     * @param scan          the scan, as written to (or read from) {@value #SCAN}
     * @param meanZ         the mean activations (in the caller's {@link PointerScope})
     * @param reused        the folder already held this finished scan: nothing was computed
     * @param resumedFrom   prompts that were already scored when this run started
     * @param meanZSeconds  seconds spent on the mean activations (computed or read)
     * @param scanSeconds   seconds spent scoring prompts in this run
     */
    public record Outcome(ScanFile scan, Tensor meanZ, boolean reused, int resumedFrom, double meanZSeconds,
            double scanSeconds) {
        /** @return prompts scored by this run */
        public int scoredThisRun() {
            return reused ? 0 : scan.perPrompt().size() - resumedFrom;
        }
    }

    /**
     * Runs (or resumes, or reuses) a scan. Call it inside a {@link PointerScope}: the returned mean activations belong
     * to it.
     *
     * @param src      model, tokenizer, task and provenance
     * @param s        settings
     * @param dir      work folder (created), or null to keep everything in memory
     * @param restart  delete a scan of other settings in {@code dir} instead of refusing it
     * @param listener {@code MEAN_ACTIVATIONS} and {@code SCAN} stages, one {@code SCAN} step per prompt scored,
     *                 messages for prompts too long for the context and for a resumed or reused scan
     * @param cancel   checked before the mean activations and before each prompt
     * @return the scan
     * @throws ScanMismatchException when {@code dir} holds a scan made otherwise (and not {@code restart})
     * @throws dev.ivkit.CancelledException when cancelled; with {@code dir}, a later run resumes after the last prompt
     *                                      scored
     */
    public static Outcome run(Source src, Settings s, Path dir, boolean restart, ProgressListener listener,
            CancellationToken cancel) {
        LlamaModel model = src.model();
        var c = model.config();
        Splits splits = TaskFiles.split(src.data(), Math.max(s.shots(), s.scanShots()), s.seed());
        String fingerprint = ModelFingerprint.of(model);
        Map<String, Object> args = ScanArgs.of(s, src, fingerprint);
        String argsFp = ScanArgs.fingerprint(args);
        ScanPartialFile partial = null;
        if (dir != null) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new InvalidArgumentException("workDir", "cannot create " + dir + ": " + e.getMessage());
            }
            ScanFile finished = existing(dir, args, argsFp, restart);
            if (finished != null) {
                listener.onMessage("reusing the finished scan in " + dir.resolve(SCAN));
                long t0 = System.nanoTime();
                Tensor meanZ = readMeanZ(dir.resolve(MEAN_Z));
                return new Outcome(finished, meanZ, true, finished.perPrompt().size(), (System.nanoTime() - t0) / 1e9, 0);
            }
            partial = Files.exists(dir.resolve(PARTIAL)) ? ScanPartialFile.read(dir.resolve(PARTIAL)) : null;
        }
        boolean shuffled = s.shuffled() && s.scanShots() > 0;
        ScanPrompts sp = ScanPrompts.sample(src.tokenizer(), c.maxSeqLen(), new PromptBuilder(TaskFiles.style(s.promptFormat())),
                splits, s.shots(), s.scanShots(), shuffled, s.meanPrompts(), s.prompts(), s.seed());
        if (sp.meanSkipped() + sp.scanSkipped() > 0) {
            listener.onMessage("skipped " + sp.meanSkipped() + " of " + s.meanPrompts() + " mean-activation prompts and "
                    + sp.scanSkipped() + " of " + s.prompts() + " scan prompts longer than the context (" + c.maxSeqLen()
                    + " tokens)");
        }
        int n = sp.scan().size();
        List<ScanFile.PromptScore> done = partial == null ? new ArrayList<>() : new ArrayList<>(partial.done());
        if (done.size() > n) {
            throw new ModelFormatException(dir.resolve(PARTIAL), "done", "holds " + done.size() + " prompts but the scan has "
                    + n + "; restart it");
        }
        for (int i = 0; i < done.size(); i++) {
            double[][] m = done.get(i).cie();
            if (m.length != c.nLayers() || m[0].length != c.nHeads()) {
                throw new ModelFormatException(dir.resolve(PARTIAL), "done[" + i + "].cie", "is " + m.length + " × "
                        + m[0].length + ", the model has " + c.nLayers() + " × " + c.nHeads() + " heads");
            }
        }
        cancel.throwIfCancelled("scan before the mean activations");
        listener.onStage(ProgressListener.Stage.MEAN_ACTIVATIONS, sp.mean().size() + " prompts");
        long tMean = System.nanoTime();
        Tensor meanZ = meanZ(model, sp.mean(), s, dir, argsFp, args);
        long tScan = System.nanoTime();
        int start = done.size();
        if (start > 0) {
            listener.onMessage("resuming after " + start + " of " + n + " prompts");
        }
        listener.onStage(ProgressListener.Stage.SCAN, n + " prompts, " + ScanArgs.lower(s.method()) + " "
                + ScanArgs.lower(s.mode()));
        CieScan scan = new CieScan(model, meanZ, s.mode());
        for (int i = start; i < n; i++) {
            cancel.throwIfCancelled("scan after " + i + " of " + n + " prompts"
                    + (dir == null ? "" : "; the same settings resume it from " + dir.resolve(PARTIAL)));
            double[][][] r;
            try (PointerScope ps = new PointerScope()) {
                r = scan.scorePrompt(sp.scan().get(i), s.method());
            }
            done.add(new ScanFile.PromptScore(i, sp.scanPrompts().get(i).query().input(), sp.scanPrompts().get(i).target(),
                    sp.scan().get(i).promptIds().length, r[2][0][0], r[2][0][1], r[0], r[1]));
            if (dir != null) {
                ScanPartialFile.of(argsFp, args, done).write(dir.resolve(PARTIAL));
            }
            listener.onStep(ProgressListener.Stage.SCAN, i + 1, n, r[2][0][0]);
        }
        ScanFile file = finish(src, s, sp, fingerprint, argsFp, done);
        if (dir != null) {
            file.write(dir.resolve(SCAN));
            delete(dir.resolve(PARTIAL));
        }
        return new Outcome(file, meanZ, false, start, (tScan - tMean) / 1e9, (System.nanoTime() - tScan) / 1e9);
    }

    private static ScanFile finish(Source src, Settings s, ScanPrompts sp, String fingerprint, String argsFp,
            List<ScanFile.PromptScore> done) {
        var c = src.model().config();
        ScanScores scores = ScanFile.scores(done);
        // validity: does the clean prompt set show the task and the corrupted one not; which heads stand out of the noise
        double clean = ScanValidity.accuracy(src.model(), sp.mean(), 8), corrupted = ScanValidity.accuracy(src.model(), sp.scan(), 8);
        ScanValidity.Interval ci = ScanValidity.bootstrap(java.util.Arrays.asList(scores.dProb()), ScanValidity.RESAMPLES, s.seed());
        return new ScanFile(ScanFile.FORMAT, ScanFile.SCHEMA_VERSION, src.ivkitVersion(), ScanArgs.lower(s.method()),
                ScanArgs.lower(s.mode()), c.nLayers(), c.nHeads(), sp.scan().size(), sp.mean().size(), sp.scanSkipped(),
                sp.meanSkipped(), src.data().name(), src.taskPath().toString(), s.shots(), s.scanShots(), s.corrupt(),
                s.promptFormat(), s.seed(), src.modelPath(), fingerprint, src.dtype(), argsFp, scores.meanDProb(),
                scores.meanDNll(), clean, corrupted, ci.low(), ci.high(), List.copyOf(done));
    }

    /**
     * Checks what an earlier run left in {@code dir}: the finished scan when it has these args (and no partial file
     * is left beside it), else null (nothing there, or a partial file of these args to resume); a file of other args,
     * or one that cannot be read, is refused unless {@code restart}, which deletes the folder's scan files.
     */
    private static ScanFile existing(Path dir, Map<String, Object> args, String argsFp, boolean restart) {
        Path scanFile = dir.resolve(SCAN), partialFile = dir.resolve(PARTIAL);
        if (restart) {
            for (Path p : new Path[] {partialFile, scanFile, dir.resolve(MEAN_Z)}) {
                delete(p);
            }
            return null;
        }
        if (Files.exists(partialFile)) {
            ScanPartialFile p = readOrNull(ScanPartialFile::read, partialFile);
            if (p == null || !argsFp.equals(p.argsFingerprint())) {
                throw ScanArgs.mismatch(partialFile, p == null ? null : p.args(), args);
            }
        }
        if (!Files.exists(scanFile)) {
            return null;
        }
        ScanFile f = readOrNull(ScanFile::read, scanFile);
        if (f == null || !argsFp.equals(f.argsFingerprint())) {
            throw ScanArgs.mismatch(scanFile, f == null ? null : meanZArgs(dir.resolve(MEAN_Z), f.argsFingerprint()), args);
        }
        return Files.exists(partialFile) || f.perPrompt() == null ? null : f;
    }

    private static <T> T readOrNull(Function<Path, T> reader, Path file) {
        try {
            return reader.apply(file);
        } catch (IvkitException e) {
            return null;
        }
    }

    /** The args recorded with the mean activations, when they belong to the scan with {@code argsFp}; else null. */
    private static Map<String, Object> meanZArgs(Path file, String argsFp) {
        if (!Files.exists(file)) {
            return null;
        }
        try (SafetensorsFile sf = Safetensors.open(file)) {
            Map<String, String> meta = sf.metadata();
            return argsFp != null && argsFp.equals(meta.get("args_fingerprint")) && meta.containsKey("args")
                    ? ScanPartialFile.parseArgs(file, "args", meta.get("args")) : null;
        } catch (IvkitException e) {
            return null;
        }
    }

    /** The mean activations in {@code dir} when they were computed with these args, else computed (and saved there). */
    private static Tensor meanZ(LlamaModel model, List<TokenizedPrompt> prompts, Settings s, Path dir, String argsFp,
            Map<String, Object> args) {
        Path f = dir == null ? null : dir.resolve(MEAN_Z);
        if (f != null && Files.exists(f)) {
            try (SafetensorsFile sf = Safetensors.open(f)) {
                if (argsFp.equals(sf.metadata().get("args_fingerprint")) && sf.contains("mean_z")) {
                    return sf.read("mean_z");
                }
            } catch (IvkitException e) {
                // unreadable: recompute
            }
        }
        Tensor m = MeanActivations.compute(model, prompts, s.batch());
        if (f != null) {
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("mean_z", m);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "ivkit-mean-z");
            meta.put("args_fingerprint", argsFp);
            meta.put("prompts", String.valueOf(prompts.size()));
            meta.put("shots", String.valueOf(s.shots()));
            meta.put("args", ScanPartialFile.argsJson(args));
            Safetensors.write(f, t, meta);
        }
        return m;
    }

    /**
     * The mean activations of a scan folder ({@value #MEAN_Z}).
     *
     * @param file the {@value #MEAN_Z} file
     * @return its {@code mean_z} tensor, [layers, heads, head_dim]
     * @throws ModelFormatException naming the file when it or the tensor is missing
     */
    public static Tensor readMeanZ(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, null, "mean activations are missing");
        }
        try (SafetensorsFile sf = Safetensors.open(file)) {
            if (!sf.contains("mean_z")) {
                throw new ModelFormatException(file, "mean_z", "tensor is missing");
            }
            return sf.read("mean_z");
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new IvkitException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
