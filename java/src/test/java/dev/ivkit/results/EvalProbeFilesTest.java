package dev.ivkit.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EvalFile and ProbeFile: write then read gives the same record and the same text; files written before
 * schema_version existed (the literal text the CLI wrote) read as version 1; other formats, unknown versions,
 * missing and mistyped members are OutputFormatExceptions naming the file and the member.
 */
class EvalProbeFilesTest {
    static final Path F = Path.of("run", "eval.json");

    /** eval.json exactly as ivkit evaluate --max-new-tokens 0 --sweep --scale 0.1 wrote it before schema_version. */
    static final String OLD_EVAL = """
            {
              "format": "ivkit-eval",
              "ivkit_version": "ivkit dev",
              "model": "models/stories260K/stories260K.bin",
              "model_fingerprint": "bd25ec191565d6dc",
              "iv": "iv",
              "task": "antonym",
              "task_file": "function_vectors/abstractive/antonym.json",
              "prompt_format": "qa",
              "seed": 42,
              "prompts": 2,
              "skipped_long_prompts": 0,
              "shots": 0,
              "scale": 0.1,
              "max_new_tokens": 0,
              "layer": "sweep",
              "settings": {
                "zero_shot": [
                  {
                    "layer": -1,
                    "prompts": 2,
                    "top1": 0.0,
                    "top2": 0.0,
                    "top3": 0.5,
                    "nll": 3.901160632508906,
                    "exact_match": NaN,
                    "f1": NaN,
                    "rouge_l": NaN
                  },
                  {
                    "layer": 0,
                    "prompts": 2,
                    "top1": 0.0,
                    "top2": 0.0,
                    "top3": 0.5,
                    "nll": 3.929080789030529,
                    "exact_match": NaN,
                    "f1": NaN,
                    "rouge_l": NaN
                  }
                ]
              }
            }
            """;

    /** probe.json exactly as ivkit probe --out wrote it before schema_version. */
    static final String OLD_PROBE = """
            {
              "format": "ivkit-probe",
              "ivkit_version": "ivkit dev",
              "model": "models/stories260K/stories260K.bin",
              "model_fingerprint": "bd25ec191565d6dc",
              "task": "task195_sentiment140_classification",
              "task_file": "superni/sapo/task195_sentiment140_classification",
              "prompt_format": "qa",
              "seed": 42,
              "context": "instruction",
              "shots": 0,
              "examples": 2,
              "bare": 0.005728140104718371,
              "instructed": 0.005181986462736992
            }
            """;

    static EvalFile.Eval sample() {
        Map<String, List<EvalFile.LayerScore>> s = new LinkedHashMap<>();
        s.put("zero_shot", List.of(new EvalFile.LayerScore(-1, 3, 0.0, 1.0 / 3, 2.0 / 3, 3.7161988, 0, 0.1, Double.NaN),
                new EvalFile.LayerScore(1, 3, 1.0 / 3, 1.0 / 3, 1, 3.0000000000000004, 1.0 / 3, 0.25, 0.5)));
        s.put("shuffled_3_shot", List.of(new EvalFile.LayerScore(-1, 3, 0.5, 0.5, 0.5, 1e-300, 0, 0, 0)));
        return EvalFile.Eval.of(new Provenance("ivkit 1.2", "m.bin", "abc", "t.json", "io", -7L), "antonym",
                new EvalFile.Run("iv dir", 3, 1, 3, 0.1f, 4, 1), s);
    }

    @Test
    void evalRoundTripsRecordAndText(@TempDir Path tmp) throws Exception {
        EvalFile.Eval e = sample();
        Path f = tmp.resolve("eval.json");
        EvalFile.write(f, e);
        EvalFile.Eval back = EvalFile.read(f);
        assertEquals(e, back);
        assertEquals(List.of("zero_shot", "shuffled_3_shot"), List.copyOf(back.settings().keySet()), "setting order kept");
        assertEquals(Files.readString(f), EvalFile.toJson(back));
        assertTrue(Files.readString(f).startsWith("{\n  \"format\": \"ivkit-eval\",\n  \"schema_version\": 1,\n"));
        assertTrue(Double.isNaN(back.settings().get("zero_shot").get(0).rougeL()), "NaN survives");
        assertEquals(0.1f, back.run().scale());
        // without provenance, vector folder and layer (the demo's sweep): those members are left out, and read back
        EvalFile.Eval bare = EvalFile.Eval.of(null, "t", new EvalFile.Run(null, 2, 0, 0, 1, 0, null), e.settings());
        String text = EvalFile.toJson(bare);
        for (String k : List.of("\"model\"", "\"iv\"", "\"seed\"", "\"ivkit_version\"")) {
            assertFalse(text.contains(k), k);
        }
        assertTrue(text.contains("\"layer\": \"sweep\""));
        EvalFile.Eval b = EvalFile.parse(text, F);
        assertEquals(bare, b);
        assertNull(b.provenance());
        assertTrue(b.run().sweep());
    }

    @Test
    void probeRoundTripsRecordAndText(@TempDir Path tmp) throws Exception {
        ProbeFile.Probe p = ProbeFile.Probe.of(new Provenance("ivkit dev", "m", "f", "t", "qa", 42), "antonym",
                "3-shot demonstrations", 3, 3, 0.04567201234, 0.0553261);
        Path f = tmp.resolve("probe.json");
        ProbeFile.write(f, p);
        assertEquals(p, ProbeFile.read(f));
        assertEquals(Files.readString(f), ProbeFile.toJson(ProbeFile.read(f)));
        ProbeFile.Probe none = ProbeFile.Probe.of(null, "t", "instruction", 0, 1, 0.5, 0.25);
        assertEquals(none, ProbeFile.parse(ProbeFile.toJson(none), F));
    }

    @Test
    void filesWithoutAVersionReadAsVersionOneAndWriteBackWithIt() {
        EvalFile.Eval e = EvalFile.parse(OLD_EVAL, F);
        assertEquals(1, e.schemaVersion());
        assertEquals("bd25ec191565d6dc", e.provenance().modelFingerprint());
        assertEquals(42L, e.provenance().seed());
        assertTrue(e.run().sweep());
        assertEquals(0.1f, e.run().scale());
        assertEquals(3.929080789030529, e.settings().get("zero_shot").get(1).nll());
        assertEquals(0, e.settings().get("zero_shot").get(1).layer());
        // the current writer's text is the old text plus the version member
        assertEquals(OLD_EVAL.replace("\"format\": \"ivkit-eval\",\n", "\"format\": \"ivkit-eval\",\n  \"schema_version\": 1,\n"),
                EvalFile.toJson(e));
        ProbeFile.Probe p = ProbeFile.parse(OLD_PROBE, F);
        assertEquals(1, p.schemaVersion());
        assertEquals(0.005181986462736992, p.instructed());
        assertEquals("instruction", p.context());
        assertEquals(OLD_PROBE.replace("\"format\": \"ivkit-probe\",\n", "\"format\": \"ivkit-probe\",\n  \"schema_version\": 1,\n"),
                ProbeFile.toJson(p));
    }

    static void fails(String text, String field, String words) {
        OutputFormatException e = assertThrows(OutputFormatException.class, () -> {
            if (text.contains("ivkit-probe")) {
                ProbeFile.parse(text, F);
            } else {
                EvalFile.parse(text, F);
            }
        });
        assertEquals(F, e.file());
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(F.toString()) && e.getMessage().contains(words), e.getMessage());
    }

    @Test
    void badFilesNameTheFileAndTheMember(@TempDir Path tmp) {
        fails("{\"format\": \"ivkit-eval\", ", null, "not valid JSON");
        fails("[1, 2]", null, "expected a JSON object");
        fails(OLD_EVAL.replace("ivkit-eval", "ivkit-scan"), "format", "expected \"ivkit-eval\"");
        fails(OLD_EVAL.replace("\"format\": \"ivkit-eval\",", ""), "format", "missing");
        fails(OLD_EVAL.replace("\"format\": \"ivkit-eval\",", "\"format\": \"ivkit-eval\", \"schema_version\": 2,"),
                "schema_version", "2 is not one this ivkit reads (1..1)");
        fails(OLD_EVAL.replace("\"format\": \"ivkit-eval\",", "\"format\": \"ivkit-eval\", \"schema_version\": \"one\","),
                "schema_version", "expected an integer");
        fails(OLD_EVAL.replace("\"nll\": 3.929080789030529,", ""), "settings.zero_shot[1].nll", "missing");
        fails(OLD_EVAL.replaceFirst("\"top3\": 0.5", "\"top3\": \"half\""),
                "settings.zero_shot[0].top3", "expected a number");
        fails(OLD_EVAL.replace("\"layer\": 0,", "\"layer\": 0.5,"), "settings.zero_shot[1].layer", "expected an integer");
        fails(OLD_EVAL.replace("\"layer\": \"sweep\"", "\"layer\": \"all\""), "layer", "\"sweep\"");
        fails(OLD_EVAL.replace("\"shots\": 0,", ""), "shots", "missing");
        fails(OLD_EVAL.replace("\"model_fingerprint\": \"bd25ec191565d6dc\",", ""), "model_fingerprint",
                "provenance members come together");
        fails(OLD_EVAL.replace("\"settings\": {", "\"settings\": 3, \"unknown\": {"), "settings",
                "expected an object");
        fails(OLD_PROBE.replace("\"bare\": 0.005728140104718371,", ""), "bare", "missing");
        fails(OLD_PROBE.replace("\"examples\": 2,", "\"examples\": \"two\","), "examples", "expected an integer");
        fails(OLD_PROBE.replace("\"context\": \"instruction\",", "\"context\": 3,"), "context", "expected a string");
        OutputFormatException missing = assertThrows(OutputFormatException.class, () -> ProbeFile.read(tmp.resolve("nope.json")));
        assertEquals(tmp.resolve("nope.json"), missing.file());
        assertTrue(missing.getMessage().contains("cannot read"), missing.getMessage());
    }
}
