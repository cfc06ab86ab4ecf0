package dev.ivkit.train;

import dev.ivkit.kernels.FusedKl;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The answer-token cross-entropy of {@link TrainBatch#crossEntropy} (float32, mean over the answer tokens) evaluated
 * without autograd, with its gradient w.r.t. the logits' answer rows, {@code (softmax(row) − onehot(label)) / answers},
 * as a {@link FusedKl.Fold} that the fused KL carries in its own surrogate: one [rows, V] gradient into the logits
 * instead of the CE's zero-filled one plus the KL's.
 */
final class FoldedCe {
    private FoldedCe() {}

    /**
     * @param ce   the unscaled CE, 0-dim float32 on the logits' device, no gradient
     * @param fold the scaled CE's value and gradient rows
     */
    record Value(Tensor ce, FusedKl.Fold fold) {}

    /**
     * The CE of {@code batch} on {@code logits} and its fold.
     *
     * @param batch  the batch (answer rows {@code labelIndex}, labels {@code labels})
     * @param logits the training logits [batch, len, V]
     * @param scale  the CE's factor in the loss the fold joins (value and gradient)
     * @return the unscaled value and the scaled fold
     */
    static Value of(TrainBatch batch, Tensor logits, double scale) {
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor index = Torch.onDevice(batch.labelIndex, logits);
            Tensor labels = Torch.onDevice(batch.labels, logits).unsqueeze(1);
            Tensor lp = batch.answerLogSoftmax(logits.detach());                                      // [answers, V]
            Tensor picked = Torch.gather(lp, 1, labels);
            Tensor ce = picked.mean().neg();
            Tensor grad = lp.exp_();                                                                  // softmax, in place
            grad.scatter_(1, labels, picked.exp().sub(new Scalar(1.0)));                              // − onehot
            grad.mul_(new Scalar(scale / batch.answerTokens));
            return new Value(ce, new FusedKl.Fold(index, grad, ce.mul(new Scalar(scale))));
        }
    }
}
