package dev.ivkit.pipeline;

import dev.ivkit.CancellationToken;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ProgressListener;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.results.EvalFile;
import dev.ivkit.results.Provenance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Does the instruction vector make the model do the task ({@code ivkit evaluate}, {@code IvkitModel.evaluate})? On
 * the first {@code prompts} held-out queries (test, then valid): zero-shot without and with the vector at one layer
 * or at every layer (sweep); with {@code shots > 0} also N-shot prompts with shuffled demo labels (Todd et al.).
 * Teacher-forced top-1/2/3 and NLL, and with {@code maxNewTokens > 0} greedy answers scored by exact match, F1 and
 * ROUGE-L ({@link IvEvaluator}). Prints nothing: messages go to the listener.
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * What to evaluate.
     *
     * @param prompts      held-out queries evaluated (&gt; 0)
     * @param shots        &gt; 0 adds the shuffled-label N-shot setting
     * @param maxNewTokens greedy answer length; 0 = teacher-forced scores only
     * @param scale        multiplier of the vector
     * @param layer        the layer the vector is added at, or null for the vector's own (its metadata's "layer",
     *                     else layers / 3); must be null with {@code sweep}
     * @param sweep        evaluate the vector at every layer
     */
    public record Settings(int prompts, int shots, int maxNewTokens, float scale, Integer layer, boolean sweep) {
        /**
         * Checks the settings that need neither the model nor the task.
         *
         * @param prompts      held-out queries evaluated
         * @param shots        demonstrations of the shuffled-label setting
         * @param maxNewTokens greedy answer length
         * @param scale        multiplier of the vector
         * @param layer        the layer, or null
         * @param sweep        every layer
         */
        public Settings {
            if (prompts <= 0) {
                throw new InvalidArgumentException("prompts", "must be positive, got " + prompts);
            }
            if (shots < 0) {
                throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
            }
            if (maxNewTokens < 0) {
                throw new InvalidArgumentException("max-new-tokens", "must be >= 0, got " + maxNewTokens);
            }
            if (sweep && layer != null) {
                throw new InvalidArgumentException("layer", "a layer and a sweep over every layer exclude each other");
            }
        }
    }

    /**
     * Evaluates {@code iv} on {@code task}.
     *
     * @param model     the model (with whatever adapter is attached)
     * @param tok       its tokenizer
     * @param modelName the model file or folder, as given (recorded as {@code model})
     * @param task      the task, split with its seed ({@link TaskInput#load} with {@code shots})
     * @param iv        the vector
     * @param ivDir     the vector's folder (recorded as {@code iv}, named in errors), or null for one in memory
     * @param s         what to evaluate
     * @param listener  a warning when the vector was built on another model, prompts left out, one step per
     *                  setting and layer evaluated
     * @param cancel    checked before each setting and layer; cancellation throws {@code CancelledException}
     * @return what {@code eval.json} holds
     */
    public static EvalFile.Eval run(LlamaModel model, Tokenizer tok, String modelName, TaskInput task,
            InstructionVector iv, Path ivDir, Settings s, ProgressListener listener, CancellationToken cancel) {
        iv.requireCompatible(model, ivDir == null ? Path.of("(instruction vector)") : ivDir.resolve(InstructionVector.TENSORS));
        String fingerprint = ModelFingerprint.of(model);
        Object ivFingerprint = iv.metadata().get("model_fingerprint");
        if (ivFingerprint != null && !fingerprint.equals(ivFingerprint)) {
            listener.onMessage("warning: the vector was built on model " + ivFingerprint + ", this model is "
                    + fingerprint + " (same shapes)");
        }
        int nLayers = model.config().nLayers();
        int layer = s.layer() != null ? s.layer() : ivLayer(iv, nLayers);
        if (!s.sweep() && (layer < 0 || layer >= nLayers)) {
            throw new InvalidArgumentException("layer", layer + " is out of range [0, " + nLayers + ")");
        }
        PromptBuilder builder = task.builder();
        List<TaskExample> queries = task.heldOut(s.prompts());
        List<TaskExample> train = task.splits().train();
        List<List<Prompt>> lists = new ArrayList<>();
        lists.add(TaskFiles.prompts(builder, queries, train, 0, false, null));
        if (s.shots() > 0) {
            lists.add(TaskFiles.prompts(builder, queries, train, s.shots(), true, new Random(task.seed() + 2)));
        }
        List<Integer> keep = TaskInput.fitting(tok, model.config().maxSeqLen(), s.maxNewTokens(), lists, listener);
        List<String> names = new ArrayList<>(List.of("zero_shot"));
        if (s.shots() > 0) {
            names.add("shuffled_" + s.shots() + "_shot");
        }
        int perSetting = s.sweep() ? nLayers + 1 : 2, total = perSetting * names.size();
        listener.onStage(ProgressListener.Stage.EVALUATE, keep.size() + " prompts, " + String.join(" and ", names)
                + (s.sweep() ? ", every layer" : ", layer " + layer));
        IvEvaluator ev = new IvEvaluator(model, tok);
        Map<String, List<EvalFile.LayerScore>> settings = new LinkedHashMap<>();
        int done = 0;
        for (int i = 0; i < names.size(); i++) {
            List<Prompt> ps = TaskInput.select(lists.get(i), keep);
            List<EvalFile.LayerScore> rows = new ArrayList<>();
            for (int k = 0; k < perSetting; k++) {
                int at = k == 0 ? -1 : s.sweep() ? k - 1 : layer;
                cancel.throwIfCancelled("evaluate after " + done + " of " + total + " evaluations");
                IvEvaluator.Result r = ev.evaluate(ps, at < 0 ? null : iv.vector(), at, s.scale(), s.maxNewTokens(), true);
                rows.add(score(r));
                listener.onStep(ProgressListener.Stage.EVALUATE, ++done, total, r.top1());
            }
            settings.put(names.get(i), rows);
        }
        listener.onStage(ProgressListener.Stage.DONE, done + " evaluations");
        Provenance p = new Provenance(Provenance.libraryVersion(), modelName, fingerprint, task.file().toString(),
                task.format(), task.seed());
        EvalFile.Run run = new EvalFile.Run(ivDir == null ? null : ivDir.toString(), keep.size(),
                queries.size() - keep.size(), s.shots(), s.scale(), s.maxNewTokens(), s.sweep() ? null : layer);
        return EvalFile.Eval.of(p, task.data().name(), run, settings);
    }

    /**
     * @param r one setting's scores from {@link IvEvaluator}
     * @return the same scores as {@code eval.json} records them
     */
    public static EvalFile.LayerScore score(IvEvaluator.Result r) {
        return new EvalFile.LayerScore(r.layer(), r.prompts(), r.top1(), r.top2(), r.top3(), r.nll(), r.exactMatch(),
                r.f1(), r.rougeL());
    }

    /** The layer recorded in the vector's metadata, else layers / 3. */
    static int ivLayer(InstructionVector iv, int nLayers) {
        Object l = iv.metadata().get("layer");
        return l instanceof Number n ? n.intValue() : nLayers / 3;
    }
}
