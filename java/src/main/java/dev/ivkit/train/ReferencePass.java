package dev.ivkit.train;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.RunResult;
import java.util.TreeSet;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The reference pass of {@link IvGuidedRegulariser}: the model with its adapter disabled and no gradient, capturing
 * the preserved heads and the residual entering layer L, then layers L.. again with the IV added.
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
        Tensor[] out = new Tensor[1 + cfg.heads().size()];
        Positions at = Positions.of(predict);
        try (NoGradGuard g = new NoGradGuard()) {
            model.setAdapterEnabled(false);
            if (klOn || cfg.alphaPr() > 0) {
                HookPlan.Builder b = HookPlan.builder();
                if (klOn) {
                    b.capture(HookSite.residPre(cfg.layer()));
                }
                if (cfg.alphaPr() > 0) {
                    for (int l : headLayers) {
                        b.capture(HookSite.attnZ(l), at);
                    }
                }
                RunResult ref = model.forward(tokens, mask, b.build(), null, LogitsMode.NONE);
                for (int i = 1; i < out.length; i++) {
                    HeadRanking.Head h = cfg.heads().get(i - 1);
                    out[i] = ref.capture(HookSite.attnZ(h.layer())).select(1, h.head());   // [rows, d_head]
                }
                if (klOn) {
                    HookSite site = switch (cfg.site()) {
                        case ATTN_OUT -> HookSite.attnOut(cfg.layer());
                        case RESID_MID -> HookSite.residMid(cfg.layer());
                        case RESID_POST -> HookSite.residPost(cfg.layer());
                    };
                    HookPlan withIv = strength == 0 ? HookPlan.empty()
                            : HookPlan.builder().add(new ResidualAdd(site, at, cfg.iv(), (float) strength, null)).build();
                    out[0] = model.forwardFrom(cfg.layer(), ref.capture(HookSite.residPre(cfg.layer())), mask, withIv,
                            LogitsMode.ALL).logits();
                }
            }
        } finally {
            model.setAdapterEnabled(wasEnabled);
        }
        return out;
    }
}
