package dev.ivkit.iv;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HeadPatch;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.PatchMode;
import dev.ivkit.model.KvCache;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.util.Torch;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Causal indirect effect of each attention head (Todd et al.; the IV paper's head scan): patch head (l, h) at the
 * last prompt token with its mean activation — REPLACE as Todd et al., ADD as the IV authors' code — and measure the
 * change of the first answer token's probability and of the answer's NLL (teacher-forced).
 *
 * <p>{@link ScanMethod#NAIVE} re-runs the whole prompt once per head. {@link ScanMethod#EXACT} uses that a patch at
 * position p changes nothing before p: the prefix (positions &lt; p) is run once into a KV cache, the unpatched
 * suffix (p and the answer) runs layer by layer as row 0 of a batch that gains, at each layer l, one copy of that
 * row per head with the head patched there; the rows go on through the later layers together, and one lm_head call
 * at the end scores every variant. Same numbers to float tolerance, a fraction of the FLOPs (see
 * benchmarks/README.md).
 */
public final class CieScan {
    private final LlamaModel model;
    private final Tensor meanZ;   // [layer, head, d_head]
    private final PatchMode mode;
    private long logitsBytes = 64L << 20;   // float32 logits of one last-layer chunk of the exact scan

    /**
     * A scan of {@code model}'s heads, each patched with its mean output.
     *
     * @param model the model whose heads are scanned
     * @param meanZ [layer, head, d_head] mean head outputs (see {@link MeanActivations})
     * @param mode  how a patch combines with the head's output
     * @throws InvalidArgumentException when {@code meanZ} is not [layer, head, d_head] of {@code model}
     */
    public CieScan(LlamaModel model, Tensor meanZ, PatchMode mode) {
        ModelConfig c = model.config();
        long[] s = Torch.sizes(meanZ);
        if (s.length != 3 || s[0] != c.nLayers() || s[1] != c.nHeads() || s[2] != c.headDim()) {
            throw new InvalidArgumentException("meanZ", "expected [" + c.nLayers() + ", " + c.nHeads() + ", " + c.headDim()
                    + "], got " + Torch.shape(meanZ));
        }
        this.model = model;
        this.meanZ = meanZ.to(torch.ScalarType.Float);
        this.mode = mode;
    }

    /** Bounds the float32 logits of one chunk of the exact scan's last layer (tests force several chunks). */
    CieScan withLogitsBytes(long bytes) {
        this.logitsBytes = bytes;
        return this;
    }

    /**
     * The number of layers scanned.
     *
     * @return the model's layer count
     */
    public int layers() {
        return model.config().nLayers();
    }

    /**
     * The number of heads per layer scanned.
     *
     * @return the model's attention heads per layer
     */
    public int heads() {
        return model.config().nHeads();
    }

    /**
     * Scores of one prompt.
     *
     * @param prompt the prompt and its answer (teacher-forced)
     * @param method how the patched runs are computed
     * @return [0] = Δprob [layer][head], [1] = ΔNLL [layer][head], [2][0] = {clean prob, clean NLL}
     * @throws InvalidArgumentException when prompt + answer exceed the model's context length
     */
    public double[][][] scorePrompt(TokenizedPrompt prompt, ScanMethod method) {
        checkLength(prompt);
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            return switch (method) {
                case NAIVE -> naive(prompt);
                case EXACT -> exact(prompt);
                case ATP -> AttributionPatching.score(model, meanZ, mode, prompt);
            };
        }
    }

    /**
     * Scores every prompt.
     *
     * @param prompts  the prompts with their answers; at least one
     * @param method   how the patched runs are computed
     * @param onPrompt called with a prompt's index after it is scored (progress), or null
     * @return every prompt's per-head scores and clean values
     * @throws InvalidArgumentException when {@code prompts} is empty or one exceeds the model's context length
     */
    public ScanScores scan(java.util.List<TokenizedPrompt> prompts, ScanMethod method, IntConsumer onPrompt) {
        if (prompts.isEmpty()) {
            throw new InvalidArgumentException("prompts", "no prompts to scan");
        }
        int n = prompts.size();
        double[][][] dp = new double[n][][], dn = new double[n][][];
        double[] cp = new double[n], cn = new double[n];
        for (int i = 0; i < n; i++) {
            double[][][] r = scorePrompt(prompts.get(i), method);
            dp[i] = r[0];
            dn[i] = r[1];
            cp[i] = r[2][0][0];
            cn[i] = r[2][0][1];
            if (onPrompt != null) {
                onPrompt.accept(i);
            }
        }
        return new ScanScores(dp, dn, cp, cn);
    }

    private void checkLength(TokenizedPrompt p) {
        int len = p.promptIds().length + p.targetIds().length - 1;
        if (len > model.config().maxSeqLen()) {
            throw new InvalidArgumentException("prompt", "prompt + answer of " + len + " tokens exceed the context length "
                    + model.config().maxSeqLen());
        }
    }

    private HeadPatch patch(int layer, int head, long position, int[] rows) {
        return new HeadPatch(layer, head, Positions.of(position), meanZ.select(0, layer).select(0, head), mode, rows);
    }

    private double[][][] naive(TokenizedPrompt p) {
        ModelConfig c = model.config();
        long[] ids = p.teacherForcedIds();
        Tensor tokens = torch.tensor(ids).reshape(1, ids.length);
        int pos = p.predictPosition(), n = p.targetIds().length;
        double[] clean = AnswerScores.of(model.forward(tokens, null, HookPlan.empty(), null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits().narrow(1, pos, n), p.targetIds())[0];
        double[][][] out = new double[3][][];
        out[0] = new double[c.nLayers()][c.nHeads()];
        out[1] = new double[c.nLayers()][c.nHeads()];
        out[2] = new double[][] {clean};
        for (int l = 0; l < c.nLayers(); l++) {
            for (int h = 0; h < c.nHeads(); h++) {
                try (PointerScope s = new PointerScope()) {
                    HookPlan plan = HookPlan.builder().patch(new HeadPatch(l, h, Positions.of(pos),
                            meanZ.select(0, l).select(0, h), mode, null)).build();
                    Tensor logits = model.forward(tokens, null, plan, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits().narrow(1, pos, n);
                    double[] r = AnswerScores.of(logits, p.targetIds())[0];
                    out[0][l][h] = r[0] - clean[0];
                    out[1][l][h] = r[1] - clean[1];
                }
            }
        }
        return out;
    }

    /**
     * The prefix once into a KV cache; then one suffix call per layer l on a batch that grows by H rows there: row 0
     * is the clean suffix, the new rows are copies of its blocks.l.hook_resid_pre with head h patched at layer l, and
     * the rows added at earlier layers go on. The last layer scores every variant, in row chunks of bounded logits.
     */
    private double[][][] exact(TokenizedPrompt p) {
        ModelConfig c = model.config();
        int L = c.nLayers(), H = c.nHeads();
        long[] ids = p.teacherForcedIds();
        int pos = p.predictPosition(), n = p.targetIds().length;
        double[][] r = new double[1 + L * H][];
        try (KvCache prefix = model.newCache(1, Math.max(1, pos))) {
            if (pos > 0) {
                long[] head = java.util.Arrays.copyOf(ids, pos);
                model.forward(torch.tensor(head).reshape(1, pos), null, HookPlan.empty(), prefix, LogitsMode.NONE);
            }
            long[] tail = java.util.Arrays.copyOfRange(ids, pos, ids.length);              // n suffix positions
            Tensor x = model.embedTokens(torch.tensor(tail).reshape(1, n));                 // [1, n, d_model]
            for (int l = 0; l < L; l++) {
                try (PointerScope s = new PointerScope()) {
                    int rows = 1 + l * H;                                                   // clean + earlier layers'
                    Tensor batch = torch.cat(new TensorVector(x, x.narrow(0, 0, 1).expand(H, n, c.dModel())), 0);
                    if (l == L - 1) {
                        scoreLastLayer(batch, rows, prefix, p.targetIds(), r);
                        break;
                    }
                    HookPlan.Builder plan = HookPlan.builder().capture(HookSite.residPre(l + 1));
                    for (int h = 0; h < H; h++) {
                        plan.patch(patch(l, h, 0, new int[] {rows + h}));
                    }
                    x = model.forwardSuffix(l, l + 1, batch, prefix, plan.build(), LogitsMode.NONE, LogitsBuffer.FRESH).capture(HookSite.residPre(l + 1));
                    x.retainReference();                                                   // outlives this scope
                }
                keepInScope(x);
            }
        }
        double[][][] out = new double[3][][];
        out[0] = new double[L][H];
        out[1] = new double[L][H];
        out[2] = new double[][] {r[0]};
        for (int l = 0; l < L; l++) {
            for (int h = 0; h < H; h++) {
                out[0][l][h] = r[1 + l * H + h][0] - r[0][0];
                out[1][l][h] = r[1 + l * H + h][1] - r[0][1];
            }
        }
        return out;
    }

    /**
     * The last layer and the lm_head on {@code batch} (rows from {@code patched} on get the last layer's head patches),
     * in chunks of rows whose float32 logits stay within {@link #logitsBytes}: answer scores into {@code scores}.
     */
    private void scoreLastLayer(Tensor batch, int patched, KvCache prefix, int[] target, double[][] scores) {
        int L = layers(), H = heads(), total = (int) batch.size(0);
        long perRow = 4L * model.config().vocabSize() * target.length;
        int chunk = (int) Math.max(1, Math.min(total, logitsBytes / perRow));
        for (int start = 0; start < total; start += chunk) {
            try (PointerScope s = new PointerScope()) {
                int len = Math.min(chunk, total - start);
                HookPlan.Builder plan = HookPlan.builder();
                for (int h = 0; h < H; h++) {
                    int row = patched + h - start;
                    if (row >= 0 && row < len) {
                        plan.patch(patch(L - 1, h, 0, new int[] {row}));
                    }
                }
                Tensor logits = model.forwardSuffix(L - 1, L, batch.narrow(0, start, len), prefix, plan.build(), LogitsMode.ALL,
                        LogitsBuffer.WORKSPACE).logits();   // read at once by AnswerScores
                System.arraycopy(AnswerScores.of(logits, target), 0, scores, start, len);
            }
        }
    }

    /** Hands a tensor retained inside a closed scope to the enclosing one, which frees it. */
    private static void keepInScope(Tensor t) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
    }
}
