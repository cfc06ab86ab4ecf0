package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.KlDirection;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RunResult;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The regulariser's terms and gradients against a straightforward composite: full reference forwards (adapter off,
 * IV added with a plain ResidualAdd), log_softmax KLs masked by hand, MSE of captured heads.
 */
class IvGuidedRegulariserTest {
    @Test
    void termsAndGradientsMatchTheComposite() {
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(SharedData.stories260K().resolve("tok512.bin"));
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null);
             LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj")), 2)) {
            torch.manual_seed(5);
            try (NoGradGuard g = new NoGradGuard()) {
                for (Tensor[] ab : a.all().values()) {
                    ab[1].copy_(torch.randn(ab[1].size(0), ab[1].size(1)).mul(new Scalar(0.2)));
                }
            }
            m.attachAdapter(a);
            List<TokenizedPrompt> ex = TrainData.sst2(tok, "train", 0, 3);   // different lengths: left padding
            TrainBatch b = TrainBatch.of(ex);
            Tensor iv = torch.randn(64).mul(new Scalar(3));
            int layer = 2;
            List<HeadRanking.Head> heads = List.of(new HeadRanking.Head(1, 3, 0), new HeadRanking.Head(4, 6, 0));
            double T = 2.0;
            for (KlDirection dir : KlDirection.values()) {
                IvGuidedRegulariser reg = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, layer,
                        IvGuidedRegulariser.Site.ATTN_OUT, 1.0, 1.0, 1.0, T, dir, false, heads, new IvSchedule(IvSchedule.Kind.CONSTANT, 0.7, 0)));
                Regulariser.Prepared prep = reg.prepare(m, b, 0, 10);
                RunResult train = m.forward(b.tokens, b.mask, prep.trainingPlan(), null, LogitsMode.ALL);
                Regulariser.Terms terms = prep.terms(train);
                a.all().values().forEach(t -> { if (t[1].grad().defined()) t[1].grad().zero_(); });
                terms.total().backward();
                Tensor gradFused = a.all().get("model.layers.3.self_attn.v_proj")[1].grad().clone();

                // composite
                Positions at = Positions.of(b.predict);
                Tensor refLogits, refZ1, refZ4;
                try (NoGradGuard g = new NoGradGuard()) {
                    m.setAdapterEnabled(false);
                    refLogits = m.forward(b.tokens, b.mask, HookPlan.builder()
                            .add(new ResidualAdd(HookSite.attnOut(layer), at, iv, 0.7f, null)).build(), null, LogitsMode.ALL).logits();
                    RunResult z = m.forward(b.tokens, b.mask, HookPlan.builder().capture(HookSite.attnZ(1), at)
                            .capture(HookSite.attnZ(4), at).build(), null, LogitsMode.NONE);
                    refZ1 = z.capture(HookSite.attnZ(1)).select(1, 3);
                    refZ4 = z.capture(HookSite.attnZ(4)).select(1, 6);
                    m.setAdapterEnabled(true);
                }
                RunResult cur = m.forward(b.tokens, b.mask, HookPlan.builder().capture(HookSite.attnZ(1), at).capture(HookSite.attnZ(4), at).build(),
                        null, LogitsMode.ALL);
                Tensor lp = cur.logits().div(new Scalar(T)).log_softmax(2), lq = refLogits.div(new Scalar(T)).log_softmax(2);
                Tensor klPos = dir == KlDirection.REVERSE ? lp.exp().mul(lp.sub(lq)).sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                        : lq.exp().mul(lq.sub(lp)).sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional());   // [B, T]
                Tensor kl1 = klPos.reshape(-1).index_select(0, TrainData.predictIndex(b)).mean();
                Tensor kl2 = klPos.mul(b.mask.to(torch.ScalarType.Float)).sum().div(new Scalar(b.batch));
                Tensor d1 = cur.capture(HookSite.attnZ(1)).select(1, 3).sub(refZ1), d4 = cur.capture(HookSite.attnZ(4)).select(1, 6).sub(refZ4);
                Tensor pr = d1.mul(d1).mean().add(d4.mul(d4).mean());
                assertEquals(kl1.item_double(), terms.kl1(), 1e-5 + 1e-5 * Math.abs(terms.kl1()), dir + " kl1");
                assertEquals(kl2.item_double(), terms.kl2(), 1e-5 + 1e-5 * Math.abs(terms.kl2()), dir + " kl2");
                assertEquals(pr.item_double(), terms.pr(), 1e-7 + 1e-5 * Math.abs(terms.pr()), dir + " pr");
                assertTrue(terms.kl1() > 0 && terms.kl2() > 0 && terms.pr() > 0);
                a.all().values().forEach(t -> { if (t[1].grad().defined()) t[1].grad().zero_(); });
                kl1.add(kl2).add(pr).backward();
                Tensor gradComposite = a.all().get("model.layers.3.self_attn.v_proj")[1].grad();
                Compare.assertClose(gradComposite, gradFused, 1e-4, 1e-6, dir + " gradient w.r.t. LoRA B");
            }
        }
    }

    @Test
    void progressiveScheduleRamps() {
        IvSchedule s = IvSchedule.defaults();
        assertEquals(0.01, s.at(0, 1000), 1e-12);
        assertEquals(0.5, s.at(49, 1000), 1e-12);
        assertEquals(1.0, s.at(99, 1000), 1e-12);
        assertEquals(1.0, s.at(700, 1000), 1e-12);
        assertEquals(2.0, new IvSchedule(IvSchedule.Kind.CONSTANT, 2, 0).at(0, 10), 0.0);
    }
}
