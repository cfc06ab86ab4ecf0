package dev.ivkit.results;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.IvkitException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ResultsFile}: round trip, optional members left out, undefined metrics null, format and version checked. */
class ResultsFileTest {
    static ResultsFile.Results sample(boolean demo) {
        double[][] mat = demo ? new double[][] {{0.5, 0.0}, {0.4, 0.9}} : new double[][] {{0.9}};
        Map<String, ResultsFile.SeedResults> seeds = new LinkedHashMap<>();
        for (String s : List.of("1", "2")) {
            seeds.put(s, ResultsFile.SeedResults.of(mat, new double[mat[0].length], List.of(0.1), demo ? null : List.of(Map.of("boolq", 1)),
                    List.of(List.of(Map.of("task", "t", "task_index", 0))), demo ? List.of(new double[] {0.5}, new double[] {0.4}) : null));
        }
        return ResultsFile.Results.of("seq", demo ? List.of("a", "b") : List.of("a"), demo ? List.of("em", "em") : List.of("em"),
                Map.of("AP", "mean"), demo ? null : Map.of("name", "seq"), Map.of("accuracy", List.of(0.0)),
                Map.of("naive", ResultsFile.MethodResults.of(seeds)));
    }

    @Test
    void roundTripsAndLeavesOutAbsentOptionalMembers(@TempDir Path tmp) throws Exception {
        for (boolean demo : List.of(true, false)) {
            Path f = tmp.resolve(demo + ".json");
            ResultsFile.write(f, sample(demo));
            JsonObject raw = JsonParser.parseString(java.nio.file.Files.readString(f)).getAsJsonObject();
            assertEquals("ivkit-results", raw.get("format").getAsString());
            assertEquals(1, raw.get("schema_version").getAsInt());
            assertEquals(!demo, raw.has("spec"));
            JsonObject seed = raw.getAsJsonObject("methods").getAsJsonObject("naive").getAsJsonObject("seeds").getAsJsonObject("1");
            assertEquals(!demo, seed.has("general"));
            assertEquals(demo, seed.has("per_task_instruction_accuracy"));
            assertTrue(seed.has("FWT"));
            ResultsFile.Results r = ResultsAssertions.assertResults(f, List.of("naive"), 2);
            ResultsFile.SeedResults s = r.methods().get("naive").seeds().get("1");
            if (demo) {
                assertArrayEquals(new double[] {0.4, 0.9}, s.accuracyMatrix()[1]);
                assertEquals(0.65, s.ap(), 1e-12);
                assertEquals(new Spread(0.65, 0.0, 2, 0), r.methods().get("naive").summary().get("AP"));
            } else {   // one task: BWT and FWT undefined, written null, left out of the spread and counted
                assertNull(s.bwt());
                assertTrue(seed.get("BWT").isJsonNull());
                assertEquals(new Spread(null, null, 0, 2), r.methods().get("naive").summary().get("FWT"));
                assertFalse(r.methods().get("naive").seeds().get("2").general().isEmpty());
            }
        }
    }

    @Test
    void rejectsOtherFormatsAndNewerVersions() {
        String ok = ResultsFile.toJson(sample(true));
        assertEquals("seq", ResultsFile.parse(ok, "x").sequence());
        IvkitException e = assertThrows(IvkitException.class, () -> ResultsFile.parse("{\"methods\": {}}", "old.json"));
        assertTrue(e.getMessage().startsWith("old.json: not a results file"), e.getMessage());
        assertThrows(IvkitException.class, () -> ResultsFile.parse(ok.replace("\"schema_version\": 1", "\"schema_version\": 2"), "x"));
        assertThrows(IvkitException.class, () -> ResultsFile.parse("[1]", "x"));
        assertThrows(IvkitException.class, () -> ResultsFile.parse("{\"format\": \"ivkit-results\", \"schema_version\": 1, \"tasks\": 3}", "x"));
    }

    @Test
    void readsTheDynamicsAndInitialKnowledgeTyped() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("task", "b");
        entry.put("task_index", 1);
        entry.put("accuracy", 0.25);
        entry.put("iv_cosine", 0.875);
        entry.put("head_jaccard", 0.5);
        entry.put("cie_spearman", 0.1);   // a member the typed view does not carry
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("accuracy_with_pre_iv", 0.5);
        rec.put("lost", 0.0);
        rec.put("share_regained", null);
        entry.put("recovery", rec);
        entry.put("knowledge", Map.of("knowledge_p", 0.125, "instruction_p", 0.75));
        List<Object> dyn = new java.util.ArrayList<>();
        dyn.add(List.of(Map.of("task", "a", "accuracy", 1.0)));
        dyn.add(null);   // a stage without entries
        dyn.add(List.of(entry));
        Map<String, ResultsFile.SeedResults> seeds = Map.of("1", ResultsFile.SeedResults.of(new double[][] {{0.5}}, new double[1], List.of(0.1),
                null, dyn, null));
        Map<String, Object> initial = Map.of("knowledge", List.of(Map.of("task", "a", "knowledge_p", 0.25, "instruction_p", 0.5)));
        ResultsFile.Results r = ResultsFile.parse(ResultsFile.toJson(ResultsFile.Results.of("seq", List.of("a"), List.of("em"), Map.of(), null,
                initial, Map.of("naive", ResultsFile.MethodResults.of(seeds)))), "x");
        List<List<ResultsFile.DynamicsEntry>> d = r.methods().get("naive").seeds().get("1").dynamics();
        assertEquals(3, d.size());
        assertEquals(List.of(new ResultsFile.DynamicsEntry("a", null, 1.0, null, null, null, null, null, null)), d.get(0));
        assertNull(d.get(1));
        // a file from before regained / share_reason: they read as null
        assertEquals(List.of(new ResultsFile.DynamicsEntry("b", 1, 0.25, 0.875, 0.5, new ResultsFile.Recovery(0.5, 0.0, null, null, null),
                new ResultsFile.Knowledge(null, 0.125, 0.75), null, null)), d.get(2));
        assertEquals(List.of(new ResultsFile.Knowledge("a", 0.25, 0.5)), r.initialKnowledge());
    }

    @Test
    void recoveryAndPerTaskKnowledgeRoundTrip() {
        // learned 0.875, now 0.25, with the IV 0.5: lost 0.625 >= 0.5, regained 0.25, share 0.4 (hand-computed)
        ResultsFile.Recovery defined = RecoveryScore.of(0.875, 0.25, 0.5);
        assertEquals(new ResultsFile.Recovery(0.5, 0.625, 0.25, 0.4, null), defined);
        // lost 0.125 < 0.5: regained -0.125 kept, the share null with the reason
        ResultsFile.Recovery below = RecoveryScore.of(0.5, 0.375, 0.25);
        assertEquals(new ResultsFile.Recovery(0.25, 0.125, -0.125, null, "lost 0.125 < 0.5"), below);
        List<Object> stage = new java.util.ArrayList<>();
        for (ResultsFile.Recovery rec : List.of(defined, below)) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", "p");
            e.put("task_index", 0);
            e.put("recovery", RecoveryScore.json(rec));
            e.put("knowledge_by_task", List.of(Map.of("task", "x", "knowledge_p", 0.5, "instruction_p", 0.25)));
            stage.add(e);
        }
        Map<String, ResultsFile.SeedResults> seeds = Map.of("1", ResultsFile.SeedResults.of(new double[][] {{0.5}}, new double[1], List.of(0.1),
                null, List.of(stage), null));
        String text = ResultsFile.toJson(ResultsFile.Results.of("seq", List.of("p"), List.of("em"), Map.of(), null, Map.of(),
                Map.of("naive", ResultsFile.MethodResults.of(seeds))));
        assertTrue(text.contains("\"share_reason\": \"lost 0.125 < 0.5\""), text);
        assertEquals(1, text.split("share_reason", -1).length - 1, "the reason only where the share is null");
        List<ResultsFile.DynamicsEntry> d = ResultsFile.parse(text, "x").methods().get("naive").seeds().get("1").dynamics().get(0);
        List<ResultsFile.Knowledge> byTask = List.of(new ResultsFile.Knowledge("x", 0.5, 0.25));
        assertEquals(List.of(new ResultsFile.DynamicsEntry("p", 0, null, null, null, defined, null, byTask, null),
                new ResultsFile.DynamicsEntry("p", 0, null, null, null, below, null, byTask, null)), d);
        // the typed read writes back the same members and values
        assertEquals(JsonParser.parseString(text), JsonParser.parseString(ResultsFile.toJson(ResultsFile.parse(text, "x"))));
    }

    @Test
    void aShareOutsideItsRangeIsRefusedOnlyInFilesThatHaveRegained() {
        String head = "{\"format\": \"ivkit-results\", \"schema_version\": 1, \"methods\": {\"m\": {\"seeds\": {\"1\": {\"iv_dynamics\": [[";
        String tail = "]]}}}}}";
        assertField(head + "{\"recovery\": {\"lost\": 0.5, \"regained\": -1, \"share_regained\": -2}}" + tail,
                "methods.m.seeds.1.iv_dynamics[0][0].recovery.share_regained");
        // a file written before the floor (no regained): its -6.5 is read as written
        ResultsFile.Results old = ResultsFile.parse(head + "{\"recovery\": {\"lost\": 0.04, \"share_regained\": -6.5}}" + tail, "old.json");
        assertEquals(-6.5, old.methods().get("m").seeds().get("1").dynamics().get(0).get(0).recovery().shareRegained());
    }

    @Test
    void wrongShapesNameTheMember() {
        String head = "{\"format\": \"ivkit-results\", \"schema_version\": 1, ";
        assertField(head + "\"methods\": {\"naive\": {\"seeds\": {\"0\": {\"AP\": \"high\"}}}}}", "methods.naive.seeds.0.AP");
        assertField(head + "\"methods\": {\"naive\": {\"seeds\": {\"0\": {\"accuracy_matrix\": [[0.5, \"x\"]]}}}}}",
                "methods.naive.seeds.0.accuracy_matrix[0][1]");
        assertField(head + "\"methods\": {\"naive\": {\"seeds\": {\"0\": {\"iv_dynamics\": [[{\"task\": \"a\"}, {\"iv_cosine\": true}]]}}}}}",
                "methods.naive.seeds.0.iv_dynamics[0][1].iv_cosine");
        assertField(head + "\"methods\": {\"naive\": {\"summary\": {\"AP\": {\"mean\": [1]}}}}}", "methods.naive.summary.AP.mean");
        assertField(head + "\"initial\": {\"knowledge\": [3]}}", "initial.knowledge[0]");
        assertField(head + "\"tasks\": [\"a\", 2]}", "tasks[1]");
        assertField(head + "\"initial\": {\"iv\": [{\"task\": \"a\", \"every_token\": \"yes\"}]}}", "initial.iv[0].every_token");
        assertField(head + "\"initial\": {\"iv\": [{\"layer_sweep_top1\": [{\"layer\": -1, \"top1\": \"x\"}]}]}}",
                "initial.iv[0].layer_sweep_top1[0].top1");
        assertField(head + "\"initial\": {\"iv\": [{\"cie\": [[0.1, null]]}]}}", "initial.iv[0].cie[0][1]");
    }

    @Test
    void readsTheInitialIvsTyped() {
        String text = "{\"format\": \"ivkit-results\", \"schema_version\": 1, \"initial\": {\"iv\": ["
                + "{\"task\": \"a\", \"layer\": 2, \"cie\": [[0.5, -0.25], [0, 1]], \"every_token\": true,"
                + " \"layer_sweep_top1\": [{\"layer\": -1, \"top1\": 0.125}, {\"layer\": 0, \"top1\": null}]},"
                + " {\"task\": \"b\"}]}}";
        List<ResultsFile.InitialIv> ivs = ResultsFile.parse(text, "x").initialIvs();
        assertEquals(2, ivs.size());
        assertEquals("a", ivs.get(0).task());
        assertTrue(java.util.Arrays.deepEquals(new double[][] {{0.5, -0.25}, {0, 1}}, ivs.get(0).cie()));
        assertEquals(List.of(new ResultsFile.LayerTop1(-1.0, 0.125), new ResultsFile.LayerTop1(0.0, null)), ivs.get(0).layerSweepTop1());
        assertEquals(Boolean.TRUE, ivs.get(0).everyToken());
        assertEquals(new ResultsFile.InitialIv("b", null, null, null), ivs.get(1));
        assertNull(ResultsFile.parse("{\"format\": \"ivkit-results\", \"schema_version\": 1}", "x").initialIvs());
    }

    private static void assertField(String text, String field) {
        ResultsFormatException e = assertThrows(ResultsFormatException.class, () -> ResultsFile.parse(text, "bad.json"));
        assertEquals(field, e.field(), e.getMessage());
        assertEquals("bad.json", e.where());
        assertTrue(e.getMessage().startsWith("bad.json [" + field + "]: expected "), e.getMessage());
    }
}
