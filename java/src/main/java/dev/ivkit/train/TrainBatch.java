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
    public final Tensor tokens;       // [batch, len] int64
    public final Tensor mask;         // [batch, len] int64, 1 = real
    public final Tensor labelIndex;   // [answerTokens] int64 flat positions
    public final Tensor labels;       // [answerTokens] int64 ids
    public final long[] predict;      // [batch] positions
    public final int batch;
    public final int len;
    public final int answerTokens;
    public final int realTokens;

    private TrainBatch(Tensor tokens, Tensor mask, Tensor labelIndex, Tensor labels, long[] predict, int batch, int len,
            int answerTokens, int realTokens) {
        this.tokens = tokens;
        this.mask = mask;
        this.labelIndex = labelIndex;
        this.labels = labels;
        this.predict = predict;
        this.batch = batch;
        this.len = len;
        this.answerTokens = answerTokens;
        this.realTokens = realTokens;
    }

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
        return new TrainBatch(torch.tensor(ids).reshape(b, len), torch.tensor(mask).reshape(b, len), torch.tensor(idx),
                torch.tensor(lab), predict, b, len, answers, real);
    }

    /** Mean cross-entropy over the answer tokens of logits [batch, len, vocab] (on any device; the indices follow). */
    public Tensor crossEntropy(Tensor logits) {
        Tensor flat = Torch.rows(logits.reshape(-1, logits.size(2)), Torch.onDevice(labelIndex, logits))
                .to(torch.ScalarType.Float);                                                        // [answers, V]
        Tensor lp = flat.log_softmax(1).gather(1, Torch.onDevice(labels, logits).unsqueeze(1));
        return lp.mean().neg();
    }
}
