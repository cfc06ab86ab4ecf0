package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.KlDirection;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.RunResult;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.Compare;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link Regulariser.Prepared#loss} of {@link IvGuidedRegulariser} with the answer CE folded into the fused KL's
 * gradient, against the interface's default (the CE by {@link TrainBatch#crossEntropy} plus {@link Regulariser.Prepared#terms},
 * added by autograd) on stories260K: loss value, CE, logged terms and every LoRA B gradient, for both KL directions,
 * α2 on and off, no cache / the exact cache / the top-k cache (first visits and revisits), and CE / terms scales other
 * than 1 as in a data-parallel run. With the gates on or no KL term the fused path is not taken: the same values.
 */
class FoldedLossTest {
    static final double RTOL = 1e-5, ATOL = 1e-7;

    /** The same share with the interface's default {@code loss}: separate CE and terms (the reference). */
    static Regulariser.Prepared unfused(Regulariser.Prepared p) {
        return new Regulariser.Prepared() {
            @Override
            public HookPlan trainingPlan() {
                return p.trainingPlan();
            }

            @Override
            public Regulariser.Terms terms(RunResult training) {
                return p.terms(training);
            }
        };
    }

    record Out(Regulariser.Loss loss, double value, Tensor logitsGrad, List<Tensor> grads) {}

    /** The training forward, {@code prep.loss} and its backward; the loss, the logits' and every adapter B gradient. */
    static Out run(Regulariser.Prepared prep, LlamaModel m, LoraAdapter a, TrainBatch b, double ceScale, double termsScale) {
        a.all().values().forEach(t -> { if (t[1].grad().defined()) t[1].grad().zero_(); });
        RunResult train = m.forward(b.tokens, b.mask, prep.trainingPlan(), null, LogitsMode.ALL);
        train.logits().retain_grad();
        Regulariser.Loss loss = prep.loss(train, b, ceScale, termsScale);
        double value = loss.total().item_double();
        loss.total().backward();
        List<Tensor> grads = new ArrayList<>();
        for (Map.Entry<String, Tensor[]> e : a.all().entrySet()) {
            grads.add(e.getValue()[1].grad().clone());
        }
        return new Out(loss, value, train.logits().grad().clone(), grads);
    }

    static void assertClose(double want, double got, String what) {
        assertEquals(want, got, ATOL + RTOL * Math.abs(want), what);
    }

    /** The fused loss of {@code prep} against its unfused default, on one prepared batch. */
    static void assertFusedMatches(Regulariser.Prepared prep, LlamaModel m, LoraAdapter a, TrainBatch b, double ceScale,
            double termsScale, String what) {
        Out want = run(unfused(prep), m, a, b, ceScale, termsScale), got = run(prep, m, a, b, ceScale, termsScale);
        // the fused path logs constant terms (their gradient is in the folded total); the default's carry the gradient
        assertFalse(got.loss().terms().total().requires_grad(), what + ": the fused path ran");
        assertTrue(want.loss().terms().total().requires_grad(), what + ": the default ran");
        assertClose(want.value(), got.value(), what + " loss value");
        assertClose(want.loss().ce(), got.loss().ce(), what + " ce");
        assertClose(want.loss().terms().total().item_double(), got.loss().terms().total().item_double(), what + " terms");
        assertClose(want.loss().terms().kl1(), got.loss().terms().kl1(), what + " kl1");
        assertClose(want.loss().terms().kl2(), got.loss().terms().kl2(), what + " kl2");
        assertClose(want.loss().terms().pr(), got.loss().terms().pr(), what + " pr");
        // the loss is the scaled sum of the logged parts
        Regulariser.Terms t = want.loss().terms();
        assertClose(ceScale * want.loss().ce() + termsScale * (t.kl1() + t.kl2() + t.pr()), got.value(), what + " scaled sum");
        // where the fold acts: the gradient w.r.t. the logits
        Compare.assertClose(want.logitsGrad(), got.logitsGrad(), RTOL, ATOL, what + " gradient w.r.t. the logits");
        // the LoRA B gradients sum the logits' gradient over every row and vocabulary entry through the whole backward:
        // a 1e-9 perturbation of it moves them by ~3e-6 (measured on this model), so the fold's float rounding (< 1e-8 in
        // the logits' gradient) is checked against each gradient's scale rather than element by element at 1e-7
        for (int i = 0; i < want.grads().size(); i++) {
            double scale = want.grads().get(i).abs().max().item_double();
            Compare.assertClose(want.grads().get(i), got.grads().get(i), RTOL, RTOL * scale, what + " gradient w.r.t. LoRA B " + i);
        }
    }

    @Test
    void foldedLossEqualsSeparateCeAndTerms() {
        try (PointerScope s = new PointerScope(); Tokenizer tok = ReferenceCacheTest.tok(); LlamaModel m = ReferenceCacheTest.model();
             LoraAdapter a = ReferenceCacheTest.perturbed(m, 0.2)) {
            List<TokenizedPrompt> ex = TrainData.sst2(tok, "train", 0, 4);
            Tensor iv = torch.randn(64).mul(new Scalar(3));
            IvSchedule constant = new IvSchedule(IvSchedule.Kind.CONSTANT, 0.7, 0);
            int[][] batches = {{0, 1, 2}, {2, 0, 1}, {3, 1}};   // first visits, a revisit (other padding), mixed
            double[][] scales = {{1, 1}, {0.6, 1.7}};
            for (KlDirection dir : KlDirection.values()) {
                for (double alpha2 : new double[] {1, 0}) {
                    for (int topK : new int[] {0, IvGuidedRegulariser.TOP_K_CACHE, IvGuidedRegulariser.EXACT_CACHE}) {
                        IvGuidedRegulariser reg = ReferenceCacheTest.reg(iv, dir, constant, topK, 1, alpha2);
                        for (int i = 0; i < batches.length; i++) {
                            TrainBatch b = ReferenceCacheTest.batch(ex, batches[i]);
                            Regulariser.Prepared prep = reg.prepare(m, b, i, 10);
                            for (double[] sc : scales) {
                                assertFusedMatches(prep, m, a, b, sc[0], sc[1],
                                        dir + " α2 " + alpha2 + " top-k " + topK + " batch " + i + " scales " + sc[0] + "/" + sc[1]);
                            }
                        }
                        assertEquals(topK == 0 ? 8 : 5, reg.referenceRows(), "the revisit ran from the cache");
                    }
                }
            }
        }
    }

    @Test
    void gatesOrNoKlTermFallBackToTheDefault() {
        try (PointerScope s = new PointerScope(); Tokenizer tok = ReferenceCacheTest.tok(); LlamaModel m = ReferenceCacheTest.model();
             LoraAdapter a = ReferenceCacheTest.perturbed(m, 0.2)) {
            TrainBatch b = TrainBatch.of(TrainData.sst2(tok, "train", 0, 3));
            Tensor iv = torch.randn(64).mul(new Scalar(3));
            IvSchedule constant = new IvSchedule(IvSchedule.Kind.CONSTANT, 0.7, 0);
            IvGuidedRegulariser gated = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, 2, IvGuidedRegulariser.Site.ATTN_OUT,
                    1.0, 1.0, 1.0, ReferenceCacheTest.T, KlDirection.REVERSE, true, ReferenceCacheTest.HEADS, constant));
            IvGuidedRegulariser noKlAtAll = new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv, 2,
                    IvGuidedRegulariser.Site.ATTN_OUT, 0, 0, 1.0, ReferenceCacheTest.T, KlDirection.REVERSE, false,
                    ReferenceCacheTest.HEADS, constant));
            for (IvGuidedRegulariser reg : List.of(gated, noKlAtAll)) {
                Regulariser.Prepared prep = reg.prepare(m, b, 0, 10);
                Out want = run(unfused(prep), m, a, b, 0.6, 1.7), got = run(prep, m, a, b, 0.6, 1.7);
                assertEquals(want.value(), got.value(), 0.0, "the default's value");
                assertEquals(want.loss().ce(), got.loss().ce(), 0.0);
                assertEquals(want.loss().terms().pr(), got.loss().terms().pr(), 0.0);
                assertTrue(got.loss().terms().total().requires_grad(), "the default's terms carry the gradient");
                for (int i = 0; i < want.grads().size(); i++) {
                    Compare.assertClose(want.grads().get(i), got.grads().get(i), 0, 0, "gradient " + i);
                }
            }
            // the fused loss is only for the batch it was prepared for
            IvGuidedRegulariser plain = ReferenceCacheTest.reg(iv, KlDirection.REVERSE, constant, 0);
            Regulariser.Prepared prep = plain.prepare(m, b, 0, 10);
            RunResult train = m.forward(b.tokens, b.mask, prep.trainingPlan(), null, LogitsMode.ALL);
            assertThrows(InvalidArgumentException.class, () -> prep.loss(train, TrainBatch.of(TrainData.sst2(tok, "train", 0, 3)), 1, 1));
        }
    }
}
