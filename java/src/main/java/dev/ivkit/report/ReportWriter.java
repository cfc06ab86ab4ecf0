package dev.ivkit.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

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
 *       and layer sweeps.
 * </ul>
 * Each section appears only when its data exists; unknown fields are ignored; a file that is not valid JSON or has a
 * known field of the wrong shape is a {@link ReportException} naming the file and field.
 */
public final class ReportWriter {
    /** The input file names the report looks for. */
    public static final List<String> INPUTS = List.of("scan.json", "eval.json", "probe.json", "metrics.jsonl", "results.json");

    /** What the footer says: the command that made the report and the ivkit version. */
    public record Footer(String commandLine, String version) {}

    private final Path runDir;
    private final Footer footer;
    private final List<String> sections = new ArrayList<>();

    public ReportWriter(Path runDir, Footer footer) {
        this.runDir = runDir;
        this.footer = footer;
    }

    /** The input files found (sorted: the run folder's own files, then each subfolder's, by name). */
    public List<Path> inputs() {
        if (!Files.isDirectory(runDir)) {
            throw new ReportException(runDir, null, Files.exists(runDir) ? "not a folder" : "no such folder");
        }
        List<Path> dirs = new ArrayList<>();
        dirs.add(runDir);
        try (Stream<Path> s = Files.list(runDir)) {
            s.filter(Files::isDirectory).sorted(Comparator.comparing(Path::toString)).forEach(dirs::add);
        } catch (IOException e) {
            throw new ReportException(runDir, null, "cannot list: " + e.getMessage(), e);
        }
        List<Path> out = new ArrayList<>();
        for (Path d : dirs) {
            for (String name : INPUTS) {
                Path f = d.resolve(name);
                if (Files.isRegularFile(f)) {
                    out.add(f);
                }
            }
        }
        return out;
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
        List<Path> files = inputs();
        if (files.isEmpty()) {
            throw new ReportException(runDir, null, "no " + String.join(", ", INPUTS)
                    + " in the folder or its immediate subfolders; nothing to report");
        }
        Map<String, List<Path>> byName = new LinkedHashMap<>();
        for (String n : INPUTS) {
            byName.put(n, new ArrayList<>());
        }
        for (Path f : files) {
            byName.get(f.getFileName().toString()).add(f);
        }
        // read everything first: a bad file fails the report before anything is written
        Map<Path, JsonObject> objects = new LinkedHashMap<>();
        Map<Path, List<JsonObject>> lines = new LinkedHashMap<>();
        for (Path f : files) {
            if (f.getFileName().toString().endsWith(".jsonl")) {
                lines.put(f, Json.readLines(f));
            } else {
                objects.put(f, Json.readObject(f));
            }
        }
        List<Section> out = new ArrayList<>();
        Sections s = new Sections(runDir);
        for (Path f : byName.get("results.json")) {
            s.continual(f, objects.get(f), out);
        }
        Section cie = s.cie(byName.get("scan.json"), objects, byName.get("results.json"));
        Section sweep = s.sweep(byName.get("eval.json"), objects, byName.get("results.json"));
        Section probe = s.probe(byName.get("probe.json"), objects);
        Section train = s.training(byName.get("metrics.jsonl"), lines);
        List<Section> all = new ArrayList<>();
        for (Section x : new Section[] {cie, sweep}) {
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
        return page(files, all);
    }

    // ------------------------------------------------------------------------------------------- page

    /** Cells that are numbers (or a dash, or mean ± sd, or a shape like 5 × 8) are right-aligned. */
    static final java.util.regex.Pattern NUMERIC = java.util.regex.Pattern.compile(
            "[-+0-9.eE]+( ± [-+0-9.eE]+)?|—|n/a|\\d+ × \\d+");

    /** One section: a title, an optional note, figures (inline SVG) and summary tables (HTML). */
    static final class Section {
        final String id;
        final String title;
        final StringBuilder body = new StringBuilder();

        Section(String id, String title) {
            this.id = id;
            this.title = title;
        }

        Section note(String text) {
            body.append("<p class=\"note\">").append(Html.escape(text)).append("</p>\n");
            return this;
        }

        Section figures(List<String> svgs) {
            if (!svgs.isEmpty()) {
                body.append("<div class=\"figs\">\n");
                for (String s : svgs) {
                    body.append("<figure>").append(s).append("</figure>\n");
                }
                body.append("</div>\n");
            }
            return this;
        }

        Section table(List<String> header, List<List<String>> rows) {
            if (rows.isEmpty()) {
                return this;
            }
            body.append("<table><thead><tr>");
            for (String h : header) {
                body.append("<th>").append(Html.escape(h)).append("</th>");
            }
            body.append("</tr></thead><tbody>\n");
            for (List<String> r : rows) {
                body.append("<tr>");
                for (int i = 0; i < r.size(); i++) {
                    body.append(i > 0 && NUMERIC.matcher(r.get(i)).matches() ? "<td class=\"num\">" : "<td>")
                            .append(Html.escape(r.get(i))).append("</td>");
                }
                body.append("</tr>\n");
            }
            body.append("</tbody></table>\n");
            return this;
        }
    }

    static final String CSS = """
            body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;margin:0;padding:0 24px 24px;\
            color:#1a1a1a;background:#fafafa;line-height:1.4}
            header{padding:16px 0 4px;border-bottom:2px solid #4e79a7}
            h1{font-size:22px;margin:0 0 4px}
            h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
            nav{margin:8px 0;font-size:13px}
            nav a{margin-right:14px;color:#2c5d8f;text-decoration:none}
            .note{font-size:13px;color:#444;margin:4px 0 10px;max-width:1000px}
            .figs{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
            figure{margin:0;background:#fff;border:1px solid #e2e2e2;border-radius:4px;padding:4px}
            figure svg{display:block}
            table{border-collapse:collapse;margin:12px 0;font-size:13px;background:#fff}
            th,td{border:1px solid #ddd;padding:3px 9px;text-align:left}
            th{background:#f0f3f7}
            td.num{font-variant-numeric:tabular-nums;text-align:right}
            code{font-size:12px;background:#f0f0f0;padding:1px 4px;overflow-wrap:anywhere}
            td:first-child{white-space:nowrap}
            footer{margin-top:32px;padding-top:8px;border-top:1px solid #ccc;font-size:12px;color:#555}
            """;

    private String page(List<Path> files, List<Section> all) {
        StringBuilder sb = new StringBuilder(1 << 16);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>ivkit report: ").append(Html.escape(name(runDir))).append("</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        sb.append("<header><h1>ivkit report</h1><p class=\"note\">Run folder <code>").append(Html.escape(runDir.toString()))
                .append("</code>; inputs: ");
        for (int i = 0; i < files.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append("<code>").append(Html.escape(rel(files.get(i)))).append("</code>");
        }
        sb.append("</p>\n<nav>");
        for (Section s : all) {
            sb.append("<a href=\"#").append(s.id).append("\">").append(Html.escape(s.title)).append("</a>");
        }
        sb.append("</nav></header>\n");
        for (Section s : all) {
            sb.append("<section id=\"").append(s.id).append("\">\n<h2>").append(Html.escape(s.title)).append("</h2>\n")
                    .append(s.body).append("</section>\n");
        }
        sb.append("<footer>Generated by ").append(Html.escape(footer == null ? "ivkit" : footer.version()));
        if (footer != null && footer.commandLine() != null) {
            sb.append(": <code>").append(Html.escape(footer.commandLine())).append("</code>");
        }
        sb.append("</footer>\n</body>\n</html>\n");
        return sb.toString();
    }

    private String rel(Path f) {
        return runDir.relativize(f).toString();
    }

    private static String name(Path p) {
        Path n = p.toAbsolutePath().normalize().getFileName();
        return n == null ? p.toString() : n.toString();
    }

    // ------------------------------------------------------------------------------------------- sections

    /** The section builders (kept apart from the page scaffolding). */
    private static final class Sections {
        private final Path runDir;
        private int ids;

        Sections(Path runDir) {
            this.runDir = runDir;
        }

        String rel(Path f) {
            return runDir.relativize(f).toString();
        }

        String id(String base) {
            return base + "-" + (++ids);
        }

        // ---------- CIE heatmaps (scan.json; results.json initial.iv[].cie)
        Section cie(List<Path> scans, Map<Path, JsonObject> objects, List<Path> results) {
            List<String> figs = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            for (Path f : scans) {
                JsonObject o = objects.get(f);
                double[][] cie = Json.matrix(f, o, "cie", "");
                if (cie == null || cie.length == 0) {
                    continue;
                }
                String task = orDash(Json.str(f, o, "task", ""));
                String method = orDash(Json.str(f, o, "method", "")) + " / " + orDash(Json.str(f, o, "mode", ""));
                Double prompts = Json.num(f, o, "prompts", "");
                figs.add(cieHeatmap("CIE: " + task + " (" + rel(f) + ")", cie));
                rows.add(List.of(rel(f), task, method, cie.length + " × " + width(cie),
                        prompts == null ? "—" : Long.toString(Math.round(prompts)), topHeads(cie, 5)));
            }
            for (Path f : results) {
                JsonObject init = Json.obj(f, objects.get(f), "initial", "");
                JsonArray iv = Json.arr(f, init, "iv", "initial");
                if (iv == null) {
                    continue;
                }
                for (int i = 0; i < iv.size(); i++) {
                    JsonObject e = element(f, iv, i, "initial.iv");
                    double[][] cie = Json.matrix(f, e, "cie", "initial.iv[" + i + "]");
                    if (cie == null || cie.length == 0) {
                        continue;
                    }
                    String task = orDash(Json.str(f, e, "task", "initial.iv[" + i + "]"));
                    figs.add(cieHeatmap("CIE, base model: " + task, cie));
                    rows.add(List.of(rel(f) + " (base model)", task, "—", cie.length + " × " + width(cie), "—",
                            topHeads(cie, 5)));
                }
            }
            if (figs.isEmpty()) {
                return null;
            }
            return new Section(id("cie"), "Causal indirect effect per head")
                    .note("Mean causal indirect effect of each attention head (rows: layers, columns: heads): the change "
                            + "in the probability of the correct answer when the head's output is patched with its "
                            + "task-mean activation. The top heads form the instruction vector.")
                    .figures(figs)
                    .table(List.of("source", "task", "method / mode", "layers × heads", "prompts", "top 5 heads (layer.head: CIE)"),
                            rows);
        }

        private static String cieHeatmap(String title, double[][] cie) {
            List<String> rl = new ArrayList<>(), cl = new ArrayList<>();
            for (int i = 0; i < cie.length; i++) {
                rl.add("L" + i);
            }
            for (int j = 0; j < width(cie); j++) {
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

        // ---------- layer sweep (eval.json; results.json initial.iv[].layer_sweep_top1)
        Section sweep(List<Path> evals, Map<Path, JsonObject> objects, List<Path> results) {
            List<String> figs = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            for (Path f : evals) {
                List<Plots.Series> series = new ArrayList<>();
                JsonObject settings = Json.obj(f, objects.get(f), "settings", "");
                if (settings == null) {
                    continue;
                }
                for (Map.Entry<String, JsonElement> s : settings.entrySet()) {
                    String path = "settings." + s.getKey();
                    if (!s.getValue().isJsonArray()) {
                        throw new ReportException(f, path, "expected an array of results");
                    }
                    JsonArray a = s.getValue().getAsJsonArray();
                    List<double[]> pts = new ArrayList<>();
                    double base = Double.NaN, baseF1 = Double.NaN;
                    for (int i = 0; i < a.size(); i++) {
                        JsonObject r = element(f, a, i, path);
                        Double layer = Json.num(f, r, "layer", path + "[" + i + "]");
                        Double top1 = Json.num(f, r, "top1", path + "[" + i + "]");
                        Double f1 = Json.num(f, r, "f1", path + "[" + i + "]");
                        if (layer == null || top1 == null) {
                            continue;
                        }
                        if (layer < 0) {
                            base = top1;
                            baseF1 = f1 == null ? Double.NaN : f1;
                        } else {
                            pts.add(new double[] {layer, top1, f1 == null ? Double.NaN : f1});
                        }
                    }
                    pts.sort(Comparator.comparingDouble(p -> p[0]));
                    double[] best = null;
                    for (double[] p : pts) {
                        if (best == null || p[1] > best[1]) {
                            best = p;
                        }
                    }
                    if (best == null && Double.isNaN(base)) {
                        continue;
                    }
                    rows.add(List.of(rel(f), s.getKey(), Plots.fmt(base), Plots.fmt(baseF1),
                            best == null ? "—" : Integer.toString((int) best[0]), best == null ? "—" : Plots.fmt(best[1]),
                            best == null ? "—" : Plots.fmt(best[2])));
                    if (pts.size() >= 2) {
                        double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
                        double[] y = pts.stream().mapToDouble(p -> p[1]).toArray();
                        series.add(Plots.Series.of(s.getKey() + " + IV", x, y));
                        if (!Double.isNaN(base)) {
                            series.add(new Plots.Series(s.getKey() + " without IV", new double[] {x[0], x[x.length - 1]},
                                    new double[] {base, base}, true, null));
                        }
                    }
                }
                if (!series.isEmpty()) {
                    String task = Json.str(f, objects.get(f), "task", "");
                    figs.add(Plots.lines("Top-1 vs. IV layer: " + (task == null ? "" : task + " ") + "(" + rel(f) + ")",
                            "layer", "top-1 accuracy", series));
                }
            }
            for (Path f : results) {
                List<Plots.Series> series = new ArrayList<>();
                JsonObject init = Json.obj(f, objects.get(f), "initial", "");
                JsonArray iv = Json.arr(f, init, "iv", "initial");
                if (iv == null) {
                    continue;
                }
                for (int i = 0; i < iv.size(); i++) {
                    String p = "initial.iv[" + i + "]";
                    JsonObject e = element(f, iv, i, "initial.iv");
                    JsonArray sw = Json.arr(f, e, "layer_sweep_top1", p);
                    if (sw == null || sw.size() < 2) {
                        continue;
                    }
                    double[] x = new double[sw.size()], y = new double[sw.size()];
                    for (int k = 0; k < sw.size(); k++) {
                        JsonObject r = element(f, sw, k, p + ".layer_sweep_top1");
                        Double l = Json.num(f, r, "layer", p + ".layer_sweep_top1[" + k + "]");
                        Double t = Json.num(f, r, "top1", p + ".layer_sweep_top1[" + k + "]");
                        x[k] = l == null ? Double.NaN : l;
                        y[k] = t == null ? Double.NaN : t;
                    }
                    String task = orDash(Json.str(f, e, "task", p));
                    JsonElement every = e == null ? null : e.get("every_token");   // the demo's choice of IV positions
                    if (every != null && every.isJsonPrimitive() && every.getAsJsonPrimitive().isBoolean() && every.getAsBoolean()) {
                        task += " (every token)";
                    }
                    series.add(Plots.Series.of(shortName(task), x, y));
                    int bi = argmax(y);
                    rows.add(List.of(rel(f) + " (base model)", task, "—", "—", bi < 0 ? "—" : Integer.toString((int) x[bi]),
                            bi < 0 ? "—" : Plots.fmt(y[bi]), "—"));
                }
                if (!series.isEmpty()) {
                    figs.add(Plots.lines("Top-1 vs. IV layer, base model (" + rel(f) + ")", "layer", "top-1 accuracy", series));
                }
            }
            if (rows.isEmpty()) {
                return null;
            }
            Section s = new Section(id("sweep"), "Layer sweep");
            s.note("Top-1 accuracy of the first answer token (eval.json; for the demo's results.json: exact match of the "
                    + "greedy answer) with the instruction vector added at each layer (solid) against the model without it "
                    + "(dashed); \"(every token)\" marks an IV added at every generated token, not only the last prompt token.");
            s.figures(figs);
            return s.table(List.of("source", "setting / task", "baseline top-1", "baseline F1", "best layer", "top-1 there",
                    "F1 there"), rows);
        }

        // ---------- knowledge probe (probe.json)
        Section probe(List<Path> probes, Map<Path, JsonObject> objects) {
            List<String> groups = new ArrayList<>();
            List<double[]> vals = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            for (Path f : probes) {
                JsonObject o = objects.get(f);
                Double bare = Json.num(f, o, "bare", ""), ins = Json.num(f, o, "instructed", "");
                if (bare == null && ins == null) {
                    continue;
                }
                String task = orDash(Json.str(f, o, "task", ""));
                groups.add(probes.size() > 1 ? task + " (" + rel(f) + ")" : task);
                vals.add(new double[] {bare == null ? Double.NaN : bare, ins == null ? Double.NaN : ins});
                Double ex = Json.num(f, o, "examples", "");
                rows.add(List.of(rel(f), task, orDash(Json.str(f, o, "context", "")),
                        ex == null ? "—" : Long.toString(Math.round(ex)), Plots.fmt(vals.get(vals.size() - 1)[0]),
                        Plots.fmt(vals.get(vals.size() - 1)[1])));
            }
            if (rows.isEmpty()) {
                return null;
            }
            return new Section(id("probe"), "Knowledge vs. instruction (probe)")
                    .note("Mean probability of the answer given the bare query, P(y | x) (knowledge), and given the "
                            + "instruction or demonstrations, P(y | c, x) (instruction following).")
                    .figures(List.of(Plots.bars(new Plots.Bars("Knowledge vs. instruction", "P(answer)", groups,
                            List.of("knowledge P(y | x)", "instruction P(y | c, x)"), vals.toArray(new double[0][]), null,
                            null))))
                    .table(List.of("source", "task", "context", "examples", "P(y | x)", "P(y | c, x)"), rows);
        }

        // ---------- training curves (metrics.jsonl)
        Section training(List<Path> files, Map<Path, List<JsonObject>> lines) {
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
                figs.add(Plots.lines("Training: " + rel(f), "step", "loss", series));
                List<double[]> loss = pts.get(0);
                rows.add(List.of(rel(f), Integer.toString(n), Plots.fmt(loss.get(0)[1]), Plots.fmt(loss.get(loss.size() - 1)[1]),
                        Plots.fmt(lastLr)));
            }
            if (rows.isEmpty()) {
                return null;
            }
            return new Section(id("train"), "Training curves")
                    .note("Per-step training loss (total), its cross-entropy part and, for IV-guided training, the KL term.")
                    .figures(figs)
                    .table(List.of("source", "steps logged", "first loss", "last loss", "last lr"), rows);
        }

        // ---------- continual study (results.json)
        void continual(Path f, JsonObject o, List<Section> out) {
            List<String> tasks = strings(f, Json.arr(f, o, "tasks", ""), "tasks");
            JsonObject methods = Json.obj(f, o, "methods", "");
            String where = " (" + rel(f) + (Json.present(o, "sequence") ? ", " + Json.str(f, o, "sequence", "") : "") + ")";
            List<Method> ms = new ArrayList<>();
            if (methods != null) {
                for (Map.Entry<String, JsonElement> e : methods.entrySet()) {
                    ms.add(Method.read(f, e.getKey(), e.getValue()));
                }
            }
            JsonObject init = Json.obj(f, o, "initial", "");
            forgetting(f, ms, where, out);
            matrices(f, ms, tasks, where, out);
            dynamics(f, ms, where, out);
            knowledge(f, init, ms, tasks, where, out);
        }

        private void forgetting(Path f, List<Method> ms, String where, List<Section> out) {
            List<String> metrics = List.of("AP", "BWT", "FWT");
            List<String> names = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            double[][] mean = new double[3][ms.size()], sd = new double[3][ms.size()];
            double[][][] pts = new double[3][ms.size()][];
            boolean any = false;
            for (int k = 0; k < ms.size(); k++) {
                Method m = ms.get(k);
                names.add(m.name);
                List<String> row = new ArrayList<>(List.of(m.name, Integer.toString(m.seeds.size())));
                for (int i = 0; i < 3; i++) {
                    double[] v = m.metric(metrics.get(i));
                    pts[i][k] = v;
                    mean[i][k] = v.length > 0 ? meanOf(v) : m.summaryMean(metrics.get(i));
                    sd[i][k] = v.length > 1 ? sdOf(v) : m.summarySd(metrics.get(i));
                    any |= Double.isFinite(mean[i][k]);
                    row.add(Plots.fmt(mean[i][k]) + (Double.isFinite(sd[i][k]) ? " ± " + Plots.fmt(sd[i][k]) : ""));
                }
                rows.add(row);
            }
            if (!any) {
                return;
            }
            out.add(new Section(id("forgetting"), "Forgetting metrics" + where)
                    .note("AP: mean accuracy over all tasks after the last task; BWT: mean change on earlier tasks "
                            + "between learning them and the end (negative = forgetting); FWT: mean gain on a task "
                            + "from the tasks before it over the base model (Lopez-Paz & Ranzato, 2017). Bars: mean over "
                            + "seeds; whiskers: ± one standard deviation; dots: single seeds.")
                    .figures(List.of(Plots.bars(new Plots.Bars("AP / BWT / FWT per method", "score", metrics, names,
                            mean, sd, pts))))
                    .table(List.of("method", "seeds", "AP", "BWT", "FWT"), rows));
        }

        private void matrices(Path f, List<Method> ms, List<String> tasks, String where, List<Section> out) {
            List<String> figs = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            List<double[][]> means = new ArrayList<>();
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (Method m : ms) {
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
                int cols = width(avg);
                List<String> cl = new ArrayList<>(), rl = new ArrayList<>();
                for (int j = 0; j < cols; j++) {
                    cl.add(j < tasks.size() ? shortName(tasks.get(j)) : "task " + j);
                }
                for (int i = 0; i < avg.length; i++) {
                    rl.add("after " + (i < tasks.size() ? shortName(tasks.get(i)) : "task " + i));
                }
                Method m = ms.get(k);
                figs.add(Plots.heatmap(new Plots.Heatmap("Accuracy matrix: " + m.name + " (" + m.matrixCount()
                        + (m.matrixCount() == 1 ? " seed)" : " seeds, mean)"), "evaluated on task", "trained through",
                        rl, cl, avg, scale, "score")));
                double[] last = avg[avg.length - 1];
                double[] diag = new double[Math.min(avg.length, cols)];
                for (int i = 0; i < diag.length; i++) {
                    diag[i] = i < avg[i].length ? avg[i][i] : Double.NaN;
                }
                rows.add(List.of(m.name, Integer.toString(m.matrixCount()), avg.length + " × " + cols,
                        Plots.fmt(meanOf(diag)), Plots.fmt(meanOf(last))));
            }
            out.add(new Section(id("accuracy"), "Accuracy matrices" + where)
                    .note("R[i][j]: score on task j (columns) after training through task i (rows), mean over seeds. "
                            + "Below the diagonal: retention of earlier tasks; above it: tasks not yet trained.")
                    .figures(figs)
                    .table(List.of("method", "seeds", "stages × tasks", "mean just after learning (diagonal)",
                            "mean after the last task"), rows));
        }

        private void dynamics(Path f, List<Method> ms, String where, List<Section> out) {
            List<Plots.Series> series = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            for (int k = 0; k < ms.size(); k++) {
                Method m = ms.get(k);
                List<Method.DynPoint> d = m.dynamics;
                double[] x = new double[d.size()], y = new double[d.size()];
                List<String> labels = new ArrayList<>();
                List<Double> jac = new ArrayList<>(), regained = new ArrayList<>(), earlierCos = new ArrayList<>();
                for (int i = 0; i < d.size(); i++) {
                    Method.DynPoint p = d.get(i);
                    x[i] = p.cosine();
                    y[i] = p.accuracy();
                    labels.add(m.name + ", seed " + p.seed() + ", after stage " + p.stage() + ", " + p.task());
                    if (p.task_index() < p.stage()) {
                        earlierCos.add(p.cosine());
                        jac.add(p.jaccard());
                        regained.add(p.regained());
                    }
                }
                // the scatter only shows one series per method, colours matching the other charts
                series.add(new Plots.Series(m.name, x, y, false, labels));
                if (d.isEmpty()) {
                    continue;
                }
                rows.add(List.of(m.name, Integer.toString(d.size()), Plots.fmt(meanOf(earlierCos)), Plots.fmt(meanOf(jac)),
                        Plots.fmt(meanOf(regained)), Plots.fmt(pearson(x, y))));
            }
            if (rows.isEmpty()) {
                return;
            }
            out.add(new Section(id("dynamics"), "IV similarity vs. accuracy" + where)
                    .note("One point per (seed, stage, task trained so far): cosine between the task's instruction vector "
                            + "extracted from the fine-tuned model and the one from before fine-tuning, against the task's "
                            + "score at that stage. The table averages over earlier tasks only (task index < stage).")
                    .figures(List.of(Plots.scatter("IV cosine to pre-fine-tuning IV vs. score", "cosine similarity",
                            "score", series)))
                    .table(List.of("method", "points", "mean cosine (earlier tasks)", "mean top-k head Jaccard",
                            "mean share of lost score regained by the pre-FT IV", "Pearson r (cosine, score)"), rows));
        }

        private void knowledge(Path f, JsonObject init, List<Method> ms, List<String> tasks, String where, List<Section> out) {
            Map<String, double[]> base = new LinkedHashMap<>();
            JsonArray kn = Json.arr(f, init, "knowledge", "initial");
            if (kn != null) {
                for (int i = 0; i < kn.size(); i++) {
                    String p = "initial.knowledge[" + i + "]";
                    JsonObject e = element(f, kn, i, "initial.knowledge");
                    String task = Json.str(f, e, "task", p);
                    Double kp = Json.num(f, e, "knowledge_p", p), ip = Json.num(f, e, "instruction_p", p);
                    base.put(task == null ? (i < tasks.size() ? tasks.get(i) : "task " + i) : task,
                            new double[] {kp == null ? Double.NaN : kp, ip == null ? Double.NaN : ip});
                }
            }
            List<String> order = new ArrayList<>(tasks);
            for (String t : base.keySet()) {
                if (!order.contains(t)) {
                    order.add(t);
                }
            }
            List<String> figs = new ArrayList<>();
            List<List<String>> rows = new ArrayList<>();
            for (Method m : ms) {
                Map<String, double[][]> after = m.finalKnowledge();  // task -> [seed][knowledge, instruction]
                if (after.isEmpty()) {
                    continue;
                }
                for (String t : after.keySet()) {
                    if (!order.contains(t)) {
                        order.add(t);
                    }
                }
                double[][] vals = new double[order.size()][4], errs = new double[order.size()][4];
                double[][] byTask = new double[order.size()][];
                for (int i = 0; i < order.size(); i++) {
                    double[] b = base.getOrDefault(order.get(i), new double[] {Double.NaN, Double.NaN});
                    double[][] a = after.get(order.get(i));
                    double[] ka = a == null ? new double[0] : column(a, 0), ia = a == null ? new double[0] : column(a, 1);
                    vals[i] = new double[] {b[0], meanOf(ka), b[1], meanOf(ia)};
                    errs[i] = new double[] {Double.NaN, sdOf(ka), Double.NaN, sdOf(ia)};
                    byTask[i] = vals[i];
                }
                rows.add(List.of(m.name, Integer.toString(order.size()), Plots.fmt(meanOf(column(byTask, 0))),
                        Plots.fmt(meanOf(column(byTask, 1))), Plots.fmt(meanOf(column(byTask, 2))),
                        Plots.fmt(meanOf(column(byTask, 3)))));
                figs.add(Plots.bars(new Plots.Bars("Knowledge vs. instruction: " + m.name, "P(answer)", shortNames(order),
                        List.of("knowledge, base", "knowledge, after last task", "instruction, base",
                                "instruction, after last task"), vals, errs, null)));
            }
            if (figs.isEmpty() && !base.isEmpty()) {
                double[][] vals = new double[base.size()][];
                int i = 0;
                for (Map.Entry<String, double[]> e : base.entrySet()) {
                    vals[i++] = e.getValue();
                    rows.add(List.of("base model: " + e.getKey(), "1", Plots.fmt(e.getValue()[0]), "—", Plots.fmt(e.getValue()[1]), "—"));
                }
                figs.add(Plots.bars(new Plots.Bars("Knowledge vs. instruction: base model", "P(answer)",
                        shortNames(new ArrayList<>(base.keySet())), List.of("knowledge P(y | x)", "instruction P(y | c, x)"), vals,
                        null, null)));
            }
            if (figs.isEmpty()) {
                return;
            }
            out.add(new Section(id("knowledge"), "Knowledge vs. instruction" + where)
                    .note("Knowledge: mean P(answer | bare query); instruction: mean P(answer | instruction, query). "
                            + "Base model against the model after the last task (mean over seeds; whiskers ± one "
                            + "standard deviation). A drop in instruction with knowledge intact is forgetting of "
                            + "instruction following rather than of the task's knowledge.")
                    .figures(figs)
                    .table(List.of("method", "tasks", "knowledge, base (mean over tasks)", "knowledge, after",
                            "instruction, base", "instruction, after"), rows));
        }

        private static double[] column(double[][] a, int c) {
            return Arrays.stream(a).mapToDouble(r -> r[c]).toArray();
        }

        private static List<String> strings(Path f, JsonArray a, String path) {
            List<String> out = new ArrayList<>();
            if (a == null) {
                return out;
            }
            for (int i = 0; i < a.size(); i++) {
                JsonElement e = a.get(i);
                if (!e.isJsonPrimitive()) {
                    throw new ReportException(f, path + "[" + i + "]", "expected a string");
                }
                out.add(e.getAsString());
            }
            return out;
        }
    }

    // ------------------------------------------------------------------------------------------- results.json model

    /** One method of results.json: per-seed metrics, accuracy matrices and IV-dynamics entries. */
    private static final class Method {
        record DynPoint(String seed, int stage, int task_index, String task, double cosine, double accuracy,
                double jaccard, double regained, double knowledge, double instruction) {}

        final String name;
        final Map<String, Map<String, Double>> seeds = new LinkedHashMap<>();  // seed -> AP/BWT/FWT
        final List<double[][]> matrices = new ArrayList<>();
        final List<DynPoint> dynamics = new ArrayList<>();
        final Map<String, double[]> summary = new LinkedHashMap<>();  // metric -> mean, std

        private Method(String name) {
            this.name = name;
        }

        static Method read(Path f, String name, JsonElement el) {
            String p = "methods." + name;
            if (!el.isJsonObject()) {
                throw new ReportException(f, p, "expected an object");
            }
            JsonObject o = el.getAsJsonObject();
            Method m = new Method(name);
            JsonObject seeds = Json.obj(f, o, "seeds", p);
            if (seeds != null) {
                for (Map.Entry<String, JsonElement> s : seeds.entrySet()) {
                    String sp = p + ".seeds." + s.getKey();
                    if (!s.getValue().isJsonObject()) {
                        throw new ReportException(f, sp, "expected an object");
                    }
                    JsonObject so = s.getValue().getAsJsonObject();
                    Map<String, Double> met = new LinkedHashMap<>();
                    for (String k : List.of("AP", "BWT", "FWT")) {
                        if (Json.has(so, k)) {
                            met.put(k, Json.num(f, so.get(k), Json.path(sp, k)));
                        }
                    }
                    m.seeds.put(s.getKey(), met);
                    double[][] mat = Json.matrix(f, so, "accuracy_matrix", sp);
                    if (mat != null && mat.length > 0) {
                        m.matrices.add(mat);
                    }
                    JsonArray dyn = Json.arr(f, so, "iv_dynamics", sp);
                    if (dyn != null) {
                        m.readDynamics(f, s.getKey(), dyn, sp + ".iv_dynamics");
                    }
                }
            }
            JsonObject sum = Json.obj(f, o, "summary", p);
            if (sum != null) {
                for (String k : List.of("AP", "BWT", "FWT")) {
                    JsonObject ko = Json.obj(f, sum, k, p + ".summary");
                    if (ko != null) {
                        Double mean = Json.num(f, ko, "mean", p + ".summary." + k);
                        Double sd = Json.num(f, ko, "std", p + ".summary." + k);
                        m.summary.put(k, new double[] {mean == null ? Double.NaN : mean, sd == null ? Double.NaN : sd});
                    }
                }
            }
            return m;
        }

        private void readDynamics(Path f, String seed, JsonArray stages, String p) {
            for (int k = 0; k < stages.size(); k++) {
                JsonElement st = stages.get(k);
                if (st.isJsonNull()) {
                    continue;
                }
                if (!st.isJsonArray()) {
                    throw new ReportException(f, p + "[" + k + "]", "expected an array of per-task entries");
                }
                JsonArray a = st.getAsJsonArray();
                for (int i = 0; i < a.size(); i++) {
                    String ep = p + "[" + k + "][" + i + "]";
                    JsonObject e = element(f, a, i, p + "[" + k + "]");
                    Double ti = Json.num(f, e, "task_index", ep);
                    JsonObject rec = Json.obj(f, e, "recovery", ep);
                    JsonObject kn = Json.obj(f, e, "knowledge", ep);
                    dynamics.add(new DynPoint(seed, k, ti == null ? i : (int) Math.round(ti), orDash(Json.str(f, e, "task", ep)),
                            nan(Json.num(f, e, "iv_cosine", ep)), nan(Json.num(f, e, "accuracy", ep)),
                            nan(Json.num(f, e, "head_jaccard", ep)),
                            rec == null ? Double.NaN : nan(Json.num(f, rec, "share_regained", ep + ".recovery")),
                            kn == null ? Double.NaN : nan(Json.num(f, kn, "knowledge_p", ep + ".knowledge")),
                            kn == null ? Double.NaN : nan(Json.num(f, kn, "instruction_p", ep + ".knowledge"))));
                }
            }
        }

        /** The metric over seeds (finite values only). */
        double[] metric(String k) {
            return seeds.values().stream().map(m -> m.get(k)).filter(v -> v != null && Double.isFinite(v))
                    .mapToDouble(Double::doubleValue).toArray();
        }

        double summaryMean(String k) {
            return summary.containsKey(k) ? summary.get(k)[0] : Double.NaN;
        }

        double summarySd(String k) {
            return summary.containsKey(k) ? summary.get(k)[1] : Double.NaN;
        }

        int matrixCount() {
            return matrices.size();
        }

        /** Element-wise mean of the seeds' matrices (NaN where no seed has a value); null when none. */
        double[][] meanMatrix() {
            if (matrices.isEmpty()) {
                return null;
            }
            int rows = 0, cols = 0;
            for (double[][] m : matrices) {
                rows = Math.max(rows, m.length);
                cols = Math.max(cols, width(m));
            }
            double[][] out = new double[rows][cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double s = 0;
                    int n = 0;
                    for (double[][] m : matrices) {
                        if (i < m.length && j < m[i].length && Double.isFinite(m[i][j])) {
                            s += m[i][j];
                            n++;
                        }
                    }
                    out[i][j] = n == 0 ? Double.NaN : s / n;
                }
            }
            return out;
        }

        /** Per task, per seed: knowledge and instruction probabilities at that seed's last stage. */
        Map<String, double[][]> finalKnowledge() {
            Map<String, Integer> lastStage = new LinkedHashMap<>();
            for (DynPoint p : dynamics) {
                lastStage.merge(p.seed(), p.stage(), Math::max);
            }
            Map<String, List<double[]>> acc = new LinkedHashMap<>();
            for (DynPoint p : dynamics) {
                if (p.stage() == lastStage.get(p.seed()) && (Double.isFinite(p.knowledge()) || Double.isFinite(p.instruction()))) {
                    acc.computeIfAbsent(p.task(), t -> new ArrayList<>()).add(new double[] {p.knowledge(), p.instruction()});
                }
            }
            Map<String, double[][]> out = new LinkedHashMap<>();
            acc.forEach((t, l) -> out.put(t, l.toArray(new double[0][])));
            return out;
        }
    }

    // ------------------------------------------------------------------------------------------- numbers

    /** A short label for a task: {@code task195} for SuperNI's {@code task195_sentiment_...}, else the name. */
    static String shortName(String task) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(task\\d+)_.*").matcher(task);
        return m.matches() ? m.group(1) : task;
    }

    static List<String> shortNames(List<String> tasks) {
        return tasks.stream().map(ReportWriter::shortName).toList();
    }

    static JsonObject element(Path f, JsonArray a, int i, String path) {
        JsonElement e = a.get(i);
        if (!e.isJsonObject()) {
            throw new ReportException(f, path + "[" + i + "]", "expected an object");
        }
        return e.getAsJsonObject();
    }

    static double nan(Double v) {
        return v == null ? Double.NaN : v;
    }

    static String orDash(String s) {
        return s == null ? "—" : s;
    }

    static int width(double[][] m) {
        int w = 0;
        for (double[] r : m) {
            w = Math.max(w, r.length);
        }
        return w;
    }

    static int argmax(double[] v) {
        int b = -1;
        for (int i = 0; i < v.length; i++) {
            if (Double.isFinite(v[i]) && (b < 0 || v[i] > v[b])) {
                b = i;
            }
        }
        return b;
    }

    static double meanOf(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (Double.isFinite(x)) {
                s += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    static double meanOf(List<Double> v) {
        return meanOf(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Sample standard deviation of the finite values (NaN for fewer than two). */
    static double sdOf(double[] v) {
        double m = meanOf(v);
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (Double.isFinite(x)) {
                s += (x - m) * (x - m);
                n++;
            }
        }
        return n < 2 ? Double.NaN : Math.sqrt(s / (n - 1));
    }

    /** Pearson correlation over the pairs where both are finite (NaN for fewer than 3 or no spread). */
    static double pearson(double[] x, double[] y) {
        List<double[]> p = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                p.add(new double[] {x[i], y[i]});
            }
        }
        if (p.size() < 3) {
            return Double.NaN;
        }
        double mx = p.stream().mapToDouble(a -> a[0]).average().orElse(0), my = p.stream().mapToDouble(a -> a[1]).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (double[] a : p) {
            sxy += (a[0] - mx) * (a[1] - my);
            sxx += (a[0] - mx) * (a[0] - mx);
            syy += (a[1] - my) * (a[1] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }
}
