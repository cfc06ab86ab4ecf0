package dev.ivkit.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ivkit.results.EvalFile;
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
    static Section build(SectionContext ctx, Map<Path, EvalFile.Eval> evals, Map<Path, JsonObject> objects,
            List<Path> results) {
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
        for (Path f : results) {
            List<Plots.Series> series = new ArrayList<>();
            JsonObject init = Json.obj(f, objects.get(f), "initial", "");
            JsonArray iv = Json.arr(f, init, "iv", "initial");
            if (iv == null) {
                continue;
            }
            for (int i = 0; i < iv.size(); i++) {
                String p = "initial.iv[" + i + "]";
                JsonObject e = Json.element(f, iv, i, "initial.iv");
                JsonArray sw = Json.arr(f, e, "layer_sweep_top1", p);
                if (sw == null || sw.size() < 2) {
                    continue;
                }
                double[] x = new double[sw.size()], y = new double[sw.size()];
                for (int k = 0; k < sw.size(); k++) {
                    JsonObject r = Json.element(f, sw, k, p + ".layer_sweep_top1");
                    Double l = Json.num(f, r, "layer", p + ".layer_sweep_top1[" + k + "]");
                    Double t = Json.num(f, r, "top1", p + ".layer_sweep_top1[" + k + "]");
                    x[k] = l == null ? Double.NaN : l;
                    y[k] = t == null ? Double.NaN : t;
                }
                String task = Labels.orDash(Json.str(f, e, "task", p));
                JsonElement every = e == null ? null : e.get("every_token");   // the demo's choice of IV positions
                if (every != null && every.isJsonPrimitive() && every.getAsJsonPrimitive().isBoolean() && every.getAsBoolean()) {
                    task += " (every token)";
                }
                series.add(Plots.Series.of(Labels.shortName(task), x, y));
                int bi = Stats.argmax(y);
                rows.add(List.of(ctx.rel(f) + " (base model)", task, "—", "—", bi < 0 ? "—" : Integer.toString((int) x[bi]),
                        bi < 0 ? "—" : Plots.fmt(y[bi]), "—"));
            }
            if (!series.isEmpty()) {
                figs.add(Plots.lines("Top-1 vs. IV layer, base model (" + ctx.rel(f) + ")", "layer", "top-1 accuracy", series));
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
