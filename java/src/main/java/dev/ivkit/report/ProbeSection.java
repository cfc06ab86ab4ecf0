package dev.ivkit.report;

import dev.ivkit.results.ProbeFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The "Knowledge vs. instruction (probe)" section: the bare and instructed answer probabilities of each
 * {@code probe.json} ({@link ProbeFile}).
 */
final class ProbeSection {
    private ProbeSection() {}

    /** The section, or null when there is no probe. */
    static Section build(SectionContext ctx, Map<Path, ProbeFile.Probe> probes) {
        List<String> groups = new ArrayList<>();
        List<double[]> vals = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (Map.Entry<Path, ProbeFile.Probe> e : probes.entrySet()) {
            Path f = e.getKey();
            ProbeFile.Probe p = e.getValue();
            groups.add(probes.size() > 1 ? p.task() + " (" + ctx.rel(f) + ")" : p.task());
            vals.add(new double[] {p.bare(), p.instructed()});
            rows.add(List.of(ctx.rel(f), p.task(), p.context(), Integer.toString(p.examples()), Plots.fmt(p.bare()),
                    Plots.fmt(p.instructed())));
        }
        if (rows.isEmpty()) {
            return null;
        }
        return new Section(ctx.id("probe"), "Knowledge vs. instruction (probe)")
                .note("Mean probability of the answer given the bare query, P(y | x) (knowledge), and given the "
                        + "instruction or demonstrations, P(y | c, x) (instruction following).")
                .figures(List.of(Plots.bars(new Plots.Bars("Knowledge vs. instruction", "P(answer)", groups,
                        List.of("knowledge P(y | x)", "instruction P(y | c, x)"), vals.toArray(new double[0][]), null,
                        null))))
                .table(List.of("source", "task", "context", "examples", "P(y | x)", "P(y | c, x)"), rows);
    }
}
