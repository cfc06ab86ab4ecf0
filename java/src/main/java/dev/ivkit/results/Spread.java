package dev.ivkit.results;

import java.util.Arrays;
import java.util.Collection;
import java.util.function.ToDoubleFunction;

/**
 * Mean ± standard deviation of one metric over seeds, as written in {@code results.json} ({@code methods.M.summary})
 * and the demo's {@code summary.json} ({@code methods.M.METRIC}): {@code {"mean", "std", "n", "nan"}}.
 *
 * <p><b>NaN policy</b> (the one place it is stated): a value that is not finite (NaN, ±∞; e.g. a recovery share when
 * nothing was lost, FWT of a one-task sequence) is left out of the mean and the standard deviation and counted in
 * {@code nan}; {@code n} is the number of finite values that went in. {@code mean} is null when none did (an empty
 * or all-NaN set). {@code std} is the sample standard deviation (denominator n − 1) when n ≥ 2 and null when n &lt; 2:
 * one value has no spread, and null is not mistaken for seeds that agree.
 *
 * @param mean mean of the finite values; null when there are none
 * @param std  sample standard deviation of the finite values; null when fewer than two
 * @param n    how many finite values went in
 * @param nan  how many values were left out as not finite
 */
public record Spread(Double mean, Double std, int n, int nan) {
    /**
     * The spread of {@code values} under the policy above.
     *
     * @param values one value per seed; non-finite ones are counted, not averaged
     * @return mean, standard deviation and counts
     */
    public static Spread of(double... values) {
        double[] f = Arrays.stream(values).filter(Double::isFinite).toArray();
        int n = f.length;
        if (n == 0) {
            return new Spread(null, null, 0, values.length);
        }
        double mean = Arrays.stream(f).average().orElseThrow();
        Double std = null;
        if (n > 1) {
            double var = 0;
            for (double x : f) {
                var += (x - mean) * (x - mean);
            }
            std = Math.sqrt(var / (n - 1));
        }
        return new Spread(mean, std, n, values.length - n);
    }

    /**
     * The spread of {@code f} over {@code items}.
     *
     * @param <T> item type
     * @param items the items, one per seed
     * @param f the metric of an item
     * @return mean, standard deviation and counts
     */
    public static <T> Spread of(Collection<T> items, ToDoubleFunction<T> f) {
        return of(items.stream().mapToDouble(f).toArray());
    }

    /**
     * {@code mean} as a double, NaN where null.
     *
     * @return the mean, or NaN when there is none
     */
    public double meanOrNaN() {
        return mean == null ? Double.NaN : mean;
    }

    /**
     * {@code std} as a double, NaN where null.
     *
     * @return the standard deviation, or NaN when there is none
     */
    public double stdOrNaN() {
        return std == null ? Double.NaN : std;
    }

    /**
     * "n/a" without a mean, the mean alone without a std, else "mean±std" ({@code sep} between), each with {@code fmt}.
     *
     * @param fmt a {@link String#format} pattern for one number, e.g. {@code "%.3f"}
     * @param sep what goes between mean and std, e.g. {@code "±"}
     * @return the formatted spread
     */
    public String format(String fmt, String sep) {
        if (mean == null) {
            return "n/a";
        }
        return std == null ? String.format(fmt, mean) : String.format(fmt, mean) + sep + String.format(fmt, std);
    }

    /**
     * A JSON number: the value where finite, else null.
     *
     * @param v a metric value
     * @return {@code v}, or null when it is not finite
     */
    public static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
