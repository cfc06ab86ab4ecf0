package dev.ivkit.report;

import dev.ivkit.results.EvalFile;
import dev.ivkit.results.ResultsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The "Layer sweep" section: top-1 accuracy per IV layer from {@code eval.json} ({@link EvalFile}: its
 * {@code settings}, layer -1 the baseline) and from a {@code results.json}'s base-model sweeps ({@code initial.iv[].layer_sweep_top1}).
 */
final class SweepSection {
    private SweepSection() {}

    /** The section, or null when no setting or base-model sweep has a result. */
    static Section build(SectionContext ctx, Map<Path, EvalFile.Eval> evals, Map<Path, ResultsFile.Results> results) {
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (Map.Entry<Path, EvalFile.Eval> ev : evals.entrySet()) {
            Path f = ev.getKey();
            List<Plots.Series> series = new ArrayList<>();
            for (Map.Entry<String, List<EvalFile.LayerScore>> s : ev.getValue().settings().entrySet()) {
                List<double[]> pts = new ArrayList<>();
                double base = Double.NaN, baseF1 = Double.NaN;
                for (EvalFile.LayerScore r : s.getValue()) {
                    if (r.layer() < 0) {
                        base = r.top1();
                        baseF1 = r.f1();
                    } else {
                        pts.add(new double[] {r.layer(), r.top1(), r.f1()});
                    }
                }
                pts.sort(Comparator.comparingDouble(p -> p[0]));
                double[] best = null;
                for (double[] p : pts) {
                    if (best == null || p[1] > best[1]) {
                        best = p;
                    }
                }
                if (best == null && Double.isNaN(base)) {
                    continue;
                }
                rows.add(List.of(ctx.rel(f), s.getKey(), Plots.fmt(base), Plots.fmt(baseF1),
                        best == null ? "—" : Integer.toString((int) best[0]), best == null ? "—" : Plots.fmt(best[1]),
                        best == null ? "—" : Plots.fmt(best[2])));
                if (pts.size() >= 2) {
                    double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
                    double[] y = pts.stream().mapToDouble(p -> p[1]).toArray();
                    series.add(Plots.Series.of(s.getKey() + " + IV", x, y));
                    if (!Double.isNaN(base)) {
                        series.add(new Plots.Series(s.getKey() + " without IV", new double[] {x[0], x[x.length - 1]},
                                new double[] {base, base}, true, null));
                    }
                }
            }
            if (!series.isEmpty()) {
                figs.add(Plots.lines("Top-1 vs. IV layer: " + ev.getValue().task() + " (" + ctx.rel(f) + ")",
                        "layer", "top-1 accuracy", series));
            }
        }
        for (Map.Entry<Path, ResultsFile.Results> res : results.entrySet()) {
            List<Plots.Series> series = new ArrayList<>();
            List<ResultsFile.InitialIv> ivs = res.getValue().initialIvs();
            for (ResultsFile.InitialIv e : ivs == null ? List.<ResultsFile.InitialIv>of() : ivs) {
                List<ResultsFile.LayerTop1> sw = e.layerSweepTop1();
                if (sw == null || sw.size() < 2) {
                    continue;
                }
                double[] x = new double[sw.size()], y = new double[sw.size()];
                for (int k = 0; k < sw.size(); k++) {
                    x[k] = sw.get(k).layer() == null ? Double.NaN : sw.get(k).layer();
                    y[k] = sw.get(k).top1() == null ? Double.NaN : sw.get(k).top1();
                }
                String task = Labels.orDash(e.task());
                if (Boolean.TRUE.equals(e.everyToken())) {   // the demo's choice of IV positions
                    task += " (every token)";
                }
                series.add(Plots.Series.of(Labels.shortName(task), x, y));
                int bi = Stats.argmax(y);
                rows.add(List.of(ctx.rel(res.getKey()) + " (base model)", task, "—", "—", bi < 0 ? "—" : Integer.toString((int) x[bi]),
                        bi < 0 ? "—" : Plots.fmt(y[bi]), "—"));
            }
            if (!series.isEmpty()) {
                figs.add(Plots.lines("Top-1 vs. IV layer, base model (" + ctx.rel(res.getKey()) + ")", "layer", "top-1 accuracy", series));
            }
        }
        if (rows.isEmpty()) {
            return null;
        }
        Section s = new Section(ctx.id("sweep"), "Layer sweep");
        s.note("Top-1 accuracy of the first answer token (eval.json; for the demo's results.json: exact match of the "
                + "greedy answer) with the instruction vector added at each layer (solid) against the model without it "
                + "(dashed); \"(every token)\" marks an IV added at every generated token, not only the last prompt token.");
        s.figures(figs);
        return s.table(List.of("source", "setting / task", "baseline top-1", "baseline F1", "best layer", "top-1 there",
                "F1 there"), rows);
    }
}
