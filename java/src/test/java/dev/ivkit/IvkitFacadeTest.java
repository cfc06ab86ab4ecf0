package dev.ivkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.PatchMode;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code dev.ivkit} facade on stories260K and the antonym function-vector task: its vector equals the one the
 * low-level pipeline (MeanActivations, CieScan, HeadRanking, InstructionVector) and the CLI (scan + extract) build
 * for the same settings; IV-guided training through it lowers the loss; a cancelled training stops at once, leaves
 * its checkpoint and resumes to the uninterrupted run's losses; listeners see every stage and step; nothing is
 * printed.
 */
class IvkitFacadeTest {
    static final int SHOTS = 3, PROMPTS = 3, MEAN_PROMPTS = 6, HEADS = 4, LAYER = 2;
    static final long SEED = 7;

    static Path model() {
        return SharedData.stories260K().resolve("stories260K.bin");
    }

    static Path task() {
        return SharedData.require("function_vectors/abstractive/antonym.json");
    }

    static ExtractOptions tiny() {
        return ExtractOptions.builder(task()).shots(SHOTS).prompts(PROMPTS).meanPrompts(MEAN_PROMPTS).heads(HEADS)
                .layer(LAYER).seed(SEED).build();
    }

    static TrainOptions.Builder training(InstructionVector iv) {
        return TrainOptions.builder(task()).iv(iv).steps(20).lr(1e-2).batch(4).gradAccum(2).maxSamples(64)
                .evalSamples(16).seed(SEED);
    }

    /** The documented sampling of ivkit scan, written out here against the data and prompt classes. */
    @Test
    void extractedVectorEqualsTheLowLevelPipeline() {
        try (IvkitModel m = Ivkit.open(model()); ExtractResult r = m.extractIv(tiny()); PointerScope scope = new PointerScope()) {
            TaskDataset data = TaskDataset.loadFunctionVector(task());
            Splits s = data.split(0.3, SEED);
            PromptBuilder b = new PromptBuilder(PromptStyle.QA);
            Random meanRng = new Random(SEED);
            List<TokenizedPrompt> mean = new ArrayList<>();
            List<TaskExample> meanQueries = new ArrayList<>();
            for (int i = 0; i < MEAN_PROMPTS; i++) {
                meanQueries.add(s.train().get(meanRng.nextInt(s.train().size())));
            }
            for (TaskExample q : meanQueries) {
                mean.add(TokenizedPrompt.of(m.tokenizer(), b.fewShot(s.train(), q, SHOTS, meanRng, false)));
            }
            Random scanRng = new Random(SEED + 1);
            List<TaskExample> pool = new ArrayList<>(s.test());
            pool.addAll(s.valid());
            List<TokenizedPrompt> scanned = new ArrayList<>();
            for (int i = 0; i < PROMPTS; i++) {
                scanned.add(TokenizedPrompt.of(m.tokenizer(), b.fewShot(s.train(), pool.get(i), SHOTS, scanRng, true)));
            }
            Tensor meanZ = MeanActivations.compute(m.llama(), mean, 8);
            ScanScores want = new CieScan(m.llama(), meanZ, PatchMode.REPLACE).scan(scanned, ScanMethod.EXACT, null);
            double[][] ranking = HeadRanking.scores(want, HeadRanking.By.PROB);
            List<HeadRanking.Head> top = HeadRanking.top(ranking, HEADS);
            try (InstructionVector ref = InstructionVector.build(m.llama(), meanZ, ranking, top, Map.of())) {
                assertEquals(top, r.topHeads(), "same heads, same order, same scores");
                Compare.assertClose(ref.vector(), r.iv().vector(), 1e-6, 1e-7, "instruction vector");
                Compare.assertClose(ref.meanZ(), r.iv().meanZ(), 1e-6, 1e-7, "mean z");
            }
            assertEquals(PROMPTS, r.promptsScanned());
            assertEquals(MEAN_PROMPTS, r.meanPromptsUsed());
            for (int l = 0; l < ranking.length; l++) {
                for (int h = 0; h < ranking[l].length; h++) {
                    assertEquals(ranking[l][h], r.rankingScores()[l][h], 1e-9, "score of head " + l + "," + h);
                }
            }
            assertEquals(LAYER, r.layer());
            assertEquals(LAYER, ((Number) r.iv().metadata().get("layer")).intValue());
            assertTrue(java.util.Arrays.stream(ranking).flatMapToDouble(java.util.Arrays::stream).anyMatch(x -> x != 0),
                    "the scan measured effects (a ranking of zeros would match trivially)");
        }
    }

    /** Same settings through the CLI (ivkit scan, then ivkit extract): the same vector, bit for bit. */
    @Test
    void extractedVectorEqualsTheCli(@TempDir Path tmp) {
        Path scan = tmp.resolve("scan"), ivDir = tmp.resolve("iv");
        assertEquals(0, dev.ivkit.cli.Main.run("scan", "--model", model().toString(), "--task", task().toString(),
                "--shots", "" + SHOTS, "--prompts", "" + PROMPTS, "--mean-prompts", "" + MEAN_PROMPTS, "--seed", "" + SEED,
                "--out", scan.toString()));
        assertEquals(0, dev.ivkit.cli.Main.run("extract", "--model", model().toString(), "--scan", scan.toString(),
                "--heads", "" + HEADS, "--layer", "" + LAYER, "--out", ivDir.toString()));
        try (IvkitModel m = Ivkit.open(model()); ExtractResult r = m.extractIv(tiny());
             InstructionVector cli = InstructionVector.load(ivDir)) {
            assertEquals(cli.heads().stream().map(h -> List.of(h.layer(), h.head())).toList(),
                    r.topHeads().stream().map(h -> List.of(h.layer(), h.head())).toList());
            Compare.assertBitEqual(cli.vector(), r.iv().vector(), "IV from the CLI and from the facade");
        }
    }

    @Test
    void ivGuidedTrainingLowersTheLossAndReportsEveryStep(@TempDir Path tmp) throws Exception {
        List<String> stages = new ArrayList<>();
        List<Double> seen = new ArrayList<>();
        ProgressListener l = new ProgressListener() {
            @Override
            public void onStage(Stage stage, String detail) {
                stages.add(stage.name());
            }

            @Override
            public void onStep(Stage stage, int done, int total, double value) {
                if (stage == Stage.SCAN) {
                    stages.add("scan-" + done + "/" + total);
                } else {
                    assertEquals(seen.size() + 1, done, "steps in order");
                    assertEquals(20, total);
                    seen.add(value);
                }
            }
        };
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        TrainResult t;
        try (IvkitModel m = Ivkit.open(model())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(printed, true, StandardCharsets.UTF_8));
            try (ExtractResult r = m.extractIv(tiny(), l, new CancellationToken())) {
                t = m.train(training(r.iv()).outDir(tmp).build(), l, new CancellationToken());
            } finally {
                System.setOut(out);
                System.setErr(err);
            }
            assertEquals(t.adapter(), m.llama().adapter(), "the trained adapter stays attached");
        }
        assertEquals("", printed.toString(StandardCharsets.UTF_8), "the facade prints nothing");
        assertEquals(List.of("PREPARE", "MEAN_ACTIVATIONS", "SCAN", "scan-1/3", "scan-2/3", "scan-3/3", "BUILD_VECTOR", "DONE",
                "PREPARE", "EVAL_BEFORE", "TRAIN", "EVAL_AFTER", "DONE"), stages);
        assertTrue(t.ivGuided());
        assertEquals(20, t.steps());
        assertEquals(0, t.startStep());
        assertEquals(t.losses(), seen, "the listener's losses are the trainer's");
        List<JsonObject> metrics = metrics(tmp);
        for (int i = 0; i < 20; i++) {
            assertEquals(metrics.get(i).get("loss").getAsDouble(), t.losses().get(i), 0.0, "metrics.jsonl line " + i);
        }
        assertTrue(metrics.stream().anyMatch(j -> j.get("kl").getAsDouble() > 0), "the IV-guided KL terms are active");
        assertTrue(metrics.stream().anyMatch(j -> j.get("pr").getAsDouble() > 0), "head preservation is active");
        double first = mean(t.losses().subList(0, 5)), last = mean(t.losses().subList(15, 20));
        assertTrue(last < 0.8 * first, "loss falls: first 5 steps " + first + ", last 5 " + last + ": " + t.losses());
        assertTrue(t.evalLossAfter() < t.evalLossBefore(), "held-out loss " + t.evalLossBefore() + " -> " + t.evalLossAfter());
        assertTrue(Files.isRegularFile(t.adapterDir().resolve("adapter_model.safetensors")));
    }

    @Test
    void cancelledTrainingKeepsItsCheckpointAndResumesToTheSameLosses(@TempDir Path tmp) {
        try (IvkitModel m = Ivkit.open(model()); ExtractResult r = m.extractIv(tiny())) {
            TrainResult full = m.train(training(r.iv()).checkpointEvery(5).outDir(tmp.resolve("full")).build());

            Path out = tmp.resolve("cut");
            CancellationToken token = new CancellationToken();
            int[] lastStep = {0};
            ProgressListener stopAt7 = new ProgressListener() {
                @Override
                public void onStep(Stage stage, int done, int total, double value) {
                    lastStep[0] = done;
                    if (done == 7) {
                        token.cancel();
                    }
                }
            };
            CancelledException e = assertThrows(CancelledException.class,
                    () -> m.train(training(r.iv()).checkpointEvery(5).outDir(out).build(), stopAt7, token));
            assertTrue(e.getMessage().contains("after step 7"), e.getMessage());
            assertEquals(7, lastStep[0], "stopped right after the step it was cancelled at");
            assertNull(m.llama().adapter(), "a cancelled run detaches its adapter");
            JsonObject latest = json(out.resolve("checkpoints/latest.json"));
            assertEquals("step-5", latest.get("dir").getAsString(), "the checkpoint of step 5 is intact");
            assertEquals(7, metrics(out).size(), "metrics up to the cancelled step");

            TrainResult resumed = m.train(training(r.iv()).checkpointEvery(5).outDir(out).resume(true).build());
            assertEquals(5, resumed.startStep());
            assertEquals(20, resumed.steps());
            assertEquals(full.losses().subList(5, 20), resumed.losses(), "a resumed run repeats the uninterrupted one");
            assertEquals(full.evalLossAfter(), resumed.evalLossAfter(), 0.0);

            // a different setting is refused on resume
            Path cut2 = out;
            assertThrows(InvalidArgumentException.class,
                    () -> m.train(training(r.iv()).lr(2e-2).checkpointEvery(5).outDir(cut2).resume(true).build()));
        }
    }

    @Test
    void interruptAndTokenStopExtractionAndTraining(@TempDir Path tmp) {
        try (IvkitModel m = Ivkit.open(model())) {
            CancellationToken token = new CancellationToken();
            int[] prompts = {0};
            ProgressListener afterOne = new ProgressListener() {
                @Override
                public void onStep(Stage stage, int done, int total, double value) {
                    prompts[0] = done;
                    token.cancel();
                }
            };
            CancelledException e = assertThrows(CancelledException.class, () -> m.extractIv(tiny(), afterOne, token));
            assertEquals(1, prompts[0], "no prompt after the cancellation");
            assertTrue(e.getMessage().contains("after 1 of 3"), e.getMessage());

            try (ExtractResult r = m.extractIv(tiny())) {
                int[] steps = {0};
                ProgressListener interruptAt3 = new ProgressListener() {
                    @Override
                    public void onStep(Stage stage, int done, int total, double value) {
                        steps[0] = done;
                        if (done == 3) {
                            Thread.currentThread().interrupt();
                        }
                    }
                };
                try {
                    CancelledException i = assertThrows(CancelledException.class,
                            () -> m.train(training(r.iv()).outDir(tmp).build(), interruptAt3, new CancellationToken()));
                    assertTrue(i.getMessage().startsWith("interrupted"), i.getMessage());
                    assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag is left set");
                } finally {
                    Thread.interrupted();
                }
                assertEquals(3, steps[0]);
                assertFalse(Files.exists(tmp.resolve("adapter")), "no final adapter for a cancelled run");
            }
        }
    }

    @Test
    void plainLoraWithoutAnIvAndSettingsChecks() {
        assertThrows(InvalidArgumentException.class, () -> TrainOptions.builder(task()).alpha1(3).build(),
                "alphas need an IV");
        assertThrows(InvalidArgumentException.class, () -> ExtractOptions.builder(task()).prompts(0).build());
        try (IvkitModel m = Ivkit.open(model())) {
            TrainResult t = m.train(TrainOptions.builder(task()).steps(3).lr(1e-2).maxSamples(16).evalSamples(0).build());
            assertFalse(t.ivGuided());
            assertEquals(3, t.losses().size());
            assertTrue(Double.isNaN(t.evalLossBefore()));
            assertNull(t.adapterDir(), "no outDir: nothing kept on disk");
            InvalidArgumentException bad = assertThrows(InvalidArgumentException.class,
                    () -> m.extractIv(ExtractOptions.builder(task()).layer(99).build()));
            assertEquals("layer", bad.field());
        }
    }

    static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    static JsonObject json(Path f) {
        try {
            return JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static List<JsonObject> metrics(Path dir) {
        try {
            List<JsonObject> out = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                if (o.has("loss")) {
                    out.add(o);
                }
            }
            return out;
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
