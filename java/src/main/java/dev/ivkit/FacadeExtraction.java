package dev.ivkit;

import dev.ivkit.data.TaskDataset;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.pipeline.ResumableScan;
import dev.ivkit.pipeline.ScanMismatchException;
import dev.ivkit.pipeline.TaskFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;

/**
 * {@link IvkitModel#extractIv}: the task's scan ({@link ResumableScan}, in memory or in the options' work folder),
 * then the top heads and the vector they sum to.
 */
final class FacadeExtraction {
    /** The ExtractOptions setting behind each member of a scan's args (the rest concern the model). */
    private static final Map<String, String> OPTION_OF_ARG = Map.ofEntries(Map.entry("method", "method"),
            Map.entry("mode", "mode"), Map.entry("format", "format"), Map.entry("corrupt", "shuffledLabels"),
            Map.entry("shots", "shots"), Map.entry("scan_shots", "scanShots"), Map.entry("prompts_requested", "prompts"),
            Map.entry("mean_prompts_requested", "meanPrompts"), Map.entry("seed", "seed"), Map.entry("task", "task"),
            Map.entry("task_sha256", "task"), Map.entry("tokenizer_sha256", "tokenizer"), Map.entry("dtype", "dtype"),
            Map.entry("model_fingerprint", "model"), Map.entry("args_fingerprint", "workDir"));

    private FacadeExtraction() {}

    static ExtractResult run(LlamaModel model, Tokenizer tokenizer, Path tokenizerPath, Path modelPath,
            ExtractOptions options, ProgressListener listener, CancellationToken cancel) {
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
        ResumableScan.Settings settings = new ResumableScan.Settings(options.method.lib, options.mode.lib,
                options.format.cliName(), options.shots, options.scanShots(), options.shuffledLabels(), options.prompts,
                options.meanPrompts, options.seed, options.batch);
        String version = IvkitModel.class.getPackage().getImplementationVersion();
        ResumableScan.Source src = new ResumableScan.Source(model, tokenizer, tokenizerPath, modelPath.toString(), data,
                options.task, model.dtype().name().toLowerCase(Locale.ROOT), "ivkit " + (version == null ? "dev" : version));
        try (PointerScope scope = new PointerScope()) {
            ResumableScan.Outcome o;
            try {
                o = ResumableScan.run(src, settings, options.workDir, false, listener, cancel);
            } catch (ScanMismatchException e) {
                throw new ScanMismatchException(e.file(), OPTION_OF_ARG.getOrDefault(e.field(), e.field()), e.was(), e.now());
            }
            ScanFile scan = o.scan();
            ScanScores scores = scan.scores();
            listener.onStage(ProgressListener.Stage.BUILD_VECTOR, "top " + options.heads + " heads by "
                    + lower(options.rank) + ", layer " + layer);
            double[][] ranking = HeadRanking.scores(scores, options.rank.lib);
            List<HeadRanking.Head> top = HeadRanking.top(ranking, options.heads);
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("task", data.name());
            meta.put("shots", options.shots);
            meta.put("scan_shots", settings.scanShots());
            meta.put("corrupt", settings.corrupt());
            meta.put("prompt_format", options.format.cliName());
            meta.put("prompts", scan.prompts());
            meta.put("method", lower(options.method));
            meta.put("mode", lower(options.mode));
            meta.put("seed", options.seed);
            meta.put("layer", layer);
            meta.put("rank", lower(options.rank));
            meta.put("mean_prompts", scan.meanPrompts());
            InstructionVector iv = InstructionVector.build(model, o.meanZ(), ranking, top, meta);
            listener.onStage(ProgressListener.Stage.DONE, top.size() + " heads");
            return new ExtractResult(iv, scores, ranking, layer, scan.meanPrompts(),
                    scan.skippedLongPrompts() + scan.skippedLongMeanPrompts(), scan);
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
