package dev.ivkit.iv;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.util.Torch;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Whether a head scan can mean anything: the clean prompts (those the mean activations come from) must show the task
 * and the corrupted ones (those scanned) must not, and a head's mean CIE must stand out from the prompt-to-prompt
 * noise. {@link #accuracy} measures the first half (greedy first answer token); {@link #bootstrap} the second
 * (percentile interval of each head's mean CIE over prompts resampled with replacement).
 */
public final class ScanValidity {
    /** Resamples of {@link #bootstrap} as the scan uses it. */
    public static final int RESAMPLES = 1000;

    private ScanValidity() {}

    /**
     * A 95 % percentile bootstrap interval of each head's mean CIE.
     *
     * @param low  [layer][head] 2.5th percentile of the resampled means
     * @param high [layer][head] 97.5th percentile of the resampled means
     */
    public record Interval(double[][] low, double[][] high) {
        /**
         * @return the heads whose interval lies above zero (mean CIE significantly positive), strongest lower bound first
         */
        public List<HeadRanking.Head> significant() {
            java.util.List<HeadRanking.Head> out = new java.util.ArrayList<>();
            for (int l = 0; l < low.length; l++) {
                for (int h = 0; h < low[l].length; h++) {
                    if (low[l][h] > 0) {
                        out.add(new HeadRanking.Head(l, h, low[l][h]));
                    }
                }
            }
            out.sort((a, b) -> Double.compare(b.score(), a.score()));
            return out;
        }
    }

    /**
     * The share of prompts whose greedy first answer token is right: one forward per batch of left-padded prompts,
     * logits at the last prompt position, no gradient.
     *
     * @param model   the model
     * @param prompts prompts with their answers; at least one
     * @param batch   prompts per forward (at least 1)
     * @return the accuracy in [0, 1]
     * @throws InvalidArgumentException when {@code prompts} is empty or {@code batch} &lt; 1
     */
    public static double accuracy(LlamaModel model, List<TokenizedPrompt> prompts, int batch) {
        if (prompts.isEmpty()) {
            throw new InvalidArgumentException("prompts", "no prompts to score");
        }
        if (batch < 1) {
            throw new InvalidArgumentException("batch", "must be at least 1, got " + batch);
        }
        int right = 0;
        try (NoGradGuard g = new NoGradGuard()) {
            for (int start = 0; start < prompts.size(); start += batch) {
                try (PointerScope s = new PointerScope()) {
                    List<TokenizedPrompt> chunk = prompts.subList(start, Math.min(prompts.size(), start + batch));
                    Tensor[] in = MeanActivations.leftPadded(chunk);
                    Tensor last = model.forward(in[0], in[1], HookPlan.empty(), null, LogitsMode.LAST, LogitsBuffer.WORKSPACE).logits();  // [b, V]
                    long[] best = Torch.toLongArray(last.argmax(new LongOptional(1), false));
                    for (int i = 0; i < chunk.size(); i++) {
                        right += best[i] == chunk.get(i).targetIds()[0] ? 1 : 0;
                    }
                }
            }
        }
        return (double) right / prompts.size();
    }

    /**
     * A percentile bootstrap of each head's mean CIE over prompts: {@code resamples} draws of the prompts with
     * replacement (seeded, so a scan's interval is reproducible), the mean map of each draw, and per head the 2.5th
     * and 97.5th percentiles of those means.
     *
     * @param perPrompt every prompt's [layer][head] CIE map (at least one prompt, equal shapes)
     * @param resamples draws (at least 100)
     * @param seed      seed of the draws
     * @return the interval per head
     * @throws InvalidArgumentException when there are no prompts or too few resamples
     */
    public static Interval bootstrap(List<double[][]> perPrompt, int resamples, long seed) {
        if (perPrompt.isEmpty()) {
            throw new InvalidArgumentException("perPrompt", "no prompts to resample");
        }
        if (resamples < 100) {
            throw new InvalidArgumentException("resamples", "need at least 100, got " + resamples);
        }
        int n = perPrompt.size(), layers = perPrompt.get(0).length, heads = perPrompt.get(0)[0].length;
        double[][][] means = new double[layers][heads][resamples];
        Random rnd = new Random(seed);
        int[] pick = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                pick[i] = rnd.nextInt(n);
            }
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < heads; h++) {
                    double sum = 0;
                    for (int i : pick) {
                        sum += perPrompt.get(i)[l][h];
                    }
                    means[l][h][b] = sum / n;
                }
            }
        }
        double[][] low = new double[layers][heads], high = new double[layers][heads];
        int lo = (int) Math.floor(0.025 * (resamples - 1)), hi = (int) Math.ceil(0.975 * (resamples - 1));
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                double[] m = means[l][h];
                Arrays.sort(m);
                low[l][h] = m[lo];
                high[l][h] = m[hi];
            }
        }
        return new Interval(low, high);
    }
}
