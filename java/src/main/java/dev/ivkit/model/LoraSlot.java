package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The LoRA state of one {@link LlamaModel}: the attached adapter (not owned), whether its update is applied, whether
 * dropout is active, and the arithmetic of the update, the merge and the unmerge.
 */
final class LoraSlot {
    private LoraAdapter adapter;
    private boolean enabled = true;
    private boolean training;

    void attach(ModelConfig cfg, Device device, LoraAdapter a) {
        for (int l = 0; l < cfg.nLayers(); l++) {
            for (String m : a.config().targets()) {
                Tensor[] ab = a.weights(LoraConfig.modulePath(l, m));
                long[] io = LoraAdapter.inOut(cfg, m);
                if (ab == null || ab[0].size(1) != io[0] || ab[1].size(0) != io[1]) {
                    throw new InvalidArgumentException("adapter", "adapter does not fit this model at " + LoraConfig.modulePath(l, m));
                }
            }
        }
        a.moveTo(device);
        this.adapter = a;
        this.enabled = true;
    }

    LoraAdapter detach() {
        LoraAdapter a = adapter;
        adapter = null;
        return a;
    }

    LoraAdapter adapter() {
        return adapter;
    }

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    boolean enabled() {
        return enabled;
    }

    void setTraining(boolean training) {
        this.training = training;
    }

    boolean training() {
        return training;
    }

    /** The fp32 update {@code (alpha/r) dropout(x) A^T B^T} of a module, or null when none applies. */
    Tensor delta(String modulePath, Tensor x) {
        if (adapter == null || !enabled) {
            return null;
        }
        Tensor[] ab = adapter.weights(modulePath);
        if (ab == null) {
            return null;
        }
        LoraConfig lc = adapter.config();
        Tensor xin = x.to(torch.ScalarType.Float);
        if (training && lc.dropout() > 0) {
            xin = torch.dropout(xin, lc.dropout(), true);
        }
        return xin.matmul(ab[0].t()).matmul(ab[1].t()).mul(new Scalar(lc.scaling()));
    }

    /** Adds the attached adapter into the weights and detaches it. */
    void merge(ModelConfig cfg, Map<String, Tensor> weights, torch.ScalarType dtype) {
        if (adapter == null) {
            throw new InvalidArgumentException("adapter", "no adapter attached");
        }
        applyDelta(cfg, weights, dtype, adapter, 1.0);
        adapter = null;
    }

    /** {@code W += sign (alpha/r) B A} for every module the adapter targets. */
    static void applyDelta(ModelConfig cfg, Map<String, Tensor> weights, torch.ScalarType dtype, LoraAdapter a, double sign) {
        try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            for (int l = 0; l < cfg.nLayers(); l++) {
                for (String m : a.config().targets()) {
                    Tensor[] ab = a.weights(LoraConfig.modulePath(l, m));
                    Tensor w = weights.get(LoraConfig.modulePath(l, m) + ".weight");
                    Tensor delta = ab[1].detach().matmul(ab[0].detach()).mul(new Scalar(sign * a.config().scaling()));
                    w.add_(delta.to(dtype));
                }
            }
        }
    }
}
