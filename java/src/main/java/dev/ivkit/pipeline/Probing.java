package dev.ivkit.pipeline;

import dev.ivkit.CancellationToken;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ProgressListener;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.results.ProbeFile;
import dev.ivkit.results.Provenance;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Knowledge vs instruction following ({@code ivkit probe}, {@code IvkitModel.probe}) on the first {@code prompts}
 * held-out queries: {@code bare} = mean P(y | x) with the zero-shot prompt of the input alone; {@code instructed} =
 * mean P(y | c, x) with c = {@code shots} demonstrations from train, or, when {@code shots} is 0 and the task has an
 * instruction (SuperNI), the IV authors' instruction prompt. Per-token geometric means ({@link KnowledgeProbe}).
 * Prints nothing: messages go to the listener.
 */
public final class Probing {
    private Probing() {}

    /**
     * What to probe.
     *
     * @param prompts held-out examples probed (&gt; 0)
     * @param shots   demonstrations in the instructed prompt (&ge; 0; 0 uses the task's instruction when it has one)
     */
    public record Settings(int prompts, int shots) {
        /**
         * Checks the settings that need neither the model nor the task.
         *
         * @param prompts held-out examples probed
         * @param shots   demonstrations in the instructed prompt
         */
        public Settings {
            if (prompts <= 0) {
                throw new InvalidArgumentException("prompts", "must be positive, got " + prompts);
            }
            if (shots < 0) {
                throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
            }
        }
    }

    /**
     * Probes {@code task}.
     *
     * @param model     the model (with whatever adapter is attached)
     * @param tok       its tokenizer
     * @param modelName the model file or folder, as given (recorded as {@code model})
     * @param task      the task, split with its seed ({@link TaskInput#load} with {@code shots})
     * @param s         what to probe
     * @param listener  prompts left out as longer than the context, the stage
     * @param cancel    checked before the model runs; cancellation throws {@code CancelledException}
     * @return what {@code probe.json} holds
     */
    public static ProbeFile.Probe run(LlamaModel model, Tokenizer tok, String modelName, TaskInput task, Settings s,
            ProgressListener listener, CancellationToken cancel) {
        PromptBuilder builder = task.builder();
        List<TaskExample> queries = task.heldOut(s.prompts());
        List<TaskExample> train = task.splits().train();
        List<Prompt> bare = TaskFiles.prompts(builder, queries, train, 0, false, null);
        List<Prompt> instructed;
        String context;
        if (s.shots() == 0 && task.data().instruction().isPresent()) {
            instructed = new ArrayList<>();
            for (TaskExample q : queries) {
                instructed.add(PromptBuilder.superNiInstruction(task.data().instruction().get(), q));
            }
            context = "instruction";
        } else {
            instructed = TaskFiles.prompts(builder, queries, train, s.shots(), false, new Random(task.seed() + 3));
            context = s.shots() + "-shot demonstrations";
        }
        List<Integer> keep = TaskInput.fitting(tok, model.config().maxSeqLen(), 0, List.of(bare, instructed), listener);
        cancel.throwIfCancelled("probe before it ran the model");
        listener.onStage(ProgressListener.Stage.PROBE, keep.size() + " examples, bare and with " + context);
        KnowledgeProbe.Result r = new KnowledgeProbe(model, tok).run(TaskInput.select(bare, keep),
                TaskInput.select(instructed, keep));
        listener.onStage(ProgressListener.Stage.DONE, r.examples() + " examples");
        Provenance p = new Provenance(Provenance.libraryVersion(), modelName, ModelFingerprint.of(model),
                task.file().toString(), task.format(), task.seed());
        return ProbeFile.Probe.of(p, task.data().name(), context, s.shots(), r.examples(), r.bare(), r.instructed());
    }
}
