package dev.ivkit.report;

import dev.ivkit.ModelFormatException;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.results.ResultsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The "Causal indirect effect per head" section: a heatmap per {@code scan.json} and per base-model CIE map in a
 * {@code results.json} ({@code initial.iv[].cie}), with a table of shapes and top heads.
 */
final class CieSection {
    private CieSection() {}

    /** The section, or null when no scan or base-model map has a CIE matrix. */
    static Section build(SectionContext ctx, List<Path> scans, Map<Path, ResultsFile.Results> results) {
        List<String> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (Path f : scans) {
            ScanFile scan = readScan(f);
            double[][] cie = scan.cie();
            if (cie == null || cie.length == 0) {
                continue;
            }
            String task = Labels.orDash(scan.task());
            String method = Labels.orDash(scan.method()) + " / " + Labels.orDash(scan.mode());
            Integer prompts = scan.prompts();
            figs.add(cieHeatmap("CIE: " + task + " (" + ctx.rel(f) + ")", cie));
            rows.add(List.of(ctx.rel(f), task, method, cie.length + " × " + Stats.width(cie),
                    prompts == null ? "—" : Integer.toString(prompts), topHeads(cie, 5)));
        }
        for (Map.Entry<Path, ResultsFile.Results> r : results.entrySet()) {
            List<ResultsFile.InitialIv> ivs = r.getValue().initialIvs();
            for (ResultsFile.InitialIv e : ivs == null ? List.<ResultsFile.InitialIv>of() : ivs) {
                double[][] cie = e.cie();
                if (cie == null || cie.length == 0) {
                    continue;
                }
                String task = Labels.orDash(e.task());
                figs.add(cieHeatmap("CIE, base model: " + task, cie));
                rows.add(List.of(ctx.rel(r.getKey()) + " (base model)", task, "—", cie.length + " × " + Stats.width(cie), "—",
                        topHeads(cie, 5)));
            }
        }
        if (figs.isEmpty()) {
            return null;
        }
        return new Section(ctx.id("cie"), "Causal indirect effect per head")
                .note("Mean causal indirect effect of each attention head (rows: layers, columns: heads): the change "
                        + "in the probability of the correct answer when the head's output is patched with its "
                        + "task-mean activation. The top heads form the instruction vector.")
                .figures(figs)
                .table(List.of("source", "task", "method / mode", "layers × heads", "prompts", "top 5 heads (layer.head: CIE)"),
                        rows);
    }

    /** What a scan.json has ({@link ScanFile#readSummary}); a member of the wrong shape is a {@link ReportException}. */
    static ScanFile readScan(Path f) {
        try {
            return ScanFile.readSummary(f);
        } catch (ReportException e) {
            throw e;
        } catch (ModelFormatException e) {
            String prefix = f + (e.field() == null ? "" : " [" + e.field() + "]") + ": ";
            String m = e.getMessage();
            throw new ReportException(f, e.field(), m.startsWith(prefix) ? m.substring(prefix.length()) : m, e);
        }
    }

    static String cieHeatmap(String title, double[][] cie) {
        List<String> rl = new ArrayList<>(), cl = new ArrayList<>();
        for (int i = 0; i < cie.length; i++) {
            rl.add("L" + i);
        }
        for (int j = 0; j < Stats.width(cie); j++) {
            cl.add(Integer.toString(j));
        }
        return Plots.heatmap(new Plots.Heatmap(title, "head", "layer", rl, cl, cie, ColorScale.auto(cie), "CIE"));
    }

    private static String topHeads(double[][] m, int k) {
        List<double[]> all = new ArrayList<>();
        for (int l = 0; l < m.length; l++) {
            for (int h = 0; h < m[l].length; h++) {
                if (Double.isFinite(m[l][h])) {
                    all.add(new double[] {l, h, m[l][h]});
                }
            }
        }
        all.sort((a, b) -> Double.compare(b[2], a[2]));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(k, all.size()); i++) {
            double[] a = all.get(i);
            sb.append(i == 0 ? "" : ", ").append((int) a[0]).append('.').append((int) a[1]).append(": ")
                    .append(Plots.fmt(a[2]));
        }
        return sb.toString();
    }
}
