package dev.ivkit.continual;

import dev.ivkit.KlDirection;
import dev.ivkit.MatmulPrecision;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.IvSchedule;
import dev.ivkit.train.Regulariser;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The regulariser of a continual {@link Method} for one task, with a run's weights: naive and replay train without one;
 * IV-guided adds the task's IV at {@code ivSite} of the IV layer in the reference pass (KL terms) and preserves its heads
 * (only with {@code alphaPr > 0}: with 0 no heads are captured); LwF is the same KL terms with no IV and no head preservation,
 * LwF-PR the same KL terms with no IV and IV-guided's head preservation; EWC penalises moves along the
 * Fisher of the tasks so far and O-LoRA overlap with the earlier adapters' A matrices (neither on the first task).
 *
 * @param alpha1      weight of the KL at the answer-predicting position (IV-guided, LwF)
 * @param alpha2      weight of the KL over every real position (IV-guided, LwF)
 * @param alphaPr     weight of the head-output preservation (IV-guided, LwF-PR)
 * @param temperature KL temperature
 * @param kl          KL direction
 * @param ivSite      where the IV is added in the reference pass (IV-guided)
 * @param ewcLambda   EWC strength
 * @param oloraLambda O-LoRA strength
 * @param referenceCacheTopK the KL regularisers' reference cache (0: off; see {@link IvGuidedRegulariser.Config})
 * @param referencePrecision precision of the KL regularisers' reference GEMMs (null: full)
 */
public record RegulariserFactory(double alpha1, double alpha2, double alphaPr, double temperature, KlDirection kl,
        IvGuidedRegulariser.Site ivSite, double ewcLambda, double oloraLambda, int referenceCacheTopK,
        MatmulPrecision referencePrecision) {
    /**
     * The factory without a reference cache; the parameters are the canonical constructor's.
     *
     * @param alpha1      weight of the KL at the answer-predicting position
     * @param alpha2      weight of the KL over real positions
     * @param alphaPr     weight of head preservation
     * @param temperature KL temperature
     * @param kl          KL direction
     * @param ivSite      where the IV is added in the reference pass
     * @param ewcLambda   EWC strength
     * @param oloraLambda O-LoRA strength
     */
    public RegulariserFactory(double alpha1, double alpha2, double alphaPr, double temperature, KlDirection kl,
            IvGuidedRegulariser.Site ivSite, double ewcLambda, double oloraLambda) {
        this(alpha1, alpha2, alphaPr, temperature, kl, ivSite, ewcLambda, oloraLambda, 0, MatmulPrecision.FULL);
    }

    /**
     * The regulariser of {@code method} for the next task, or null where the method trains without one.
     *
     * @param iv        the task's IV on the base model (IV-guided; LwF-PR takes its heads; else may be null)
     * @param ivLayer   the layer it is added at (IV-guided only)
     * @param fisher    EWC's summed Fisher of the tasks so far, or null before the first
     * @param previousA O-LoRA's A matrices of the earlier tasks' adapters (empty before the first)
     */
    public Regulariser create(Method method, LlamaModel model, InstructionVector iv, int ivLayer, Map<String, Tensor> fisher,
            List<Map<String, Tensor>> previousA) {
        return switch (method) {
            case NAIVE, REPLAY -> null;
            case IV_GUIDED -> new IvGuidedRegulariser(new IvGuidedRegulariser.Config(iv.vector(), ivLayer, ivSite, alpha1, alpha2,
                    alphaPr, temperature, kl, false, alphaPr > 0 ? iv.heads() : List.of(), null, referenceCacheTopK, referencePrecision));
            case LWF -> new IvGuidedRegulariser(new IvGuidedRegulariser.Config(torch.zeros(model.config().dModel()), 0,
                    IvGuidedRegulariser.Site.ATTN_OUT, alpha1, alpha2, 0, temperature, kl, false, List.of(),
                    new IvSchedule(IvSchedule.Kind.CONSTANT, 0, 0), referenceCacheTopK, referencePrecision));
            case LWF_PR -> new IvGuidedRegulariser(new IvGuidedRegulariser.Config(torch.zeros(model.config().dModel()), ivLayer,
                    ivSite, alpha1, alpha2, alphaPr, temperature, kl, false, alphaPr > 0 ? iv.heads() : List.of(),
                    new IvSchedule(IvSchedule.Kind.CONSTANT, 0, 0), referenceCacheTopK, referencePrecision));
            case EWC -> fisher == null ? null : new EwcRegulariser(fisher, ewcLambda);
            case OLORA -> previousA.isEmpty() ? null : new OLoraRegulariser(previousA, oloraLambda);
        };
    }
}
