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
import dev.ivkit.results.ResultsAssertions;
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
    static final List<String> METRICS = List.of("AP", "BWT", "new_task_accuracy", "instruction_drop", "knowledge_drop", "iv_recovery");

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
                if (k.equals("iv_recovery")) {   // a share of the accuracy lost: undefined (null) when a tiny model lost nothing
                    assertTrue(v.get("mean").isJsonNull() || Double.isFinite(v.get("mean").getAsDouble()), m + "." + k);
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
        ResultsAssertions.assertResults(out.resolve("results.json"), METHODS, 2);   // the schema ivkit continual writes too
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
        for (JsonElement e : r.getAsJsonObject("initial").getAsJsonArray("iv")) {   // the chosen IV positions are recorded and shown
            JsonObject iv = e.getAsJsonObject();
            assertTrue(iv.has("every_token"), "initial.iv[].every_token");
            String label = iv.get("task").getAsString() + " (every token)";
            assertEquals(iv.get("every_token").getAsBoolean(), html.contains(label), label);
        }
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

    private static void assertFinite(JsonElement e, String what) {
        assertTrue(e != null && e.isJsonPrimitive() && Double.isFinite(e.getAsDouble()), what + " = " + e);
    }
}
