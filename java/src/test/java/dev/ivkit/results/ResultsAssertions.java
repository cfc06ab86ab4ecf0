package dev.ivkit.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The schema checks shared by the demo's and {@code ivkit continual}'s end-to-end tests: both read through {@link ResultsFile}. */
public final class ResultsAssertions {
    /** The JSON members of every {@link Spread}. */
    public static final Set<String> SPREAD_FIELDS = Set.of("mean", "std", "n", "nan");
    /** Top-level members every results file has. */
    static final List<String> TOP = List.of("format", "schema_version", "sequence", "tasks", "task_metrics", "definitions", "initial", "methods");

    private ResultsAssertions() {}

    /** Reads {@code f} through {@link ResultsFile} and checks the shared schema: methods × {@code seeds}, square-ish matrices, spreads. */
    public static ResultsFile.Results assertResults(Path f, List<String> methods, int seeds) throws Exception {
        ResultsFile.Results r = ResultsFile.read(f);
        assertEquals(ResultsFile.FORMAT, r.format());
        assertEquals(ResultsFile.SCHEMA_VERSION, r.schemaVersion());
        assertEquals(r.tasks().size(), r.taskMetrics().size());
        assertEquals(methods, List.copyOf(r.methods().keySet()));
        JsonObject raw = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        for (String k : TOP) {
            assertTrue(raw.has(k), k);
        }
        for (Map.Entry<String, ResultsFile.MethodResults> m : r.methods().entrySet()) {
            assertEquals(seeds, m.getValue().seeds().size(), m.getKey());
            for (ResultsFile.SeedResults s : m.getValue().seeds().values()) {
                assertEquals(r.tasks().size(), s.accuracyMatrix()[0].length, m.getKey());
                // the demo's matrices start with the organism (row 0, no dynamics); the continual study's with task 0
                assertEquals(s.accuracyMatrix().length, s.ivDynamics().size() + (s.perTaskInstructionAccuracy() == null ? 0 : 1), m.getKey());
                assertNotNull(s.trainLossLast(), m.getKey());
            }
            assertEquals(List.of("AP", "BWT", "FWT"), List.copyOf(m.getValue().summary().keySet()), m.getKey());
            for (String k : List.of("AP", "BWT", "FWT")) {
                Spread sp = m.getValue().summary().get(k);
                assertEquals(seeds, sp.n() + sp.nan(), m.getKey() + "." + k);
                assertEquals(Spread.of(m.getValue().seeds().values().stream()
                        .mapToDouble(s -> nan(k.equals("AP") ? s.ap() : k.equals("BWT") ? s.bwt() : s.fwt())).toArray()), sp);
                assertSpreadJson(raw.getAsJsonObject("methods").getAsJsonObject(m.getKey()).getAsJsonObject("summary").get(k), m.getKey() + "." + k);
            }
        }
        return r;
    }

    /** {@code e} is a spread object with exactly the members {@link #SPREAD_FIELDS}. */
    public static void assertSpreadJson(JsonElement e, String what) {
        assertTrue(e != null && e.isJsonObject(), what);
        assertEquals(SPREAD_FIELDS, e.getAsJsonObject().keySet(), what);
    }

    private static double nan(Double d) {
        return d == null ? Double.NaN : d;
    }
}
