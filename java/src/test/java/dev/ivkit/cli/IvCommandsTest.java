package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scan / extract / evaluate / probe on stories260K and a real function-vector task. stories260K has no in-context
 * learning, so these test plumbing and exactness, not task success. One uninterrupted exact scan is shared.
 */
class IvCommandsTest {
    static final String TASK = "function_vectors/abstractive/antonym.json";

    @TempDir
    static Path shared;

    private static Path reference;

    static Path model() {
        return SharedData.stories260K().resolve("stories260K.bin");
    }

    static Path task() {
        return SharedData.require(TASK);
    }

    static String[] scanArgs(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("scan", "--model", model().toString(), "--task", task().toString(),
                "--shots", "3", "--prompts", "3", "--mean-prompts", "4", "--out", out.toString()));
        a.addAll(Arrays.asList(extra));
        return a.toArray(String[]::new);
    }

    /** The uninterrupted exact REPLACE scan every test compares with. */
    static synchronized Path referenceScan() {
        if (reference == null) {
            Path out = shared.resolve("reference");
            CliTest.Run r = CliTest.run(scanArgs(out));
            assertEquals(0, r.code(), r.err());
            reference = out;
        }
        return reference;
    }

    static JsonObject json(Path file) throws Exception {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    static double[][] matrix(JsonObject o, String key) {
        JsonArray rows = o.getAsJsonArray(key);
        double[][] m = new double[rows.size()][];
        for (int l = 0; l < rows.size(); l++) {
            JsonArray row = rows.get(l).getAsJsonArray();
            m[l] = new double[row.size()];
            for (int h = 0; h < row.size(); h++) {
                m[l][h] = row.get(h).getAsDouble();
            }
        }
        return m;
    }

    // ------------------------------------------------------------------------------------------------------ scan

    @Test
    void scanWritesScoresOfEveryHead() throws Exception {
        Path dir = referenceScan();
        JsonObject s = json(dir.resolve("scan.json"));
        assertEquals("exact", s.get("method").getAsString());
        assertEquals("replace", s.get("mode").getAsString());
        assertEquals("shuffled", s.get("corrupt").getAsString());
        assertEquals(5, s.get("layers").getAsInt());
        assertEquals(8, s.get("heads").getAsInt());
        assertEquals(3, s.get("prompts").getAsInt());
        assertEquals(3, s.get("shots").getAsInt());
        assertEquals(42, s.get("seed").getAsInt());
        assertEquals("antonym", s.get("task").getAsString());
        assertEquals(16, s.get("model_fingerprint").getAsString().length());
        assertTrue(s.has("ivkit_version") && s.has("model"));
        double[][] cie = matrix(s, "cie"), nll = matrix(s, "nll_delta");
        // validity: accuracies in [0, 1]; each head's mean CIE inside its bootstrap interval
        for (String[] k : new String[][] {{"clean_accuracy", "mean_prompts"}, {"corrupted_accuracy", "prompts"}}) {
            double a = s.get(k[0]).getAsDouble(), right = a * s.get(k[1]).getAsInt();   // a share of those prompts
            assertTrue(a >= 0 && a <= 1 && Math.abs(right - Math.round(right)) < 1e-9, k[0] + " = " + a);
        }
        double[][] lo = matrix(s, "cie_ci_low"), hi = matrix(s, "cie_ci_high");
        for (int l = 0; l < cie.length; l++) {
            for (int h = 0; h < cie[l].length; h++) {
                assertTrue(lo[l][h] <= cie[l][h] + 1e-12 && cie[l][h] <= hi[l][h] + 1e-12, "L" + l + "H" + h + " interval");
            }
        }
        assertEquals(5, cie.length);
        assertEquals(5, nll.length);
        boolean moved = false;
        for (int l = 0; l < 5; l++) {
            assertEquals(8, cie[l].length);
            assertEquals(8, nll[l].length);
            for (int h = 0; h < 8; h++) {
                assertTrue(Double.isFinite(cie[l][h]) && Math.abs(cie[l][h]) <= 1 && Double.isFinite(nll[l][h]));
                moved |= cie[l][h] != 0;
            }
        }
        assertTrue(moved, "patching must move some probability");
        JsonArray per = s.getAsJsonArray("per_prompt");
        assertEquals(3, per.size());
        double mean00 = 0;
        for (int i = 0; i < 3; i++) {
            JsonObject p = per.get(i).getAsJsonObject();
            double cp = p.get("clean_prob").getAsDouble();
            assertTrue(cp >= 0 && cp <= 1 && p.get("clean_nll").getAsDouble() > 0, p.toString());
            mean00 += matrix(p, "cie")[0][0] / 3;
        }
        assertEquals(mean00, cie[0][0], 1e-15, "cie is the mean of the per-prompt scores");
        assertTrue(Files.isRegularFile(dir.resolve("mean_z.safetensors")));
        assertFalse(Files.exists(dir.resolve("scan.partial.json")), "the partial file is removed when done");
        assertFalse(Files.readString(dir.resolve("scan.json")).contains("seconds"), "no timings in scan.json");
    }

    @Test
    void exactAndNaiveScansAgree() throws Exception {
        Path naive = shared.resolve("naive");
        CliTest.Run r = CliTest.run(scanArgs(naive, "--method", "naive"));
        assertEquals(0, r.code(), r.err());
        JsonObject e = json(referenceScan().resolve("scan.json")), n = json(naive.resolve("scan.json"));
        assertEquals("naive", n.get("method").getAsString());
        for (String key : new String[] {"cie", "nll_delta"}) {
            double[][] a = matrix(e, key), b = matrix(n, key);
            for (int l = 0; l < 5; l++) {
                for (int h = 0; h < 8; h++) {
                    assertEquals(b[l][h], a[l][h], 1e-5, key + "[" + l + "][" + h + "]");
                }
            }
        }
    }

    @Test
    void addModeDefaultsToCleanZeroShotPrompts() throws Exception {
        Path out = shared.resolve("add");
        CliTest.Run r = CliTest.run("scan", "--model", model().toString(), "--task", task().toString(), "--shots", "3",
                "--prompts", "2", "--mean-prompts", "4", "--mode", "add", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject s = json(out.resolve("scan.json"));
        assertEquals("add", s.get("mode").getAsString());
        assertEquals(0, s.get("scan_shots").getAsInt());
        assertEquals("none", s.get("corrupt").getAsString());
        assertEquals(5, matrix(s, "nll_delta").length);
    }

    @Test
    void stoppedScanResumesToTheSameBytes(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("scan");
        CliTest.Run first = CliTest.run(scanArgs(out, "--stop-after", "1"));
        assertEquals(0, first.code(), first.err());
        assertFalse(Files.exists(out.resolve("scan.json")));
        assertEquals(1, json(out.resolve("scan.partial.json")).getAsJsonArray("done").size());

        CliTest.Run other = CliTest.run(scanArgs(out, "--seed", "7"));
        assertEquals(Main.EXIT_BAD_INPUT, other.code());
        assertTrue(other.err().contains("other arguments") && other.err().contains("--restart"), other.err());
        assertTrue(other.err().contains("(seed differs"), "names the argument: " + other.err());

        CliTest.Run second = CliTest.run(scanArgs(out));
        assertEquals(0, second.code(), second.err());
        assertTrue(second.err().contains("resuming after 1 of 3"), second.err());
        assertArrayEquals(Files.readAllBytes(referenceScan().resolve("scan.json")), Files.readAllBytes(out.resolve("scan.json")));
        assertArrayEquals(Files.readAllBytes(referenceScan().resolve("mean_z.safetensors")),
                Files.readAllBytes(out.resolve("mean_z.safetensors")));
    }

    @Test
    void killedScanResumesToTheSameBytes(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("scan");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Dai.djl.offline=true", "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(Arrays.asList(scanArgs(out, "--pause-ms", "60000")));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        Process child = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!Files.exists(out.resolve("scan.partial.json")) && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(out.resolve("scan.partial.json")), () -> "child wrote no partial file: " + log(tmp));
            child.destroyForcibly();  // SIGKILL, midway through the scan (it pauses a minute after each prompt)
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertFalse(Files.exists(out.resolve("scan.json")));
        CliTest.Run resumed = CliTest.run(scanArgs(out));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("resuming after"), resumed.err());
        assertArrayEquals(Files.readAllBytes(referenceScan().resolve("scan.json")), Files.readAllBytes(out.resolve("scan.json")));
    }

    private static String log(Path tmp) {
        try {
            return Files.readString(tmp.resolve("child.log"));
        } catch (Exception e) {
            return "(no log)";
        }
    }

    @Test
    void malformedTaskFilesAreOneLineErrorsNamingFileAndRecord(@TempDir Path tmp) throws Exception {
        String[][] cases = {
            {"badjson.json", "[{\"input\": \"a\", \"output\": \"b\"}, {\"input\": ", "badjson.json"},
            {"missing.json", "[{\"input\": \"a\", \"output\": \"b\"}, {\"input\": \"c\"}]", "missing.json record 1"},
            {"empty.json", "[]", "empty.json"},
        };
        for (String[] c : cases) {
            Path f = tmp.resolve(c[0]);
            Files.writeString(f, c[1]);
            CliTest.Run r = CliTest.run("scan", "--model", model().toString(), "--task", f.toString(), "--out",
                    tmp.resolve("out").toString());
            assertEquals(Main.EXIT_BAD_INPUT, r.code(), c[0] + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(c[2]), r.err());
        }
        assertTrue(CliTest.run("probe", "--model", model().toString(), "--task", tmp.resolve("missing.json").toString())
                .err().contains("missing.json record 1"));
    }

    @Test
    void tooFewRecordsForTheShotsIsRefused(@TempDir Path tmp) throws Exception {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 6; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"input\": \"w").append(i).append("\", \"output\": \"v").append(i).append("\"}");
        }
        Path f = tmp.resolve("small.json");
        Files.writeString(f, sb.append("]").toString());
        CliTest.Run r = CliTest.run("scan", "--model", model().toString(), "--task", f.toString(), "--shots", "10",
                "--out", tmp.resolve("out").toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("shots") && r.err().contains("small.json has 6 records"), r.err());
    }

    // ------------------------------------------------------------------------------------------------ extract

    @Test
    void extractBuildsTheVectorOfTheTopHeads(@TempDir Path tmp) throws Exception {
        Path scan = referenceScan();
        CliTest.Run r = CliTest.run("extract", "--model", model().toString(), "--scan", scan.toString(), "--heads", "4",
                "--out", tmp.toString());
        assertEquals(0, r.code(), r.err());
        List<HeadRanking.Head> expected = HeadRanking.top(matrix(json(scan.resolve("scan.json")), "cie"), 4);
        try (InstructionVector iv = InstructionVector.load(tmp)) {
            assertEquals(expected, iv.heads());
            assertEquals(64, iv.dModel());
            assertEquals(1L, ((Number) iv.metadata().get("layer")).longValue(), "default layer = 5 / 3");
            assertEquals("antonym", iv.metadata().get("task"));
            assertEquals("exact", iv.metadata().get("method"));
            assertEquals(3L, ((Number) iv.metadata().get("shots")).longValue());
        }
        // NLL ranking and universal heads (two scans summed) work too
        Path nll = tmp.resolve("nll");
        assertEquals(0, CliTest.run("extract", "--model", model().toString(), "--scan", scan.toString(), "--rank", "nll",
                "--layer", "2", "--universal", scan + "," + scan, "--out", nll.toString()).code());
        double[][] negNll = matrix(json(scan.resolve("scan.json")), "nll_delta");
        for (double[] row : negNll) {
            for (int h = 0; h < row.length; h++) {
                row[h] = -2 * row[h];
            }
        }
        try (InstructionVector iv = InstructionVector.load(nll)) {
            assertEquals(HeadRanking.top(negNll, 10).stream().map(h -> List.of(h.layer(), h.head())).toList(),
                    iv.heads().stream().map(h -> List.of(h.layer(), h.head())).toList());
        }
    }

    // ----------------------------------------------------------------------------------------------- evaluate

    @Test
    void evaluateWritesBaselineAndVectorResults(@TempDir Path tmp) throws Exception {
        Path ivDir = tmp.resolve("iv");
        assertEquals(0, CliTest.run("extract", "--model", model().toString(), "--scan", referenceScan().toString(),
                "--out", ivDir.toString()).code());
        Path out = tmp.resolve("eval");
        CliTest.Run r = CliTest.run("evaluate", "--model", model().toString(), "--iv", ivDir.toString(), "--task",
                task().toString(), "--prompts", "3", "--shots", "3", "--max-new-tokens", "4", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject e = json(out.resolve("eval.json"));
        assertEquals(1, e.get("layer").getAsInt());
        for (String setting : new String[] {"zero_shot", "shuffled_3_shot"}) {
            JsonArray rs = e.getAsJsonObject("settings").getAsJsonArray(setting);
            assertEquals(2, rs.size(), setting);
            assertEquals(-1, rs.get(0).getAsJsonObject().get("layer").getAsInt());
            assertEquals(1, rs.get(1).getAsJsonObject().get("layer").getAsInt());
            for (var x : rs) {
                JsonObject o = x.getAsJsonObject();
                assertEquals(3, o.get("prompts").getAsInt());
                double top1 = o.get("top1").getAsDouble(), f1 = o.get("f1").getAsDouble();
                assertTrue(top1 >= 0 && top1 <= 1 && f1 >= 0 && f1 <= 1 && o.get("nll").getAsDouble() > 0, o.toString());
            }
        }
        // the vector changes the scores: baseline and with-vector NLL differ
        JsonArray zs = e.getAsJsonObject("settings").getAsJsonArray("zero_shot");
        assertTrue(zs.get(0).getAsJsonObject().get("nll").getAsDouble() != zs.get(1).getAsJsonObject().get("nll").getAsDouble());

        Path sweep = tmp.resolve("sweep");
        CliTest.Run s = CliTest.run("evaluate", "--model", model().toString(), "--iv", ivDir.toString(), "--task",
                task().toString(), "--prompts", "2", "--max-new-tokens", "0", "--sweep", "--out", sweep.toString());
        assertEquals(0, s.code(), s.err());
        JsonArray all = json(sweep.resolve("eval.json")).getAsJsonObject("settings").getAsJsonArray("zero_shot");
        assertEquals(6, all.size(), "baseline + 5 layers");
        assertEquals("sweep", json(sweep.resolve("eval.json")).get("layer").getAsString());
    }

    @Test
    void evaluateRefusesAVectorOfAnotherModel(@TempDir Path tmp) throws Exception {
        Path ivDir = tmp.resolve("iv");
        try (PointerScope s = new PointerScope(); LlamaModel other = TestModels.random(TestModels.gqaConfig(), 5)) {
            torch.manual_seed(1);
            try (InstructionVector iv = InstructionVector.build(other, torch.randn(3, 4, 16), new double[3][4],
                    List.of(new HeadRanking.Head(1, 2, 0.5)), Map.of("task", "antonym", "layer", 1))) {
                iv.save(ivDir);
            }
        }
        CliTest.Run r = CliTest.run("evaluate", "--model", model().toString(), "--iv", ivDir.toString(), "--task",
                task().toString(), "--prompts", "2", "--out", tmp.resolve("eval").toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("3 layers × 4 heads"), r.err());
        assertFalse(Files.exists(tmp.resolve("eval").resolve("eval.json")));
    }

    // -------------------------------------------------------------------------------------------------- probe

    @Test
    void probePrintsAndWritesBothProbabilities(@TempDir Path tmp) throws Exception {
        CliTest.Run r = CliTest.run("probe", "--model", model().toString(), "--task", task().toString(), "--prompts", "3",
                "--shots", "3", "--out", tmp.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("P(y | x) bare:") && r.out().contains("P(y | c, x) with 3-shot"), r.out());
        JsonObject p = json(tmp.resolve("probe.json"));
        assertEquals(3, p.get("examples").getAsInt());
        for (String k : new String[] {"bare", "instructed"}) {
            double v = p.get(k).getAsDouble();
            assertTrue(v > 0 && v <= 1, k + " = " + v);
            assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "%.6f", v)), r.out());
        }
    }

    @Test
    void probeReadsASapoSuperNiTaskWithItsInstruction() throws Exception {
        Path dir = SharedData.require("superni/sapo/task195_sentiment140_classification");
        CliTest.Run r = CliTest.run("probe", "--model", model().toString(), "--task", dir.toString(), "--split", "dev",
                "--shots", "0", "--prompts", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("task195_sentiment140_classification (2 examples)")
                && r.out().contains("with instruction"), r.out());
    }

    @Test
    void promptsLongerThanTheContextAreRefusedWhenNoneRemain(@TempDir Path tmp) throws Exception {
        StringBuilder sb = new StringBuilder("[");
        String longInput = "the cat sat on the mat and ".repeat(80);
        for (int i = 0; i < 12; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"input\": \"").append(longInput).append(i)
                    .append("\", \"output\": \"dog\"}");
        }
        Path f = tmp.resolve("long.json");
        Files.writeString(f, sb.append("]").toString());
        CliTest.Run r = CliTest.run("scan", "--model", model().toString(), "--task", f.toString(), "--shots", "2",
                "--prompts", "2", "--mean-prompts", "2", "--out", tmp.resolve("out").toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("longer than the model's context of 512 tokens"), r.err());
    }
}
