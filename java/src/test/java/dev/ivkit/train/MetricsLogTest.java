package dev.ivkit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    private static final MetricsLog.Line STEP1 = MetricsLog.Line.training(1, 0, 1.5, 1.25, 0.125, 0.0625, 0.0625, 1e-4);
    private static final MetricsLog.Line STEP2 = MetricsLog.Line.training(2, 1, 0.75, 0.5, 0.0, 0.0, 0.25, 5e-5);
    private static final MetricsLog.Line EVAL2 = MetricsLog.Line.evaluation(2, 0.875);

    @Test
    void linesAreWrittenAsTheSchemaSays() {
        // the members and their order as the trainer wrote them before MetricsLog, then the version
        assertEquals("{\"step\":1,\"epoch\":0,\"loss\":1.5,\"ce\":1.25,\"kl\":0.1875,\"kl1\":0.125,\"kl2\":0.0625,"
                + "\"pr\":0.0625,\"lr\":1.0E-4,\"schema_version\":1}", MetricsLog.format(STEP1));
        assertEquals("{\"step\":2,\"eval_loss\":0.875,\"schema_version\":1}", MetricsLog.format(EVAL2));
    }

    @Test
    void roundTripAndLastLines(@TempDir Path tmp) throws Exception {
        MetricsLog log = MetricsLog.in(tmp);
        assertEquals(tmp.resolve("metrics.jsonl"), log.file());
        log.reset();
        assertEquals(List.of(), log.readAll());
        assertEquals(Optional.empty(), log.readLast());
        log.append(STEP1);
        log.append(STEP2);
        log.append(EVAL2);
        assertEquals(3, Files.readAllLines(log.file()).size(), "one line per record, each flushed");
        assertEquals(List.of(STEP1, STEP2, EVAL2), log.readAll());
        assertEquals(Optional.of(EVAL2), log.readLast());
        assertEquals(Optional.of(STEP2), log.readLastTraining(), "the evaluation line after it is passed over");
        assertTrue(STEP2.isTraining() && !EVAL2.isTraining());
        assertEquals(0.1875, STEP1.kl(), 0.0, "kl is kl1 + kl2");

        log.reset();
        assertEquals(0, Files.size(log.file()), "a fresh run starts an empty file");
    }

    @Test
    void filesWrittenBeforeTheSchemaVersionStillRead(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        Files.writeString(f, "{\"step\":1,\"epoch\":0,\"loss\":2.0,\"ce\":2.0,\"kl\":0.0,\"kl1\":0.0,\"kl2\":0.0,\"pr\":0.0,"
                + "\"lr\":1.0E-4}\n\n{\"step\":1,\"eval_loss\":1.9,\"eval_ce\":7}\n");
        List<MetricsLog.Line> lines = new MetricsLog(f).readAll();
        assertEquals(List.of(new MetricsLog.Line(1, 0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1e-4, null),
                MetricsLog.Line.evaluation(1, 1.9)), lines, "blank lines skipped, unknown members ignored");
    }

    @Test
    void truncateKeepsTheCheckpointsLinesAndDropsATornTail(@TempDir Path tmp) throws Exception {
        MetricsLog log = MetricsLog.in(tmp);
        log.reset();
        log.append(STEP1);
        log.append(STEP2);
        Files.writeString(log.file(), "{\"step\":3,\"epo", java.nio.file.StandardOpenOption.APPEND);
        log.truncate(1);
        assertEquals(MetricsLog.format(STEP1) + "\n", Files.readString(log.file()));
        log.truncate(5);
        assertEquals(List.of(STEP1), log.readAll(), "keeping more lines than there are keeps them all");
        log.append(STEP2);
        assertEquals(List.of(STEP1, STEP2), log.readAll(), "appends continue after the kept lines");
    }

    @Test
    void malformedLinesNameTheFileAndLine(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        String good = MetricsLog.format(STEP1) + "\n";
        String[][] cases = {
                {"not json", "not a JSON object"},
                {"[1, 2]", "not a JSON object"},
                {"{\"epoch\": 0, \"loss\": 1}", "no \"step\""},
                {"{\"step\": 1.5, \"loss\": 1}", "\"step\" is not an integer"},
                {"{\"step\": 2, \"loss\": \"high\"}", "\"loss\" is not a number"},
                {"{\"step\": 2, \"loss\": 1, \"schema_version\": 2}", "schema_version 2 is not one this ivkit reads"}};
        for (String[] c : cases) {
            Files.writeString(f, good + "\n" + c[0] + "\n");
            MetricsFormatException e = assertThrows(MetricsFormatException.class, () -> new MetricsLog(f).readAll(), c[0]);
            assertEquals(3, e.line(), c[0]);
            assertEquals("line 3", e.field(), c[0]);
            assertEquals(f, e.file(), c[0]);
            assertTrue(e.getMessage().startsWith(f + " [line 3]: ") && e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.reason().contains(c[1]), e.reason());
            MetricsFormatException last = assertThrows(MetricsFormatException.class, () -> new MetricsLog(f).readLast());
            assertEquals(3, last.line(), "read last names the same line: " + c[0]);
        }
        MetricsFormatException missing = assertThrows(MetricsFormatException.class,
                () -> new MetricsLog(tmp.resolve("none.jsonl")).readAll());
        assertEquals(0, missing.line());
        assertTrue(missing.getMessage().contains("none.jsonl"), missing.getMessage());
    }
}
