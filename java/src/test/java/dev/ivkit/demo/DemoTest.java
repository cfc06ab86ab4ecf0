package dev.ivkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.cli.Main;
import dev.ivkit.organism.Organism;
import dev.ivkit.organism.OrganismConfig;
import dev.ivkit.report.ReportAssertions;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.ResultsAssertions;
import dev.ivkit.results.ResultsFile;
import dev.ivkit.demo.SummaryFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ivkit demo --quick} on a tiny organism trained here: every output exists with the required fields (no accuracy targets). */
class DemoTest {
    static final List<String> ORGANISM_FIELDS = List.of("icl_accuracy", "instruction_accuracy", "zero_shot_accuracy", "zero_shot_iv_accuracy");
    static final List<String> METHODS = List.of("naive", "lwf", "iv-guided", "iv-guided-nopr");
    static final List<String> METRICS = List.of("AP", "BWT", "new_task_accuracy", "instruction_drop", "knowledge_drop", "iv_recovery",
            "iv_recovery_share");

    @Test
    void quickDemoWritesSummaryResultsAndReport(@TempDir Path tmp) throws Exception {
        Path org = tmp.resolve("organism");
        OrganismConfig tiny = OrganismConfig.defaults().withModel(32, 2, 2, 16, 1000).withSteps(30);
        Organism.train(org, tiny, 0);
        Path out = tmp.resolve("demo");
        int rc = Main.run("demo", "--quick", "--seeds", "2", "--organism", org.toString(), "--out", out.toString());
        assertEquals(0, rc);

        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        for (String f : ORGANISM_FIELDS) {
            assertFinite(s.get(f), f);
        }
        JsonObject methods = s.getAsJsonObject("methods");
        for (String m : METHODS) {
            JsonObject mm = methods.getAsJsonObject(m);
            assertNotNull(mm, m);
            for (String k : METRICS) {
                JsonObject v = mm.getAsJsonObject(k);
                assertNotNull(v, m + "." + k);
                ResultsAssertions.assertSpreadJson(v, m + "." + k);   // the same spread as results.json's summaries
                if (k.equals("iv_recovery_share")) {   // defined only for seeds that lost >= 0.5: null when none did
                    assertTrue(v.get("mean").isJsonNull() || RecoveryScore.inRange(v.get("mean").getAsDouble()), m + "." + k);
                    assertEquals(2, v.get("n").getAsInt() + v.get("nan").getAsInt(), m + "." + k);
                } else {
                    assertFinite(v.get("mean"), m + "." + k + ".mean");
                    assertFinite(v.get("std"), m + "." + k + ".std");
                }
            }
        }
        // summary.json through its owner: the typed read writes back the same bytes
        SummaryFile.Summary back = SummaryFile.read(out.resolve("summary.json"));
        assertEquals(Files.readString(out.resolve("summary.json")), SummaryFile.toJson(back));
        assertEquals(SummaryFile.FORMAT, s.get("format").getAsString());
        assertEquals(METHODS, List.copyOf(back.methods().keySet()));
        assertEquals(s.getAsJsonArray("tasks").size(), back.tasks().size());
        JsonObject r = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject();
        assertEquals(3, r.getAsJsonArray("tasks").size());
        for (String m : METHODS) {
            JsonObject seeds = r.getAsJsonObject("methods").getAsJsonObject(m).getAsJsonObject("seeds");
            assertEquals(2, seeds.size(), m);
            assertEquals(3, seeds.getAsJsonObject("1").getAsJsonArray("accuracy_matrix").size(), m);
        }
        ResultsFile.Results typed = ResultsAssertions.assertResults(out.resolve("results.json"), METHODS, 2);   // the schema ivkit continual writes too
        assertRecoveryAndSimilarity(typed);
        assertTrue(Files.isRegularFile(out.resolve("scan.json")));
        // scan validity of every pretrained task and design, through the scan owner: accuracies and intervals
        for (String task : new String[] {"upper", "capital"}) {
            for (String design : ScanValidityStage.DESIGNS) {
                dev.ivkit.iv.ScanFile v = dev.ivkit.iv.ScanFile.read(out.resolve("validity").resolve(task + "-" + design).resolve("scan.json"));
                assertEquals(design, v.corrupt());
                assertTrue(v.cleanAccuracy() >= 0 && v.cleanAccuracy() <= 1 && v.corruptedAccuracy() >= 0 && v.corruptedAccuracy() <= 1);
                for (int l = 0; l < v.cie().length; l++) {
                    for (int h = 0; h < v.cie()[l].length; h++) {
                        assertTrue(v.cieCiLow()[l][h] <= v.cie()[l][h] + 1e-12 && v.cie()[l][h] <= v.cieCiHigh()[l][h] + 1e-12);
                    }
                }
            }
        }
        assertTrue(Files.isRegularFile(out.resolve("eval.json")));
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("Causal indirect effect per head"), "CIE heatmap section");
        assertTrue(html.contains("Accuracy matrices"), "accuracy-matrix section");
        assertTrue(html.contains("Layer sweep"), "layer sweep section");
        // no empty plot, no empty table column, no section without content; the IV similarity is measured and plotted
        List<String> titles = ReportAssertions.assertEverySectionFilled(html);
        assertTrue(titles.stream().anyMatch(t -> t.startsWith("IV similarity vs. accuracy")), titles.toString());
        assertTrue(html.contains("IV cosine to pre-fine-tuning IV vs. score"), "the similarity scatter");
        assertKnowledgeBarsPaired(html);
        for (JsonElement e : r.getAsJsonObject("initial").getAsJsonArray("iv")) {   // the chosen IV positions are recorded and shown
            JsonObject iv = e.getAsJsonObject();
            assertTrue(iv.has("every_token"), "initial.iv[].every_token");
            String label = iv.get("task").getAsString() + " (every token)";
            assertEquals(iv.get("every_token").getAsBoolean(), html.contains(label), label);
        }
    }

    @Test
    void studyOfEveryMethodWithASweepReportsTheClaimsAndTheFrontier(@TempDir Path tmp) throws Exception {
        Path org = tmp.resolve("organism");
        Organism.train(org, OrganismConfig.defaults().withModel(32, 2, 2, 16, 1000).withSteps(30), 0);
        Path out = tmp.resolve("study");
        assertEquals(0, Main.run("demo", "--quick", "--seeds", "2", "--organism", org.toString(), "--out", out.toString(),
                "--methods", String.join(",", DemoSettings.METHODS), "--fine-tune-tasks", "4", "--sweep", "0.3"));
        ResultsFile.Results r = ResultsFile.read(out.resolve("results.json"));
        assertEquals(List.of(Demo.PRETRAINED, "rotl", "prev", "droplast", "caplast"), r.tasks());
        List<String> variants = new java.util.ArrayList<>(DemoSettings.METHODS);
        variants.addAll(List.of("lwf@0.3", "iv-guided@0.3"));
        assertEquals(variants, List.copyOf(r.methods().keySet()));
        assertTrue(r.initialNumber("icl_accuracy") >= 0 && r.initialNumber("icl_accuracy") <= 1);
        assertTrue(Math.abs(r.initialNumber("iv_cross_cosine")) <= 1 + 1e-9);
        for (String v : variants) {
            for (ResultsFile.SeedResults s : r.methods().get(v).seeds().values()) {
                assertEquals(5, s.accuracyMatrix().length, v);
                List<ResultsFile.DynamicsEntry> last = s.dynamics().get(s.dynamics().size() - 1);
                ResultsFile.DynamicsEntry pooled = last.get(0);
                assertNotNull(pooled.iclAccuracy(), v + ": the 5-shot accuracy after the sequence");
                assertNotNull(pooled.recovery(), v + ": the recovery test after the sequence");
                boolean sweepPoint = v.contains("@");
                assertEquals(sweepPoint, s.dynamics().get(0).get(0).recovery() == null, v + ": a sweep point measures recovery at the end only");
            }
        }
        JsonObject methods = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject().getAsJsonObject("methods");
        for (String k : List.of("instruction_accuracy_drop", "icl_accuracy_drop", "fine_tuned_bwt", "pretrained_iv_cosine")) {
            assertFinite(methods.getAsJsonObject("naive").getAsJsonObject(k).get("mean"), "naive." + k);
        }
        String html = Files.readString(out.resolve("report.html"));
        List<String> titles = ReportAssertions.assertEverySectionFilled(html);
        assertTrue(titles.stream().anyMatch(t -> t.startsWith("Three claims of the paper")), titles.toString());
        assertTrue(titles.stream().anyMatch(t -> t.startsWith("Forgetting vs. plasticity frontier")), titles.toString());
        assertFalse(html.contains(">lwf@0.3<"), "sweep points appear in the frontier section only");
        assertFalse(Files.exists(out.resolve(RunCache.FOLDER)), "the finished runs are deleted once the outputs are written");
        assertFalse(Files.exists(out.resolve("work")), "the runs' working folders too");
        String svg = Files.readString(out.resolve("frontier.svg"));
        assertTrue(svg.startsWith("<svg") && svg.contains("iv-guided") && svg.contains("lwf (plain KL)"), "frontier.svg");
    }

    @Test
    void zeroRegulariserWeightsReproduceNaiveFineTuningExactly(@TempDir Path tmp) throws Exception {
        // --alpha1 0 --alpha2 0 leaves iv-guided-nopr with no term at all: its loss is the cross-entropy alone, so every
        // seed's accuracy matrix must equal naive's (same data order and LoRA init per seed) — the weights reach training
        Path org = tmp.resolve("organism");
        Organism.train(org, OrganismConfig.defaults().withModel(32, 2, 2, 16, 1000).withSteps(30), 0);
        Path out = tmp.resolve("demo");
        assertEquals(0, Main.run("demo", "--quick", "--seeds", "2", "--organism", org.toString(), "--out", out.toString(),
                "--methods", "naive,iv-guided-nopr", "--alpha1", "0", "--alpha2", "0"));
        JsonObject methods = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject().getAsJsonObject("methods");
        for (String seed : List.of("1", "2")) {
            JsonObject naive = methods.getAsJsonObject("naive").getAsJsonObject("seeds").getAsJsonObject(seed);
            JsonObject zero = methods.getAsJsonObject("iv-guided-nopr").getAsJsonObject("seeds").getAsJsonObject(seed);
            // the last training losses are sensitive to any gradient change (a tiny model's accuracies are not)
            assertEquals(naive.get("train_loss_last"), zero.get("train_loss_last"), "seed " + seed);
            assertEquals(naive.get("accuracy_matrix"), zero.get("accuracy_matrix"), "seed " + seed);
        }
        JsonObject settings = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject().getAsJsonObject("settings");
        assertEquals(0.0, settings.get("alpha1").getAsDouble());
        assertEquals(DemoSettings.ALPHA_PR, settings.get("alphaPr").getAsDouble());
    }

    @Test
    void badWeightFailsBeforeAnyOrganismIsTrained(@TempDir Path tmp) {
        Path org = tmp.resolve("organism");
        assertEquals(Main.EXIT_BAD_INPUT, Main.run("demo", "--organism", org.toString(), "--out", tmp.resolve("o").toString(), "--alpha2", "-0.5"));
        assertEquals(Main.EXIT_BAD_INPUT, Main.run("demo", "--organism", org.toString(), "--out", tmp.resolve("o").toString(), "--alpha-pr", "NaN"));
        assertFalse(Files.exists(org), "no pretraining started");
        assertFalse(Files.exists(tmp.resolve("o")), "no output written");
    }

    /**
     * Every stage's pooled entry has the IV similarity and a recovery test whose regained is with − without and whose share
     * is in [-1, 2] or null with the reason; every new task trained so far has its IV similarity.
     */
    private static void assertRecoveryAndSimilarity(ResultsFile.Results r) {
        for (ResultsFile.MethodResults m : r.methods().values()) {
            for (ResultsFile.SeedResults s : m.seeds().values()) {
                for (List<ResultsFile.DynamicsEntry> stage : s.dynamics()) {
                    for (ResultsFile.DynamicsEntry e : stage) {
                        assertTrue(e.ivCosine() != null && e.ivCosine() >= -1 - 1e-9 && e.ivCosine() <= 1 + 1e-9, e.toString());
                        assertTrue(e.headJaccard() != null && e.headJaccard() >= 0 && e.headJaccard() <= 1, e.toString());
                        ResultsFile.Recovery rec = e.recovery();
                        if (e.taskIndex() > 0) {
                            continue;   // the new tasks: no recovery test
                        }
                        assertEquals(rec.accuracyWithPreIv() - e.accuracy(), rec.regained(), 1e-12, e.toString());
                        double organism = ((Number) ((List<?>) r.initial().get("accuracy")).get(0)).doubleValue();
                        assertEquals(organism - e.accuracy(), rec.lost(), 1e-12, "lost: the organism's pretrained accuracy - now");
                        if (rec.shareRegained() == null) {
                            assertTrue(rec.lost() < RecoveryScore.LOST_FLOOR && rec.shareReason().startsWith("lost "), rec.toString());
                        } else {
                            assertTrue(RecoveryScore.inRange(rec.shareRegained()) && rec.shareReason() == null, rec.toString());
                        }
                        assertEquals(Demo.PRETRAINED, e.task());
                        assertEquals(r.initialKnowledge().stream().map(ResultsFile.Knowledge::task).toList(),
                                e.knowledgeByTask().stream().map(ResultsFile.Knowledge::task).toList(), "knowledge_by_task names");
                    }
                }
            }
        }
    }

    /** In every knowledge-vs-instruction plot, each task with a base bar has an after-last-task bar (series 0/1 and 2/3). */
    private static void assertKnowledgeBarsPaired(String html) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<svg .*?</svg>", java.util.regex.Pattern.DOTALL).matcher(html);
        int plots = 0;
        while (m.find()) {
            String svg = m.group();
            if (!svg.contains("Knowledge vs. instruction:")) {
                continue;
            }
            plots++;
            for (int series = 0; series < 4; series++) {
                assertTrue(svg.contains("data-series=\"" + series + "\""), "series " + series);
            }
            assertEquals(count(svg, "data-series=\"0\""), count(svg, "data-series=\"1\""), "knowledge: after bars for every base bar");
            assertEquals(count(svg, "data-series=\"2\""), count(svg, "data-series=\"3\""), "instruction: after bars for every base bar");
        }
        assertEquals(METHODS.size(), plots, "one knowledge plot per method");
    }

    private static int count(String s, String what) {
        return s.split(java.util.regex.Pattern.quote(what), -1).length - 1;
    }

    private static void assertFinite(JsonElement e, String what) {
        assertTrue(e != null && e.isJsonPrimitive() && Double.isFinite(e.getAsDouble()), what + " = " + e);
    }
}
