package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.util.Torch;
import java.util.function.IntPredicate;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Autoregressive generation with a KV cache: the prompt in one forward, then one token per step. Each step runs in
 * its own PointerScope, so memory stays flat however many tokens are generated.
 */
public final class Generator {
    private final LlamaModel model;

    /**
     * A generator over {@code model} (used from one thread, as the model is).
     *
     * @param model the model to generate with
     */
    public Generator(LlamaModel model) {
        this.model = model;
    }

    /**
     * Generates up to {@code maxNewTokens} tokens after {@code prompt}; stops early at EOS or BOS (as llama2.c does) or
     * when {@code onToken} returns false.
     *
     * @param prompt       prompt ids, BOS first where the tokenizer has one (not empty)
     * @param maxNewTokens the most tokens to generate, at least 0
     * @param sampler      picks each next token
     * @param onToken      told each generated id; return false to stop
     * @return the generated ids (prompt excluded)
     */
    public int[] generate(int[] prompt, int maxNewTokens, Sampler sampler, IntPredicate onToken) {
        return generate(prompt, maxNewTokens, sampler, onToken, null, null);
    }

    /**
     * Generation with interventions. {@code promptPlan} runs with the prompt's forward (its positions index the
     * prompt: {@code Positions.last()} is the last prompt token); {@code stepPlan} runs with every new token's forward
     * (its input is that one token: {@code Positions.last()} is it). Pass the same plan to both to intervene at the
     * last prompt token and at every new token; pass null to skip either.
     *
     * @param prompt       prompt ids, BOS first where the tokenizer has one (not empty)
     * @param maxNewTokens the most tokens to generate, at least 0
     * @param sampler      picks each next token
     * @param onToken      told each generated id; return false to stop
     * @param promptPlan   hooks of the prompt's forward, or null
     * @param stepPlan     hooks of every new token's forward, or null
     * @return the generated ids (prompt excluded)
     */
    public int[] generate(int[] prompt, int maxNewTokens, Sampler sampler, IntPredicate onToken, HookPlan promptPlan,
            HookPlan stepPlan) {
        if (prompt.length == 0) {
            throw new InvalidArgumentException("prompt", "empty prompt (encode with BOS)");
        }
        if (maxNewTokens < 0) {
            throw new InvalidArgumentException("maxNewTokens", "must be >= 0, got " + maxNewTokens);
        }
        ModelConfig cfg = model.config();
        int capacity = Math.min(cfg.maxSeqLen(), prompt.length + maxNewTokens);
        if (prompt.length > cfg.maxSeqLen()) {
            throw new InvalidArgumentException("prompt", prompt.length + " tokens exceed the context length " + cfg.maxSeqLen());
        }
        int[] out = new int[maxNewTokens];
        int produced = 0;
        try (KvCache cache = model.newCache(1, Math.max(capacity, 1))) {
            long[] ids = new long[prompt.length];
            for (int i = 0; i < prompt.length; i++) {
                ids[i] = prompt[i];
            }
            while (produced < maxNewTokens && cache.length() + ids.length <= capacity) {
                int next;
                try (PointerScope scope = new PointerScope()) {
                    Tensor tokens = torch.tensor(ids).reshape(1, ids.length);
                    HookPlan plan = cache.length() == 0 ? promptPlan : stepPlan;
                    Tensor logits = model.forward(tokens, null, plan, cache, LogitsMode.LAST, LogitsBuffer.WORKSPACE).logits();
                    next = sampler.sample(Torch.toFloatArray(logits));
                }
                out[produced++] = next;
                if (cfg.isEos(next) || next == cfg.bosId() || !onToken.test(next)) {
                    break;
                }
                ids = new long[] {next};
            }
        }
        return java.util.Arrays.copyOf(out, produced);
    }
}
