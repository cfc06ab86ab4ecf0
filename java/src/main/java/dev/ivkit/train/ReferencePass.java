package dev.ivkit.train;

import dev.ivkit.MatmulPrecision;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.model.KvCache;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.RunResult;
import dev.ivkit.util.ReducedMatmul;
import java.util.TreeSet;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The reference pass of {@link IvGuidedRegulariser}: the model with its adapter disabled and no gradient, with the IV
 * added at layer L at each row's answer-predicting position, plus the preserved heads' outputs there without the IV.
 *
 * <p>Attention is causal, so the IV changes no position before the first answer-predicting position s of the batch:
 * the pass runs one forward without the IV into a KV cache (capturing the heads, the residual entering L and the
 * final hidden states, those before s the reference's), rewinds the cache to s and runs the suffix [s, len) again from
 * layer L with the IV, whose final hidden states overwrite the rest before one lm_head GEMM over every position. That
 * is one forward plus (len − s) positions of layers L and up, instead of a forward up to the last preserved head plus
 * a second one of every position from layer L. At strength 0 (LwF, a ramp's first steps) it is one plain forward
 * without a cache. With {@link MatmulPrecision#REDUCED} the whole pass (logits and the preserved heads' outputs) runs
 * its float32 GEMMs with reduced-precision products ({@link ReducedMatmul}).
 */
final class ReferencePass {
    private ReferencePass() {}

    /**
     * The reference pass over {@code tokens} (adapter disabled, no gradient): {reference logits [rows, len, V] with the
     * IV at {@code strength} at {@code cfg.layer()} (null when {@code klOn} is false), then each preserved head's output
     * [rows, d_head] at {@code predict}}; the model's adapter state is restored.
     */
    static Tensor[] run(IvGuidedRegulariser.Config cfg, boolean klOn, TreeSet<Integer> headLayers, LlamaModel model, Tensor tokens,
            Tensor mask, long[] predict, double strength) {
        boolean wasEnabled = model.adapterEnabled();
        Tensor[] out = new Tensor[1 + (cfg.alphaPr() > 0 ? cfg.heads().size() : 0)];   // no head outputs without preservation
        long s = Long.MAX_VALUE;
        for (long p : predict) {
            s = Math.min(s, p);
        }
        int rows = (int) tokens.size(0), len = (int) tokens.size(1);
        try (NoGradGuard g = new NoGradGuard();
                ReducedMatmul products = ReducedMatmul.enter(cfg.referencePrecision() == MatmulPrecision.REDUCED)) {
            model.setAdapterEnabled(false);
            if (!klOn && cfg.alphaPr() > 0) {
                RunResult ref = model.forward(tokens, mask, headPlan(headLayers, Positions.of(predict)).build(), null, LogitsMode.NONE);
                heads(cfg, ref, out);
            } else if (klOn && strength == 0) {   // no IV to add (LwF, a ramp's first steps): one plain forward, no cache
                RunResult ref = model.forward(tokens, mask, headPlan(cfg.alphaPr() > 0 ? headLayers : new TreeSet<>(),
                        Positions.of(predict)).build(), null, LogitsMode.ALL);
                heads(cfg, ref, out);
                out[0] = ref.logits();
            } else if (klOn) {
                try (KvCache cache = model.newCache(rows, len)) {
                    HookPlan.Builder plain = headPlan(cfg.alphaPr() > 0 ? headLayers : new TreeSet<>(), Positions.of(predict))
                            .capture(HookSite.residPre(cfg.layer())).capture(HookSite.lnFinal());
                    RunResult ref = model.forward(tokens, mask, plain.build(), cache, LogitsMode.NONE);
                    heads(cfg, ref, out);
                    Tensor hidden = ref.capture(HookSite.lnFinal());   // [rows, len, d_model]
                    // the suffix again from layer L, with the IV, over the rewound cache
                    cache.truncate((int) s);
                    long[] at = new long[predict.length];
                    for (int r = 0; r < at.length; r++) {
                        at[r] = predict[r] - s;
                    }
                    HookSite site = switch (cfg.site()) {
                        case ATTN_OUT -> HookSite.attnOut(cfg.layer());
                        case RESID_MID -> HookSite.residMid(cfg.layer());
                        case RESID_POST -> HookSite.residPost(cfg.layer());
                    };
                    HookPlan withIv = HookPlan.builder().add(new ResidualAdd(site, Positions.of(at), cfg.iv(), (float) strength, null))
                            .capture(HookSite.lnFinal()).build();
                    RunResult iv = model.forwardFrom(cfg.layer(), ref.capture(HookSite.residPre(cfg.layer())).narrow(1, s, len - s),
                            mask == null ? null : mask.narrow(1, s, len - s), withIv, cache, LogitsMode.NONE);
                    hidden.narrow(1, s, len - s).copy_(iv.capture(HookSite.lnFinal()));
                    out[0] = model.unembed(hidden);   // one lm_head GEMM over every position
                }
            }
        } finally {
            model.setAdapterEnabled(wasEnabled);
        }
        return out;
    }

    /** Captures of the preserved heads' layers (attn z) at {@code at}. */
    private static HookPlan.Builder headPlan(TreeSet<Integer> headLayers, Positions at) {
        HookPlan.Builder b = HookPlan.builder();
        for (int l : headLayers) {
            b.capture(HookSite.attnZ(l), at);
        }
        return b;
    }

    /** Each preserved head's output [rows, d_head] from the captures of {@code ref} into {@code out[1..]}. */
    private static void heads(IvGuidedRegulariser.Config cfg, RunResult ref, Tensor[] out) {
        for (int i = 1; i < out.length; i++) {
            HeadRanking.Head h = cfg.heads().get(i - 1);
            out[i] = ref.capture(HookSite.attnZ(h.layer())).select(1, h.head());   // [rows, d_head]
        }
    }
}
