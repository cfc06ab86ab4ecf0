package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A grouped bar chart as inline SVG: one {@code rect.bar} per group and series, optional error bars and per-seed
 * dots ({@code circle.seed}), and a zero line.
 */
final class BarPlot {
    private BarPlot() {}

    /** The SVG of {@code b}. */
    static String draw(Plots.Bars b) {
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
            colors.add(Plots.color(k));
            dashed.add(false);
        }
        PlotFrame f = new PlotFrame(b.title(), null, b.yLabel(), ya, b.series(), colors, dashed, PlotFrame.LegendKind.BOX);
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
                String tip = b.groups().get(i) + ", " + b.series().get(k) + ": " + Plots.fmt(v)
                        + (e > 0 ? " ± " + Plots.fmt(e) : "");
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
                    PlotText.ellipsize(b.groups().get(i), gw - 4, 10));
        }
        s.line(f.left, y0, f.left + f.plotW, y0, "#333333", 1);
        return s.finish();
    }

    private static double err(Plots.Bars b, int i, int k) {
        if (b.errors() == null || b.errors()[i] == null) {
            return 0;
        }
        double e = b.errors()[i][k];
        return Double.isFinite(e) ? Math.abs(e) : 0;
    }
}
