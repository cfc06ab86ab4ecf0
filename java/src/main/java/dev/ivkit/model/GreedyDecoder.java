package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Batched greedy decoding of many prompts without a KV cache: the prompts run in left-padded batches of at most
 * {@value #CHUNK} rows, and each step reruns the whole padded batch and appends every unfinished row's argmax token.
 * A row finishes at its stop token (not part of its answer) or after {@code maxNew} tokens. Optionally a
 * {@link ResidualIv} is added after a layer at each row's last prompt token and, with
 * {@link ResidualIv#everyToken()}, at every token the row has generated. The result equals the KV-cache
 * {@link Generator} with the same additions row by row, up to float rounding between the padded and the cached runs.
 */
public final class GreedyDecoder {
    /** The most rows in one forward. */
    public static final int CHUNK = 128;

    private final LlamaModel model;
    private final int padId;
    private final int stopId;

    /**
     * A vector added to the residual stream after {@code layer} ({@code hook_resid_post}) with scale 1.
     *
     * @param vector     [d_model]
     * @param layer      the block after which it is added
     * @param everyToken also at every generated token, not only the last prompt token
     */
    public record ResidualIv(Tensor vector, int layer, boolean everyToken) {
        /**
         * Rejects a missing vector.
         *
         * @param vector     [d_model]
         * @param layer      the block after which it is added
         * @param everyToken also at every generated token, not only the last prompt token
         * @throws InvalidArgumentException when {@code vector} is null
         */
        public ResidualIv {
            if (vector == null) {
                throw new InvalidArgumentException("iv", "the vector is required");
            }
        }
    }

    /**
     * A decoder over {@code model} that left-pads with {@code padId} and ends a row at {@code stopId}.
     *
     * @param model  the model to run
     * @param padId  the token id the batches are left-padded with
     * @param stopId the token id that ends a row
     */
    public GreedyDecoder(LlamaModel model, int padId, int stopId) {
        this.model = model;
        this.padId = padId;
        this.stopId = stopId;
    }

    /**
     * The greedy continuation of every prompt (stop token excluded), in prompt order.
     *
     * @param prompts token ids of each prompt (BOS included where the model wants one); none may be empty
     * @param maxNew  the most tokens generated per row (the stop token counts)
     * @param iv      the residual addition, or null for none
     * @return per prompt, the generated ids before its stop token
     * @throws InvalidArgumentException for an empty prompt or a negative {@code maxNew}
     */
    public List<int[]> decode(List<int[]> prompts, int maxNew, ResidualIv iv) {
        if (maxNew < 0) {
            throw new InvalidArgumentException("maxNew", "must be >= 0, got " + maxNew);
        }
        for (int i = 0; i < prompts.size(); i++) {
            if (prompts.get(i).length == 0) {
                throw new InvalidArgumentException("prompts[" + i + "]", "empty prompt");
            }
        }
        List<int[]> out = new ArrayList<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (int from = 0; from < prompts.size(); from += CHUNK) {
                out.addAll(decodeChunk(prompts.subList(from, Math.min(prompts.size(), from + CHUNK)), maxNew, iv));
            }
        }
        return out;
    }

    private List<int[]> decodeChunk(List<int[]> part, int maxNew, ResidualIv iv) {
        int rows = part.size();
        List<List<Integer>> seqs = new ArrayList<>();
        List<List<Integer>> answers = new ArrayList<>();
        boolean[] done = new boolean[rows];
        for (int[] p : part) {
            List<Integer> q = new ArrayList<>();
            for (int id : p) {
                q.add(id);
            }
            seqs.add(q);
            answers.add(new ArrayList<>());
        }
        for (int step = 0; step < maxNew; step++) {
            int len = 0;
            for (List<Integer> q : seqs) {
                len = Math.max(len, q.size());
            }
            long[] ids = new long[rows * len];
            long[] mask = new long[rows * len];
            long[] lastPrompt = new long[rows];
            for (int i = 0; i < rows; i++) {
                List<Integer> q = seqs.get(i);
                int pad = len - q.size();
                for (int j = 0; j < len; j++) {
                    ids[i * len + j] = j < pad ? padId : q.get(j - pad);
                    mask[i * len + j] = j < pad ? 0 : 1;
                }
                // the last prompt token of every unfinished row (left padding); a finished row (no longer growing, its
                // answer already taken) gets its own last token so that the position is a real one
                lastPrompt[i] = done[i] ? len - 1 : len - step - 1;
            }
            long[] next;
            try (PointerScope sc = new PointerScope()) {
                HookPlan plan = iv == null ? null : plan(iv, lastPrompt, done, step);
                Tensor logits = model.forward(torch.tensor(ids).reshape(rows, len), torch.tensor(mask).reshape(rows, len), plan, null,
                        LogitsMode.LAST, LogitsBuffer.WORKSPACE).logits();
                next = Torch.toLongArray(logits.argmax(new LongOptional(1), false));
            }
            boolean all = true;
            for (int i = 0; i < rows; i++) {
                if (!done[i]) {
                    int id = (int) next[i];
                    if (id == stopId) {
                        done[i] = true;
                    } else {
                        answers.get(i).add(id);
                        seqs.get(i).add(id);
                    }
                }
                all &= done[i];
            }
            if (all) {
                break;
            }
        }
        List<int[]> out = new ArrayList<>();
        for (List<Integer> a : answers) {
            out.add(a.stream().mapToInt(Integer::intValue).toArray());
        }
        return out;
    }

    /** The IV at every row's last prompt token and, in every-token mode, at each token generated so far by rows still generating. */
    private static HookPlan plan(ResidualIv iv, long[] lastPrompt, boolean[] done, int step) {
        HookSite site = HookSite.residPost(iv.layer());
        HookPlan.Builder b = HookPlan.builder().add(new ResidualAdd(site, Positions.of(lastPrompt), iv.vector(), 1f, null));
        for (int j = 1; iv.everyToken() && j <= step; j++) {
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < done.length; i++) {
                if (!done[i]) {
                    live.add(i);
                }
            }
            if (!live.isEmpty()) {
                int[] sel = live.stream().mapToInt(Integer::intValue).toArray();
                long[] at = new long[sel.length];
                for (int i = 0; i < sel.length; i++) {
                    at[i] = lastPrompt[sel[i]] + j;
                }
                b.add(new ResidualAdd(site, Positions.of(at), iv.vector(), 1f, sel));
            }
        }
        return b.build();
    }
}
