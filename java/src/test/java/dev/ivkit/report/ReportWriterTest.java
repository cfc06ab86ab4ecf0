package dev.ivkit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.results.ResultsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ReportWriter on hand-made inputs: each section appears exactly when its data exists; bad files are typed errors. */
class ReportWriterTest {
    static final ReportWriter.Footer FOOTER = new ReportWriter.Footer("ivkit report run <dir>", "ivkit 9.9");

    static String render(Path dir) {
        return new ReportWriter(dir, FOOTER).render();
    }

    static List<String> sections(Path dir) {
        ReportWriter w = new ReportWriter(dir, FOOTER);
        w.render();
        return w.sections();
    }

    /** Every inline SVG of the page parses as XML. */
    static int checkSvgs(String html) throws Exception {
        Matcher m = Pattern.compile("<svg .*?</svg>", Pattern.DOTALL).matcher(html);
        int n = 0;
        while (m.find()) {
            PlotsTest.parse(m.group());
            n++;
        }
        return n;
    }

    @Test
    void fullRunHasEverySectionAndIsSelfContained(@TempDir Path tmp) throws Exception {
        ReportFixtures.full(tmp);
        ReportWriter w = new ReportWriter(tmp, FOOTER);
        Path out = tmp.resolve("report.html");
        List<String> s = w.write(out);
        assertEquals(List.of("Causal indirect effect per head", "Layer sweep", "Forgetting metrics (results.json, seq1)",
                "Accuracy matrices (results.json, seq1)", "IV similarity vs. accuracy (results.json, seq1)",
                "Knowledge vs. instruction (results.json, seq1)", "Knowledge vs. instruction (probe)", "Training curves"), s);
        String html = Files.readString(out);
        // 1 scan + 5 base CIE maps, 2 sweeps (eval.json, base model), 1 forgetting, 6 matrices, 1 scatter, 6 knowledge, 1 probe, 1 training
        assertEquals(24, checkSvgs(html));
        assertEquals(s, ReportAssertions.assertEverySectionFilled(html));
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.contains("http://") && html.replace("http://www.w3.org/2000/svg", "").contains("http://"),
                "no external references");
        assertFalse(html.contains("https://"));
        assertFalse(html.contains("<img"));
        assertTrue(html.contains("ivkit report run &lt;dir&gt;") && html.contains("ivkit 9.9"), "footer, escaped");
        assertTrue(html.contains("<table>") && html.contains("0.569 ± 0.005"), "AP mean ± sd over seeds");
        // the report itself is ignored on a re-run, and re-rendering is deterministic
        assertEquals(html, new ReportWriter(tmp, FOOTER).render());
    }

    @Test
    void eachSourceAloneGivesOnlyItsSections(@TempDir Path tmp) {
        ReportFixtures.scan(tmp.resolve("a"), 4, 4);
        assertEquals(List.of("Causal indirect effect per head"), sections(tmp.resolve("a")));
        ReportFixtures.evalSweep(tmp.resolve("b"), 6);
        assertEquals(List.of("Layer sweep"), sections(tmp.resolve("b")));
        ReportFixtures.probe(tmp.resolve("c"), "antonym", 0.1, 0.4);
        assertEquals(List.of("Knowledge vs. instruction (probe)"), sections(tmp.resolve("c")));
        ReportFixtures.metrics(tmp.resolve("d"), 20);
        assertEquals(List.of("Training curves"), sections(tmp.resolve("d")));
        ReportFixtures.results(tmp.resolve("e"), List.of("naive"), 1);
        assertEquals(6, sections(tmp.resolve("e")).size(), sections(tmp.resolve("e")).toString());
    }

    @Test
    void subfoldersAreScannedOneLevelDeepOnly(@TempDir Path tmp) {
        ReportFixtures.scan(tmp.resolve("one"), 4, 4);
        ReportFixtures.probe(tmp.resolve("one").resolve("two"), "deep", 0.1, 0.2);
        ReportWriter w = new ReportWriter(tmp, FOOTER);
        assertEquals(List.of(tmp.resolve("one").resolve("scan.json")), w.inputs());
    }

    @Test
    void validityScansGetTheirOwnSection(@TempDir Path tmp) throws Exception {
        double[][] cie = {{0.5, 0.0}, {0.1, -0.2}};
        dev.ivkit.iv.ScanFile.validity("upper", "exact", "replace", "zero-shot", 0, 24, 24, cie, cie, 1.0, 0.05,
                new double[][] {{0.4, -0.1}, {-0.05, -0.3}}, new double[][] {{0.6, 0.1}, {0.2, -0.1}})
                .write(tmp.resolve("validity").resolve("upper-zero-shot").resolve("scan.json"));
        dev.ivkit.iv.ScanFile.validity("upper", "exact", "replace", "shuffled", 5, 24, 24, cie, cie, 1.0, 0.95,
                new double[][] {{-0.1, -0.1}, {-0.1, -0.3}}, new double[][] {{0.9, 0.1}, {0.2, -0.1}})
                .write(tmp.resolve("validity").resolve("upper-shuffled").resolve("scan.json"));
        String html = render(tmp);
        assertEquals(List.of("Scan validity"), sections(tmp));   // not among the run's own CIE maps
        assertEquals(2, checkSvgs(html));
        assertTrue(html.contains("[0.400, 0.600] *"), "the significant top head is marked");
        assertTrue(html.contains("(1 of 2 scans)"), "the count of scans with a significant top head");
        assertTrue(html.contains("zero-shot") && html.contains("shuffled") && html.contains("0.950"));
        // an interval of another shape than the map is a typed error naming the file and the member
        dev.ivkit.iv.ScanFile.validity("x", "exact", "replace", "zero-shot", 0, 24, 24, cie, cie, 1.0, 0.05,
                new double[][] {{0.4}}, new double[][] {{0.6, 0.1}, {0.2, -0.1}})
                .write(tmp.resolve("validity").resolve("x-zero-shot").resolve("scan.json"));
        ReportException e = assertThrows(ReportException.class, () -> render(tmp));
        assertTrue(e.getMessage().contains("x-zero-shot") && e.getMessage().contains("cie_ci_low"), e.getMessage());
    }

    @Test
    void sparseAndUnknownFieldsAreTolerated(@TempDir Path tmp) throws Exception {
        // results.json with only a summary (no seeds): forgetting bars from the summary, nothing else
        ReportFixtures.write(tmp.resolve("results.json"), Map.of("format", ResultsFile.FORMAT, "schema_version", 1, "methods",
                Map.of("naive", Map.of("summary", Map.of("AP", Map.of("mean", 0.5, "n", 1)), "future", List.of(1, 2)))));
        // eval.json without a sweep and without provenance (as the demo writes it), unknown members: a table row, no plot
        ReportFixtures.write(tmp.resolve("x").resolve("eval.json"), Map.of("format", "ivkit-eval", "task", "t",
                "prompts", 5, "skipped_long_prompts", 0, "shots", 0, "scale", 1, "max_new_tokens", 0, "layer", 3,
                "future", List.of(1), "settings", Map.of("zero_shot", List.of(ReportFixtures.result(-1, 0.1, 0.0),
                        ReportFixtures.result(3, 0.4, 0.2)))));
        // scan.json without cie: no section
        ReportFixtures.write(tmp.resolve("y").resolve("scan.json"), Map.of("task", "t"));
        String html = render(tmp);
        assertEquals(List.of("Layer sweep", "Forgetting metrics (results.json)"), sections(tmp));
        assertEquals(1, checkSvgs(html));
    }

    /** results.json of one method and seed: a 2 × 1 matrix and one stage of dynamics with the given entry. */
    private static void dynamicsOnly(Path dir, Map<String, Object> entry) {
        ReportFixtures.write(dir.resolve("results.json"), Map.of("format", ResultsFile.FORMAT, "schema_version", 1, "tasks", List.of("a", "b"),
                "methods", Map.of("naive", Map.of("seeds", Map.of("1", Map.of("accuracy_matrix", List.of(List.of(0.9, 0.1), List.of(0.25, 0.8)),
                        "iv_dynamics", List.of(List.of(Map.of("task", "a", "task_index", 0, "accuracy", 0.9)), List.of(entry))))))));
    }

    @Test
    void dynamicsSayWhatIsNotMeasuredInsteadOfShowingEmptyCells(@TempDir Path tmp) throws Exception {
        // a file from before the share floor, without re-extracted IVs (the demo's until now): lost 0.04, share -6.5 as written
        dynamicsOnly(tmp.resolve("old"), Map.of("task", "a", "task_index", 0, "accuracy", 0.25,
                "recovery", Map.of("accuracy_with_pre_iv", 0.125, "lost", 0.04, "share_regained", -6.5)));
        String html = render(tmp.resolve("old"));
        ReportAssertions.assertEverySectionFilled(html);
        assertTrue(html.contains("No method re-extracted IVs after fine-tuning (results.json has no iv_cosine), so IV similarity "
                + "is not measured; the table shows the recovery test only."), html);
        assertFalse(html.contains("IV cosine to pre-fine-tuning IV vs. score"), "no empty scatter");
        assertTrue(html.contains("No entry lost that much (largest loss 0.040), so no share is shown."));
        assertFalse(html.contains("-6.5"), "the old share below the floor is not shown");
        // the points regained derived from the old file: 0.125 - 0.25
        assertTrue(html.contains("<td class=\"num\">-0.125</td>"), html);

        // a file with the new members, a loss above the floor: lost 0.625, regained 0.25, share 0.4 (hand-computed)
        dynamicsOnly(tmp.resolve("new"), Map.of("task", "a", "task_index", 0, "accuracy", 0.25, "iv_cosine", 0.5, "head_jaccard", 1.0,
                "recovery", Map.of("accuracy_with_pre_iv", 0.5, "lost", 0.625, "regained", 0.25, "share_regained", 0.4)));
        String now = render(tmp.resolve("new"));
        ReportAssertions.assertEverySectionFilled(now);
        assertTrue(now.contains("mean share of the loss regained (lost ≥ 0.5)</th>"), now);
        assertTrue(now.contains("<td class=\"num\">0.250</td><td class=\"num\">0.400</td>"), "points regained, then the share");
        assertTrue(now.contains("IV cosine to pre-fine-tuning IV vs. score"));
        assertFalse(now.contains("No method re-extracted"));
    }

    @Test
    void aColumnWithoutAnyValueIsLeftOutAndNamed() {
        Section s = new Section("x-1", "x").table(List.of("name", "empty", "value"),
                List.of(List.of("a", "n/a", "1.000"), List.of("b", "—", "n/a")));
        String body = s.body.toString();
        assertTrue(body.contains("Left out of the table, having no value in any row: empty."), body);
        assertFalse(body.contains("<th>empty</th>"));
        assertTrue(body.contains("<tr><td>b</td><td class=\"num\">n/a</td></tr>"), body);
    }

    @Test
    void namesAreEscaped(@TempDir Path tmp) {
        ReportFixtures.probe(tmp, "<script>alert('x')</script>", 0.1, 0.2);
        String html = render(tmp);
        assertFalse(html.contains("<script>"));
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    }

    @Test
    void badInputsAreTypedErrorsNamingTheFile(@TempDir Path tmp) throws Exception {
        ReportException none = assertThrows(ReportException.class, () -> render(tmp.resolve("missing")));
        assertEquals(tmp.resolve("missing"), none.file());
        ReportException empty = assertThrows(ReportException.class, () -> render(tmp));
        assertTrue(empty.getMessage().contains("nothing to report"), empty.getMessage());

        Path bad = tmp.resolve("r1").resolve("results.json");
        Files.createDirectories(bad.getParent());
        Files.writeString(bad, "{\"methods\": {");
        ReportException e = assertThrows(ReportException.class, () -> render(bad.getParent()));
        assertEquals(bad, e.file());
        assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());

        Path shape = tmp.resolve("r2").resolve("results.json");
        ReportFixtures.write(shape, Map.of("format", ResultsFile.FORMAT, "schema_version", 1,
                "methods", Map.of("naive", Map.of("seeds", Map.of("0", Map.of("AP", "high"))))));
        ReportException f = assertThrows(ReportException.class, () -> render(shape.getParent()));
        assertEquals("methods.naive.seeds.0.AP", f.field());

        Path matrix = tmp.resolve("r3").resolve("scan.json");
        ReportFixtures.write(matrix, Map.of("cie", List.of(List.of(1, "x"))));
        assertEquals("cie[0][1]", assertThrows(ReportException.class, () -> render(matrix.getParent())).field());

        // eval.json and probe.json are read by their owners: a missing or mistyped member names the file and member
        Path probe = tmp.resolve("r5").resolve("probe.json");
        ReportFixtures.write(probe, Map.of("format", "ivkit-probe", "task", "t", "context", "instruction", "shots", 0,
                "examples", 3, "instructed", 0.2));
        ReportException p = assertThrows(ReportException.class, () -> render(probe.getParent()));
        assertEquals(probe, p.file());
        assertEquals("bare", p.field());
        Path eval = ReportFixtures.evalSweep(tmp.resolve("r6"), 3);
        Files.writeString(eval, Files.readString(eval).replaceFirst("\"top1\": [0-9.]+", "\"top1\": \"high\""));
        ReportException ev = assertThrows(ReportException.class, () -> render(eval.getParent()));
        assertEquals(eval, ev.file());
        assertEquals("settings.zero_shot[0].top1", ev.field());
        Path other = tmp.resolve("r7").resolve("probe.json");
        ReportFixtures.write(other, Map.of("whatever", 1));
        assertEquals("format", assertThrows(ReportException.class, () -> render(other.getParent())).field());

        Path lines = tmp.resolve("r4").resolve("metrics.jsonl");
        Files.createDirectories(lines.getParent());
        Files.writeString(lines, "{\"step\": 1, \"loss\": 2}\nnot json\n");
        assertEquals("line 2", assertThrows(ReportException.class, () -> render(lines.getParent())).field());
    }
}
