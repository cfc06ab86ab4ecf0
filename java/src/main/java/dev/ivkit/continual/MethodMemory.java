package dev.ivkit.continual;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.train.Regulariser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What a continual method carries from one task to the next, shared by {@code ivkit continual} ({@link SeedRun}) and
 * {@code ivkit demo}: replay's buffer of earlier tasks' examples, EWC's summed Fisher and O-LoRA's earlier A matrices.
 * Per task: {@link #trainingData} (replay mixes in earlier examples), {@link #regulariser}, then {@link #afterMerge}
 * with the merged adapter and {@link #afterTask} with the updated model. Closing it releases the kept tensors.
 */
public final class MethodMemory implements AutoCloseable {
    private final Method method;
    private final double replayRatio;
    private final int ewcExamples;
    private final List<String> loraTargets;
    private final ReplayBuffer<TokenizedPrompt> buffer;
    private final List<Map<String, Tensor>> previousA = new ArrayList<>();
    private Map<String, Tensor> fisher;

    /**
     * An empty memory for {@code method} in the run with seed {@code seed}.
     *
     * @param replayPerTask examples replay keeps of each task
     * @param replayRatio   replayed examples per example of the new task
     * @param ewcExamples   examples of each task EWC's Fisher is estimated on
     * @param loraTargets   the projections whose directions EWC penalises
     */
    public MethodMemory(Method method, long seed, int replayPerTask, double replayRatio, int ewcExamples, List<String> loraTargets) {
        this.method = method;
        this.replayRatio = replayRatio;
        this.ewcExamples = ewcExamples;
        this.loraTargets = List.copyOf(loraTargets);
        this.buffer = new ReplayBuffer<>(seed, replayPerTask);
    }

    /** Task {@code k}'s training set: its own examples, plus replayed earlier ones for replay. */
    public List<TokenizedPrompt> trainingData(int k, List<TokenizedPrompt> own) {
        return method == Method.REPLAY ? buffer.mix(k, own, replayRatio) : own;
    }

    /** The method's regulariser for the next task ({@link RegulariserFactory#create}), or null for none. */
    public Regulariser regulariser(RegulariserFactory regs, LlamaModel model, InstructionVector iv, int ivLayer) {
        return regs.create(method, model, iv, ivLayer, fisher, previousA);
    }

    /** Keeps what the method needs of task {@code k} right after its adapter is merged (O-LoRA: A; replay: examples). */
    public void afterMerge(int k, LoraAdapter a, List<TokenizedPrompt> own) {
        if (method == Method.OLORA) {
            previousA.add(OLoraRegulariser.keepA(a));
        }
        if (method == Method.REPLAY) {
            buffer.add(k, own);
        }
    }

    /** EWC: adds the Fisher of task's first examples on the updated model to the sum; other methods: nothing. */
    public void afterTask(LlamaModel model, List<TokenizedPrompt> own) {
        if (method == Method.EWC) {
            // estimateFisher's tensors are retained (they outlive the caller's scopes); once added to the sum, released
            Map<String, Tensor> task = EwcRegulariser.estimateFisher(model, own.subList(0, Math.min(ewcExamples, own.size())), loraTargets);
            Map<String, Tensor> sum = EwcRegulariser.accumulate(fisher, task);
            if (sum != task) {
                task.values().forEach(Tensor::releaseReference);
            }
            fisher = sum;
        }
    }

    /** EWC's summed Fisher so far (null before the first task and for other methods). */
    public Map<String, Tensor> fisher() {
        return fisher;
    }

    /** Restores EWC's summed Fisher (a resumed run reads it from its file); its tensors are retained until close. */
    public void restoreFisher(Map<String, Tensor> f) {
        f.values().forEach(Tensor::retainReference);
        fisher = f;
    }

    @Override
    public void close() {
        for (Map<String, Tensor> as : previousA) {
            as.values().forEach(Tensor::releaseReference);
        }
        previousA.clear();
        if (fisher != null) {
            fisher.values().forEach(Tensor::releaseReference);
            fisher = null;
        }
    }
}
