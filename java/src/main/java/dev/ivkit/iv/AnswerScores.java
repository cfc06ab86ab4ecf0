package dev.ivkit.iv;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Answer scores from teacher-forced logits: probability of the first answer token and the mean negative
 * log-likelihood of the whole answer. Log-softmax in float32 (libtorch), reduction in double.
 */
final class AnswerScores {
    private AnswerScores() {}

    /**
     * @param logits [rows, n, vocab]: row r's logits at the n positions predicting target[0..n-1]
     * @return [rows][2] = {P(target[0]), mean NLL}
     */
    static double[][] of(Tensor logits, int[] target) {
        long rows = logits.size(0), n = logits.size(1);
        Tensor lp = logits.to(torch.ScalarType.Float).log_softmax(2);                 // [rows, n, vocab]
        long[] idx = new long[(int) (rows * n)];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) {
                idx[(int) (r * n + i)] = target[i];
            }
        }
        Tensor picked = Torch.gather(lp, 2, Torch.onDevice(Torch.fromLongs(idx), lp).reshape(rows, n, 1));  // [rows, n, 1]
        float[] v = Torch.toFloatArray(picked);
        double[][] out = new double[(int) rows][2];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum -= v[(int) (r * n + i)];
            }
            out[r][0] = Math.exp(v[(int) (r * n)]);
            out[r][1] = sum / n;
        }
        return out;
    }
}
