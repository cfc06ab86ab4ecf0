package dev.ivkit.report;

import java.util.List;
import java.util.Locale;

/**
 * The report's plots as standalone inline SVG: a heatmap with a colour bar, a line plot, a grouped bar chart with
 * error bars (and optional per-seed dots), and a scatter plot. No script, no external fonts, no ids. Each plot
 * element carries {@code class} and {@code data-*} attributes (cell, bar, point) so tests can check the mapping.
 */
public final class Plots {
    /** Tableau 10: distinguishable categorical colours. */
    static final String[] PALETTE = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac"};

    private Plots() {}

    /** The categorical colour of series {@code i}. */
    public static String color(int i) {
        return PALETTE[Math.floorMod(i, PALETTE.length)];
    }

    // ------------------------------------------------------------------------------------------- specs

    /**
     * A heatmap of {@code values[row][col]} (NaN drawn grey). Labels may be null (then 0, 1, ...).
     */
    public record Heatmap(String title, String xLabel, String yLabel, List<String> rowLabels, List<String> colLabels,
            double[][] values, ColorScale scale, String valueLabel) {}

    /**
     * A named series of points; NaN coordinates are skipped (and break a line). {@code labels} (nullable) are
     * per-point tooltips.
     */
    public record Series(String name, double[] x, double[] y, boolean dashed, List<String> labels) {
        /** Checks that x, y and (when given) labels have one entry per point. */
        public Series {
            if (x.length != y.length || labels != null && labels.size() != x.length) {
                throw new IllegalArgumentException("series " + name + ": x, y and labels differ in length");
            }
        }

        /** A solid series without tooltips. */
        public static Series of(String name, double[] x, double[] y) {
            return new Series(name, x, y, false, null);
        }
    }

    /**
     * Bars {@code values[group][series]} with optional {@code errors[group][series]} (± half-length; NaN or null for
     * none) and optional {@code points[group][series][]} drawn as dots over each bar (e.g. one per seed).
     */
    public record Bars(String title, String yLabel, List<String> groups, List<String> series, double[][] values,
            double[][] errors, double[][][] points) {}

    // ------------------------------------------------------------------------------------------- plots

    /** A heatmap with a colour bar ({@link HeatmapPlot}). */
    public static String heatmap(Heatmap h) {
        return HeatmapPlot.draw(h);
    }

    /** A line plot of {@code series} (dashed series drawn dashed, without markers). */
    public static String lines(String title, String xLabel, String yLabel, List<Series> series) {
        return XyPlot.draw(title, xLabel, yLabel, series, true);
    }

    /** A scatter plot of {@code series}, one colour each, a tooltip per point. */
    public static String scatter(String title, String xLabel, String yLabel, List<Series> series) {
        return XyPlot.draw(title, xLabel, yLabel, series, false);
    }

    /** A grouped bar chart with optional error bars and per-seed dots ({@link BarPlot}). */
    public static String bars(Bars b) {
        return BarPlot.draw(b);
    }

    /** A number for a label: 3 significant decimals, NaN as "n/a". */
    public static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a != 0 && (a < 5e-4 || a >= 1e5)) {
            return String.format(Locale.ROOT, "%.1e", v);
        }
        return String.format(Locale.ROOT, a >= 100 ? "%.1f" : "%.3f", v);
    }
}
