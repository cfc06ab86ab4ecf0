package dev.ivkit.report;

import dev.ivkit.results.ResultsFile;

import dev.ivkit.util.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds one self-contained HTML report (inline CSS, inline SVG, no script, no network) from what ivkit wrote into a
 * run folder. It looks in the folder and its immediate subfolders for:
 * <ul>
 *   <li>{@code scan.json} ({@code ivkit scan}): the CIE heatmap, layer × head;
 *   <li>{@code eval.json} ({@code ivkit evaluate}, with {@code --sweep}): top-1 accuracy per layer;
 *   <li>{@code probe.json} ({@code ivkit probe}): knowledge vs instruction probabilities;
 *   <li>{@code metrics.jsonl} ({@code ivkit train}): training curves;
 *   <li>{@code results.json} ({@code ivkit continual}): AP/BWT/FWT per method with the seed spread, the accuracy
 *       matrix per method, IV similarity vs accuracy, knowledge vs instruction before and after, base-model CIE maps
 *       and layer sweeps;
 *   <li>{@code validity/TASK-DESIGN/scan.json} ({@code ivkit demo}): the scan-validity table and maps (clean and
 *       corrupted accuracy, top head and its bootstrap interval).
 * </ul>
 * Each section appears only when its data exists; unknown fields are ignored; a file that is not valid JSON or has a
 * known field of the wrong shape is a {@link ReportException} naming the file and field. {@code eval.json} and
 * {@code probe.json} are read by their owners ({@code results.EvalFile}, {@code results.ProbeFile}), which also
 * refuse another format, an unknown {@code schema_version} and a missing member.
 */
public final class ReportWriter {
    /** The input file names the report looks for. */
    public static final List<String> INPUTS = List.of("scan.json", "eval.json", "probe.json", "metrics.jsonl", "results.json");

    /** What the footer says: the command that made the report and the ivkit version. */
    public record Footer(String commandLine, String version) {}

    private final Path runDir;
    private final Footer footer;
    private final List<String> sections = new ArrayList<>();

    /**
     * A writer for the run folder {@code runDir}; nothing is read until {@link #inputs()} or {@link #render()}.
     * {@code footer} may be null (the footer then names just ivkit).
     */
    public ReportWriter(Path runDir, Footer footer) {
        this.runDir = runDir;
        this.footer = footer;
    }

    /** The input files found (sorted: the run folder's own files, then each subfolder's, by name). */
    public List<Path> inputs() {
        return RunInputs.find(runDir);
    }

    /** The titles of the sections the last {@link #render()} produced. */
    public List<String> sections() {
        return List.copyOf(sections);
    }

    /** Renders the report and writes it to {@code out} atomically; returns the section titles. */
    public List<String> write(Path out) {
        AtomicFiles.writeString(out, render());
        return sections();
    }

    /** The report as one HTML document. */
    public String render() {
        sections.clear();
        RunInputs in = RunInputs.read(runDir);
        List<Path> results = in.named("results.json");
        // section ids are numbered in build order: the continual studies first, then the others
        SectionContext ctx = new SectionContext(runDir);
        List<Section> out = new ArrayList<>();
        for (Path f : results) {
            ContinualSections.build(ctx, f, in.results().get(f), out);
        }
        Section cie = CieSection.build(ctx, in.named("scan.json"), in.results());
        Section validity = ValiditySection.build(ctx, in.validityScans());
        Section sweep = SweepSection.build(ctx, in.evals(), in.results());
        Section probe = ProbeSection.build(ctx, in.probes());
        Section train = TrainingSection.build(ctx, in.named("metrics.jsonl"), in.lines());
        List<Section> all = new ArrayList<>();
        for (Section x : new Section[] {cie, validity, sweep}) {
            if (x != null) {
                all.add(x);
            }
        }
        all.addAll(out);
        for (Section x : new Section[] {probe, train}) {
            if (x != null) {
                all.add(x);
            }
        }
        for (Section x : all) {
            sections.add(x.title);
        }
        return ReportPage.html(runDir, footer, in.files, all);
    }

    private static double size(String svg, String attr) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(attr + "=\"([0-9.]+)\"").matcher(svg);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /**
     * The paper's three claims as measured on a demo study's results (one line each: id, answer, numbers); empty where
     * {@code r} is not a demo study.
     *
     * @param r a study's results
     * @return the claims' console lines
     */
    public static List<String> claimLines(ResultsFile.Results r) {
        StudyClaims c = StudyClaims.of(r);
        return c == null ? List.of() : c.claims().stream().map(k -> "claim " + k.id() + ": " + k.answer() + " — " + k.evidence()).toList();
    }

    /**
     * The demo study's forgetting-vs-plasticity frontier as one SVG document holding both plots side by side, or null
     * without a sweep of lwf and iv-guided.
     *
     * @param r a study's results
     * @return the SVG text, or null
     */
    public static String frontierSvg(ResultsFile.Results r) {
        StudyClaims c = StudyClaims.of(r);
        List<String> svgs = c == null ? List.of() : ClaimsSections.frontierSvgs(c);
        if (svgs.isEmpty()) {
            return null;
        }
        StringBuilder body = new StringBuilder();
        double x = 0, h = 0;
        for (String svg : svgs) {
            body.append("<g transform=\"translate(").append(x).append(",0)\">").append(svg).append("</g>\n");
            x += size(svg, "width");
            h = Math.max(h, size(svg, "height"));
        }
        StringBuilder sb = new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + x + "\" height=\"" + h + "\">\n");
        sb.append(body);
        return sb.append("</svg>\n").toString();
    }
}
