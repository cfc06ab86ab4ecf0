package dev.ivkit.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.IvkitException;
import dev.ivkit.results.Spread;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** summary.json through {@link SummaryFile}: the written members, a byte-identical round trip, and typed errors. */
class SummaryFileTest {
    static SummaryFile.Summary sample() {
        Map<String, SummaryFile.Accuracies> byKind = new LinkedHashMap<>();
        byKind.put("string", SummaryFile.Accuracies.of(0.5, 0.25, 0.0, 0.75));
        byKind.put("lookup", SummaryFile.Accuracies.of(1.0, 0.5, Double.NaN, 0.125));
        List<SummaryFile.TaskSummary> tasks = List.of(new SummaryFile.TaskSummary("upper", "string", true, 0.5, 0.25, 0.0, 0.75, 1),
                new SummaryFile.TaskSummary("rotl", "string", false, 0.0, 0.0, 0.0, null, 0));
        Map<String, Map<String, Spread>> methods = new LinkedHashMap<>();
        Map<String, Spread> naive = new LinkedHashMap<>();
        naive.put("AP", Spread.of(0.5, 0.25));
        naive.put("iv_recovery", Spread.of(Double.NaN, Double.NaN));
        methods.put("naive", naive);
        JsonObject settings = JsonParser.parseString("{\"evalPerTask\": 6, \"lr\": 0.001, \"klDirection\": \"REVERSE\"}").getAsJsonObject();
        return SummaryFile.Summary.of(SummaryFile.Accuracies.of(0.75, 0.375, 0.0, 0.4375), byKind, tasks, methods, settings,
                Map.of("AP", "mean of the last row"));
    }

    @Test
    void writesTheSchemaAndReadsItBackUnchanged(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("summary.json");
        SummaryFile.write(f, sample());
        String text = Files.readString(f);
        JsonObject o = JsonParser.parseString(text).getAsJsonObject();
        assertEquals(List.of("format", "schema_version", "icl_accuracy", "instruction_accuracy", "zero_shot_accuracy",
                "zero_shot_iv_accuracy", "by_kind", "tasks", "methods", "settings", "definitions"), List.copyOf(o.keySet()));
        assertEquals(SummaryFile.FORMAT, o.get("format").getAsString());
        assertEquals(1, o.get("schema_version").getAsInt());
        assertEquals(0.4375, o.get("zero_shot_iv_accuracy").getAsDouble());
        assertTrue(o.getAsJsonObject("by_kind").getAsJsonObject("lookup").get("zero_shot_accuracy").isJsonNull(), "NaN is written null");
        assertTrue(o.getAsJsonArray("tasks").get(1).getAsJsonObject().get("zero_shot_iv_accuracy").isJsonNull());
        assertEquals(6, o.getAsJsonObject("settings").get("evalPerTask").getAsJsonPrimitive().getAsNumber().intValue());
        assertEquals("6", o.getAsJsonObject("settings").get("evalPerTask").toString(), "integers stay integers");
        JsonObject ap = o.getAsJsonObject("methods").getAsJsonObject("naive").getAsJsonObject("AP");
        assertEquals(0.375, ap.get("mean").getAsDouble());
        assertEquals(2, ap.get("n").getAsInt());

        SummaryFile.Summary back = SummaryFile.read(f);
        assertEquals(text, SummaryFile.toJson(back), "a read summary writes the same bytes");
        assertEquals(0.75, back.all().icl());
        assertNull(back.byKind().get("lookup").zeroShot());
        assertEquals(Integer.valueOf(1), back.tasks().get(0).ivLayer());
        assertEquals(Spread.of(0.5, 0.25), back.methods().get("naive").get("AP"));
        assertNull(back.methods().get("naive").get("iv_recovery").mean());
    }

    @Test
    void badFilesNameTheFileAndTheField(@TempDir Path tmp) throws Exception {
        JsonObject good = JsonParser.parseString(SummaryFile.toJson(sample())).getAsJsonObject();
        assertError(tmp, "[1, 2]", "not a summary file");
        JsonObject wrongFormat = good.deepCopy();
        wrongFormat.addProperty("format", "ivkit-results");
        assertError(tmp, wrongFormat.toString(), "format ivkit-results");
        JsonObject future = good.deepCopy();
        future.addProperty("schema_version", 2);
        assertError(tmp, future.toString(), "schema_version 2");
        JsonObject noMethods = good.deepCopy();
        noMethods.remove("methods");
        assertError(tmp, noMethods.toString(), "field methods is missing");
        JsonObject noTaskName = good.deepCopy();
        noTaskName.getAsJsonArray("tasks").get(1).getAsJsonObject().remove("task");
        assertError(tmp, noTaskName.toString(), "field tasks[1].task is missing");
        JsonObject badSpread = good.deepCopy();
        badSpread.getAsJsonObject("methods").getAsJsonObject("naive").addProperty("AP", "high");
        assertError(tmp, badSpread.toString(), "malformed summary file");
        // a recovery share outside [-1, 2] is refused; an older file's iv_recovery (then a share, 0.02 floor) still reads
        JsonObject share = good.deepCopy();
        share.getAsJsonObject("methods").getAsJsonObject("naive").add(SummaryFile.RECOVERY_SHARE,
                JsonParser.parseString("{\"mean\": -6.568, \"std\": 1.437, \"n\": 2, \"nan\": 1}"));
        assertError(tmp, share.toString(), "methods.naive.iv_recovery_share.mean -6.568 is outside [-1.0, 2.0]");
        JsonObject old = good.deepCopy();
        old.getAsJsonObject("methods").getAsJsonObject("naive").add("iv_recovery",
                JsonParser.parseString("{\"mean\": -6.568, \"std\": 1.437, \"n\": 2, \"nan\": 1}"));
        Path f = tmp.resolve("old-summary.json");
        Files.writeString(f, old.toString());
        assertEquals(-6.568, SummaryFile.read(f).methods().get("naive").get("iv_recovery").mean());
    }

    private static void assertError(Path tmp, String text, String part) throws Exception {
        Path f = tmp.resolve("bad-summary.json");
        Files.writeString(f, text);
        IvkitException e = assertThrows(IvkitException.class, () -> SummaryFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
