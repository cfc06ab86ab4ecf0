package dev.ivkit.report;

import dev.ivkit.results.ResultsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sections of one continual study's {@code results.json}, in this order: a demo study's claims and frontier
 * ({@link ClaimsSections}; sweep variants {@code NAME@SCALE} appear there only), forgetting metrics (AP/BWT/FWT per
 * method), accuracy matrices, IV similarity vs. accuracy ({@link DynamicsSection}), and knowledge vs. instruction
 * ({@link KnowledgeSection}).
 */
final class ContinualSections {
    private ContinualSections() {}

    /** Adds the sections of the study {@code r} (read from {@code f}) that have data to {@code out}. */
    static void build(SectionContext ctx, Path f, ResultsFile.Results r, List<Section> out) {
        List<String> tasks = r.tasks() == null ? List.of() : r.tasks();
        String where = " (" + ctx.rel(f) + (r.sequence() != null ? ", " + r.sequence() : "") + ")";
        List<StudyMethod> ms = new ArrayList<>();
        if (r.methods() != null) {
            for (Map.Entry<String, ResultsFile.MethodResults> e : r.methods().entrySet()) {
                if (!e.getKey().contains("@")) {   // a frontier sweep's point: in the frontier section only
                    ms.add(StudyMethod.of(e.getKey(), e.getValue()));
                }
            }
        }
        ClaimsSections.build(ctx, StudyClaims.of(r), where, out);
        forgetting(ctx, f, ms, where, out);
        matrices(ctx, f, ms, tasks, where, out);
        DynamicsSection.build(ctx, ms, where, out);
        KnowledgeSection.build(ctx, r.initialKnowledge(), ms, tasks, where, out);
    }

    private static void forgetting(SectionContext ctx, Path f, List<StudyMethod> ms, String where, List<Section> out) {
        List<String> metrics = List.of("AP", "BWT", "FWT");
        List<String> names = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        double[][] mean = new double[3][ms.size()], sd = new double[3][ms.size()];
        double[][][] pts = new double[3][ms.size()][];
        boolean any = false;
        for (int k = 0; k < ms.size(); k++) {
            StudyMethod m = ms.get(k);
            names.add(m.name);
            List<String> row = new ArrayList<>(List.of(m.name, Integer.toString(m.seeds.size())));
            for (int i = 0; i < 3; i++) {
                double[] v = m.metric(metrics.get(i));
                pts[i][k] = v;
                mean[i][k] = v.length > 0 ? Stats.meanOf(v) : m.summaryMean(metrics.get(i));
                sd[i][k] = v.length > 1 ? Stats.sdOf(v) : m.summarySd(metrics.get(i));
                any |= Double.isFinite(mean[i][k]);
                row.add(Plots.fmt(mean[i][k]) + (Double.isFinite(sd[i][k]) ? " ± " + Plots.fmt(sd[i][k]) : ""));
            }
            rows.add(row);
        }
        if (!any) {
            return;
        }
        out.add(new Section(ctx.id("forgetting"), "Forgetting metrics" + where)
                .note("AP: mean accuracy over all tasks after the last task; BWT: mean change on earlier tasks "
                        + "between learning them and the end (negative = forgetting); FWT: mean gain on a task "
                        + "from the tasks before it over the base model (Lopez-Paz & Ranzato, 2017). Bars: mean over "
                        + "seeds; whiskers: ± one standard deviation; dots: single seeds.")
                .figures(List.of(Plots.bars(new Plots.Bars("AP / BWT / FWT per method", "score", metrics, names,
                        mean, sd, pts))))
                .table(List.of("method", "seeds", "AP", "BWT", "FWT"), rows));
    }

    private static void matrices(SectionContext ctx, Path f, List<StudyMethod> ms, List<String> tasks, String where,
            List<Section> out) {
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        List<double[][]> means = new ArrayList<>();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (StudyMethod m : ms) {
            double[][] avg = m.meanMatrix();
            means.add(avg);
            if (avg != null) {
                for (double[] r : avg) {
                    for (double v : r) {
                        if (Double.isFinite(v)) {
                            lo = Math.min(lo, v);
                            hi = Math.max(hi, v);
                        }
                    }
                }
            }
        }
        if (lo > hi) {
            return;
        }
        ColorScale scale = lo >= 0 && hi <= 1 ? ColorScale.sequential(0, 1) : ColorScale.sequential(lo, hi);
        for (int k = 0; k < ms.size(); k++) {
            double[][] avg = means.get(k);
            if (avg == null) {
                continue;
            }
            int cols = Stats.width(avg);
            List<String> cl = new ArrayList<>(), rl = new ArrayList<>();
            for (int j = 0; j < cols; j++) {
                cl.add(j < tasks.size() ? Labels.shortName(tasks.get(j)) : "task " + j);
            }
            for (int i = 0; i < avg.length; i++) {
                rl.add("after " + (i < tasks.size() ? Labels.shortName(tasks.get(i)) : "task " + i));
            }
            StudyMethod m = ms.get(k);
            figs.add(Plots.heatmap(new Plots.Heatmap("Accuracy matrix: " + m.name + " (" + m.matrixCount()
                    + (m.matrixCount() == 1 ? " seed)" : " seeds, mean)"), "evaluated on task", "trained through",
                    rl, cl, avg, scale, "score")));
            double[] last = avg[avg.length - 1];
            double[] diag = new double[Math.min(avg.length, cols)];
            for (int i = 0; i < diag.length; i++) {
                diag[i] = i < avg[i].length ? avg[i][i] : Double.NaN;
            }
            rows.add(List.of(m.name, Integer.toString(m.matrixCount()), avg.length + " × " + cols,
                    Plots.fmt(Stats.meanOf(diag)), Plots.fmt(Stats.meanOf(last))));
        }
        out.add(new Section(ctx.id("accuracy"), "Accuracy matrices" + where)
                .note("R[i][j]: score on task j (columns) after training through task i (rows), mean over seeds. "
                        + "Below the diagonal: retention of earlier tasks; above it: tasks not yet trained.")
                .figures(figs)
                .table(List.of("method", "seeds", "stages × tasks", "mean just after learning (diagonal)",
                        "mean after the last task"), rows));
    }
}
