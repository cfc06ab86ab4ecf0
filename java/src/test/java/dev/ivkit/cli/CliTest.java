package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.ivkit.testutil.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in-process: output on stdout, one-line errors on stderr, exit codes. */
class CliTest {
    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void generatePrintsThePublishedSample() throws Exception {
        Path dir = SharedData.stories260K();
        String expected = JsonParser.parseString(Files.readString(dir.resolve("reference_outputs.json")))
                .getAsJsonObject().get("greedy_text").getAsString();
        Run r = run("generate", "--model", dir.resolve("stories260K.bin").toString(), "--tokenizer",
                dir.resolve("tok512.bin").toString(), "--max-new-tokens", "200", "--temperature", "0");
        assertEquals(0, r.code(), r.err());
        assertEquals(expected + System.lineSeparator(), r.out());
        assertTrue(r.out().startsWith("Once upon a time, there was a little girl named Lily."));
    }

    @Test
    void sampledGenerationIsReproducibleFromItsSeed() {
        Path dir = SharedData.stories260K();
        String[] args = {"generate", "--model", dir.resolve("stories260K.bin").toString(), "--prompt", "Lily had",
                "--max-new-tokens", "40", "--temperature", "0.8", "--top-p", "0.9", "--seed", "7"};
        Run a = run(args), b = run(args);
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
        assertTrue(a.out().length() > 20, a.out());
    }

    @Test
    void infoPrintsArchitectureAndParameterCount() {
        Path dir = SharedData.stories260K();
        Run r = run("info", "--model", dir.resolve("stories260K.bin").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("parameters:     260,032"), r.out());  // the count in the model's README
        assertTrue(r.out().contains("heads:          8 (kv heads 4, d_head 8)"), r.out());
    }

    @Test
    void badInputIsOneLineOnStderr(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("broken.bin");
        Files.write(bad, new byte[] {64, 0, 0, 0, 1});
        Run r = run("info", "--model", bad.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(bad.toString()) && r.err().contains("truncated"), r.err());

        Run missing = run("generate", "--model", tmp.resolve("nope.bin").toString(), "--tokenizer", bad.toString());
        assertEquals(Main.EXIT_BAD_INPUT, missing.code());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());

        Run verbose = run("info", "--verbose", "--model", bad.toString());
        assertTrue(verbose.err().lines().count() > 3, "stack trace with --verbose");
    }

    @Test
    void badArgumentsAreRejected() {
        Path dir = SharedData.stories260K();
        Run r = run("generate", "--model", dir.resolve("stories260K.bin").toString(), "--temperature", "-1");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("temperature"), r.err());
        Run unknown = run("frobnicate");
        assertTrue(unknown.code() != 0);
    }
}
