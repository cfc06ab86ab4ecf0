package dev.ivkit.report;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The "Training curves" section: loss, CE and KL per step from each {@code metrics.jsonl}. */
final class TrainingSection {
    private TrainingSection() {}

    /** The section, or null when no metrics file has a training step. */
    static Section build(SectionContext ctx, List<Path> files, Map<Path, List<JsonObject>> lines) {
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (Path f : files) {
            List<JsonObject> ls = lines.get(f);
            List<String> keys = List.of("loss", "ce", "kl");
            List<List<double[]>> pts = new ArrayList<>();
            for (int k = 0; k < keys.size(); k++) {
                pts.add(new ArrayList<>());
            }
            double lastLr = Double.NaN;
            int n = 0;
            for (int i = 0; i < ls.size(); i++) {
                JsonObject o = ls.get(i);
                String p = "line " + (i + 1);
                Double step = Json.num(f, o, "step", p);
                if (step == null || !Json.present(o, "loss")) {
                    continue;  // an evaluation line or another record
                }
                n++;
                for (int k = 0; k < keys.size(); k++) {
                    Double v = Json.num(f, o, keys.get(k), p);
                    if (v != null) {
                        pts.get(k).add(new double[] {step, v});
                    }
                }
                Double lr = Json.num(f, o, "lr", p);
                lastLr = lr == null ? lastLr : lr;
            }
            if (n == 0) {
                continue;
            }
            List<Plots.Series> series = new ArrayList<>();
            for (int k = 0; k < keys.size(); k++) {
                List<double[]> p = pts.get(k);
                boolean allZero = p.stream().allMatch(a -> a[1] == 0);
                if (p.isEmpty() || k > 0 && allZero) {
                    continue;
                }
                series.add(Plots.Series.of(keys.get(k), p.stream().mapToDouble(a -> a[0]).toArray(),
                        p.stream().mapToDouble(a -> a[1]).toArray()));
            }
            figs.add(Plots.lines("Training: " + ctx.rel(f), "step", "loss", series));
            List<double[]> loss = pts.get(0);
            rows.add(List.of(ctx.rel(f), Integer.toString(n), Plots.fmt(loss.get(0)[1]), Plots.fmt(loss.get(loss.size() - 1)[1]),
                    Plots.fmt(lastLr)));
        }
        if (rows.isEmpty()) {
            return null;
        }
        return new Section(ctx.id("train"), "Training curves")
                .note("Per-step training loss (total), its cross-entropy part and, for IV-guided training, the KL term.")
                .figures(figs)
                .table(List.of("source", "steps logged", "first loss", "last loss", "last lr"), rows);
    }
}
