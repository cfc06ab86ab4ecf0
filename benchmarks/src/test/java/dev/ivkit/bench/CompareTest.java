package dev.ivkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Compare} on stored runs of benchmarks/results, on a copy with a planted 2x regression, and on bad input. */
class CompareTest {
    /** Two full runs of the same 88 benchmarks, one commit apart. */
    static final Path OLD = Path.of("results/2026-11-25_cpu_7386129.json");
    static final Path NEW = Path.of("results/2026-11-25_cpu_7e6795c.json");
    static final String PLANTED = "dev.ivkit.bench.KlRowsBench.fused";

    @TempDir
    Path tmp;

    record Outcome(int code, String out, String err) {
        List<String> regressions() {
            return out.lines().filter(l -> l.startsWith("REGRESSION ")).toList();
        }
    }

    static Outcome compare(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Compare.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aRunAgainstItselfFlagsNothing() {
        Outcome o = compare(OLD.toString(), OLD.toString());
        assertEquals(0, o.code(), o.out());
        assertTrue(o.out().contains("0 regressions, 0 improved"), o.out());
    }

    /**
     * Two stored runs of the same benchmarks: the primary scores of separately timed benchmarks moved beyond their
     * in-run ranges between these runs (machine load), but no paired ratio (both sides timed in one call, or kernel
     * and composite in one run) regressed beyond the noise.
     */
    @Test
    void twoStoredRunsFlagNoRatioRegression() {
        Outcome o = compare(OLD.toString(), NEW.toString());
        assertTrue(o.code() == 0 || o.code() == 1, o.err());
        assertTrue(o.out().contains("126 figures compared"), o.out());
        List<String> ratioRegressions = o.regressions().stream().filter(l -> !l.contains(": score ")).toList();
        assertEquals(List.of(), ratioRegressions, o.out());
        assertTrue(o.out().lines().noneMatch(l -> l.startsWith("only in")), "same benchmarks in both runs");
    }

    @Test
    void aPlanted2xRegressionIsFlaggedAndNothingElse() throws IOException {
        Path planted = tmp.resolve("planted.json");
        Files.writeString(planted, JsonOut.write(slowDown(Json.parse(Files.readString(OLD)), PLANTED, 2)));
        Outcome o = compare(OLD.toString(), planted.toString());
        assertEquals(1, o.code(), o.out());
        List<String> flagged = o.regressions();
        assertEquals(List.of("REGRESSION KlRowsBench.fused (avgt) shape=2048x32000: score ms/op",
                "REGRESSION KlRowsBench.fused (avgt) shape=2048x32000: fused speedup over composite"), flagged, o.out());
    }

    @Test
    void aCorruptFileExits2NamingIt() throws IOException {
        Path corrupt = tmp.resolve("corrupt.json");
        String text = Files.readString(OLD);
        Files.writeString(corrupt, text.substring(0, text.length() / 2));
        Outcome o = compare(OLD.toString(), corrupt.toString());
        assertEquals(2, o.code());
        assertEquals(1, o.err().lines().count(), o.err());
        assertTrue(o.err().contains(corrupt.toString()), o.err());
        assertEquals("", o.out());

        Outcome missing = compare(tmp.resolve("missing.json").toString(), OLD.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("missing.json: no such file"), missing.err());
    }

    @Test
    void threeEpochRatiosComeFromThePairedCounters() {
        JmhResults.Metric plain = new JmhResults.Metric(2.0, 1.9, 2.1, "#", new double[] {1.9, 2.0, 2.1});
        JmhResults.Metric cached = new JmhResults.Metric(3.0, 2.7, 3.3, "#", new double[] {2.7, 3.0, 3.3});
        JmhResults.Metric uncached = new JmhResults.Metric(4.0, 3.8, 4.4, "#", new double[] {3.8, 4.0, 4.4});
        JmhResults.Result r = new JmhResults.Result("CachedRefBench.paired", "avgt", java.util.Map.of("model", "random22M"),
                plain, java.util.Map.of("plainNs", plain, "cachedNs", cached, "uncachedNs", uncached));
        List<Ratios.Named> all = Ratios.all(List.of(r));
        assertEquals(2, all.size());
        Ratios.Ratio c = all.get(0).ratio(), u = all.get(1).ratio();
        assertEquals(1.5, c.value(), 1e-12);   // 3.0 / 2.0
        assertEquals(2.7 / 1.9, c.lo(), 1e-12);   // per-iteration ratios 1.421, 1.5, 1.571
        assertEquals(3.3 / 2.1, c.hi(), 1e-12);
        assertEquals(2.0, u.value(), 1e-12);
        assertTrue(c.paired() && !c.higherIsBetter());
    }

    @Test
    void verdictFollowsTheMetricsDirection() {
        assertEquals(Compare.Verdict.REGRESSION, Compare.verdict(100, 110, 80, 85, true, 0.10));
        assertEquals(Compare.Verdict.NONE, Compare.verdict(100, 110, 92, 95, true, 0.10));
        assertEquals(Compare.Verdict.IMPROVED, Compare.verdict(100, 110, 80, 85, false, 0.10));
        assertEquals(Compare.Verdict.REGRESSION, Compare.verdict(100, 110, 125, 130, false, 0.10));
    }

    /** The run with benchmark {@code name}'s primary metric {@code factor} times worse (times up, rates down). */
    @SuppressWarnings("unchecked")
    static Object slowDown(Object run, String name, double factor) {
        int hits = 0;
        for (Object o : (List<Object>) run) {
            Map<String, Object> r = (Map<String, Object>) o;
            if (r.get("benchmark").equals(name)) {
                double f = r.get("mode").equals("thrpt") ? 1 / factor : factor;
                Map<String, Object> pm = (Map<String, Object>) r.get("primaryMetric");
                for (String k : List.of("score", "scoreError")) {
                    pm.put(k, (Double) pm.get(k) * f);
                }
                pm.put("scoreConfidence", scale(pm.get("scoreConfidence"), f));
                pm.put("scorePercentiles", ((Map<String, Object>) pm.get("scorePercentiles")).entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> (Double) e.getValue() * f, (a, b) -> a, java.util.LinkedHashMap::new)));
                pm.put("rawData", ((List<Object>) pm.get("rawData")).stream().map(fork -> scale(fork, f)).toList());
                hits++;
            }
        }
        assertEquals(1, hits, name);
        return run;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> scale(Object list, double f) {
        return ((List<Object>) list).stream().map(v -> (Object) ((Double) v * f)).toList();
    }

    /** Writes what {@link Json#parse} reads back: maps, lists, strings, doubles, booleans, null. */
    static final class JsonOut {
        @SuppressWarnings("unchecked")
        static String write(Object v) {
            if (v instanceof Map<?, ?> m) {
                return ((Map<String, Object>) m).entrySet().stream().map(e -> str(e.getKey()) + ":" + write(e.getValue()))
                        .collect(Collectors.joining(",", "{", "}"));
            }
            if (v instanceof List<?> l) {
                return l.stream().map(JsonOut::write).collect(Collectors.joining(",", "[", "]"));
            }
            if (v instanceof String s) {
                return str(s);
            }
            return String.valueOf(v);  // Double, Boolean, null
        }

        private static String str(String s) {
            return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }
}
