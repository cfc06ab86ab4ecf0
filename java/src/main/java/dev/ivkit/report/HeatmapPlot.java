package dev.ivkit.report;

import java.util.List;

/**
 * A heatmap as inline SVG: one {@code rect.cell} per value (annotated with it where the cells are large enough),
 * thinned row and column labels, and a colour bar with ticks on the right.
 */
final class HeatmapPlot {
    private HeatmapPlot() {}

    /** The SVG of {@code h}. */
    static String draw(Plots.Heatmap h) {
        double[][] v = h.values();
        int rows = v.length;
        int cols = 0;
        for (double[] r : v) {
            cols = Math.max(cols, r.length);
        }
        List<String> rl = PlotText.labels(h.rowLabels(), rows);
        List<String> cl = PlotText.labels(h.colLabels(), cols);
        double cw = PlotText.clamp(460.0 / Math.max(1, cols), 6, 64);
        double ch = PlotText.clamp(320.0 / Math.max(1, rows), 6, 30);
        double rowLabelW = 0;
        for (String s : rl) {
            rowLabelW = Math.max(rowLabelW, Svg.textWidth(s, 10));
        }
        rowLabelW = Math.min(rowLabelW, 160);
        double left = 8 + (h.yLabel() == null ? 0 : 16) + rowLabelW + 6;
        double top = PlotFrame.TITLE_H + 4;
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
                labelW = Math.max(labelW, Svg.textWidth(PlotText.compact(x, maxAbs), 10));
            }
        }
        boolean annotate = labelW + 4 <= cw && ch >= 15;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double val = c < v[r].length ? v[r][c] : Double.NaN;
                double x = left + c * cw, y = top + r * ch;
                String tip = rl.get(r) + ", " + cl.get(c) + ": " + Plots.fmt(val);
                s.elTitled("rect", tip, "class", "cell", "x", x, "y", y, "width", cw, "height", ch,
                        "fill", sc.color(val), "data-row", r, "data-col", c, "data-value", Double.isNaN(val) ? "NaN" : val);
                if (annotate && !Double.isNaN(val)) {
                    s.text(x + cw / 2, y + ch / 2 + 3.5, "middle", 10, PlotText.compact(val, maxAbs), "fill",
                            sc.darkText(val) ? "#111111" : "#ffffff", "pointer-events", "none");
                }
            }
        }
        s.el("rect", "x", left, "y", top, "width", gridW, "height", gridH, "fill", "none", "stroke", "#555555",
                "stroke-width", 0.6);
        // row labels (thinned so they never overlap)
        int rStep = Math.max(1, (int) Math.ceil(12 / ch));
        for (int r = 0; r < rows; r += rStep) {
            s.text(left - 4, top + r * ch + ch / 2 + 3.5, "end", 10, PlotText.ellipsize(rl.get(r), rowLabelW, 10));
        }
        // column labels (thinned by their widest label)
        double colLabelW = 0;
        for (String c : cl) {
            colLabelW = Math.max(colLabelW, Svg.textWidth(c, 10));
        }
        int cStep = Math.max(1, (int) Math.ceil((Math.min(colLabelW, 90) + 4) / cw));
        for (int c = 0; c < cols; c += cStep) {
            s.text(left + c * cw + cw / 2, top + gridH + 13, "middle", 10, PlotText.ellipsize(cl.get(c), cw * cStep - 2, 10));
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
}
