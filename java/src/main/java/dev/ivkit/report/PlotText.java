package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The text of plot labels: default labels, ellipsized labels and a heatmap's cell values. */
final class PlotText {
    private PlotText() {}

    /** The given labels, and the index for each one missing ({@code given} may be null). */
    static List<String> labels(List<String> given, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(given != null && i < given.size() ? given.get(i) : Integer.toString(i));
        }
        return out;
    }

    /** {@code s} shortened with an ellipsis to fit {@code width} pixels at {@code fontSize}. */
    static String ellipsize(String s, double width, double fontSize) {
        int max = (int) Math.floor(width / (fontSize * Svg.CHAR_W));
        if (s.length() <= max) {
            return s;
        }
        return max <= 1 ? "…" : s.substring(0, max - 1) + "…";
    }

    /** {@code v} limited to [lo, hi]. */
    static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /**
     * A cell label with a fixed number of decimals for the whole map: enough for two significant digits of the
     * largest magnitude {@code maxAbs} (0.090 and -0.008 on a map whose largest value is 0.09; 0.57 on 0..1).
     */
    static String compact(double v, double maxAbs) {
        if (Double.isNaN(v)) {
            return "";
        }
        int decimals = maxAbs > 0 && Double.isFinite(maxAbs) ? (int) clamp(2 - Math.ceil(Math.log10(maxAbs) - 1e-9), 0, 4) : 2;
        String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
        return s.matches("-0\\.?0*") ? s.substring(1) : s;
    }
}
