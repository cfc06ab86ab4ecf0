package dev.ivkit.train;

import dev.ivkit.util.Torch;
import dev.ivkit.KlDirection;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.kernels.FusedKl;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.RunResult;
import java.util.List;
import java.util.TreeSet;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The IV-guided regulariser (method-spec §4.2, made exact and cheaper):
 * <ul>
 *   <li><b>KL</b>: the reference is the model with the current adapter disabled (base + earlier merged tasks), no
 *       gradient, with {@code s(step) · IV} added at {@code site} of layer L at each example's answer-predicting
 *       position. α1 · KL at that position (mean over examples, the authors' batchmean) + α2 · KL summed over the real
 *       (non-padding) positions of each example and averaged over examples (the authors also summed over padding),
 *       at temperature T, direction selectable (default the authors' KL(p_new ‖ p_ref)), no T² factor (as theirs).</li>
 *   <li><b>Head preservation</b>: α_pr · Σ over selected heads of the MSE between the training pass's z and the
 *       adapter-disabled z (without IV) at the answer-predicting position.</li>
 *   <li>Optional hard gates as in the authors' code (a term counts only above 0.1 for KL, 0.01 per head for MSE);
 *       off by default because they make the objective discontinuous.</li>
 * </ul>
 * Cost: one no-grad reference pass (captures the heads and the residual entering layer L) plus a no-grad pass from
 * layer L up with the IV, instead of the authors' two full reference passes.
 */
public final class IvGuidedRegulariser implements Regulariser {
    /** Where the IV enters the reference pass. The authors' training adds it to the o_proj output (hook_attn_out). */
    public enum Site {
        /** Added to layer L's attention output (hook_attn_out), as the authors' training does. */
        ATTN_OUT,
        /** Added to the residual stream between layer L's attention and MLP (hook_resid_mid). */
        RESID_MID,
        /** Added to the residual stream after block L (hook_resid_post). */
        RESID_POST
    }

    /**
     * The regulariser's settings.
     *
     * @param iv          the instruction vector [d_model]; required when {@code alpha1} or {@code alpha2} is positive
     * @param layer       the layer L the vector is added at
     * @param site        where in layer L it is added
     * @param alpha1      weight of the KL at the answer-predicting position; ≥ 0
     * @param alpha2      weight of the KL summed over each example's real positions; ≥ 0
     * @param alphaPr     weight of head preservation; ≥ 0
     * @param temperature softmax temperature of both distributions; &gt; 0
     * @param direction   which KL direction is taken
     * @param gates       whether the authors' hard gates apply
     * @param heads       the selected heads to preserve; required when {@code alphaPr} is positive
     * @param schedule    the IV's strength over training; null for {@link IvSchedule#defaults()}
     */
    public record Config(Tensor iv, int layer, Site site, double alpha1, double alpha2, double alphaPr, double temperature,
            KlDirection direction, boolean gates, List<HeadRanking.Head> heads, IvSchedule schedule) {
        /**
         * Checks the settings, copies {@code heads} (null: none) and fills in the default schedule.
         *
         * @param iv          the instruction vector [d_model]
         * @param layer       the layer L the vector is added at
         * @param site        where in layer L it is added
         * @param alpha1      weight of the KL at the answer-predicting position
         * @param alpha2      weight of the KL summed over each example's real positions
         * @param alphaPr     weight of head preservation
         * @param temperature softmax temperature
         * @param direction   which KL direction is taken
         * @param gates       whether the authors' hard gates apply
         * @param heads       the selected heads to preserve
         * @param schedule    the IV's strength over training, or null
         * @throws InvalidArgumentException when the temperature is not positive, a weight is negative, or the KL terms
         *                                  lack a vector or head preservation lacks heads
         */
        public Config {
            if (!(temperature > 0)) {
                throw new InvalidArgumentException("temperature", "must be positive, got " + temperature);
            }
            if (alpha1 < 0 || alpha2 < 0 || alphaPr < 0) {
                throw new InvalidArgumentException("alpha", "regulariser weights must be >= 0");
            }
            if ((alpha1 > 0 || alpha2 > 0) && iv == null) {
                throw new InvalidArgumentException("iv", "the KL terms need an instruction vector");
            }
            if (alphaPr > 0 && (heads == null || heads.isEmpty())) {
                throw new InvalidArgumentException("heads", "head preservation needs the selected heads");
            }
            heads = heads == null ? List.of() : List.copyOf(heads);
            schedule = schedule == null ? IvSchedule.defaults() : schedule;
        }
    }

    private final Config cfg;

    /**
     * A regulariser with the given settings.
     *
     * @param cfg the settings
     */
    public IvGuidedRegulariser(Config cfg) {
        this.cfg = cfg;
    }

    /**
     * The settings.
     *
     * @return the settings given to the constructor
     */
    public Config config() {
        return cfg;
    }

    private boolean klOn() {
        return cfg.alpha1() > 0 || cfg.alpha2() > 0;
    }

    @Override
    public Prepared prepare(LlamaModel model, TrainBatch batch, int step, int totalSteps) {
        if (klOn() && (cfg.layer() < 0 || cfg.layer() >= model.config().nLayers())) {
            throw new InvalidArgumentException("layer", cfg.layer() + " is out of range [0, " + model.config().nLayers() + ")");
        }
        boolean wasEnabled = model.adapterEnabled();
        Tensor refLogits = null;
        Tensor[] refHeads = new Tensor[cfg.heads().size()];
        TreeSet<Integer> headLayers = new TreeSet<>();
        for (HeadRanking.Head h : cfg.heads()) {
            headLayers.add(h.layer());
        }
        Positions at = Positions.of(batch.predict);
        try (NoGradGuard g = new NoGradGuard()) {
            model.setAdapterEnabled(false);
            if (klOn() || cfg.alphaPr() > 0) {
                HookPlan.Builder b = HookPlan.builder();
                if (klOn()) {
                    b.capture(HookSite.residPre(cfg.layer()));
                }
                if (cfg.alphaPr() > 0) {
                    for (int l : headLayers) {
                        b.capture(HookSite.attnZ(l), at);
                    }
                }
                RunResult ref = model.forward(batch.tokens, batch.mask, b.build(), null, LogitsMode.NONE);
                for (int i = 0; i < refHeads.length; i++) {
                    HeadRanking.Head h = cfg.heads().get(i);
                    refHeads[i] = ref.capture(HookSite.attnZ(h.layer())).select(1, h.head());   // [batch, d_head]
                }
                if (klOn()) {
                    double strength = cfg.schedule().at(step, totalSteps);
                    HookSite site = switch (cfg.site()) {
                        case ATTN_OUT -> HookSite.attnOut(cfg.layer());
                        case RESID_MID -> HookSite.residMid(cfg.layer());
                        case RESID_POST -> HookSite.residPost(cfg.layer());
                    };
                    HookPlan withIv = strength == 0 ? HookPlan.empty()
                            : HookPlan.builder().add(new ResidualAdd(site, at, cfg.iv(), (float) strength, null)).build();
                    refLogits = model.forwardFrom(cfg.layer(), ref.capture(HookSite.residPre(cfg.layer())), batch.mask, withIv,
                            LogitsMode.ALL).logits();
                }
            }
        } finally {
            model.setAdapterEnabled(wasEnabled);
        }
        HookPlan.Builder tp = HookPlan.builder();
        if (cfg.alphaPr() > 0) {
            for (int l : headLayers) {
                tp.capture(HookSite.attnZ(l), at);
            }
        }
        Tensor ref = refLogits;
        return new Prepared() {
            @Override
            public HookPlan trainingPlan() {
                return tp.build();
            }

            @Override
            public Terms terms(RunResult training) {
                Tensor total = torch.zeros(new long[] {}, dev.ivkit.util.Torch.options(torch.ScalarType.Float));
                double kl1 = 0, kl2 = 0, pr = 0;
                if (klOn()) {
                    Tensor cur = training.logits();                          // [batch, len, vocab]
                    long v = cur.size(2);
                    Tensor predictIdx = Torch.onDevice(predictIndex(batch), cur);
                    if (cfg.alpha1() > 0) {
                        Tensor kl = FusedKl.loss(Torch.rows(cur.reshape(-1, v), predictIdx),
                                Torch.rows(ref.reshape(-1, v), predictIdx), null, cfg.temperature(), cfg.direction(),
                                FusedKl.Reduction.MEAN);
                        Tensor term = gate(kl, 0.1).mul(new Scalar(cfg.alpha1()));
                        kl1 = Torch.item(term);
                        total = total.add(term);
                    }
                    if (cfg.alpha2() > 0) {
                        // padding rows masked out; summed over each example's real positions, averaged over examples
                        Tensor kl = FusedKl.loss(cur, ref, Torch.onDevice(batch.mask, cur).to(torch.ScalarType.Bool), cfg.temperature(), cfg.direction(),
                                FusedKl.Reduction.BATCHMEAN);
                        Tensor term = gate(kl, 0.1).mul(new Scalar(cfg.alpha2()));
                        kl2 = Torch.item(term);
                        total = total.add(term);
                    }
                }
                if (cfg.alphaPr() > 0) {
                    Tensor sum = torch.zeros(new long[] {}, dev.ivkit.util.Torch.options(torch.ScalarType.Float));
                    for (int i = 0; i < refHeads.length; i++) {
                        HeadRanking.Head h = cfg.heads().get(i);
                        Tensor z = training.capture(HookSite.attnZ(h.layer())).select(1, h.head());
                        Tensor d = z.to(torch.ScalarType.Float).sub(refHeads[i].to(torch.ScalarType.Float));
                        sum = sum.add(gate(d.mul(d).mean(), 0.01));
                    }
                    Tensor term = sum.mul(new Scalar(cfg.alphaPr()));
                    pr = Torch.item(term);
                    total = total.add(term);
                }
                return new Terms(total, kl1, kl2, pr);
            }
        };
    }

    /** With gates on, a term below its threshold contributes nothing (value and gradient), as in the authors' code. */
    private Tensor gate(Tensor term, double threshold) {
        if (!cfg.gates() || Torch.item(term) > threshold) {
            return term;
        }
        return term.mul(new Scalar(0.0));
    }

    static Tensor predictIndex(TrainBatch b) {
        long[] idx = new long[b.batch];
        for (int r = 0; r < b.batch; r++) {
            idx[r] = (long) r * b.len + b.predict[r];
        }
        return torch.tensor(idx);
    }
}
