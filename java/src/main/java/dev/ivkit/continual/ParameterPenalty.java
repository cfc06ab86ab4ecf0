package dev.ivkit.continual;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.RunResult;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainBatch;
import org.bytedeco.pytorch.Tensor;

/**
 * A regulariser that depends only on the attached adapter's weights (no reference pass, no captures); its value is
 * reported in the trainer's {@code pr} column.
 */
abstract class ParameterPenalty implements Regulariser {
    /** The penalty for the adapter's current weights, with gradient. */
    public abstract Tensor penalty(LoraAdapter a);

    @Override
    public Prepared prepare(LlamaModel model, TrainBatch batch, int step, int totalSteps) {
        LoraAdapter a = model.adapter();
        return new Prepared() {
            @Override
            public HookPlan trainingPlan() {
                return HookPlan.empty();
            }

            @Override
            public Terms terms(RunResult training) {
                Tensor p = penalty(a);
                return new Terms(p, 0, 0, p.item_double());
            }
        };
    }
}
