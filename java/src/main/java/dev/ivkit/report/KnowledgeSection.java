package dev.ivkit.report;

import dev.ivkit.results.ResultsFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A continual study's "Knowledge vs. instruction" section: the base model's knowledge and instruction probabilities
 * ({@code initial.knowledge}) against each method's after the last task, or the base model alone.
 */
final class KnowledgeSection {
    private KnowledgeSection() {}

    /**
     * Adds the section to {@code out} when the base model ({@code initial}: {@code initial.knowledge}, may be null) or any
     * method has knowledge measurements.
     */
    static void build(SectionContext ctx, List<ResultsFile.Knowledge> initial, List<StudyMethod> ms, List<String> tasks, String where,
            List<Section> out) {
        Map<String, double[]> base = new LinkedHashMap<>();
        if (initial != null) {
            for (int i = 0; i < initial.size(); i++) {
                ResultsFile.Knowledge e = initial.get(i);
                base.put(e.task() == null ? (i < tasks.size() ? tasks.get(i) : "task " + i) : e.task(),
                        new double[] {Stats.nan(e.knowledgeP()), Stats.nan(e.instructionP())});
            }
        }
        Map<StudyMethod, Map<String, double[][]>> afters = new LinkedHashMap<>();  // task -> [seed][knowledge, instruction]
        for (StudyMethod m : ms) {
            afters.put(m, m.finalKnowledge());
        }
        // the groups: every task measured on the base model or after the last task (a task of the sequence with no probe,
        // such as the demo's pooled pretrained abilities, would be an empty group), in sequence order first
        List<String> order = new ArrayList<>();
        List<String> candidates = new ArrayList<>(tasks);
        candidates.addAll(base.keySet());
        afters.values().forEach(a -> candidates.addAll(a.keySet()));
        for (String t : candidates) {
            if (!order.contains(t) && (base.containsKey(t) || afters.values().stream().anyMatch(a -> a.containsKey(t)))) {
                order.add(t);
            }
        }
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (StudyMethod m : ms) {
            Map<String, double[][]> after = afters.get(m);
            if (after.isEmpty()) {
                continue;
            }
            double[][] vals = new double[order.size()][4], errs = new double[order.size()][4];
            double[][] byTask = new double[order.size()][];
            for (int i = 0; i < order.size(); i++) {
                double[] b = base.getOrDefault(order.get(i), new double[] {Double.NaN, Double.NaN});
                double[][] a = after.get(order.get(i));
                double[] ka = a == null ? new double[0] : Stats.column(a, 0), ia = a == null ? new double[0] : Stats.column(a, 1);
                vals[i] = new double[] {b[0], Stats.meanOf(ka), b[1], Stats.meanOf(ia)};
                errs[i] = new double[] {Double.NaN, Stats.sdOf(ka), Double.NaN, Stats.sdOf(ia)};
                byTask[i] = vals[i];
            }
            rows.add(List.of(m.name, Integer.toString(order.size()), Plots.fmt(Stats.meanOf(Stats.column(byTask, 0))),
                    Plots.fmt(Stats.meanOf(Stats.column(byTask, 1))), Plots.fmt(Stats.meanOf(Stats.column(byTask, 2))),
                    Plots.fmt(Stats.meanOf(Stats.column(byTask, 3)))));
            figs.add(Plots.bars(new Plots.Bars("Knowledge vs. instruction: " + m.name, "P(answer)", Labels.shortNames(order),
                    List.of("knowledge, base", "knowledge, after last task", "instruction, base",
                            "instruction, after last task"), vals, errs, null)));
        }
        if (figs.isEmpty() && !base.isEmpty()) {
            double[][] vals = new double[base.size()][];
            int i = 0;
            for (Map.Entry<String, double[]> e : base.entrySet()) {
                vals[i++] = e.getValue();
                rows.add(List.of("base model: " + e.getKey(), "1", Plots.fmt(e.getValue()[0]), "—", Plots.fmt(e.getValue()[1]),
                        "—"));
            }
            figs.add(Plots.bars(new Plots.Bars("Knowledge vs. instruction: base model", "P(answer)",
                    Labels.shortNames(new ArrayList<>(base.keySet())), List.of("knowledge P(y | x)", "instruction P(y | c, x)"),
                    vals, null, null)));
        }
        if (figs.isEmpty()) {
            return;
        }
        boolean baseOnly = afters.values().stream().allMatch(Map::isEmpty);
        out.add(new Section(ctx.id("knowledge"), "Knowledge vs. instruction" + where)
                .note("Knowledge: mean P(answer | bare query); instruction: mean P(answer | instruction, query). "
                        + (baseOnly ? "No method recorded the probe after fine-tuning, so only the base model is shown."
                        : "Base model against the model after the last task (mean over seeds; whiskers ± one "
                        + "standard deviation). A drop in instruction with knowledge intact is forgetting of "
                        + "instruction following rather than of the task's knowledge."))
                .figures(figs)
                .table(List.of("method", "tasks", "knowledge, base (mean over tasks)", "knowledge, after",
                        "instruction, base", "instruction, after"), rows));
    }
}
