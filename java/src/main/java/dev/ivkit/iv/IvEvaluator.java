package dev.ivkit.iv;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.eval.Metrics;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.model.Generator;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.Sampler;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Does adding an instruction vector make the model do the task? For each prompt: teacher-forced first-answer-token
 * rank (top-1/2/3 accuracy) and answer NLL with the vector added at blocks.L.hook_resid_post of the last prompt token
 * (Todd et al. §3; the IV authors' evaluation), and optionally a greedy generated answer scored by exact match, F1
 * and ROUGE-L. In generation the vector is added at the last prompt token and, like the authors' code
 * ({@code idx = -1} inside {@code generate}), at every new token unless {@code everyToken} is off.
 */
public final class IvEvaluator {
    private final LlamaModel model;
    private final Tokenizer tokenizer;

    /**
     * Scores of one setting, averaged over prompts.
     *
     * @param layer      where the vector was added; -1 for the baseline without the vector
     * @param prompts    the number of prompts averaged over
     * @param top1       fraction of prompts whose first answer token is the model's top-1 prediction
     * @param top2       the same within the top 2
     * @param top3       the same within the top 3
     * @param nll        mean over prompts of the answer's mean per-token NLL (nats, teacher-forced)
     * @param exactMatch mean exact match of the generated answer; NaN without generation
     * @param f1         mean token F1 of the generated answer; NaN without generation
     * @param rougeL     mean ROUGE-L F-measure of the generated answer; NaN without generation
     */
    public record Result(int layer, int prompts, double top1, double top2, double top3, double nll, double exactMatch,
            double f1, double rougeL) {}

    /**
     * An evaluator running {@code model} on prompts encoded with {@code tokenizer}.
     *
     * @param model     the model
     * @param tokenizer the model's tokenizer
     */
    public IvEvaluator(LlamaModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Scores of the prompts with {@code iv} added at {@code layer} (or without it).
     *
     * @param prompts      the prompts with their gold answers; at least one
     * @param iv           the vector [d_model], or null for the baseline
     * @param layer        where it is added (ignored without iv)
     * @param scale        the factor the vector is multiplied by
     * @param maxNewTokens 0 = teacher-forced scores only; else greedy generation of up to this many tokens
     * @param everyToken   in generation, add the vector at every new token too, not only the last prompt token
     * @return the scores averaged over the prompts
     * @throws InvalidArgumentException when {@code prompts} is empty or {@code layer} is out of range (with a vector)
     */
    public Result evaluate(List<Prompt> prompts, Tensor iv, int layer, float scale, int maxNewTokens, boolean everyToken) {
        if (prompts.isEmpty()) {
            throw new InvalidArgumentException("prompts", "no prompts to evaluate");
        }
        if (iv != null && (layer < 0 || layer >= model.config().nLayers())) {
            throw new InvalidArgumentException("layer", layer + " is out of range [0, " + model.config().nLayers() + ")");
        }
        double[] sum = new double[7];
        try (NoGradGuard g = new NoGradGuard()) {
            for (Prompt p : prompts) {
                try (PointerScope s = new PointerScope()) {
                    TokenizedPrompt tp = TokenizedPrompt.of(tokenizer, p);
                    double[] tf = teacherForced(tp, iv, layer, scale);
                    for (int i = 0; i < 4; i++) {
                        sum[i] += tf[i];
                    }
                    if (maxNewTokens > 0) {
                        String answer = generate(tp, iv, layer, scale, maxNewTokens, everyToken);
                        String gold = p.query().output();
                        sum[4] += Metrics.exactMatch(answer, gold);
                        sum[5] += Metrics.f1(answer, gold);
                        sum[6] += Metrics.rougeL(answer, gold);
                    }
                }
            }
        }
        int n = prompts.size();
        double nan = Double.NaN;
        return new Result(iv == null ? -1 : layer, n, sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n,
                maxNewTokens > 0 ? sum[4] / n : nan, maxNewTokens > 0 ? sum[5] / n : nan, maxNewTokens > 0 ? sum[6] / n : nan);
    }

    /**
     * The baseline and the vector at every layer.
     *
     * @param prompts      the prompts with their gold answers; at least one
     * @param iv           the vector [d_model]
     * @param scale        the factor the vector is multiplied by
     * @param maxNewTokens 0 = teacher-forced scores only; else greedy generation of up to this many tokens
     * @param everyToken   in generation, add the vector at every new token too
     * @return the baseline (layer -1) followed by one result per layer, 0 first
     * @throws InvalidArgumentException when {@code prompts} is empty
     */
    public List<Result> sweep(List<Prompt> prompts, Tensor iv, float scale, int maxNewTokens, boolean everyToken) {
        List<Result> out = new ArrayList<>();
        out.add(evaluate(prompts, null, -1, scale, maxNewTokens, everyToken));
        for (int l = 0; l < model.config().nLayers(); l++) {
            out.add(evaluate(prompts, iv, l, scale, maxNewTokens, everyToken));
        }
        return out;
    }

    /** {top1, top2, top3, nll} of one prompt. */
    private double[] teacherForced(TokenizedPrompt tp, Tensor iv, int layer, float scale) {
        long[] ids = tp.teacherForcedIds();
        int pos = tp.predictPosition(), n = tp.targetIds().length;
        HookPlan plan = iv == null ? HookPlan.empty() : HookPlan.builder()
                .add(new ResidualAdd(HookSite.residPost(layer), Positions.of(pos), iv, scale, null)).build();
        Tensor logits = model.forward(torch.tensor(ids).reshape(1, ids.length), null, plan, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE)
                .logits().select(0, 0);  // [pos, vocab]
        int v = (int) logits.size(1);
        float[] all = Torch.toFloatArray(logits.narrow(0, pos, n));   // one device-to-host copy per prompt
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = java.util.Arrays.copyOfRange(all, i * v, (i + 1) * v);
        }
        int rank = Metrics.firstTokenRank(rows[0], tp.targetIds()[0]);
        return new double[] {rank < 1 ? 1 : 0, rank < 2 ? 1 : 0, rank < 3 ? 1 : 0, Metrics.nll(rows, tp.targetIds())};
    }

    private String generate(TokenizedPrompt tp, Tensor iv, int layer, float scale, int maxNewTokens, boolean everyToken) {
        HookPlan plan = iv == null ? null : HookPlan.builder().add(ResidualAdd.residPostAtLast(layer, iv, scale)).build();
        StringBuilder text = new StringBuilder();
        var dec = tokenizer.streamingDecoder(tp.promptIds()[tp.predictPosition()]);
        new Generator(model).generate(tp.promptIds(), maxNewTokens, new Sampler(0f, 1f, 0), id -> {
            if (id != tokenizer.eosId() && id != tokenizer.bosId()) {
                text.append(dec.next(id));
            }
            return text.indexOf("\n") < 0;
        }, plan, everyToken ? plan : null);
        text.append(dec.flush());
        return firstLine(text.toString());
    }

    /** The answer is the generated text up to the first newline, trimmed (demonstrations end with a newline). */
    static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
