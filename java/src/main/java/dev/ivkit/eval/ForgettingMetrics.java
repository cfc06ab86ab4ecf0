package dev.ivkit.eval;

import dev.ivkit.InvalidArgumentException;

/**
 * Continual-learning summary metrics of Lopez-Paz &amp; Ranzato, "Gradient Episodic Memory for Continual Learning"
 * (NeurIPS 2017, §5). With T tasks, {@code R[i][j]} = test score on task j after training task i (0-based here),
 * and {@code b[j]} = score on task j of the model before any training:
 * <pre>
 *   AP  (their ACC) = 1/T     · Σ_{j=0}^{T-1} R[T-1][j]
 *   BWT             = 1/(T-1) · Σ_{j=0}^{T-2} (R[T-1][j] − R[j][j])
 *   FWT             = 1/(T-1) · Σ_{j=1}^{T-1} (R[j-1][j] − b[j])
 * </pre>
 * Negative BWT is forgetting. BWT and FWT are undefined (NaN) for one task. Method-spec §5.5 gives the same
 * formulas; the IV papers' code computes none of them.
 */
public final class ForgettingMetrics {
    private ForgettingMetrics() {}

    /**
     * AP, BWT, FWT of one run.
     *
     * @param ap  average performance after the last task
     * @param bwt backward transfer (negative: forgetting); NaN for one task
     * @param fwt forward transfer; NaN for one task
     */
    public record Summary(double ap, double bwt, double fwt) {}

    /**
     * All three metrics of one run.
     *
     * @param r the T×T score matrix, {@code r[i][j]} on task j after training task i
     * @param b the score on each task before any training, length T
     * @return AP, BWT and FWT
     * @throws InvalidArgumentException when {@code r} is empty or not square, or {@code b} is not of length T
     */
    public static Summary of(double[][] r, double[] b) {
        return new Summary(ap(r), bwt(r), fwt(r, b));
    }

    /**
     * Average performance: the mean score over all tasks after training the last one.
     *
     * @param r the T×T score matrix, {@code r[i][j]} on task j after training task i
     * @return AP
     * @throws InvalidArgumentException when {@code r} is empty or not square
     */
    public static double ap(double[][] r) {
        int t = check(r);
        double s = 0;
        for (int j = 0; j < t; j++) {
            s += r[t - 1][j];
        }
        return s / t;
    }

    /**
     * Backward transfer: the mean change of each earlier task's score from just after it was trained to the end.
     *
     * @param r the T×T score matrix, {@code r[i][j]} on task j after training task i
     * @return BWT (negative: forgetting); NaN when T = 1
     * @throws InvalidArgumentException when {@code r} is empty or not square
     */
    public static double bwt(double[][] r) {
        int t = check(r);
        if (t < 2) {
            return Double.NaN;
        }
        double s = 0;
        for (int j = 0; j < t - 1; j++) {
            s += r[t - 1][j] - r[j][j];
        }
        return s / (t - 1);
    }

    /**
     * Forward transfer: the mean gain on each later task, just before it is trained, over its initial score.
     *
     * @param r the T×T score matrix, {@code r[i][j]} on task j after training task i
     * @param b the score on each task before any training, length T
     * @return FWT; NaN when T = 1
     * @throws InvalidArgumentException when {@code r} is empty or not square, or {@code b} is not of length T
     */
    public static double fwt(double[][] r, double[] b) {
        int t = check(r);
        if (b == null || b.length != t) {
            throw new InvalidArgumentException("b", "need one initial score per task (" + t + ")");
        }
        if (t < 2) {
            return Double.NaN;
        }
        double s = 0;
        for (int j = 1; j < t; j++) {
            s += r[j - 1][j] - b[j];
        }
        return s / (t - 1);
    }

    private static int check(double[][] r) {
        if (r == null || r.length == 0) {
            throw new InvalidArgumentException("R", "empty accuracy matrix");
        }
        for (double[] row : r) {
            if (row.length != r.length) {
                throw new InvalidArgumentException("R", "accuracy matrix must be T×T, got a row of " + row.length + " for T=" + r.length);
            }
        }
        return r.length;
    }
}
