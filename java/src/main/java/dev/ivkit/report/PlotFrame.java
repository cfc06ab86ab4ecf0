package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;

/** Title, legend, axes and grid of a plot with a numeric y axis; the line, scatter and bar plots draw inside it. */
final class PlotFrame {
    /** The height of a plot's title line. */
    static final double TITLE_H = 26;
    static final double PLOT_W = 440;
    static final double PLOT_H = 240;

    /** How the legend marks a series: a line, a dot or a box. */
    enum LegendKind { LINE, DOT, BOX }

    final Svg svg;
    final double left;
    final double top;
    final double plotW = PLOT_W;
    final double plotH = PLOT_H;
    final Axis ya;
    final String xLabel;

    PlotFrame(String title, String xLabel, String yLabel, Axis ya, List<String> names, List<String> colors,
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
            String label = PlotText.ellipsize(n, 200, 10);
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
                svg.text(x + 22, y, "start", 10, PlotText.ellipsize(names.get(i), 200, 10), "class", "legend");
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
