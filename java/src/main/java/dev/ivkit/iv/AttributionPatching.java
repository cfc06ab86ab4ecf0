package dev.ivkit.iv;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.PatchMode;
import dev.ivkit.model.KvCache;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RunResult;
import dev.ivkit.util.Torch;
import java.util.Arrays;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Attribution patching: the first-order estimate of the head scan. For each score s (first answer token probability,
 * answer NLL) one backward gives ∂s/∂z at the predicting position for every head at once, and
 * Δs(l, h) ≈ δ(l, h) · ∂s/∂z(l, h), with δ = mean − z (REPLACE) or δ = mean (ADD). The prefix runs once without
 * gradients (a patch at the last prompt token cannot change it); each score costs one suffix forward + backward.
 */
final class AttributionPatching {
    private AttributionPatching() {}

    static double[][][] score(LlamaModel model, Tensor meanZ, PatchMode mode, TokenizedPrompt p) {
        ModelConfig c = model.config();
        int L = c.nLayers(), H = c.nHeads();
        long[] ids = p.teacherForcedIds();
        int pos = p.predictPosition(), n = p.targetIds().length;
        double[][][] out = new double[3][][];
        out[0] = new double[L][H];
        out[1] = new double[L][H];
        try (KvCache prefix = model.newCache(1, Math.max(1, pos))) {
            if (pos > 0) {
                model.forward(torch.tensor(Arrays.copyOf(ids, pos)).reshape(1, pos), null, HookPlan.empty(), prefix, LogitsMode.NONE);
            }
            long[] tail = Arrays.copyOfRange(ids, pos, ids.length);
            for (int k = 0; k < 2; k++) {
                try (AutoGradMode grad = new AutoGradMode(true)) {
                    Tensor embedded = model.embedTokens(torch.tensor(tail).reshape(1, n)).detach().requires_grad_(true);
                    HookPlan.Builder b = HookPlan.builder();
                    for (int l = 0; l < L; l++) {
                        b.capture(HookSite.attnZ(l));
                    }
                    RunResult r = model.forwardSuffix(0, embedded, prefix, b.build(), LogitsMode.ALL);
                    Tensor[] z = new Tensor[L];
                    for (int l = 0; l < L; l++) {
                        z[l] = r.capture(HookSite.attnZ(l));                                   // [1, n, head, d_head]
                        z[l].retain_grad();
                    }
                    Tensor lp = r.logits().to(torch.ScalarType.Float).log_softmax(2);        // [1, n, vocab]
                    Tensor s;
                    if (k == 0) {
                        s = lp.select(1, 0).select(1, p.targetIds()[0]).exp().sum();
                    } else {
                        long[] t = new long[n];
                        for (int i = 0; i < n; i++) {
                            t[i] = p.targetIds()[i];
                        }
                        s = Torch.gather(lp, 2, Torch.onDevice(Torch.fromLongs(t), lp).reshape(1, n, 1)).mean().neg();
                    }
                    double value = Torch.item(s);
                    if (k == 0) {
                        out[2] = new double[][] {{value, 0}};
                    } else {
                        out[2][0][1] = value;
                    }
                    s.backward();
                    for (int l = 0; l < L; l++) {
                        Tensor zp = z[l].select(1, 0).select(0, 0).detach();                  // [head, d_head] at the predicting position
                        Tensor g = z[l].grad().select(1, 0).select(0, 0);
                        Tensor delta = mode == PatchMode.ADD ? meanZ.select(0, l) : meanZ.select(0, l).sub(zp);
                        float[] est = Torch.toFloatArray(delta.mul(g).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
                        for (int h = 0; h < H; h++) {
                            out[k][l][h] = est[h];
                        }
                    }
                }
            }
        }
        return out;
    }
}
