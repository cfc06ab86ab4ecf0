package dev.ivkit.iv;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Knowledge vs instruction following (the IV paper §3): per example, P(y | x) with the bare input and
 * P(y | c, x) with the instruction or demonstrations c before it. Each probability is the answer's per-token
 * geometric mean probability exp(−mean NLL), averaged over examples. A model that knows the answers but does not
 * follow the instruction has a high first and a low second.
 */
public final class KnowledgeProbe {
    private final LlamaModel model;
    private final Tokenizer tokenizer;

    /**
     * The probe's result over a set of examples.
     *
     * @param examples   the number of examples
     * @param bare       mean P(y | x)
     * @param instructed mean P(y | c, x)
     */
    public record Result(int examples, double bare, double instructed) {}

    /**
     * A probe running {@code model} on prompts encoded with {@code tokenizer}.
     *
     * @param model     the model
     * @param tokenizer the model's tokenizer
     */
    public KnowledgeProbe(LlamaModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Runs the probe: both probabilities of every example, averaged.
     *
     * @param bare       prompts holding only the input (one per example)
     * @param instructed prompts of the same examples with instruction or demonstrations
     * @return the mean bare and instructed answer probabilities
     * @throws InvalidArgumentException when the lists are empty, differ in length or pair different questions
     */
    public Result run(List<Prompt> bare, List<Prompt> instructed) {
        if (bare.isEmpty() || bare.size() != instructed.size()) {
            throw new InvalidArgumentException("prompts", "need the same non-zero number of bare and instructed prompts, got "
                    + bare.size() + " and " + instructed.size());
        }
        double b = 0, c = 0;
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < bare.size(); i++) {
                TaskExample qb = bare.get(i).query(), qc = instructed.get(i).query();
                if (!qb.equals(qc)) {
                    throw new InvalidArgumentException("prompts", "prompt " + i + " asks different questions in the two lists");
                }
                b += Math.exp(-nll(bare.get(i)));
                c += Math.exp(-nll(instructed.get(i)));
            }
        }
        return new Result(bare.size(), b / bare.size(), c / bare.size());
    }

    private double nll(Prompt p) {
        try (PointerScope s = new PointerScope()) {
            TokenizedPrompt tp = TokenizedPrompt.of(tokenizer, p);
            long[] ids = tp.teacherForcedIds();
            Tensor logits = model.forward(torch.tensor(ids).reshape(1, ids.length), null, HookPlan.empty(), null, LogitsMode.ALL,
                    LogitsBuffer.WORKSPACE).logits()
                    .narrow(1, tp.predictPosition(), tp.targetIds().length);
            return AnswerScores.of(logits, tp.targetIds())[0][1];
        }
    }
}
