package dev.ivkit.train;

import dev.ivkit.util.Torch;
import java.util.function.Function;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The two KL terms of {@link IvGuidedRegulariser} in one fused call over the batch's logits rows [B·len, V]: row
 * (b, t) gets the weight α2·[t real]/B + α1·[t = b's answer-predicting position]/B, so that the weighted sum is
 * α1·KL1 (the mean over examples of the KL at the answer-predicting position) + α2·KL2 (the KL summed over each
 * example's real positions, averaged over examples: the authors' batchmean), with one pass over the logits and one
 * gradient. Each term's value is split back out of the per-row values by its share of the row's weight. With the
 * authors' hard gates, a term whose unweighted value is at most 0.1 contributes nothing: the call is repeated without
 * its weights (both gated: value and gradient 0).
 */
final class KlTerms {
    private KlTerms() {}

    /** The terms' sum (carries the gradient) and each weighted term's value, as logged. */
    record Value(Tensor total, double kl1, double kl2) {}

    /**
     * The terms for {@code batch}.
     *
     * @param cfg    the regulariser's settings (α1, α2, gates)
     * @param batch  the batch (its mask and answer-predicting positions)
     * @param device a tensor on the logits' device
     * @param scale  a factor on every row weight: the returned total is the scaled terms (value and gradient), the
     *               logged kl1 and kl2 stay unscaled
     * @param kl     from row weights [B·len] float32 to {the weighted KL summed over rows, with gradient; the per-row
     *               weighted values [B·len]}
     */
    static Value of(IvGuidedRegulariser.Config cfg, TrainBatch batch, Tensor device, double scale, Function<Tensor, Tensor[]> kl) {
        int rows = batch.batch * batch.len;
        float[] w1 = new float[rows], w2 = new float[rows];
        long[] mask = batch.hostMask;
        for (int r = 0; r < batch.batch; r++) {
            w1[r * batch.len + (int) batch.predict[r]] = (float) (cfg.alpha1() / batch.batch);
        }
        if (cfg.alpha2() > 0) {
            for (int i = 0; i < rows; i++) {
                w2[i] = mask[i] == 0 ? 0 : (float) (cfg.alpha2() / batch.batch);
            }
        }
        Value v = call(device, kl, scale, w1, w2, true, true);
        boolean keep1 = !cfg.gates() || cfg.alpha1() == 0 || v.kl1() / cfg.alpha1() > 0.1;
        boolean keep2 = !cfg.gates() || cfg.alpha2() == 0 || v.kl2() / cfg.alpha2() > 0.1;
        if (keep1 && keep2) {
            return v;
        }
        if (!keep1 && !keep2) {
            return new Value(v.total().mul(new Scalar(0.0)), 0, 0);
        }
        return call(device, kl, scale, w1, w2, keep1, keep2);
    }

    /** One kernel call with the kept terms' weights times {@code scale}; kl1 and kl2 split out unscaled. */
    private static Value call(Tensor device, Function<Tensor, Tensor[]> kl, double scale, float[] w1, float[] w2,
            boolean use1, boolean use2) {
        float[] w = new float[w1.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (((use1 ? w1[i] : 0) + (use2 ? w2[i] : 0)) * scale);
        }
        Tensor[] out = kl.apply(Torch.onDevice(Torch.fromFloats(w, w.length), device));
        float[] perRow = Torch.toFloatArray(out[1]);
        double kl1 = 0, kl2 = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] > 0) {
                kl1 += use1 ? perRow[i] * (double) w1[i] / w[i] : 0;
                kl2 += use2 ? perRow[i] * (double) w2[i] / w[i] : 0;
            }
        }
        return new Value(out[0], kl1, kl2);
    }
}
