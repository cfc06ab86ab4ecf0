package dev.ivkit.report;

import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanValidity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The "Scan validity" section: the demo's validity scans ({@code validity/TASK-DESIGN/scan.json}), one row per task and
 * corrupted-prompt design with the clean and corrupted accuracy, the top head and its bootstrap interval, and a CIE
 * heatmap per scan.
 */
final class ValiditySection {
    private ValiditySection() {}

    /** The section, or null when there are no validity scans. */
    static Section build(SectionContext ctx, List<Path> scans) {
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        int valid = 0, significant = 0;
        for (Path f : scans) {
            ScanFile s = CieSection.readScan(f);
            double[][] cie = s.cie();
            if (cie == null || cie.length == 0) {
                continue;
            }
            requireShape(f, "cie", cie, cie.length, cie[0].length);
            if (s.cieCiLow() != null) {
                requireShape(f, "cie_ci_low", s.cieCiLow(), cie.length, cie[0].length);
            }
            if (s.cieCiHigh() != null) {
                requireShape(f, "cie_ci_high", s.cieCiHigh(), cie.length, cie[0].length);
            }
            String task = Labels.orDash(s.task()), design = Labels.orDash(s.corrupt());
            figs.add(CieSection.cieHeatmap("CIE: " + task + " (" + design + ")", cie));
            HeadRanking.Head top = HeadRanking.top(cie, 1).get(0);
            boolean withCi = s.cieCiLow() != null && s.cieCiHigh() != null;
            boolean sig = withCi && s.cieCiLow()[top.layer()][top.head()] > 0;
            int nSig = withCi ? new ScanValidity.Interval(s.cieCiLow(), s.cieCiHigh()).significant().size() : 0;
            valid++;
            significant += sig ? 1 : 0;
            rows.add(List.of(task, design, acc(s.cleanAccuracy()), acc(s.corruptedAccuracy()),
                    "L" + top.layer() + "H" + top.head(), Plots.fmt(top.score()),
                    withCi ? "[" + Plots.fmt(s.cieCiLow()[top.layer()][top.head()]) + ", "
                            + Plots.fmt(s.cieCiHigh()[top.layer()][top.head()]) + "]" + (sig ? " *" : "") : "—",
                    withCi ? Integer.toString(nSig) : "—"));
        }
        if (rows.isEmpty()) {
            return null;
        }
        return new Section(ctx.id("validity"), "Scan validity")
                .note("Can the scan mean anything? The mean head outputs of clean prompts are patched (replace) into "
                        + "corrupted prompts of the same queries, one design per row. A valid design has a high clean "
                        + "accuracy and a corrupted one near the task's bare level; * marks a top head whose 95% bootstrap "
                        + "interval of the mean CIE lies above 0 (" + significant + " of " + valid + " scans). The last "
                        + "column counts every head whose interval lies above 0.")
                .figures(figs)
                .table(List.of("task", "corrupted prompts", "clean acc.", "corrupted acc.", "top head", "CIE", "95% CI",
                        "heads > 0"), rows);
    }

    /** A validity scan's maps are rectangular layer × head matrices of one shape; else the report stops, naming them. */
    private static void requireShape(Path f, String field, double[][] m, int rows, int cols) {
        boolean ok = cols > 0 && m.length == rows;
        for (int i = 0; ok && i < m.length; i++) {
            ok = m[i] != null && m[i].length == cols;
        }
        if (!ok) {
            throw new ReportException(f, field, "expected a " + rows + " × " + Math.max(cols, 1) + " matrix (the shape of cie)");
        }
    }

    private static String acc(Double a) {
        return a == null ? "—" : Plots.fmt(a);
    }
}
