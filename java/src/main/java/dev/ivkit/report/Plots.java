package dev.ivkit.report;

import java.util.ArrayList;
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

    static final double TITLE_H = 26;
    static final double PLOT_W = 440;
    static final double PLOT_H = 240;

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
        public Series {
            if (x.length != y.length || labels != null && labels.size() != x.length) {
                throw new IllegalArgumentException("series " + name + ": x, y and labels differ in length");
            }
        }

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

    // ------------------------------------------------------------------------------------------- heatmap

    public static String heatmap(Heatmap h) {
        double[][] v = h.values();
        int rows = v.length;
        int cols = 0;
        for (double[] r : v) {
            cols = Math.max(cols, r.length);
        }
        List<String> rl = labels(h.rowLabels(), rows);
        List<String> cl = labels(h.colLabels(), cols);
        double cw = clamp(460.0 / Math.max(1, cols), 6, 64);
        double ch = clamp(320.0 / Math.max(1, rows), 6, 30);
        double rowLabelW = 0;
        for (String s : rl) {
            rowLabelW = Math.max(rowLabelW, Svg.textWidth(s, 10));
        }
        rowLabelW = Math.min(rowLabelW, 160);
        double left = 8 + (h.yLabel() == null ? 0 : 16) + rowLabelW + 6;
        double top = TITLE_H + 4;
        double gridW = cw * cols, gridH = ch * rows;
        // the colour bar, right of the grid, with its tick labels
        ColorScale sc = h.scale();
        Axis cAxis = Axis.of(sc.min(), sc.max(), 5, false);
        double cbX = left + gridW + 16, cbW = 14;
        double tickW = 0;
        for (double t : cAxis.ticks) {
            if (t >= sc.min() - 1e-12 && t <= sc.max() + 1e-12) {
                tickW = Math.max(tickW, Svg.textWidth(cAxis.label(t), 10));
            }
        }
        double barH = Math.max(gridH, 120);
        double width = Math.max(cbX + cbW + 6 + tickW + 8 + (h.valueLabel() == null ? 0 : 18),
                Svg.textWidth(h.title(), 13) + 16);
        double height = top + Math.max(gridH, barH) + 20 + (h.xLabel() == null ? 0 : 18) + 6;
        Svg s = new Svg(width, height, h.title());
        s.text(8, 18, "start", 13, h.title(), "font-weight", "bold");

        double maxAbs = Math.max(Math.abs(sc.min()), Math.abs(sc.max()));
        double labelW = 0;
        for (double[] row : v) {
            for (double x : row) {
                labelW = Math.max(labelW, Svg.textWidth(compact(x, maxAbs), 10));
            }
        }
        boolean annotate = labelW + 4 <= cw && ch >= 15;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double val = c < v[r].length ? v[r][c] : Double.NaN;
                double x = left + c * cw, y = top + r * ch;
                String tip = rl.get(r) + ", " + cl.get(c) + ": " + fmt(val);
                s.elTitled("rect", tip, "class", "cell", "x", x, "y", y, "width", cw, "height", ch,
                        "fill", sc.color(val), "data-row", r, "data-col", c, "data-value", Double.isNaN(val) ? "NaN" : val);
                if (annotate && !Double.isNaN(val)) {
                    s.text(x + cw / 2, y + ch / 2 + 3.5, "middle", 10, compact(val, maxAbs), "fill",
                            sc.darkText(val) ? "#111111" : "#ffffff", "pointer-events", "none");
                }
            }
        }
        s.el("rect", "x", left, "y", top, "width", gridW, "height", gridH, "fill", "none", "stroke", "#555555",
                "stroke-width", 0.6);
        // row labels (thinned so they never overlap)
        int rStep = Math.max(1, (int) Math.ceil(12 / ch));
        for (int r = 0; r < rows; r += rStep) {
            s.text(left - 4, top + r * ch + ch / 2 + 3.5, "end", 10, ellipsize(rl.get(r), rowLabelW, 10));
        }
        // column labels (thinned by their widest label)
        double colLabelW = 0;
        for (String c : cl) {
            colLabelW = Math.max(colLabelW, Svg.textWidth(c, 10));
        }
        int cStep = Math.max(1, (int) Math.ceil((Math.min(colLabelW, 90) + 4) / cw));
        for (int c = 0; c < cols; c += cStep) {
            s.text(left + c * cw + cw / 2, top + gridH + 13, "middle", 10, ellipsize(cl.get(c), cw * cStep - 2, 10));
        }
        if (h.xLabel() != null) {
            s.text(left + gridW / 2, top + gridH + 30, "middle", 11, h.xLabel());
        }
        if (h.yLabel() != null) {
            double cy = top + gridH / 2;
            s.text(14, cy, "middle", 11, h.yLabel(), "transform", "rotate(-90 14 " + Svg.n(cy) + ")");
        }
        // colour bar: stacked rects, top = max
        int steps = 48;
        for (int i = 0; i < steps; i++) {
            double t = sc.max() - (sc.max() - sc.min()) * (i + 0.5) / steps;
            s.el("rect", "class", "colorbar", "x", cbX, "y", top + barH * i / steps, "width", cbW,
                    "height", barH / steps + 0.3, "fill", sc.color(t));
        }
        s.el("rect", "x", cbX, "y", top, "width", cbW, "height", barH, "fill", "none", "stroke", "#555555",
                "stroke-width", 0.6);
        for (double t : cAxis.ticks) {
            if (t < sc.min() - 1e-12 || t > sc.max() + 1e-12) {
                continue;
            }
            double y = top + barH * (1 - sc.position(t));
            if (!(sc.max() > sc.min())) {
                y = top + barH / 2;
            }
            s.line(cbX + cbW, y, cbX + cbW + 3, y, "#333333", 0.8);
            s.text(cbX + cbW + 5, y + 3.5, "start", 10, cAxis.label(t));
        }
        if (h.valueLabel() != null) {
            double lx = width - 8, cy = top + barH / 2;
            s.text(lx, cy, "middle", 10, h.valueLabel(), "transform", "rotate(-90 " + Svg.n(lx) + " " + Svg.n(cy) + ")");
        }
        return s.finish();
    }

    // ------------------------------------------------------------------------------------------- line plot

    public static String lines(String title, String xLabel, String yLabel, List<Series> series) {
        return xy(title, xLabel, yLabel, series, true);
    }

    public static String scatter(String title, String xLabel, String yLabel, List<Series> series) {
        return xy(title, xLabel, yLabel, series, false);
    }

    private static String xy(String title, String xLabel, String yLabel, List<Series> series, boolean lines) {
        double xlo = Double.POSITIVE_INFINITY, xhi = Double.NEGATIVE_INFINITY;
        double ylo = Double.POSITIVE_INFINITY, yhi = Double.NEGATIVE_INFINITY;
        int points = 0;
        for (Series sr : series) {
            for (int i = 0; i < sr.x().length; i++) {
                if (Double.isFinite(sr.x()[i]) && Double.isFinite(sr.y()[i])) {
                    xlo = Math.min(xlo, sr.x()[i]);
                    xhi = Math.max(xhi, sr.x()[i]);
                    ylo = Math.min(ylo, sr.y()[i]);
                    yhi = Math.max(yhi, sr.y()[i]);
                    points++;
                }
            }
        }
        if (points == 0) {
            xlo = ylo = 0;
            xhi = yhi = 1;
        }
        boolean integers = true;
        for (Series sr : series) {
            for (double x : sr.x()) {
                integers &= !Double.isFinite(x) || x == Math.rint(x);
            }
        }
        Axis xa = integers && lines ? Axis.integers(xlo, xhi, 8) : Axis.of(xlo, xhi, 7, !lines);
        Axis ya = Axis.of(ylo, yhi, 5, true);
        List<String> names = new ArrayList<>();
        List<String> colors = new ArrayList<>();
        List<Boolean> dashed = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            names.add(series.get(i).name());
            colors.add(color(i));
            dashed.add(series.get(i).dashed());
        }
        Frame f = new Frame(title, xLabel, yLabel, ya, names, colors, dashed, lines ? LegendKind.LINE : LegendKind.DOT);
        f.xAxis(xa);
        Svg s = f.svg;
        boolean markers = lines && points <= 80;
        for (int k = 0; k < series.size(); k++) {
            Series sr = series.get(k);
            String c = color(k);
            if (lines) {
                StringBuilder pts = new StringBuilder();
                for (int i = 0; i <= sr.x().length; i++) {
                    boolean ok = i < sr.x().length && Double.isFinite(sr.x()[i]) && Double.isFinite(sr.y()[i]);
                    if (ok) {
                        pts.append(pts.length() == 0 ? "" : " ").append(Svg.n(f.px(xa, sr.x()[i]))).append(',')
                                .append(Svg.n(f.py(sr.y()[i])));
                    } else if (pts.length() > 0) {
                        s.el("polyline", "class", "series", "points", pts.toString(), "fill", "none", "stroke", c,
                                "stroke-width", 1.8, "stroke-dasharray", sr.dashed() ? "5 3" : null);
                        pts.setLength(0);
                    }
                }
            }
            if (!lines || markers && !sr.dashed()) {
                for (int i = 0; i < sr.x().length; i++) {
                    if (Double.isFinite(sr.x()[i]) && Double.isFinite(sr.y()[i])) {
                        String tip = (sr.labels() == null ? sr.name() : sr.labels().get(i)) + ": (" + fmt(sr.x()[i])
                                + ", " + fmt(sr.y()[i]) + ")";
                        s.elTitled("circle", tip, "class", "point", "cx", f.px(xa, sr.x()[i]), "cy", f.py(sr.y()[i]),
                                "r", lines ? 2.6 : 4, "fill", c, "fill-opacity", lines ? null : 0.8,
                                "stroke", lines ? null : "#ffffff", "stroke-width", lines ? null : 0.7,
                                "data-x", sr.x()[i], "data-y", sr.y()[i]);
                    }
                }
            }
        }
        return s.finish();
    }

    // ------------------------------------------------------------------------------------------- bars

    public static String bars(Bars b) {
        int g = b.groups().size(), ns = b.series().size();
        double lo = 0, hi = 0;
        for (int i = 0; i < g; i++) {
            for (int k = 0; k < ns; k++) {
                double v = b.values()[i][k];
                if (!Double.isFinite(v)) {
                    continue;
                }
                double e = err(b, i, k);
                lo = Math.min(lo, v - e);
                hi = Math.max(hi, v + e);
                if (b.points() != null && b.points()[i] != null && b.points()[i][k] != null) {
                    for (double p : b.points()[i][k]) {
                        if (Double.isFinite(p)) {
                            lo = Math.min(lo, p);
                            hi = Math.max(hi, p);
                        }
                    }
                }
            }
        }
        if (hi == lo) {
            hi = lo + 1;
        }
        Axis ya = Axis.of(lo, hi + (hi > 0 ? (hi - lo) * 0.04 : 0), 5, false);
        List<String> colors = new ArrayList<>();
        List<Boolean> dashed = new ArrayList<>();
        for (int k = 0; k < ns; k++) {
            colors.add(color(k));
            dashed.add(false);
        }
        Frame f = new Frame(b.title(), null, b.yLabel(), ya, b.series(), colors, dashed, LegendKind.BOX);
        Svg s = f.svg;
        double gw = f.plotW / Math.max(1, g);
        double bw = Math.min(gw * 0.78 / Math.max(1, ns), 44);  // few bars stay slim, centred in their group
        double y0 = f.py(0);
        for (int i = 0; i < g; i++) {
            double gx = f.left + i * gw + (gw - bw * ns) / 2;
            for (int k = 0; k < ns; k++) {
                double v = b.values()[i][k];
                if (!Double.isFinite(v)) {
                    continue;
                }
                double x = gx + k * bw;
                double yv = f.py(v);
                double e = err(b, i, k);
                String tip = b.groups().get(i) + ", " + b.series().get(k) + ": " + fmt(v) + (e > 0 ? " ± " + fmt(e) : "");
                s.elTitled("rect", tip, "class", "bar", "x", x + 1, "y", Math.min(y0, yv), "width", Math.max(1, bw - 2),
                        "height", Math.abs(yv - y0), "fill", colors.get(k), "data-group", i, "data-series", k,
                        "data-value", v);
                double cx = x + bw / 2;
                if (e > 0) {
                    double ya1 = f.py(v - e), ya2 = f.py(v + e);
                    s.line(cx, ya1, cx, ya2, "#222222", 1.1, "class", "errorbar");
                    double cap = Math.min(5, bw / 3);
                    s.line(cx - cap, ya1, cx + cap, ya1, "#222222", 1.1);
                    s.line(cx - cap, ya2, cx + cap, ya2, "#222222", 1.1);
                }
                if (b.points() != null && b.points()[i] != null && b.points()[i][k] != null) {
                    double[] ps = b.points()[i][k];
                    for (int p = 0; p < ps.length; p++) {
                        if (Double.isFinite(ps[p])) {
                            double jitter = ps.length == 1 ? 0 : (p / (ps.length - 1.0) - 0.5) * Math.min(bw * 0.5, 10);
                            s.el("circle", "class", "seed", "cx", cx + jitter, "cy", f.py(ps[p]), "r", 2.2,
                                    "fill", "#ffffff", "stroke", "#222222", "stroke-width", 0.9);
                        }
                    }
                }
            }
            s.text(f.left + i * gw + gw / 2, f.top + f.plotH + 14, "middle", 10,
                    ellipsize(b.groups().get(i), gw - 4, 10));
        }
        s.line(f.left, y0, f.left + f.plotW, y0, "#333333", 1);
        return s.finish();
    }

    private static double err(Bars b, int i, int k) {
        if (b.errors() == null || b.errors()[i] == null) {
            return 0;
        }
        double e = b.errors()[i][k];
        return Double.isFinite(e) ? Math.abs(e) : 0;
    }

    // ------------------------------------------------------------------------------------------- helpers

    enum LegendKind { LINE, DOT, BOX }

    /** Title, legend, axes and grid of a plot with a numeric y axis. */
    private static final class Frame {
        final Svg svg;
        final double left;
        final double top;
        final double plotW = PLOT_W;
        final double plotH = PLOT_H;
        final Axis ya;
        final String xLabel;

        Frame(String title, String xLabel, String yLabel, Axis ya, List<String> names, List<String> colors,
                List<Boolean> dashed, LegendKind kind) {
            this.ya = ya;
            this.xLabel = xLabel;
            double tickW = 0;
            for (double t : ya.ticks) {
                tickW = Math.max(tickW, Svg.textWidth(ya.label(t), 10));
            }
            left = 10 + (yLabel == null ? 0 : 18) + tickW + 6;
            double width = Math.max(left + plotW + 16, Svg.textWidth(title, 13) + 16);
            // legend rows (wrapped to the width)
            List<double[]> pos = new ArrayList<>();
            double lx = left, ly = TITLE_H + 8;
            boolean any = names.size() > 1 || names.size() == 1 && !names.get(0).isEmpty();
            for (String n : names) {
                String label = ellipsize(n, 200, 10);
                double w = 22 + Svg.textWidth(label, 10) + 12;
                if (lx + w > width - 8 && lx > left) {
                    lx = left;
                    ly += 16;
                }
                pos.add(new double[] {lx, ly});
                lx += w;
            }
            top = (any ? ly + 14 : TITLE_H + 6) + 6;
            double height = top + plotH + 22 + (xLabel == null ? 0 : 18) + 6;
            svg = new Svg(width, height, title);
            svg.text(8, 18, "start", 13, title, "font-weight", "bold");
            if (any) {
                for (int i = 0; i < names.size(); i++) {
                    double x = pos.get(i)[0], y = pos.get(i)[1];
                    switch (kind) {
                        case LINE -> svg.line(x, y - 3.5, x + 18, y - 3.5, colors.get(i), 2.2, "stroke-dasharray",
                                dashed.get(i) ? "5 3" : null);
                        case DOT -> svg.el("circle", "cx", x + 9, "cy", y - 3.5, "r", 4, "fill", colors.get(i));
                        case BOX -> svg.el("rect", "x", x + 3, "y", y - 9, "width", 12, "height", 11, "fill", colors.get(i));
                    }
                    svg.text(x + 22, y, "start", 10, ellipsize(names.get(i), 200, 10), "class", "legend");
                }
            }
            // y grid and ticks
            for (double t : ya.ticks) {
                double y = py(t);
                svg.line(left, y, left + plotW, y, "#e6e6e6", 1);
                svg.text(left - 5, y + 3.5, "end", 10, ya.label(t));
            }
            svg.el("rect", "x", left, "y", top, "width", plotW, "height", plotH, "fill", "none", "stroke", "#888888",
                    "stroke-width", 0.8);
            if (yLabel != null) {
                double cy = top + plotH / 2;
                svg.text(14, cy, "middle", 11, yLabel, "transform", "rotate(-90 14 " + Svg.n(cy) + ")");
            }
            if (xLabel != null) {
                svg.text(left + plotW / 2, top + plotH + 34, "middle", 11, xLabel);
            }
        }

        void xAxis(Axis xa) {
            for (double t : xa.ticks) {
                double x = px(xa, t);
                svg.line(x, top, x, top + plotH, "#f0f0f0", 1);
                svg.line(x, top + plotH, x, top + plotH + 4, "#555555", 1);
                svg.text(x, top + plotH + 15, "middle", 10, xa.label(t));
            }
        }

        double px(Axis xa, double x) {
            return left + plotW * (x - xa.lo) / (xa.hi - xa.lo);
        }

        double py(double y) {
            return top + plotH * (1 - (y - ya.lo) / (ya.hi - ya.lo));
        }
    }

    /** A numeric axis with "nice" ticks (steps of 1, 2 or 5 × 10^k). */
    static final class Axis {
        final double lo;
        final double hi;
        final double step;
        final List<Double> ticks = new ArrayList<>();

        private Axis(double lo, double hi, double step) {
            this.lo = lo;
            this.hi = hi;
            this.step = step;
            for (long i = Math.round(Math.ceil(lo / step - 1e-9)); i * step <= hi + step * 1e-9; i++) {
                double t = Math.abs(i * step) < step * 1e-9 ? 0.0 : i * step;
                double scale = Math.pow(10, 9 - Math.floor(Math.log10(step)));  // drop binary noise (0.6000000000000001)
                ticks.add(Math.abs(t * scale) < 9e15 ? Math.round(t * scale) / scale : t);
            }
        }

        /** An axis covering [lo, hi]; {@code pad} widens it to the enclosing ticks (and a little for scatter). */
        static Axis of(double lo, double hi, int target, boolean pad) {
            if (!(hi > lo)) {
                double d = lo == 0 ? 1 : Math.abs(lo) * 0.1;
                lo -= d;
                hi += d;
            }
            double step = niceStep((hi - lo) / Math.max(1, target));
            if (pad) {
                lo = Math.floor(lo / step - 1e-9) * step;
                hi = Math.ceil(hi / step + 1e-9) * step;
            } else {
                double lo2 = Math.floor(lo / step + 1e-9) * step, hi2 = Math.ceil(hi / step - 1e-9) * step;
                lo = lo2;
                hi = hi2;
            }
            return new Axis(lo, hi, step);
        }

        /** An axis over whole numbers (layers, steps): ticks never fall between them. */
        static Axis integers(double lo, double hi, int target) {
            if (!(hi > lo)) {
                return new Axis(lo - 1, hi + 1, 1);
            }
            double step = Math.max(1, niceStep((hi - lo) / Math.max(1, target)));
            return new Axis(lo, hi, step);
        }

        static double niceStep(double raw) {
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double r = raw / mag;
            return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
        }

        String label(double v) {
            int decimals = (int) Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
    }

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
