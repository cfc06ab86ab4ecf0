package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A line plot or a scatter plot as inline SVG: series over numeric axes (whole-number ticks for a line plot over
 * integers); points as {@code circle.point} with their values in {@code data-x} and {@code data-y}.
 */
final class XyPlot {
    private XyPlot() {}

    /** The SVG: lines (with markers when there are few points) when {@code lines}, else a scatter of dots. */
    static String draw(String title, String xLabel, String yLabel, List<Plots.Series> series, boolean lines) {
        double xlo = Double.POSITIVE_INFINITY, xhi = Double.NEGATIVE_INFINITY;
        double ylo = Double.POSITIVE_INFINITY, yhi = Double.NEGATIVE_INFINITY;
        int points = 0;
        for (Plots.Series sr : series) {
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
        for (Plots.Series sr : series) {
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
            colors.add(Plots.color(i));
            dashed.add(series.get(i).dashed());
        }
        PlotFrame f = new PlotFrame(title, xLabel, yLabel, ya, names, colors, dashed,
                lines ? PlotFrame.LegendKind.LINE : PlotFrame.LegendKind.DOT);
        f.xAxis(xa);
        Svg s = f.svg;
        boolean markers = lines && points <= 80;
        for (int k = 0; k < series.size(); k++) {
            Plots.Series sr = series.get(k);
            String c = Plots.color(k);
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
                        String tip = (sr.labels() == null ? sr.name() : sr.labels().get(i)) + ": (" + Plots.fmt(sr.x()[i])
                                + ", " + Plots.fmt(sr.y()[i]) + ")";
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
}
