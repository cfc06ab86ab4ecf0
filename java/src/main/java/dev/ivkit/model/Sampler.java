package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits: greedy (temperature 0) or temperature + nucleus (top-p) sampling
 * with a seeded generator, so a run is reproducible from its seed.
 */
public final class Sampler {
    private final float temperature;
    private final float topP;
    private final SplittableRandom rng;

    /**
     * A sampler; temperature 0 is greedy (topP and seed are then unused).
     *
     * @param temperature divides the logits, finite and at least 0
     * @param topP        nucleus: sample among the most likely tokens whose probabilities sum to topP, in (0, 1]
     * @param seed        seed of the sampling generator
     * @throws InvalidArgumentException when temperature or topP is out of range
     */
    public Sampler(float temperature, float topP, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new InvalidArgumentException("temperature", "must be a finite value >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidArgumentException("topP", "must be in (0, 1], got " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.rng = new SplittableRandom(seed);
    }

    /**
     * Index of the chosen token; ties in greedy mode go to the lowest index (as argmax in llama2.c).
     *
     * @param logits one row of logits
     * @return the chosen token id
     */
    public int sample(float[] logits) {
        if (temperature == 0f) {
            return argmax(logits);
        }
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        double coin = rng.nextDouble();
        if (topP >= 1f) {
            double cdf = 0;
            for (int i = 0; i < n; i++) {
                cdf += p[i];
                if (coin < cdf) {
                    return i;
                }
            }
            return n - 1;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double mass = 0;
        int last = n - 1;
        for (int i = 0; i < n; i++) {
            mass += p[order[i]];
            if (mass > topP) {
                last = i;
                break;
            }
        }
        double r = coin * mass, cdf = 0;
        for (int i = 0; i <= last; i++) {
            cdf += p[order[i]];
            if (r < cdf) {
                return order[i];
            }
        }
        return order[last];
    }

    /**
     * The index of the largest logit, the lowest on ties.
     *
     * @param logits one row of logits
     * @return the greedy token id
     */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
