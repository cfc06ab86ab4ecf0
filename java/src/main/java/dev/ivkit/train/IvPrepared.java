package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.kernels.FusedKl;
import dev.ivkit.model.RunResult;
import dev.ivkit.util.Torch;
import java.util.function.Function;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One batch's share of {@link IvGuidedRegulariser}: both KL terms in one fused call over the training logits
 * ({@link KlTerms}), head preservation by autograd. With a KL term on and the gates off, {@link #loss} folds the answer
 * CE into the KL kernel's gradient ({@link FoldedCe}): one [rows, V] gradient reaches the logits instead of the CE's
 * and the KL's, for the same loss up to float rounding. With gates (which look at each term's value before deciding
 * its gradient) or without a KL term it is the interface's default, the CE and {@link #terms} separately.
 */
final class IvPrepared implements Regulariser.Prepared {
    /** From the training logits [batch, len, V] and an optional fold to the fused KL over row weights (see KlTerms). */
    interface KlCall {
        /**
         * @param logits the training logits [batch, len, V]
         * @param fold   another loss to carry in the KL's surrogate, or null
         * @return from row weights [batch·len] to {the weighted KL sum plus the fold, the per-row weighted KL values}
         */
        Function<Tensor, Tensor[]> over(Tensor logits, FusedKl.Fold fold);
    }

    private final IvGuidedRegulariser.Config cfg;
    private final TrainBatch batch;
    private final KlCall kl;
    private final Tensor[] refHeads;
    private final HookPlan plan;

    /**
     * @param cfg      the regulariser's settings
     * @param batch    the batch prepared
     * @param kl       the fused KL against this batch's reference
     * @param refHeads the preserved heads' reference outputs [batch, d_head], in {@code cfg.heads()} order
     */
    IvPrepared(IvGuidedRegulariser.Config cfg, TrainBatch batch, KlCall kl, Tensor[] refHeads) {
        this.cfg = cfg;
        this.batch = batch;
        this.kl = kl;
        this.refHeads = refHeads;
        HookPlan.Builder tp = HookPlan.builder();
        if (cfg.alphaPr() > 0) {
            for (int l : IvGuidedRegulariser.headLayers(cfg)) {
                tp.capture(HookSite.attnZ(l), Positions.of(batch.predict));
            }
        }
        this.plan = tp.build();
    }

    private boolean klOn() {
        return cfg.alpha1() > 0 || cfg.alpha2() > 0;
    }

    @Override
    public HookPlan trainingPlan() {
        return plan;
    }

    @Override
    public Regulariser.Terms terms(RunResult training) {
        Tensor total = torch.zeros(new long[] {}, Torch.options(torch.ScalarType.Float));
        double kl1 = 0, kl2 = 0, pr = 0;
        if (klOn()) {
            Tensor logits = training.logits();                                   // [batch, len, vocab]
            KlTerms.Value v = KlTerms.of(cfg, batch, logits, 1, kl.over(logits, null));
            kl1 = v.kl1();
            kl2 = v.kl2();
            total = total.add(v.total());
        }
        Tensor term = preservation(training);
        if (term != null) {
            pr = Torch.item(term);
            total = total.add(term);
        }
        return new Regulariser.Terms(total, kl1, kl2, pr);
    }

    /** The CE folded into the KL kernel's gradient when a KL term is on and the gates are off; else the default. */
    @Override
    public Regulariser.Loss loss(RunResult training, TrainBatch b, double ceScale, double termsScale) {
        if (!klOn() || cfg.gates()) {
            return Regulariser.Prepared.super.loss(training, b, ceScale, termsScale);
        }
        if (b != batch) {
            throw new InvalidArgumentException("batch", "is not the batch this regulariser share was prepared for");
        }
        Tensor logits = training.logits();
        FoldedCe.Value ce = FoldedCe.of(batch, logits, ceScale);
        KlTerms.Value v = KlTerms.of(cfg, batch, logits, termsScale, kl.over(logits, ce.fold()));
        Tensor total = v.total();                                                // ceScale·CE + termsScale·KL
        Tensor term = preservation(training);
        double pr = 0;
        if (term != null) {
            pr = Torch.item(term);
            total = total.add(term.mul(new Scalar(termsScale)));
        }
        Tensor terms = torch.zeros(new long[] {}, Torch.options(torch.ScalarType.Float)).add(new Scalar(v.kl1() + v.kl2() + pr));
        return new Regulariser.Loss(total, Torch.item(ce.ce()), new Regulariser.Terms(terms, v.kl1(), v.kl2(), pr));
    }

    /** α_pr · Σ over the selected heads of the (gated) MSE to the reference, with gradient; null when off. */
    private Tensor preservation(RunResult training) {
        if (cfg.alphaPr() == 0) {
            return null;
        }
        Tensor sum = torch.zeros(new long[] {}, Torch.options(torch.ScalarType.Float));
        for (int i = 0; i < refHeads.length; i++) {
            HeadRanking.Head h = cfg.heads().get(i);
            Tensor z = training.capture(HookSite.attnZ(h.layer())).select(1, h.head());
            Tensor d = z.to(torch.ScalarType.Float).sub(Torch.onDevice(refHeads[i], z).to(torch.ScalarType.Float));
            sum = sum.add(gate(d.mul(d).mean(), 0.01));
        }
        return sum.mul(new Scalar(cfg.alphaPr()));
    }

    /** With gates on, a term below its threshold contributes nothing (value and gradient), as in the authors' code. */
    private Tensor gate(Tensor term, double threshold) {
        if (!cfg.gates() || Torch.item(term) > threshold) {
            return term;
        }
        return term.mul(new Scalar(0.0));
    }
}
