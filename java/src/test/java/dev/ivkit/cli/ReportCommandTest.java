package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.report.ReportFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ivkit report}: default and explicit output, one-line errors with exit 2 for bad input. */
class ReportCommandTest {
    @Test
    void writesReportHtmlIntoTheRunFolder(@TempDir Path tmp) throws Exception {
        ReportFixtures.full(tmp);
        CliTest.Run r = CliTest.run("report", tmp.toString());
        assertEquals(0, r.code(), r.err());
        Path out = tmp.resolve("report.html");
        assertTrue(r.out().contains("8 sections") && r.out().contains(out.toString()), r.out());
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<code>ivkit report " + tmp + "</code>"), "the command line in the footer");

        Path other = tmp.resolve("elsewhere").resolve("r.html");
        CliTest.Run r2 = CliTest.run("report", tmp.toString(), "--out", other.toString());
        assertEquals(0, r2.code(), r2.err());
        assertTrue(Files.readString(other).contains("--out"));
    }

    @Test
    void badInputExitsTwoWithOneLineNamingTheFile(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("sub").resolve("eval.json");
        Files.createDirectories(bad.getParent());
        Files.writeString(bad, "[1, 2");
        CliTest.Run r = CliTest.run("report", tmp.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(bad.toString()), r.err());
        assertTrue(!Files.exists(tmp.resolve("report.html")), "nothing written");

        CliTest.Run missing = CliTest.run("report", tmp.resolve("nope").toString());
        assertEquals(Main.EXIT_BAD_INPUT, missing.code());
        assertTrue(missing.err().contains("no such folder"), missing.err());

        CliTest.Run noArg = CliTest.run("report");
        assertEquals(Main.EXIT_BAD_INPUT, noArg.code());
    }
}
