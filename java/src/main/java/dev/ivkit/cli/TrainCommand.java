package dev.ivkit.cli;

import dev.ivkit.KlDirection;
import dev.ivkit.MatmulPrecision;
import dev.ivkit.train.ReferenceOptions;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.pipeline.TaskFiles;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.LrSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit train}: LoRA fine-tuning on a task, optionally with the IV-guided regulariser. Writes
 * {@code OUT/metrics.jsonl}, {@code OUT/adapter/} (PEFT layout), {@code OUT/checkpoints/} and {@code OUT/train.json}.
 * With {@code --iv} the regulariser defaults to the IV authors' seq0 weights (α1 20, α2 0.1, α_pr 1, T 2); without
 * it, plain LoRA. SuperNI tasks use the authors' instruction template when the task has a definition.
 */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "LoRA fine-tuning, optionally IV-guided.")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Option(names = "--prompt", defaultValue = "instruction", description = "instruction (the SuperNI template when the "
            + "task has a definition, else --format) or plain (--format only) (default: ${DEFAULT-VALUE})")
    String promptKind;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(names = "--resume", description = "continue from OUT/checkpoints (same arguments required)")
    boolean resume;

    @Option(names = "--iv", description = "instruction vector directory (from ivkit extract): enables IV-guided training")
    Path ivDir;

    @Option(names = "--iv-layer", description = "layer the IV is added at (default: the IV's recorded layer)")
    Integer ivLayer;

    @Option(names = "--iv-site", defaultValue = "attn_out", description = "attn_out (the authors' training site), resid_mid, resid_post")
    String ivSite;

    @Option(names = "--iv-schedule", defaultValue = "ramp", description = "ramp (0 to 1 over the first 10 %% of steps) or constant")
    String ivSchedule;

    @Option(names = "--alpha1", description = "weight of the KL at the answer-predicting position (default 20 with --iv)")
    Double alpha1;

    @Option(names = "--alpha2", description = "weight of the KL over real positions (default 0.1 with --iv)")
    Double alpha2;

    @Option(names = "--alpha-pr", description = "weight of head preservation (default 1 with --iv)")
    Double alphaPr;

    @Option(names = "--temperature", defaultValue = "2", description = "KL temperature (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--kl-direction", defaultValue = "reverse", description = "reverse = KL(p_new||p_ref) (the authors'), forward = KL(p_ref||p_new)")
    String klDirection;

    @Option(names = "--gates", description = "the authors' hard gates (KL > 0.1, head MSE > 0.01)")
    boolean gates;

    @Option(names = "--reference-cache", defaultValue = "off", description = "keep each example's reference after its "
            + "first visit: off, exact (full rows, 4 x vocab bytes per position) or K (the top-K tokens and the rest's mass, "
            + "8K + 4 bytes per position; the KL is then the top-K-plus-rest coarse-grained one, below the exact KL)")
    String referenceCache;

    @Option(names = "--reference-precision", defaultValue = "full", description = "the reference pass's float32 GEMMs: "
            + "full (IEEE, default) or reduced (bfloat16 products with float32 sums on CUDA and on CPUs with AMX/AVX512-BF16, "
            + "3x faster GEMMs measured there; elsewhere IEEE)")
    String referencePrecision;

    @Option(names = "--lora-rank", defaultValue = "8") int loraRank;
    @Option(names = "--lora-alpha", defaultValue = "16") double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.1") double loraDropout;
    @Option(names = "--lora-targets", defaultValue = "q_proj,v_proj", split = ",") List<String> loraTargets;

    @Option(names = "--merge-adapters", split = ",", description = "adapters of earlier tasks to merge first (continual protocol)")
    List<Path> mergeAdapters;

    @Option(names = "--epochs", defaultValue = "1") int epochs;
    @Option(names = "--batch", defaultValue = "4", description = "micro-batch per process (with --nproc N the global batch is N × this × --grad-accum)") int batch;
    @Option(names = "--grad-accum", defaultValue = "2") int gradAccum;
    @Option(names = "--lr", defaultValue = "1e-4") double lr;
    @Option(names = "--schedule", defaultValue = "constant", description = "constant, linear, cosine") String schedule;
    @Option(names = "--warmup", defaultValue = "0", description = "warm-up steps") int warmup;
    @Option(names = "--clip", defaultValue = "1.0") double clip;
    @Option(names = "--weight-decay", defaultValue = "0") double weightDecay;
    @Option(names = "--max-samples", description = "cap on training examples") Integer maxSamples;
    @Option(names = "--eval-samples", defaultValue = "50", description = "held-out examples for eval loss") int evalSamples;
    @Option(names = "--log-every", defaultValue = "1") int logEvery;
    @Option(names = "--eval-every", defaultValue = "0", description = "steps between eval-loss lines (0: only at the end)") int evalEvery;
    @Option(names = "--checkpoint-every", defaultValue = "50") int checkpointEvery;

    @Option(names = "--nproc", description = "data-parallel worker processes on this machine (c10d Gloo on CPU)")
    Integer nproc;
    @Option(names = "--nnodes", defaultValue = "1", description = "machines taking part") int nnodes;
    @Option(names = "--node-rank", defaultValue = "0", description = "this machine's index") int nodeRank;
    @Option(names = "--master-addr", defaultValue = "127.0.0.1", description = "address of the rank-0 machine") String masterAddr;
    @Option(names = "--master-port", description = "rendezvous port (default: a free one; required with --nnodes > 1)") Integer masterPort;
    @Option(names = "--timeout-s", defaultValue = "300", description = "rendezvous and collective timeout") double timeoutS;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (dev.ivkit.dist.DistConfig.inEnv(System.getenv())) {
            try (dev.ivkit.dist.ProcessGroup pg = dev.ivkit.dist.ProcessGroup.init(dev.ivkit.dist.DistConfig.fromEnv(System.getenv()))) {
                return run(pg);
            }
        }
        if ((nproc != null && nproc > 1) || nnodes > 1) {
            if (nnodes > 1 && masterPort == null) {
                throw new InvalidArgumentException("master-port", "several machines need an agreed --master-port");
            }
            int port = masterPort != null ? masterPort : dev.ivkit.dist.Launcher.freePort(masterAddr);
            var launch = new dev.ivkit.dist.Launcher.Spec(nproc == null ? 1 : nproc, nnodes, nodeRank, masterAddr, port,
                    java.time.Duration.ofMillis((long) (timeoutS * 1000)), dev.ivkit.dist.Launcher.inheritedJvmArgs(), null);
            List<String> args = new ArrayList<>(spec.root().commandLine().getParseResult().originalArgs());
            return dev.ivkit.dist.Launcher.run(launch, Main.class.getName(), args);
        }
        return run(null);
    }

    private Integer run(dev.ivkit.dist.ProcessGroup pg) throws Exception {
        boolean writer = pg == null || pg.rank() == 0;
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open()) {
            var model = loaded.model();
            TaskDataset data = taskOptions.load();
            Splits split = taskOptions.split(data, 0);
            List<TaskExample> train = new ArrayList<>(split.train());
            if (maxSamples != null) {
                if (maxSamples <= 0) {
                    throw new InvalidArgumentException("max-samples", "must be positive, got " + maxSamples);
                }
                train = train.subList(0, Math.min(maxSamples, train.size()));
            }
            List<TaskExample> held = new ArrayList<>(split.test());
            held = held.subList(0, Math.min(evalSamples, held.size()));
            List<TokenizedPrompt> trainTp = tokenize(loaded, data, train);
            List<TokenizedPrompt> evalTp = held.isEmpty() ? List.of() : tokenize(loaded, data, held);

            for (Path p : mergeAdapters == null ? List.<Path>of() : mergeAdapters) {
                LoraAdapter earlier = LoraAdapter.load(p, model.config());
                model.attachAdapter(earlier);
                model.mergeAdapter();
                earlier.close();
            }
            Regulariser reg = regulariser(model, loaded);
            TrainConfig cfg = new TrainConfig(lr, LrSchedule.parse(schedule), warmup, epochs, batch, gradAccum, clip, weightDecay,
                    taskOptions.seed, logEvery, evalEvery, checkpointEvery);
            LoraConfig lc = new LoraConfig(loraRank, loraAlpha, loraDropout, loraTargets);
            LoraAdapter adapter = LoraAdapter.create(model.config(), lc, taskOptions.seed);
            adapter.extraConfig().put("base_model_name_or_path", String.valueOf(modelOptions.model.getFileName()));
            adapter.extraConfig().put("ivkit_model_fingerprint", ModelFingerprint.of(model));
            Trainer trainer = new Trainer(model, cfg, reg, out).argsFingerprint(argsFingerprint()).distributed(pg);
            double before = evalTp.isEmpty() ? Double.NaN : trainer.evalLossWithout(evalTp);
            Trainer.Result r = trainer.train(adapter, trainTp, evalTp, resume);
            double after = evalTp.isEmpty() ? Double.NaN : trainer.evalLoss(evalTp);
            if (!writer) {
                return 0;
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("steps", r.steps());
            summary.put("train_examples", trainTp.size());
            summary.put("eval_examples", evalTp.size());
            summary.put("first_loss", r.losses().isEmpty() ? null : r.losses().get(0));
            summary.put("last_loss", r.losses().isEmpty() ? null : r.losses().get(r.losses().size() - 1));
            summary.put("eval_loss_before", before);
            summary.put("eval_loss_after", after);
            summary.put("iv_guided", reg != null);
            summary.put("world_size", pg == null ? 1 : pg.worldSize());
            summary.put("adapter", "adapter");
            JsonFiles.write(out.resolve("train.json"), summary);
            System.out.printf("trained %d steps on %d examples; eval loss %.4f -> %.4f; adapter in %s%n", r.steps(), trainTp.size(),
                    before, after, r.adapterDir());
            return 0;
        }
    }

    private List<TokenizedPrompt> tokenize(dev.ivkit.pipeline.ModelFiles.Opened loaded, TaskDataset data, List<TaskExample> examples) {
        PromptBuilder b = taskOptions.builder();
        if (!promptKind.equals("instruction") && !promptKind.equals("plain")) {
            throw new InvalidArgumentException("prompt", "must be instruction or plain, got " + promptKind);
        }
        List<Prompt> prompts = TaskFiles.trainingPrompts(data, examples, b, promptKind.equals("instruction"));
        int ctx = loaded.model().config().maxSeqLen();
        List<Integer> keep = TaskOptions.fitting("train", loaded.tokenizer(), ctx, 0, List.of(prompts));
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int i : keep) {
            out.add(TokenizedPrompt.of(loaded.tokenizer(), prompts.get(i)));
        }
        return out;
    }

    private Regulariser regulariser(dev.ivkit.model.LlamaModel model, dev.ivkit.pipeline.ModelFiles.Opened loaded) {
        if (ivDir == null) {
            if (alpha1 != null || alpha2 != null || alphaPr != null) {
                throw new InvalidArgumentException("iv", "--alpha1/--alpha2/--alpha-pr need --iv");
            }
            return null;
        }
        InstructionVector iv = InstructionVector.load(ivDir);
        iv.requireCompatible(model, ivDir);
        int layer = ivLayer != null ? ivLayer : recordedLayer(iv, model.config().nLayers());
        if (layer < 0 || layer >= model.config().nLayers()) {
            throw new InvalidArgumentException("iv-layer", layer + " is out of range [0, " + model.config().nLayers() + ")");
        }
        IvGuidedRegulariser.Site site = switch (ivSite) {
            case "attn_out" -> IvGuidedRegulariser.Site.ATTN_OUT;
            case "resid_mid" -> IvGuidedRegulariser.Site.RESID_MID;
            case "resid_post" -> IvGuidedRegulariser.Site.RESID_POST;
            default -> throw new InvalidArgumentException("iv-site", "must be attn_out, resid_mid or resid_post, got " + ivSite);
        };
        IvSchedule sched = switch (ivSchedule) {
            case "ramp" -> IvSchedule.defaults();
            case "constant" -> new IvSchedule(IvSchedule.Kind.CONSTANT, 1, 0);
            default -> throw new InvalidArgumentException("iv-schedule", "must be ramp or constant, got " + ivSchedule);
        };
        KlDirection dir = switch (klDirection) {
            case "reverse" -> KlDirection.REVERSE;
            case "forward" -> KlDirection.FORWARD;
            default -> throw new InvalidArgumentException("kl-direction", "must be reverse or forward, got " + klDirection);
        };
        return new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv.vector(), layer, site, alpha1 == null ? 20 : alpha1,
                alpha2 == null ? 0.1 : alpha2, alphaPr == null ? 1 : alphaPr, temperature, dir, gates, iv.heads(), sched,
                referenceCacheTopK(referenceCache), referencePrecision(referencePrecision)));
    }

    /** The {@code --reference-cache} value as a top-k size: off = 0, exact = every token, else a positive integer. */
    static int referenceCacheTopK(String v) {
        return ReferenceOptions.cacheTopK(v, "reference-cache");
    }

    /** The {@code --reference-precision} value: full or reduced. */
    static MatmulPrecision referencePrecision(String v) {
        return ReferenceOptions.precision(v, "reference-precision");
    }

    private static int recordedLayer(InstructionVector iv, int layers) {
        Object l = iv.metadata().get("layer");
        return l instanceof Number n ? n.intValue() : layers / 3;
    }

    /** Every option that shapes the run (not --resume), hashed: resuming with other arguments is refused. */
    private String argsFingerprint() throws Exception {
        String s = String.join("|", String.valueOf(modelOptions.model), String.valueOf(taskOptions.task), taskOptions.split,
                taskOptions.format, promptKind, Long.toString(taskOptions.seed), String.valueOf(ivDir), String.valueOf(ivLayer), ivSite, ivSchedule,
                String.valueOf(alpha1), String.valueOf(alpha2), String.valueOf(alphaPr), Double.toString(temperature), klDirection,
                Boolean.toString(gates), Integer.toString(loraRank), Double.toString(loraAlpha), Double.toString(loraDropout),
                String.valueOf(loraTargets), String.valueOf(mergeAdapters), Integer.toString(epochs), Integer.toString(batch),
                Integer.toString(gradAccum), Double.toString(lr), schedule, Integer.toString(warmup), Double.toString(clip),
                Double.toString(weightDecay), String.valueOf(maxSamples), Integer.toString(evalSamples), Integer.toString(logEvery),
                Integer.toString(evalEvery), Integer.toString(checkpointEvery))
                + ("off".equals(referenceCache) ? "" : "|" + referenceCache)   // an uncached run keeps its fingerprint
                + ("full".equals(referencePrecision) ? "" : "|products=" + referencePrecision);
        byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(Arrays.copyOf(h, 8));
    }
}
