package dev.ivkit.demo;

import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.SyntheticTasks;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The demo's batched greedy decoding of organism answers with a residual IV, and its exact-match accuracy. */
final class GreedyDecoding {
    private GreedyDecoding() {}


    /**
     * Exact-match accuracy of batched greedy answers, optionally with {@code iv} added after {@code layer} at the last
     * prompt token and, with {@code every}, also at every generated token.
     */
    static double accuracy(LlamaModel model, CharTokenizer tok, List<Prompt> prompts, Tensor iv, int layer, boolean every) {
        if (iv == null) {
            return Organism.accuracy(model, tok, prompts);
        }
        List<String> answers = answers(model, tok, prompts, iv, layer, every);
        int ok = 0;
        for (int i = 0; i < answers.size(); i++) {
            if (answers.get(i).equals(prompts.get(i).target())) {
                ok++;
            }
        }
        return (double) ok / answers.size();
    }

    /**
     * Batched greedy answers (up to the first newline, at most {@code MAX_ANSWER + 1} tokens) with {@code iv} added after
     * {@code layer} at the last prompt token and, with {@code every}, at every generated token; each step reruns the
     * left-padded batch without a cache.
     */
    static List<String> answers(LlamaModel model, CharTokenizer tok, List<Prompt> prompts, Tensor iv, int layer, boolean every) {
        int end = tok.id(SyntheticTasks.END);
        int rows = prompts.size();
        List<List<Integer>> seqs = new ArrayList<>();
        StringBuilder[] ans = new StringBuilder[rows];
        boolean[] doneRow = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            List<Integer> q = new ArrayList<>();
            for (int id : tok.encode(prompts.get(i).text(), true)) {
                q.add(id);
            }
            seqs.add(q);
            ans[i] = new StringBuilder();
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (int step = 0; step <= SyntheticTasks.MAX_ANSWER; step++) {
                int len = 0;
                for (List<Integer> q : seqs) {
                    len = Math.max(len, q.size());
                }
                long[] ids = new long[rows * len], mask = new long[rows * len], pos = new long[rows];
                for (int i = 0; i < rows; i++) {
                    List<Integer> q = seqs.get(i);
                    int pad = len - q.size();
                    for (int j = 0; j < len; j++) {
                        ids[i * len + j] = j < pad ? tok.padId() : q.get(j - pad);
                        mask[i * len + j] = j < pad ? 0 : 1;
                    }
                    // the last prompt token of every unfinished row (left padding); a finished row (no longer growing,
                    // its answer already taken) gets its own last token so that the position is a real one
                    pos[i] = doneRow[i] ? len - 1 : len - step - 1;
                }
                long[] next;
                try (PointerScope sc = new PointerScope()) {
                    HookPlan.Builder b = HookPlan.builder().add(new ResidualAdd(HookSite.residPost(layer), Positions.of(pos), iv, 1f, null));
                    for (int j = 1; every && j <= step; j++) {   // the tokens generated so far by rows still generating
                        List<Integer> live = new ArrayList<>();
                        for (int i = 0; i < rows; i++) {
                            if (!doneRow[i]) {
                                live.add(i);
                            }
                        }
                        if (!live.isEmpty()) {
                            int[] sel = live.stream().mapToInt(Integer::intValue).toArray();
                            long[] at = new long[sel.length];
                            for (int i = 0; i < sel.length; i++) {
                                at[i] = pos[sel[i]] + j;
                            }
                            b.add(new ResidualAdd(HookSite.residPost(layer), Positions.of(at), iv, 1f, sel));
                        }
                    }
                    HookPlan plan = b.build();
                    Tensor logits = model.forward(torch.tensor(ids).reshape(rows, len), torch.tensor(mask).reshape(rows, len), plan, null,
                            LogitsMode.LAST).logits();
                    next = dev.ivkit.util.Torch.toLongArray(logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false));
                }
                boolean all = true;
                for (int i = 0; i < rows; i++) {
                    if (!doneRow[i]) {
                        int id = (int) next[i];
                        if (id == end) {
                            doneRow[i] = true;
                        } else {
                            ans[i].append(tok.decode(new int[] {id}));
                            seqs.get(i).add(id);
                        }
                    }
                    all &= doneRow[i];
                }
                if (all) {
                    break;
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (StringBuilder a : ans) {
            out.add(a.toString());
        }
        return out;
    }
}
