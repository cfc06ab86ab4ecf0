package dev.ivkit.report;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The "Knowledge vs. instruction (probe)" section: the bare and instructed answer probabilities of each
 * {@code probe.json}.
 */
final class ProbeSection {
    private ProbeSection() {}

    /** The section, or null when no probe has a bare or instructed probability. */
    static Section build(SectionContext ctx, List<Path> probes, Map<Path, JsonObject> objects) {
        List<String> groups = new ArrayList<>();
        List<double[]> vals = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (Path f : probes) {
            JsonObject o = objects.get(f);
            Double bare = Json.num(f, o, "bare", ""), ins = Json.num(f, o, "instructed", "");
            if (bare == null && ins == null) {
                continue;
            }
            String task = Labels.orDash(Json.str(f, o, "task", ""));
            groups.add(probes.size() > 1 ? task + " (" + ctx.rel(f) + ")" : task);
            vals.add(new double[] {bare == null ? Double.NaN : bare, ins == null ? Double.NaN : ins});
            Double ex = Json.num(f, o, "examples", "");
            rows.add(List.of(ctx.rel(f), task, Labels.orDash(Json.str(f, o, "context", "")),
                    ex == null ? "—" : Long.toString(Math.round(ex)), Plots.fmt(vals.get(vals.size() - 1)[0]),
                    Plots.fmt(vals.get(vals.size() - 1)[1])));
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
