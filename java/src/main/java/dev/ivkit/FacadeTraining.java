package dev.ivkit;

import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.pipeline.TaskFiles;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.MetricsLog;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The body of {@link IvkitModel#train(TrainOptions, ProgressListener, CancellationToken)}: loads and tokenizes the
 * task, builds the regulariser and the trainer, runs it with progress events and cancellation, and reports. The
 * adapters it creates (and the checkpoint's, when resuming) are added to the model object's list, which frees them.
 */
final class FacadeTraining {
    private final Path path;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final List<LoraAdapter> adapters;

    /**
     * @param path      the model file or folder (recorded in the adapter's config)
     * @param model     the open model
     * @param tokenizer its tokenizer
     * @param adapters  the model object's adapters: what this run creates is added
     */
    FacadeTraining(Path path, LlamaModel model, Tokenizer tokenizer, List<LoraAdapter> adapters) {
        this.path = path;
        this.model = model;
        this.tokenizer = tokenizer;
        this.adapters = adapters;
    }

    /** Trains as {@link IvkitModel#train(TrainOptions, ProgressListener, CancellationToken)} documents. */
    TrainResult run(TrainOptions options, ProgressListener listener, CancellationToken cancel) {
        TaskSpec task = options.spec;
        listener.onStage(ProgressListener.Stage.PREPARE, "task " + task.task());
        TaskDataset data = TaskFiles.load(task.task(), task.split(), task.instructions());
        Splits split = TaskFiles.split(data, 0, task.seed());
        List<TaskExample> train = new ArrayList<>(split.train());
        if (options.maxSamples != null) {
            train = train.subList(0, Math.min(options.maxSamples, train.size()));
        }
        List<TaskExample> held = new ArrayList<>(split.test());
        held = held.subList(0, Math.min(options.evalSamples, held.size()));
        PromptBuilder builder = new PromptBuilder(task.format().style());
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
        Regulariser reg = regulariser(options.guidance);
        TrainConfig cfg = new TrainConfig(options.lr, options.schedule.lib, options.warmup, epochs, options.batch,
                options.gradAccum, options.clip, options.weightDecay, task.seed(), 1, options.evalEvery,
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
        LoraAdapter fresh = LoraAdapter.create(model.config(), options.lora, task.seed());
        fresh.extraConfig().put("base_model_name_or_path", String.valueOf(path.getFileName()));
        fresh.extraConfig().put("ivkit_model_fingerprint", ModelFingerprint.of(model));
        adapters.add(fresh);
        MetricsLog metrics = MetricsLog.in(out);
        Trainer trainer = new Trainer(model, cfg, reg, out).argsFingerprint(sha256(fingerprintText(options))).quiet();
        int total = epochs * trainer.stepsPerEpoch(trainTp.size());
        trainer.stepHook((step, loss) -> {
            listener.onStep(ProgressListener.Stage.TRAIN, step, total, loss);
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
                    temporary ? null : metrics.file(), active);
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

    private Regulariser regulariser(IvGuidance g) {
        if (!g.guided()) {
            return null;
        }
        InstructionVector iv = g.iv();
        iv.requireCompatible(model, Path.of("(instruction vector)"));
        int layers = model.config().nLayers();
        Object recorded = iv.metadata().get("layer");
        int layer = g.layer() != null ? g.layer() : recorded instanceof Number num ? num.intValue() : layers / 3;
        if (layer < 0 || layer >= layers) {
            throw new InvalidArgumentException("ivLayer", layer + " is out of range [0, " + layers + ")");
        }
        IvSchedule schedule = g.schedule() == TrainOptions.IvScheduleKind.RAMP ? IvSchedule.defaults()
                : new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0);
        return new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv.vector(), layer, g.site().lib,
                g.alpha1() == null ? 20 : g.alpha1(), g.alpha2() == null ? 0.1 : g.alpha2(),
                g.alphaPr() == null ? 1 : g.alphaPr(), g.temperature(), g.kl().lib, g.gates(), iv.heads(), schedule,
                g.referenceCacheTopK(), g.referencePrecision()));
    }

    /** Every setting that shapes the run (not resume, not outDir), for refusing a resume with other settings. */
    static String fingerprintText(TrainOptions o) {
        TaskSpec t = o.spec;
        IvGuidance g = o.guidance;
        return String.join("|", String.valueOf(t.task()), t.split(), String.valueOf(t.instructions()),
                t.format().cliName(), Boolean.toString(o.instructionTemplate), Long.toString(t.seed()),
                g.iv() == null ? "no-iv" : ivDigest(g.iv()), String.valueOf(g.layer()), g.site().name(),
                g.schedule().name(), String.valueOf(g.alpha1()), String.valueOf(g.alpha2()), String.valueOf(g.alphaPr()),
                Double.toString(g.temperature()), g.kl().name(), Boolean.toString(g.gates()),
                Integer.toString(o.lora.rank()), Double.toString(o.lora.alpha()), Double.toString(o.lora.dropout()),
                String.valueOf(o.lora.targets()), String.valueOf(o.steps), Integer.toString(o.epochs),
                Integer.toString(o.batch), Integer.toString(o.gradAccum), Double.toString(o.lr), o.schedule.name(),
                Integer.toString(o.warmup), Double.toString(o.clip), Double.toString(o.weightDecay),
                String.valueOf(o.maxSamples), Integer.toString(o.evalSamples), Integer.toString(o.evalEvery),
                Integer.toString(o.checkpointEvery))
                // the cache changes the numbers (top-k) but not an uncached run's fingerprint
                + (g.referenceCacheTopK() == 0 ? "" : "|reference-cache=" + g.referenceCacheTopK())
                + (g.referencePrecision() == MatmulPrecision.FULL ? "" : "|reference-precision=" + g.referencePrecision());
    }

    /** The IV's values and heads, summarised: a resume with another vector is refused. */
    private static String ivDigest(InstructionVector iv) {
        float[] v = dev.ivkit.util.Torch.toFloatArray(iv.vector());
        return Arrays.hashCode(v) + ":" + iv.heads();
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
}
