package dev.ivkit.train;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.util.Torch;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A left-padded batch of teacher-forced examples: tokens [batch, len] = prompt + answer minus its last token, mask
 * [batch, len], and for each answer token the flat index (row·len + position) of the logits that predict it, with its
 * id. {@code predict[b]} is the position of row b's last prompt token (the answer-predicting position).
 */
public final class TrainBatch {
    /** Token ids, left-padded with 0: [batch, len] int64. */
    public final Tensor tokens;
    /** 1 at real tokens, 0 at padding: [batch, len] int64. */
    public final Tensor mask;
    /** Per answer token, the flat index (row·len + position) of the logits that predict it: [answerTokens] int64. */
    public final Tensor labelIndex;
    /** Per answer token, its id: [answerTokens] int64. */
    public final Tensor labels;
    /** Per row, the position of its last prompt token (the answer-predicting position): [batch]. */
    public final long[] predict;
    /** The number of rows. */
    public final int batch;
    /** The padded sequence length. */
    public final int len;
    /** The number of answer tokens over all rows. */
    public final int answerTokens;
    /** The number of real (non-padding) tokens over all rows. */
    public final int realTokens;
    /** {@link #tokens} and {@link #mask} as built on the host, row-major (read, never written): no copies back per step. */
    final long[] hostTokens, hostMask;

    private TrainBatch(long[] hostTokens, long[] hostMask, Tensor labelIndex, Tensor labels, long[] predict, int batch, int len,
            int answerTokens, int realTokens) {
        this.hostTokens = hostTokens;
        this.hostMask = hostMask;
        this.tokens = torch.tensor(hostTokens).reshape(batch, len);
        this.mask = torch.tensor(hostMask).reshape(batch, len);
        this.labelIndex = labelIndex;
        this.labels = labels;
        this.predict = predict;
        this.batch = batch;
        this.len = len;
        this.answerTokens = answerTokens;
        this.realTokens = realTokens;
    }

    /**
     * Builds the batch; rows are left-padded to the longest example.
     *
     * @param examples the prompts with their answers, one per row
     * @return the batch
     */
    public static TrainBatch of(List<TokenizedPrompt> examples) {
        int b = examples.size(), len = 0, answers = 0, real = 0;
        for (TokenizedPrompt e : examples) {
            len = Math.max(len, e.promptIds().length + e.targetIds().length - 1);
            answers += e.targetIds().length;
        }
        long[] ids = new long[b * len], mask = new long[b * len], idx = new long[answers], lab = new long[answers], predict = new long[b];
        int k = 0;
        for (int r = 0; r < b; r++) {
            TokenizedPrompt e = examples.get(r);
            long[] seq = e.teacherForcedIds();
            int off = len - seq.length;
            real += seq.length;
            for (int i = 0; i < seq.length; i++) {
                ids[r * len + off + i] = seq[i];
                mask[r * len + off + i] = 1;
            }
            int p = off + e.predictPosition();
            predict[r] = p;
            for (int i = 0; i < e.targetIds().length; i++) {
                idx[k] = (long) r * len + p + i;
                lab[k] = e.targetIds()[i];
                k++;
            }
        }
        return new TrainBatch(ids, mask, torch.tensor(idx), torch.tensor(lab), predict, b, len, answers, real);
    }

    /**
     * Mean cross-entropy over the answer tokens (on any device; the indices follow).
     *
     * @param logits [batch, len, vocab] logits of a forward over {@link #tokens}
     * @return a scalar float32 tensor, differentiable through {@code logits}
     */
    public Tensor crossEntropy(Tensor logits) {
        return Torch.gather(answerLogSoftmax(logits), 1, Torch.onDevice(labels, logits).unsqueeze(1)).mean().neg();
    }

    /** The float32 log-softmax of the rows of {@code logits} [batch, len, V] that predict answer tokens: [answers, V]. */
    Tensor answerLogSoftmax(Tensor logits) {
        return Torch.rows(logits.reshape(-1, logits.size(2)), Torch.onDevice(labelIndex, logits)).to(torch.ScalarType.Float)
                .log_softmax(1);
    }
}
