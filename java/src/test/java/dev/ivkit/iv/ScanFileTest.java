package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scan.json and scan.partial.json: round trips, schema versions, and errors that name the file and the member. */
class ScanFileTest {
    static final double[][] CIE = {{0.1, -2.5e-4}, {Double.NaN, 3.0}};
    static final double[][] NLL = {{-0.5, 1e-9}, {0.25, -7.0}};

    static ScanFile.PromptScore prompt(int i) {
        return new ScanFile.PromptScore(i, "hot \"q\" <" + i + ">", "cold", 12 + i, 0.125 + i, 2.0794415416798357,
                new double[][] {{i, 0.1}, {Double.NaN, -1e-300}}, new double[][] {{-i, 0.2}, {0.3, 0.4}});
    }

    static ScanFile full() {
        return new ScanFile(ScanFile.FORMAT, ScanFile.SCHEMA_VERSION, "ivkit test", "exact", "replace", 2, 2, 2, 4, 0, 1,
                "antonym", "data/antonym.json", 3, 3, "shuffled", "qa", 42L, "m.bin", "bd25ec191565d6dc", "checkpoint",
                "430b923359f1a6cd", CIE, NLL, 0.75, 0.25, new double[][] {{-0.5, 0.0}, {0.25, -1}}, new double[][] {{1.5, 0.5}, {0.75, 0}},
                List.of(prompt(0), prompt(1)));
    }

    /** The cie and nll_delta members of {@link #LEGACY}: the same at the top level and in its one prompt. */
    private static final String MAPS = """
            "cie": [
              [
                -2.4257313988426432E-4,
                0.00238690151712899
              ]
            ],
            "nll_delta": [
              [
                0.5,
                -1.0
              ]
            ]
            """;

    /** The members of an {@code ivkit scan} file of the version before schema_version, in order, by hand. */
    static final String LEGACY = """
            {
              "format": "ivkit-scan",
              "ivkit_version": "ivkit 0.1.0-SNAPSHOT",
              "method": "exact",
              "mode": "replace",
              "layers": 1,
              "heads": 2,
              "prompts": 1,
              "mean_prompts": 4,
              "skipped_long_prompts": 0,
              "skipped_long_mean_prompts": 0,
              "task": "antonym",
              "task_file": "a.json",
              "shots": 3,
              "scan_shots": 3,
              "corrupt": "shuffled",
              "prompt_format": "qa",
              "seed": 42,
              "model": "m.bin",
              "model_fingerprint": "bd25ec191565d6dc",
              "dtype": "checkpoint",
              "args_fingerprint": "430b923359f1a6cd",
            %s,
              "per_prompt": [
                {
                  "index": 0,
                  "query": "periodic",
                  "target": "aperiodic",
                  "prompt_tokens": 40,
                  "clean_prob": 0.001,
                  "clean_nll": 7.5,
            %s
                }
              ]
            }
            """.formatted(MAPS.indent(2).stripTrailing(), MAPS.indent(6).stripTrailing());

    @Test
    void roundTripKeepsEveryMemberBitForBit(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("scan.json");
        ScanFile s = full();
        s.write(f);
        ScanFile r = ScanFile.read(f);
        assertEquals(s.toJson(), r.toJson());
        assertEquals(Files.readString(f), r.toJson(), "written text = toJson");
        assertEquals(1, r.schemaVersion());
        assertEquals(42L, r.seed());
        assertEquals("hot \"q\" <1>", r.perPrompt().get(1).query());
        for (int l = 0; l < 2; l++) {
            for (int h = 0; h < 2; h++) {
                assertEquals(Double.doubleToRawLongBits(CIE[l][h]), Double.doubleToRawLongBits(r.cie()[l][h]));
                assertEquals(Double.doubleToRawLongBits(NLL[l][h]), Double.doubleToRawLongBits(r.nllDelta()[l][h]));
            }
        }
        assertEquals(Double.doubleToRawLongBits(-1e-300), Double.doubleToRawLongBits(r.perPrompt().get(0).cie()[1][1]));
        // the version member comes right after the format; no temporary file is left beside the file
        assertTrue(Files.readString(f).startsWith("{\n  \"format\": \"ivkit-scan\",\n  \"schema_version\": 1,\n"));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(f), files.toList());
        }
        ScanScores sc = r.scores();
        assertEquals(2, sc.prompts());
        assertEquals(1.125, sc.cleanProb()[1]);
        assertEquals(0.5, sc.meanDProb()[0][0], "mean of the prompts' maps");
    }

    @Test
    void aFileWithoutAVersionIsVersionOneAndIsRewrittenWithIt(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("scan.json");
        Files.writeString(f, LEGACY);
        ScanFile r = ScanFile.read(f);
        assertEquals(1, r.schemaVersion());
        assertEquals("antonym", r.task());
        assertEquals(7.5, r.perPrompt().get(0).cleanNll());
        String expected = LEGACY.replace("\"format\": \"ivkit-scan\",\n", "\"format\": \"ivkit-scan\",\n  \"schema_version\": 1,\n");
        assertEquals(expected, r.toJson(), "the same text, with the version added");
    }

    @Test
    void summariesKeepOnlyWhatIsThere(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("scan.json");
        ScanFile.summary("t", "exact", "add", 5, 6, CIE).write(f);
        assertEquals("""
                {
                  "format": "ivkit-scan",
                  "schema_version": 1,
                  "method": "exact",
                  "mode": "add",
                  "layers": 2,
                  "heads": 2,
                  "prompts": 5,
                  "mean_prompts": 6,
                  "task": "t",
                  "cie": [
                    [
                      0.1,
                      -2.5E-4
                    ],
                    [
                      NaN,
                      3.0
                    ]
                  ]
                }
                """, Files.readString(f));
        ScanFile r = ScanFile.read(f);
        assertNull(r.perPrompt());
        assertNull(r.nllDelta());
        assertThrows(IllegalStateException.class, r::scores);

        Files.writeString(f, "{\"task\": \"t\", \"cie\": [[1, 2], [3]], \"per_prompt\": [{\"index\": 0}], \"x\": {}}");
        ScanFile s = ScanFile.readSummary(f);
        assertEquals("t", s.task());
        assertArrayEquals(new double[] {3}, s.cie()[1], "rows may differ in a summary");
        assertNull(s.perPrompt());
        assertEquals("format", error(f, "{\"task\": \"t\", \"cie\": [[1]]}").field(), "read() needs the format");
    }

    @Test
    void errorsNameTheFileAndTheMember(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("scan.json");
        ModelFormatException missing = assertThrows(ModelFormatException.class, () -> ScanFile.read(tmp.resolve("none.json")));
        assertEquals(tmp.resolve("none.json"), missing.file());
        assertEquals(f, error(f, LEGACY.substring(0, 300)).file(), "truncated JSON");
        assertEquals("cie", error(f, LEGACY.replace("\"cie\": [", "\"cie_old\": [")).field());
        assertEquals("schema_version", error(f, LEGACY.replace("\"format\": \"ivkit-scan\",",
                "\"format\": \"ivkit-scan\", \"schema_version\": 2,")).field());
        assertEquals("format", error(f, LEGACY.replace("ivkit-scan", "ivkit-eval")).field());
        assertEquals("seed", error(f, LEGACY.replace("\"seed\": 42", "\"seed\": 4.5")).field());
        assertEquals("task", error(f, LEGACY.replace("\"task\": \"antonym\"", "\"task\": 7")).field());
        assertEquals("per_prompt[0].clean_prob", error(f, LEGACY.replace("\"clean_prob\": 0.001", "\"clean_prob\": \"x\"")).field());
        assertEquals("per_prompt[0].target", error(f, LEGACY.replace("\"target\": \"aperiodic\",", "")).field());
        assertEquals("per_prompt[0].index", error(f, LEGACY.replace("\"index\": 0", "\"index\": 3")).field());
        assertEquals("cie[0][1]", error(f, LEGACY.replace("0.00238690151712899\n    ]", "\"z\"\n    ]")).field());
        assertEquals("cie", error(f, LEGACY.replace("\"heads\": 2", "\"heads\": 3")).field(), "shape vs heads");
        ModelFormatException e = error(f, LEGACY.replace("\"target\": \"aperiodic\",", ""));
        assertTrue(e.getMessage().startsWith(f + " [per_prompt[0].target]: missing"), e.getMessage());
    }

    @Test
    void partialFilesRoundTripAndOldOnesStillRead(@TempDir Path tmp) throws Exception {
        // the args and fingerprint of a scan.partial.json written by ivkit scan before this schema existed
        Object[] members = {"method", "exact", "mode", "replace", "format", "qa", "corrupt", "shuffled", "shots", 3,
            "scan_shots", 3, "prompts_requested", 3, "mean_prompts_requested", 4, "seed", 42L, "dtype", "checkpoint",
            "task", "antonym", "task_sha256", "ba66e8e399944b557251b11a37b11f9ba7a50f0a57286f7021a8a7b26b469e8d",
            "tokenizer_sha256", "037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312",
            "model_fingerprint", "bd25ec191565d6dc"};
        Map<String, Object> args = new LinkedHashMap<>();
        for (int i = 0; i < members.length; i += 2) {
            args.put((String) members[i], members[i + 1]);
        }
        assertEquals("430b923359f1a6cd", ScanPartialFile.fingerprint(args), "the fingerprint earlier versions computed");

        Path f = tmp.resolve("scan.partial.json");
        ScanPartialFile p = ScanPartialFile.of("430b923359f1a6cd", args, List.of(prompt(0)));
        p.write(f);
        ScanPartialFile r = ScanPartialFile.read(f);
        assertEquals(ScanJson.GSON.toJson(p), ScanJson.GSON.toJson(r));
        assertEquals(3L, r.args().get("shots"));
        assertEquals(ScanPartialFile.fingerprint(args), ScanPartialFile.fingerprint(r.args()), "ints read back as longs");

        String legacy = Files.readString(f).replace("  \"format\": \"ivkit-scan-partial\",\n  \"schema_version\": 1,\n", "");
        Files.writeString(f, legacy);
        assertEquals(1, ScanPartialFile.read(f).schemaVersion());
        Files.writeString(f, legacy.replace("\"done\"", "\"finished\""));
        assertEquals("done", assertThrows(ModelFormatException.class, () -> ScanPartialFile.read(f)).field());
        Files.writeString(f, legacy.replace("\"seed\": 42", "\"seed\": [42]"));
        assertEquals("args.seed", assertThrows(ModelFormatException.class, () -> ScanPartialFile.read(f)).field());
        assertEquals("args", assertThrows(ModelFormatException.class,
                () -> ScanPartialFile.parseArgs(f, "args", "[1]")).field());
    }

    private static ModelFormatException error(Path f, String text) throws Exception {
        Files.writeString(f, text);
        return assertThrows(ModelFormatException.class, () -> ScanFile.read(f));
    }
}
