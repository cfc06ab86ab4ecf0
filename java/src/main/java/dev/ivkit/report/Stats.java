package dev.ivkit.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Small numeric helpers of the report's tables: means, spreads and correlations over the finite values. */
final class Stats {
    private Stats() {}

    /** The longest row's length. */
    static int width(double[][] m) {
        int w = 0;
        for (double[] r : m) {
            w = Math.max(w, r.length);
        }
        return w;
    }

    /** The index of the largest finite value; -1 when none. */
    static int argmax(double[] v) {
        int b = -1;
        for (int i = 0; i < v.length; i++) {
            if (Double.isFinite(v[i]) && (b < 0 || v[i] > v[b])) {
                b = i;
            }
        }
        return b;
    }

    /** Mean of the finite values (NaN when none). */
    static double meanOf(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (Double.isFinite(x)) {
                s += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** Mean of the finite values (NaN when none). */
    static double meanOf(List<Double> v) {
        return meanOf(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Sample standard deviation of the finite values (NaN for fewer than two). */
    static double sdOf(double[] v) {
        double m = meanOf(v);
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (Double.isFinite(x)) {
                s += (x - m) * (x - m);
                n++;
            }
        }
        return n < 2 ? Double.NaN : Math.sqrt(s / (n - 1));
    }

    /** Pearson correlation over the pairs where both are finite (NaN for fewer than 3 or no spread). */
    static double pearson(double[] x, double[] y) {
        List<double[]> p = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                p.add(new double[] {x[i], y[i]});
            }
        }
        if (p.size() < 3) {
            return Double.NaN;
        }
        double mx = p.stream().mapToDouble(a -> a[0]).average().orElse(0);
        double my = p.stream().mapToDouble(a -> a[1]).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (double[] a : p) {
            sxy += (a[0] - mx) * (a[1] - my);
            sxx += (a[0] - mx) * (a[0] - mx);
            syy += (a[1] - my) * (a[1] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    /** Column {@code c} of each row. */
    static double[] column(double[][] a, int c) {
        return Arrays.stream(a).mapToDouble(r -> r[c]).toArray();
    }

    /** An absent number as NaN. */
    static double nan(Double v) {
        return v == null ? Double.NaN : v;
    }
}
