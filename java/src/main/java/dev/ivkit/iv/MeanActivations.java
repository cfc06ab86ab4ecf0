package dev.ivkit.iv;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.MeanAccumulator;
import dev.ivkit.hooks.Positions;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Mean of every head's output z (blocks.L.attn.hook_z, before W_O) at the last prompt token over a set of prompts:
 * {@code [layer, head, d_head]} float32. Streamed: prompts run in left-padded batches and are summed into one
 * float32 accumulator per layer, so memory does not grow with the number of prompts.
 */
public final class MeanActivations {
    private MeanActivations() {}

    /**
     * The mean head outputs of {@code model} at the last token of {@code prompts}.
     *
     * @param model     the model
     * @param prompts   prompts (their answers are not used)
     * @param batchSize prompts per forward
     * @return [layer, head, d_head] float32; the caller owns it
     * @throws InvalidArgumentException when {@code prompts} is empty or {@code batchSize} is not positive
     */
    public static Tensor compute(LlamaModel model, List<TokenizedPrompt> prompts, int batchSize) {
        if (prompts.isEmpty()) {
            throw new InvalidArgumentException("prompts", "no prompts to average over");
        }
        if (batchSize <= 0) {
            throw new InvalidArgumentException("batchSize", "must be positive, got " + batchSize);
        }
        int layers = model.config().nLayers();
        List<MeanAccumulator> acc = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            acc.add(new MeanAccumulator());
        }
        try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            for (int start = 0; start < prompts.size(); start += batchSize) {
                try (PointerScope scope = new PointerScope()) {
                    List<TokenizedPrompt> chunk = prompts.subList(start, Math.min(prompts.size(), start + batchSize));
                    Tensor[] batch = leftPadded(chunk);
                    HookPlan.Builder b = HookPlan.builder();
                    for (int l = 0; l < layers; l++) {
                        b.captureMean(HookSite.attnZ(l), Positions.last(), acc.get(l));
                    }
                    model.forward(batch[0], batch[1], b.build(), null, LogitsMode.NONE);
                }
            }
            TensorVector means = new TensorVector();
            for (MeanAccumulator a : acc) {
                means.push_back(a.mean());
            }
            Tensor out = torch.stack(means, 0);  // [layer, head, d_head]
            return out;
        } finally {
            for (MeanAccumulator a : acc) {
                a.close();
            }
        }
    }

    /**
     * Prompt ids left-padded to one length (pad id 0, masked out).
     *
     * @param chunk the prompts of one batch (their answers are not used)
     * @return {tokens [b, t], mask [b, t]} int64, t the longest prompt, mask 1 at real tokens and 0 at padding
     */
    public static Tensor[] leftPadded(List<TokenizedPrompt> chunk) {
        int t = 0;
        for (TokenizedPrompt p : chunk) {
            t = Math.max(t, p.promptIds().length);
        }
        long[] ids = new long[chunk.size() * t];
        long[] mask = new long[chunk.size() * t];
        for (int r = 0; r < chunk.size(); r++) {
            int[] p = chunk.get(r).promptIds();
            int off = t - p.length;
            for (int i = 0; i < p.length; i++) {
                ids[r * t + off + i] = p[i];
                mask[r * t + off + i] = 1;
            }
        }
        return new Tensor[] {torch.tensor(ids).reshape(chunk.size(), t), torch.tensor(mask).reshape(chunk.size(), t)};
    }
}
