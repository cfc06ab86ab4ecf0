package dev.ivkit;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.pipeline.ScanPrompts;
import dev.ivkit.pipeline.TaskFiles;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * An open model and its tokenizer ({@link Ivkit#open}): extract a task's instruction vector, fine-tune with LoRA,
 * plain or IV-guided. Confined to one thread at a time (the thread that calls its methods; a
 * {@link CancellationToken} may be cancelled from any thread). Close it to free the native memory of the model, the
 * tokenizer and the adapters this object created.
 */
public final class IvkitModel implements AutoCloseable {
    private final Path path;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Path tokenizerPath;
    private final List<LoraAdapter> adapters = new ArrayList<>();
    private boolean closed;

    IvkitModel(Path path, LlamaModel model, Tokenizer tokenizer, Path tokenizerPath) {
        this.path = path;
        this.model = model;
        this.tokenizer = tokenizer;
        this.tokenizerPath = tokenizerPath;
    }

    /** @return the lower-level model (forward passes with hook plans, adapters); owned by this object */
    public LlamaModel llama() {
        requireOpen();
        return model;
    }

    /** @return the tokenizer; owned by this object */
    public Tokenizer tokenizer() {
        requireOpen();
        return tokenizer;
    }

    /** @return the model file or folder it was opened from */
    public Path path() {
        return path;
    }

    /** @return the tokenizer file in use */
    public Path tokenizerPath() {
        return tokenizerPath;
    }

    /**
     * {@link #extractIv(ExtractOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, prompts, scan and ranking settings
     * @return the vector with its scan scores and top heads
     */
    public ExtractResult extractIv(ExtractOptions options) {
        return extractIv(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * The instruction vector of a task, as {@code ivkit scan} followed by {@code ivkit extract} computes it with the
     * same settings: mean head activations over clean few-shot prompts ({@code MeanActivations}), each head's causal
     * indirect effect over the scanned prompts ({@code CieScan}), the top k heads by the chosen ranking
     * ({@code HeadRanking}), and {@code IV = Σ W_O[:, head] · mean z} ({@code InstructionVector.build}). Runs with
     * whatever adapter is attached to the model (none after {@link Ivkit#open}).
     *
     * <p>Cancellation is checked before the mean activations and before each scanned prompt. The scan is held in
     * memory: a cancelled extraction starts over when called again (the CLI's {@code ivkit scan --out} is the
     * resumable form).
     *
     * @param options  task, prompts, scan and ranking settings
     * @param listener stage and per-prompt events (never null: use {@link ProgressListener#none()})
     * @param cancel   checked between prompts; cancellation throws {@link CancelledException}
     * @return the vector with its scan scores and top heads; close it when done
     */
    public ExtractResult extractIv(ExtractOptions options, ProgressListener listener, CancellationToken cancel) {
        requireOpen();
        cancel.throwIfCancelled("extractIv before it started");
        listener.onStage(ProgressListener.Stage.PREPARE, "task " + options.task);
        var c = model.config();
        int layer = options.layer != null ? options.layer : c.nLayers() / 3;
        if (layer < 0 || layer >= c.nLayers()) {
            throw new InvalidArgumentException("layer", layer + " is out of range [0, " + c.nLayers() + ")");
        }
        if (options.heads > c.nLayers() * c.nHeads()) {
            throw new InvalidArgumentException("heads", options.heads + " heads asked for, the model has "
                    + c.nLayers() * c.nHeads());
        }
        TaskDataset data = TaskFiles.load(options.task, options.split, options.instructions);
        int scanShots = options.scanShots();
        boolean shuffled = options.shuffledLabels();
        Splits splits = TaskFiles.split(data, Math.max(options.shots, scanShots), options.seed);
        PromptBuilder builder = new PromptBuilder(options.format.style());
        ScanPrompts sp = ScanPrompts.sample(tokenizer, c.maxSeqLen(), builder, splits, options.shots, scanShots, shuffled,
                options.meanPrompts, options.prompts, options.seed);
        if (sp.meanSkipped() + sp.scanSkipped() > 0) {
            listener.onMessage("skipped " + sp.meanSkipped() + " of " + options.meanPrompts + " mean-activation prompts "
                    + "and " + sp.scanSkipped() + " of " + options.prompts + " scan prompts longer than the context ("
                    + c.maxSeqLen() + " tokens)");
        }
        try (PointerScope scope = new PointerScope()) {
            cancel.throwIfCancelled("extractIv before the mean activations");
            listener.onStage(ProgressListener.Stage.MEAN_ACTIVATIONS, sp.mean().size() + " prompts");
            Tensor meanZ = MeanActivations.compute(model, sp.mean(), options.batch);
            int n = sp.scan().size();
            listener.onStage(ProgressListener.Stage.SCAN, n + " prompts, " + options.method.name().toLowerCase()
                    + " " + options.mode.name().toLowerCase());
            CieScan scan = new CieScan(model, meanZ, options.mode.lib);
            double[][][] dp = new double[n][][], dn = new double[n][][];
            double[] cp = new double[n], cn = new double[n];
            for (int i = 0; i < n; i++) {
                cancel.throwIfCancelled("extractIv after " + i + " of " + n + " scanned prompts");
                double[][][] r;
                try (PointerScope s = new PointerScope()) {
                    r = scan.scorePrompt(sp.scan().get(i), options.method.lib);
                }
                dp[i] = r[0];
                dn[i] = r[1];
                cp[i] = r[2][0][0];
                cn[i] = r[2][0][1];
                listener.onStep(ProgressListener.Stage.SCAN, i + 1, n, cp[i]);
            }
            ScanScores scores = new ScanScores(dp, dn, cp, cn);
            listener.onStage(ProgressListener.Stage.BUILD_VECTOR, "top " + options.heads + " heads by "
                    + options.rank.name().toLowerCase() + ", layer " + layer);
            double[][] ranking = HeadRanking.scores(scores, options.rank.lib);
            List<HeadRanking.Head> top = HeadRanking.top(ranking, options.heads);
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("task", data.name());
            meta.put("shots", options.shots);
            meta.put("scan_shots", scanShots);
            meta.put("corrupt", shuffled ? "shuffled" : "none");
            meta.put("prompt_format", options.format.cliName());
            meta.put("prompts", n);
            meta.put("method", options.method.name().toLowerCase());
            meta.put("mode", options.mode.name().toLowerCase());
            meta.put("seed", options.seed);
            meta.put("layer", layer);
            meta.put("rank", options.rank.name().toLowerCase());
            meta.put("mean_prompts", sp.mean().size());
            InstructionVector iv = InstructionVector.build(model, meanZ, ranking, top, meta);
            listener.onStage(ProgressListener.Stage.DONE, top.size() + " heads");
            return new ExtractResult(iv, scores, ranking, layer, sp.mean().size(), sp.meanSkipped() + sp.scanSkipped());
        }
    }

    /**
     * {@link #train(TrainOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, IV, regulariser, LoRA and optimizer settings
     * @return per-step losses and held-out losses
     */
    public TrainResult train(TrainOptions options) {
        return train(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * LoRA fine-tuning on a task ({@code Trainer}), IV-guided when the options carry an instruction vector
     * ({@code IvGuidedRegulariser}: KL to the adapter-disabled model with the IV added, at the answer-predicting
     * position (α1) and over real positions (α2), plus head preservation (α_pr)). A fresh seeded adapter replaces
     * any adapter attached to the model, and stays attached afterwards (so the model generates and scans as
     * fine-tuned; {@code llama().detachAdapter()} restores the base model). The adapter of an earlier {@code train}
     * call is freed first: save it ({@code result.adapter().save(dir)}) before training again if it is needed. Writes what {@code ivkit train} writes
     * into {@link TrainOptions#outDir()}.
     *
     * <p>Cancellation is checked after each optimizer step (after that step's checkpoint, if one was due); a
     * cancelled or failed run detaches its adapter, and {@link TrainOptions.Builder#resume} with the same settings
     * and outDir continues from the latest checkpoint, repeating exactly what an uninterrupted run computes.
     *
     * @param options  task, IV, regulariser, LoRA and optimizer settings
     * @param listener stage and per-step events (never null: use {@link ProgressListener#none()})
     * @param cancel   checked after each step; cancellation throws {@link CancelledException}
     * @return per-step losses and held-out losses
     */
    public TrainResult train(TrainOptions options, ProgressListener listener, CancellationToken cancel) {
        requireOpen();
        cancel.throwIfCancelled("train before it started");
        releaseAdapters();
        listener.onStage(ProgressListener.Stage.PREPARE, "task " + options.task);
        TaskDataset data = TaskFiles.load(options.task, options.split, options.instructions);
        Splits split = TaskFiles.split(data, 0, options.seed);
        List<TaskExample> train = new ArrayList<>(split.train());
        if (options.maxSamples != null) {
            train = train.subList(0, Math.min(options.maxSamples, train.size()));
        }
        List<TaskExample> held = new ArrayList<>(split.test());
        held = held.subList(0, Math.min(options.evalSamples, held.size()));
        PromptBuilder builder = new PromptBuilder(options.format.style());
        List<TokenizedPrompt> trainTp = tokenizeFitting(data, train, builder, options.instructionTemplate, listener);
        List<TokenizedPrompt> evalTp = held.isEmpty() ? List.of()
                : tokenizeFitting(data, held, builder, options.instructionTemplate, listener);
        int perStep = options.batch * options.gradAccum;
        int epochs = options.epochs;
        if (options.steps != null) {
            List<TokenizedPrompt> cycled = new ArrayList<>(options.steps * perStep);
            for (int i = 0; i < options.steps * perStep; i++) {
                cycled.add(trainTp.get(i % trainTp.size()));
            }
            trainTp = cycled;
            epochs = 1;
        }
        Regulariser reg = regulariser(options);
        TrainConfig cfg = new TrainConfig(options.lr, options.schedule.lib, options.warmup, epochs, options.batch,
                options.gradAccum, options.clip, options.weightDecay, options.seed, 1, options.evalEvery,
                options.checkpointEvery);
        Path out = options.outDir;
        boolean temporary = out == null;
        try {
            if (temporary) {
                out = Files.createTempDirectory("ivkit-train-");
            }
        } catch (IOException e) {
            throw new IvkitException("cannot create a temporary training folder: " + e.getMessage(), e);
        }
        LoraAdapter fresh = LoraAdapter.create(model.config(), new LoraConfig(options.loraRank, options.loraAlpha,
                options.loraDropout, options.loraTargets), options.seed);
        fresh.extraConfig().put("base_model_name_or_path", String.valueOf(path.getFileName()));
        fresh.extraConfig().put("ivkit_model_fingerprint", ModelFingerprint.of(model));
        adapters.add(fresh);
        Path metrics = out.resolve("metrics.jsonl");
        Trainer trainer = new Trainer(model, cfg, reg, out).argsFingerprint(sha256(options.fingerprintText())).quiet();
        int total = epochs * trainer.stepsPerEpoch(trainTp.size());
        trainer.stepHook(step -> {
            listener.onStep(ProgressListener.Stage.TRAIN, step, total, lossOfStep(metrics, step));
            cancel.throwIfCancelled("train after step " + step + " of " + total + latestCheckpoint(options.outDir));
        });
        boolean ok = false;
        try {
            double before = Double.NaN, after = Double.NaN;
            if (!evalTp.isEmpty()) {
                listener.onStage(ProgressListener.Stage.EVAL_BEFORE, evalTp.size() + " held-out examples");
                before = trainer.evalLossWithout(evalTp);
            }
            cancel.throwIfCancelled("train before its first step");
            listener.onStage(ProgressListener.Stage.TRAIN, total + " steps on " + trainTp.size() + " examples"
                    + (reg == null ? ", plain LoRA" : ", IV-guided"));
            if (options.resume && Files.isRegularFile(out.resolve("checkpoints").resolve("latest.json"))) {
                listener.onMessage("resuming from the latest checkpoint in " + out);
            }
            Trainer.Result r = trainer.train(fresh, trainTp, evalTp, options.resume);
            LoraAdapter active = model.adapter();
            if (active != fresh) {
                adapters.add(active);   // resumed: the trainer loaded the checkpoint's adapter
            }
            if (!evalTp.isEmpty()) {
                listener.onStage(ProgressListener.Stage.EVAL_AFTER, evalTp.size() + " held-out examples");
                after = trainer.evalLoss(evalTp);
            }
            listener.onStage(ProgressListener.Stage.DONE, r.steps() + " steps");
            ok = true;
            return new TrainResult(r.steps(), r.steps() - r.losses().size(), r.losses(), before, after,
                    trainTp.size(), evalTp.size(), reg != null, temporary ? null : r.adapterDir(),
                    temporary ? null : metrics, active);
        } finally {
            if (!ok) {
                LoraAdapter attached = model.detachAdapter();
                if (attached != null && !adapters.contains(attached)) {
                    adapters.add(attached);
                }
            }
            if (temporary) {
                deleteTree(out);
            }
        }
    }

    /** Detaches and frees the adapters of earlier {@code train} calls (an adapter attached by the caller stays). */
    private void releaseAdapters() {
        if (adapters.contains(model.adapter())) {
            model.detachAdapter();
        }
        for (LoraAdapter a : adapters) {
            a.close();
        }
        adapters.clear();
    }

    private List<TokenizedPrompt> tokenizeFitting(TaskDataset data, List<TaskExample> examples, PromptBuilder b,
            boolean instruction, ProgressListener listener) {
        List<Prompt> prompts = TaskFiles.trainingPrompts(data, examples, b, instruction);
        int ctx = model.config().maxSeqLen();
        List<Integer> keep = TaskFiles.fitting(tokenizer, ctx, 0, List.of(prompts));
        if (keep.size() < prompts.size()) {
            listener.onMessage("skipped " + (prompts.size() - keep.size()) + " of " + prompts.size()
                    + " examples whose prompts are longer than the context (" + ctx + " tokens)");
        }
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int i : keep) {
            out.add(TokenizedPrompt.of(tokenizer, prompts.get(i)));
        }
        return out;
    }

    private Regulariser regulariser(TrainOptions o) {
        if (o.iv == null) {
            return null;
        }
        InstructionVector iv = o.iv;
        iv.requireCompatible(model, Path.of("(instruction vector)"));
        int layers = model.config().nLayers();
        Object recorded = iv.metadata().get("layer");
        int layer = o.ivLayer != null ? o.ivLayer : recorded instanceof Number num ? num.intValue() : layers / 3;
        if (layer < 0 || layer >= layers) {
            throw new InvalidArgumentException("ivLayer", layer + " is out of range [0, " + layers + ")");
        }
        IvSchedule schedule = o.ivSchedule == TrainOptions.IvScheduleKind.RAMP ? IvSchedule.defaults()
                : new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0);
        return new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv.vector(), layer, o.ivSite.lib,
                o.alpha1 == null ? 20 : o.alpha1, o.alpha2 == null ? 0.1 : o.alpha2, o.alphaPr == null ? 1 : o.alphaPr,
                o.temperature, o.kl.lib, o.gates, iv.heads(), schedule));
    }

    /** The loss of {@code step} from the trainer's metrics.jsonl (its last lines; one line per step is logged). */
    static double lossOfStep(Path metrics, int step) {
        try (RandomAccessFile f = new RandomAccessFile(metrics.toFile(), "r")) {
            long len = f.length();
            int n = (int) Math.min(len, 16384);
            byte[] tail = new byte[n];
            f.seek(len - n);
            f.readFully(tail);
            String[] lines = new String(tail, StandardCharsets.UTF_8).split("\n");
            for (int i = lines.length - 1; i >= 0 && i >= lines.length - 8; i--) {
                String line = lines[i].strip();
                if (!line.startsWith("{") || !line.endsWith("}")) {
                    continue;
                }
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                if (o.has("loss") && o.has("step") && o.get("step").getAsInt() == step) {
                    return o.get("loss").getAsDouble();
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    private static String latestCheckpoint(Path outDir) {
        if (outDir == null) {
            return " (no outDir: nothing to resume from)";
        }
        return "; resume from the latest checkpoint in " + outDir.resolve("checkpoints") + " with resume(true)";
    }

    private static String sha256(String s) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this IvkitModel is closed");
        }
    }

    /**
     * {@link #evaluate(EvaluateOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, vector, queries, settings and layers
     * @return what {@code ivkit evaluate} writes to eval.json
     */
    public dev.ivkit.results.EvalFile.Eval evaluate(EvaluateOptions options) {
        return evaluate(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * Does the instruction vector make the model do the task? {@code ivkit evaluate} with the same settings gives
     * the same numbers: zero-shot (and shuffled-label N-shot) held-out queries without and with the vector at one
     * layer or every layer, teacher-forced top-1/2/3 and NLL, greedy answers' exact match, F1 and ROUGE-L. Runs with
     * whatever adapter is attached to the model. Save the result with {@code EvalFile.write}.
     *
     * @param options  task, vector, queries, settings and layers
     * @param listener stage, messages and one step per setting and layer evaluated
     * @param cancel   checked before each setting and layer; cancellation throws {@link CancelledException}
     * @return the scores per setting and layer, with the run's settings and provenance
     */
    public dev.ivkit.results.EvalFile.Eval evaluate(EvaluateOptions options, ProgressListener listener,
            CancellationToken cancel) {
        requireOpen();
        return Evaluations.evaluate(this, options, listener, cancel);
    }

    /**
     * {@link #probe(ProbeOptions, ProgressListener, CancellationToken)} without a listener or a token.
     *
     * @param options task, examples and demonstrations
     * @return what {@code ivkit probe} writes to probe.json
     */
    public dev.ivkit.results.ProbeFile.Probe probe(ProbeOptions options) {
        return probe(options, ProgressListener.none(), new CancellationToken());
    }

    /**
     * Knowledge vs instruction following, as {@code ivkit probe} computes it with the same settings: mean P(y | x)
     * with the bare query and mean P(y | c, x) with demonstrations or the task's instruction. Runs with whatever
     * adapter is attached to the model. Save the result with {@code ProbeFile.write}.
     *
     * @param options  task, examples and demonstrations
     * @param listener stage and messages
     * @param cancel   checked before the model runs; cancellation throws {@link CancelledException}
     * @return both probabilities, with the run's settings and provenance
     */
    public dev.ivkit.results.ProbeFile.Probe probe(ProbeOptions options, ProgressListener listener,
            CancellationToken cancel) {
        requireOpen();
        return Evaluations.probe(this, options, listener, cancel);
    }

    /** Frees the model, the tokenizer and every adapter this object created. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            releaseAdapters();
            model.close();
        } finally {
            tokenizer.close();
        }
    }
}
