package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ivkit.KlDirection;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The reference pass (a prefix once into a KV cache, the suffix without and with the IV) against the plain composite:
 * one full forward with the adapter off and the IV added by a ResidualAdd, and one capturing the heads without it.
 * Rows with different answer lengths, so the answer-predicting positions differ and one row's padding runs past the
 * batch's first answer-predicting position; a 1-token prompt puts that position at 0 (no prefix).
 */
class ReferencePassTest {
    @Test
    void prefixAndSuffixPassesEqualOneFullForward() {
        try (PointerScope s = new PointerScope();
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null);
             LoraAdapter a = ReferenceCacheTest.perturbed(m, 0.2)) {
            Random rng = new Random(3);
            List<TokenizedPrompt> padded = List.of(TrainData.randomPrompt(rng, 5, 1), TrainData.randomPrompt(rng, 20, 6), TrainData.randomPrompt(rng, 12, 3));
            List<TokenizedPrompt> noPrefix = List.of(TrainData.randomPrompt(rng, 1, 4), TrainData.randomPrompt(rng, 3, 2));
            Tensor iv = torch.randn(64).mul(new Scalar(3));
            List<HeadRanking.Head> heads = List.of(new HeadRanking.Head(1, 3, 0), new HeadRanking.Head(2, 0, 0),
                    new HeadRanking.Head(4, 6, 0));
            for (List<TokenizedPrompt> ex : List.of(padded, noPrefix)) {
                TrainBatch b = TrainBatch.of(ex);
                for (IvGuidedRegulariser.Site site : IvGuidedRegulariser.Site.values()) {
                    for (double strength : new double[] {0, 0.7}) {
                        IvGuidedRegulariser.Config cfg = new IvGuidedRegulariser.Config(iv, 2, site, 1, 1, 1, 2,
                                KlDirection.REVERSE, false, heads, null);
                        Tensor[] got = ReferencePass.run(cfg, true, IvGuidedRegulariser.headLayers(cfg), m, b.tokens, b.mask,
                                b.predict, strength);
                        String what = ex.size() + " rows, " + site + ", strength " + strength;
                        assertEquals(true, m.adapterEnabled(), what + ": adapter state restored");
                        Positions at = Positions.of(b.predict);
                        try (NoGradGuard g = new NoGradGuard()) {
                            m.setAdapterEnabled(false);
                            HookSite where = switch (site) {
                                case ATTN_OUT -> HookSite.attnOut(2);
                                case RESID_MID -> HookSite.residMid(2);
                                case RESID_POST -> HookSite.residPost(2);
                            };
                            Tensor logits = m.forward(b.tokens, b.mask, HookPlan.builder()
                                    .add(new ResidualAdd(where, at, iv, (float) strength, null)).build(), null, LogitsMode.ALL).logits();
                            var z = m.forward(b.tokens, b.mask, HookPlan.builder().capture(HookSite.attnZ(1), at)
                                    .capture(HookSite.attnZ(2), at).capture(HookSite.attnZ(4), at).build(), null, LogitsMode.NONE);
                            m.setAdapterEnabled(true);
                            // real positions only: padding rows' logits are never read (masked out of the KL)
                            Tensor real = b.mask.to(torch.ScalarType.Bool).unsqueeze(2);
                            // the KV-cached suffix's attention and the spliced lm_head sum in another order: measured
                            // max |Δ| 1.3e-5 on these logits
                            Compare.assertClose(logits.mul(real), got[0].mul(real), 1e-5, 3e-5, what + ": logits");
                            Compare.assertClose(z.capture(HookSite.attnZ(1)).select(1, 3), got[1], 1e-5, 1e-6, what + ": head 1.3");
                            Compare.assertClose(z.capture(HookSite.attnZ(2)).select(1, 0), got[2], 1e-5, 1e-6, what + ": head 2.0");
                            Compare.assertClose(z.capture(HookSite.attnZ(4)).select(1, 6), got[3], 1e-5, 1e-6, what + ": head 4.6");
                        }
                    }
                }
            }
            // heads given but not preserved (α_pr = 0): logits only
            TrainBatch b = TrainBatch.of(padded);
            IvGuidedRegulariser.Config noPr = new IvGuidedRegulariser.Config(iv, 2, IvGuidedRegulariser.Site.ATTN_OUT, 1, 1, 0, 2,
                    KlDirection.REVERSE, false, heads, null);
            assertEquals(1, ReferencePass.run(noPr, true, IvGuidedRegulariser.headLayers(noPr), m, b.tokens, b.mask, b.predict, 1).length);
        }
    }
}
