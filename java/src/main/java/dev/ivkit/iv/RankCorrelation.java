package dev.ivkit.iv;

import dev.ivkit.InvalidArgumentException;
import java.util.Arrays;
import java.util.Comparator;

/** Spearman rank correlation (Pearson correlation of ranks, ties given their average rank). */
public final class RankCorrelation {
    private RankCorrelation() {}

    /**
     * Spearman correlation of two paired samples.
     *
     * @param a the first sample
     * @param b the second, paired with {@code a} element by element
     * @return the correlation in [-1, 1]; 0 when either sample is constant
     * @throws InvalidArgumentException when the lengths differ or are below 2
     */
    public static double spearman(double[] a, double[] b) {
        if (a.length != b.length || a.length < 2) {
            throw new InvalidArgumentException("scores", "need two equal-length arrays of at least 2 values, got " + a.length + " and " + b.length);
        }
        return pearson(ranks(a), ranks(b));
    }

    /**
     * Spearman over flattened [layer][head] maps.
     *
     * @param a the first [layer][head] map
     * @param b the second, of the same shape
     * @return the correlation in [-1, 1]; 0 when either map is constant
     * @throws InvalidArgumentException when the maps hold different numbers of values or fewer than 2
     */
    public static double spearman(double[][] a, double[][] b) {
        return spearman(flatten(a), flatten(b));
    }

    static double[] flatten(double[][] m) {
        return Arrays.stream(m).flatMapToDouble(Arrays::stream).toArray();
    }

    static double[] ranks(double[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < x.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble(i -> x[i]));
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; ) {
            int j = i;
            while (j + 1 < x.length && x[idx[j + 1]] == x[idx[i]]) {
                j++;
            }
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[idx[k]] = avg;
            }
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] a, double[] b) {
        double ma = Arrays.stream(a).average().orElse(0), mb = Arrays.stream(b).average().orElse(0);
        double num = 0, da = 0, db = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - ma) * (b[i] - mb);
            da += (a[i] - ma) * (a[i] - ma);
            db += (b[i] - mb) * (b[i] - mb);
        }
        return da == 0 || db == 0 ? 0 : num / Math.sqrt(da * db);
    }
}
