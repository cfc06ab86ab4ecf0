package dev.ivkit.report;

import dev.ivkit.results.RecoveryScore;
import java.util.ArrayList;
import java.util.List;

/**
 * A continual study's "IV similarity vs. accuracy" section: each task's IV re-extracted after each stage against its
 * pre-fine-tuning IV (scatter of cosine vs. score), and the recovery test. Columns and the plot appear only for what the
 * file measured, and the note says in a sentence what is not there and why (no re-extracted IVs, no loss large enough
 * for a share regained).
 */
final class DynamicsSection {
    private DynamicsSection() {}

    /** Adds the section to {@code out} when any method has IV-dynamics entries. */
    static void build(SectionContext ctx, List<StudyMethod> ms, String where, List<Section> out) {
        boolean cos = false, jac = false, reg = false, share = false;
        double maxLost = Double.NaN;
        for (StudyMethod m : ms) {
            for (StudyMethod.DynPoint p : m.dynamics) {
                cos |= Double.isFinite(p.cosine());
                jac |= Double.isFinite(p.jaccard());
                reg |= Double.isFinite(p.regained());
                share |= Double.isFinite(p.share());
                if (Double.isFinite(p.lost()) && !(p.lost() <= maxLost)) {
                    maxLost = p.lost();
                }
            }
        }
        List<String> header = new ArrayList<>(List.of("method", "points"));
        if (cos) {
            header.addAll(List.of("mean cosine (earlier tasks)", "Pearson r (cosine, score)"));
        }
        if (jac) {
            header.add("mean top-k head Jaccard (earlier tasks)");
        }
        if (reg) {
            header.add("mean points regained by the pre-FT IV");
        }
        if (share) {
            header.add("mean share of the loss regained (lost ≥ " + RecoveryScore.LOST_FLOOR + ")");
        }
        List<Plots.Series> series = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (StudyMethod m : ms) {
            List<StudyMethod.DynPoint> d = m.dynamics;
            double[] x = new double[d.size()], y = new double[d.size()];
            List<String> labels = new ArrayList<>();
            List<Double> earlierCos = new ArrayList<>(), earlierJac = new ArrayList<>(), regained = new ArrayList<>(), shares = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) {
                StudyMethod.DynPoint p = d.get(i);
                x[i] = p.cosine();
                y[i] = p.accuracy();
                labels.add(m.name + ", seed " + p.seed() + ", after stage " + p.stage() + ", " + p.task());
                if (p.task_index() < p.stage()) {
                    earlierCos.add(p.cosine());
                    earlierJac.add(p.jaccard());
                }
                regained.add(p.regained());
                shares.add(p.share());
            }
            series.add(new Plots.Series(m.name, x, y, false, labels));   // one per method, colours matching the other charts
            if (d.isEmpty()) {
                continue;
            }
            List<String> row = new ArrayList<>(List.of(m.name, Integer.toString(d.size())));
            if (cos) {
                row.addAll(List.of(Plots.fmt(Stats.meanOf(earlierCos)), Plots.fmt(Stats.pearson(x, y))));
            }
            if (jac) {
                row.add(Plots.fmt(Stats.meanOf(earlierJac)));
            }
            if (reg) {
                row.add(Plots.fmt(Stats.meanOf(regained)));
            }
            if (share) {
                row.add(Plots.fmt(Stats.meanOf(shares)));
            }
            rows.add(row);
        }
        if (rows.isEmpty()) {
            return;
        }
        Section s = new Section(ctx.id("dynamics"), "IV similarity vs. accuracy" + where);
        s.note(cos ? "One point per (seed, stage, task trained so far): cosine between the task's instruction vector "
                + "extracted from the fine-tuned model (same prompts and heads) and the one from before fine-tuning, against "
                + "the task's score at that stage. The table's similarity columns average over earlier tasks only (task "
                + "index < stage)."
                : "No method re-extracted IVs after fine-tuning (results.json has no iv_cosine), so IV similarity is not "
                + "measured" + (reg ? "; the table shows the recovery test only." : " and the table counts the entries only."));
        if (reg) {
            s.note("Recovery test: each earlier task's pre-fine-tuning IV added to the model after the stage; points regained "
                    + "= score with it − score without it (negative: the IV hurts); share = regained / lost, defined only "
                    + "where the task lost at least " + RecoveryScore.LOST_FLOOR + " since it was learned."
                    + (share ? "" : " No entry lost that much (largest loss " + Plots.fmt(maxLost)
                    + "), so no share is shown."));
        }
        if (cos) {
            s.figures(List.of(Plots.scatter("IV cosine to pre-fine-tuning IV vs. score", "cosine similarity", "score", series)));
        }
        out.add(s.table(header, rows));
    }
}
