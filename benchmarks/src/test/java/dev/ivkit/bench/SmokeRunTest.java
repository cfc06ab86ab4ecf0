package dev.ivkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.bench.CompareTest.JsonOut;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces of {@code run.sh --smoke} and CI's smoke comparison: {@link LastSmokeResult} and {@link JoinResults}. */
class SmokeRunTest {
    @TempDir
    Path tmp;

    private Path result(String name, String metaDate) throws IOException {
        Path json = tmp.resolve(name + ".json");
        Files.writeString(json, "[]");
        if (metaDate != null) {
            Files.writeString(tmp.resolve(name + ".meta"), "date=" + metaDate + " UTC\ncommit=x\nsmoke=true\n");
        }
        return json;
    }

    record Outcome(int code, String out, String err) {}

    static Outcome last(Path... files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        String[] args = Stream.of(files).map(Path::toString).toArray(String[]::new);
        int code = LastSmokeResult.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8).strip(), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theLatestMetaDateWinsNotTheFileName() throws IOException {
        Path evening = result("2026-12-07_cpu_0000000_smoke", "2026-12-07 18:05");
        Path morning = result("2026-12-07_cpu_fffffff_smoke", "2026-12-07 09:30");
        Path dayBefore = result("2026-12-06_cpu_aaaaaaa_smoke", "2026-12-06 23:59");
        assertEquals(new Outcome(0, evening.toString(), ""), last(morning, dayBefore, evening));
        assertEquals(new Outcome(0, morning.toString(), ""), last(dayBefore, morning));
    }

    @Test
    void equalDatesFallBackToTheGreaterName() throws IOException {
        Path a = result("2026-12-07_cpu_1111111_smoke", "2026-12-07 10:00");
        Path b = result("2026-12-07_cpu_2222222_smoke", "2026-12-07 10:00");
        assertEquals(b.toString(), last(b, a).out());
        assertEquals(b.toString(), last(a, b).out());
    }

    @Test
    void noCandidateOrABadMetaExits2NamingIt() throws IOException {
        Outcome none = last();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no smoke result given"), none.err());

        Path ok = result("2026-12-07_cpu_1111111_smoke", "2026-12-07 10:00");
        Path noMeta = result("2026-12-07_cpu_3333333_smoke", null);
        Outcome missing = last(ok, noMeta);
        assertEquals(2, missing.code());
        assertEquals("", missing.out());
        assertTrue(missing.err().contains("2026-12-07_cpu_3333333_smoke.meta: no such file"), missing.err());

        Files.writeString(tmp.resolve("2026-12-07_cpu_3333333_smoke.meta"), "date=yesterday\n");
        Outcome undated = last(ok, noMeta);
        assertEquals(2, undated.code());
        assertTrue(undated.err().contains("3333333_smoke.meta: no line date="), undated.err());
    }

    /**
     * The committed smoke baseline (what CI compares against) is readable and carries every kind of paired ratio
     * of the results table, so the subset in run.sh covers them all.
     */
    @Test
    void theCommittedBaselineCoversEveryRatioOfTheTable() throws Exception {
        Path[] smoke;
        try (Stream<Path> s = Files.list(Path.of("results"))) {
            smoke = s.filter(p -> p.getFileName().toString().endsWith("_smoke.json")).sorted().toArray(Path[]::new);
        }
        assertTrue(smoke.length > 0, "no results/*_smoke.json");
        Outcome o = last(smoke);
        assertEquals(0, o.code(), o.err());
        Set<String> labels = Ratios.all(Compare.load(o.out())).stream().map(Ratios.Named::label)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of("capture / plain time", "kernel speedup over composite",
                "fused speedup over composite", "exact / naive scan rate", "IV-guided / plain step time",
                "2 shards / 1 shard time")), labels);
    }

    @Test
    void joinedPartsReadBackAsTheWholeRun() throws Exception {
        List<?> run = (List<?>) Json.parse(Files.readString(CompareTest.OLD));
        Path first = tmp.resolve("0.json"), second = tmp.resolve("1.json"), joined = tmp.resolve("joined.json");
        Files.writeString(first, JsonOut.write(run.subList(0, 10)));
        Files.writeString(second, JsonOut.write(run.subList(10, run.size())));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = JoinResults.run(new String[] {joined.toString(), first.toString(), second.toString()},
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        List<String> expected = JmhResults.read(CompareTest.OLD).stream().map(Compare::key).toList();
        assertEquals(expected, JmhResults.read(joined).stream().map(Compare::key).toList());
    }

    @Test
    void aBadPartExits2AndWritesNothing() throws Exception {
        Path good = tmp.resolve("0.json"), empty = tmp.resolve("1.json"), joined = tmp.resolve("joined.json");
        Files.copy(CompareTest.OLD, good);
        Files.writeString(empty, "[]");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = JoinResults.run(new String[] {joined.toString(), good.toString(), empty.toString()},
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        String msg = err.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains("1.json: no benchmark results in it"), msg);
        assertFalse(Files.exists(joined));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(2, s.count(), "no temp file left");
        }
    }
}
