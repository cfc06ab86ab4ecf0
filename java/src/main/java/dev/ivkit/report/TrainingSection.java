package dev.ivkit.report;

import dev.ivkit.train.MetricsLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The "Training curves" section: loss, CE and KL per step from each {@code metrics.jsonl}. */
final class TrainingSection {
    private TrainingSection() {}

    /** The curves drawn, each with its reading of a {@link MetricsLog.Line}. */
    private static final List<String> KEYS = List.of("loss", "ce", "kl");
    private static final List<Function<MetricsLog.Line, Double>> VALUES =
            List.of(MetricsLog.Line::loss, MetricsLog.Line::ce, MetricsLog.Line::kl);

    /** The section, or null when no metrics file has a training step. */
    static Section build(SectionContext ctx, List<Path> files, Map<Path, List<MetricsLog.Line>> lines) {
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (Path f : files) {
            List<String> keys = KEYS;
            List<List<double[]>> pts = new ArrayList<>();
            for (int k = 0; k < keys.size(); k++) {
                pts.add(new ArrayList<>());
            }
            double lastLr = Double.NaN;
            int n = 0;
            for (MetricsLog.Line line : lines.get(f)) {
                if (!line.isTraining()) {
                    continue;  // an evaluation line or another record
                }
                n++;
                for (int k = 0; k < keys.size(); k++) {
                    Double v = VALUES.get(k).apply(line);
                    if (v != null) {
                        pts.get(k).add(new double[] {line.step(), v});
                    }
                }
                lastLr = line.lr() == null ? lastLr : line.lr();
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
