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
}
