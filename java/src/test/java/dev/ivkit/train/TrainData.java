package dev.ivkit.train;

import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** SST-2 polarity (SuperNI task363, SAPO split) as short "Input: x\nOutput: POS|NEG" examples for stories260K. */
public final class TrainData {
    private TrainData() {}

    /** The flat rows (row · len + position) of each example's answer-predicting position in logits [batch · len, V]. */
    public static org.bytedeco.pytorch.Tensor predictIndex(TrainBatch b) {
        long[] idx = new long[b.batch];
        for (int r = 0; r < b.batch; r++) {
            idx[r] = (long) r * b.len + b.predict[r];
        }
        return org.bytedeco.pytorch.global.torch.tensor(idx);
    }

    /** A prompt of {@code n} random ids and an answer of {@code answer} random ids, both from stories260K's 512 tokens (3..511). */
    public static TokenizedPrompt randomPrompt(java.util.Random rng, int n, int answer) {
        int[] p = new int[n], t = new int[answer];
        for (int i = 0; i < n; i++) {
            p[i] = 3 + rng.nextInt(509);
        }
        for (int i = 0; i < answer; i++) {
            t[i] = 3 + rng.nextInt(509);
        }
        return new TokenizedPrompt(p, t);
    }

    public static List<TokenizedPrompt> sst2(Tokenizer tok, String split, int from, int count) {
        Path sapo = SharedData.require("superni/sapo");
        TaskDataset ds = TaskDataset.loadSuperNiSapo(sapo.resolve("task363_sst2_polarity_classification"), split,
                sapo.resolve("instructions.json"));
        PromptBuilder b = new PromptBuilder(PromptStyle.INPUT_OUTPUT, "", true);
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int i = from; out.size() < count && i < ds.size(); i++) {
            TaskExample e = ds.get(i);
            if (e.input().length() > 160) {
                continue;  // keep sequences short for a fast test
            }
            out.add(TokenizedPrompt.of(tok, b.zeroShot(e)));
        }
        return out;
    }
}
