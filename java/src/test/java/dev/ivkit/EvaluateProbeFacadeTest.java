package dev.ivkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.iv.IvEvaluator;
import dev.ivkit.iv.KnowledgeProbe;
import dev.ivkit.results.EvalFile;
import dev.ivkit.results.ProbeFile;
import dev.ivkit.testutil.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IvkitModel#evaluate} and {@link IvkitModel#probe} on stories260K and the antonym task: the records equal what
 * {@code ivkit evaluate} / {@code ivkit probe} write for the same inputs, member for member; the zero-shot numbers
 * equal {@link IvEvaluator} and {@link KnowledgeProbe} on prompts built here from the documented split; listeners see
 * one step per evaluation, a cancelled token stops before any work, and nothing is printed.
 */
class EvaluateProbeFacadeTest {
    static Path model() {
        return IvkitFacadeTest.model();
    }

    static Path task() {
        return IvkitFacadeTest.task();
    }

    /** The vector of the facade's tiny extraction, saved where ivkit evaluate --iv reads it. */
    static Path vector(IvkitModel m, Path dir) {
        try (ExtractResult r = m.extractIv(IvkitFacadeTest.tiny())) {
            r.save(dir);
        }
        return dir;
    }

    @Test
    void evaluateEqualsTheCliAndTheEvaluator(@TempDir Path tmp) {
        Path out = tmp.resolve("cli"), sweepOut = tmp.resolve("sweep");
        try (IvkitModel m = Ivkit.open(model())) {
            Path ivDir = vector(m, tmp.resolve("iv"));
            assertEquals(0, dev.ivkit.cli.Main.run("evaluate", "--model", model().toString(), "--iv", ivDir.toString(),
                    "--task", task().toString(), "--prompts", "3", "--shots", "3", "--max-new-tokens", "4", "--out",
                    out.toString()));
            assertEquals(0, dev.ivkit.cli.Main.run("evaluate", "--model", model().toString(), "--iv", ivDir.toString(),
                    "--task", task().toString(), "--prompts", "2", "--max-new-tokens", "0", "--sweep", "--scale", "0.5",
                    "--out", sweepOut.toString()));
            List<int[]> steps = new ArrayList<>();
            ProgressListener listener = new ProgressListener() {
                @Override
                public void onStep(Stage stage, int done, int total, double value) {
                    assertEquals(Stage.EVALUATE, stage);
                    steps.add(new int[] {done, total});
                }
            };
            EvalFile.Eval mine, swept;
            PrintStream o = System.out, e = System.err;
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            try {
                System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(printed, true, StandardCharsets.UTF_8));
                mine = m.evaluate(EvaluateOptions.builder(task()).ivDir(ivDir).prompts(3).shots(3).maxNewTokens(4).build(),
                        listener, new CancellationToken());
                try (dev.ivkit.iv.InstructionVector iv = dev.ivkit.iv.InstructionVector.load(ivDir)) {
                    swept = m.evaluate(EvaluateOptions.builder(task()).iv(iv).prompts(2).maxNewTokens(0).sweep(true)
                            .scale(0.5f).build());
                }
            } finally {
                System.setOut(o);
                System.setErr(e);
            }
            assertEquals("", printed.toString(StandardCharsets.UTF_8), "the facade prints nothing");
            // the CLI's file, member for member (provenance and the vector's folder included)
            assertEquals(EvalFile.read(out.resolve(EvalFile.NAME)), mine);
            assertEquals(4, steps.size(), "baseline and vector, zero-shot and shuffled 3-shot");
            assertEquals(List.of(4, 4), List.of(steps.get(3)[0], steps.get(3)[1]));
            // a vector given in memory: the same numbers, no folder recorded
            EvalFile.Eval cliSweep = EvalFile.read(sweepOut.resolve(EvalFile.NAME));
            assertEquals(cliSweep.settings(), swept.settings());
            assertEquals(cliSweep.provenance(), swept.provenance());
            assertNull(swept.run().iv());
            assertTrue(swept.run().sweep());
            assertEquals(1 + m.llama().config().nLayers(), swept.settings().get("zero_shot").size());

            // the documented queries, prompts and evaluator, written out here
            Splits s = TaskDataset.loadFunctionVector(task()).split(0.3, 42);
            List<TaskExample> pool = new ArrayList<>(s.test());
            pool.addAll(s.valid());
            PromptBuilder b = new PromptBuilder(PromptStyle.QA);
            List<Prompt> zero = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                zero.add(b.fewShot(s.train(), pool.get(i), 0, null, false));
            }
            IvEvaluator ev = new IvEvaluator(m.llama(), m.tokenizer());
            int layer = mine.run().layer();
            assertEquals(IvkitFacadeTest.LAYER, layer, "the vector's own layer");
            try (dev.ivkit.iv.InstructionVector iv = dev.ivkit.iv.InstructionVector.load(ivDir)) {
                IvEvaluator.Result base = ev.evaluate(zero, null, -1, 1f, 4, true);
                IvEvaluator.Result with = ev.evaluate(zero, iv.vector(), layer, 1f, 4, true);
                assertEquals(List.of(score(base), score(with)), mine.settings().get("zero_shot"));
                assertTrue(base.nll() != with.nll(), "the vector changes the scores");
            }
        }
    }

    static EvalFile.LayerScore score(IvEvaluator.Result r) {
        return new EvalFile.LayerScore(r.layer(), r.prompts(), r.top1(), r.top2(), r.top3(), r.nll(), r.exactMatch(),
                r.f1(), r.rougeL());
    }

    @Test
    void probeEqualsTheCliAndTheKnowledgeProbe(@TempDir Path tmp) {
        assertEquals(0, dev.ivkit.cli.Main.run("probe", "--model", model().toString(), "--task", task().toString(),
                "--prompts", "3", "--shots", "3", "--out", tmp.toString()));
        try (IvkitModel m = Ivkit.open(model())) {
            ProbeFile.Probe p = m.probe(ProbeOptions.builder(task()).prompts(3).shots(3).build());
            assertEquals(ProbeFile.read(tmp.resolve(ProbeFile.NAME)), p);
            assertEquals("3-shot demonstrations", p.context());
            Splits s = TaskDataset.loadFunctionVector(task()).split(0.3, 42);
            List<TaskExample> pool = new ArrayList<>(s.test());
            pool.addAll(s.valid());
            PromptBuilder b = new PromptBuilder(PromptStyle.QA);
            Random rng = new Random(42 + 3);
            List<Prompt> bare = new ArrayList<>(), instructed = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                bare.add(b.fewShot(s.train(), pool.get(i), 0, null, false));
            }
            for (int i = 0; i < 3; i++) {
                instructed.add(b.fewShot(s.train(), pool.get(i), 3, rng, false));
            }
            KnowledgeProbe.Result want = new KnowledgeProbe(m.llama(), m.tokenizer()).run(bare, instructed);
            assertEquals(List.of(3, want.bare(), want.instructed()), List.of(p.examples(), p.bare(), p.instructed()));
            assertTrue(p.bare() > 0 && p.bare() <= 1 && p.instructed() > 0 && p.instructed() <= 1);
        }
    }

    @Test
    void probeWithAnInstructionEqualsTheCli(@TempDir Path tmp) {
        Path dir = SharedData.require("superni/sapo/task195_sentiment140_classification");
        assertEquals(0, dev.ivkit.cli.Main.run("probe", "--model", model().toString(), "--task", dir.toString(), "--split",
                "dev", "--shots", "0", "--prompts", "2", "--out", tmp.toString()));
        try (IvkitModel m = Ivkit.open(model())) {
            ProbeFile.Probe p = m.probe(ProbeOptions.builder(dir).split("dev").shots(0).prompts(2).build());
            assertEquals(ProbeFile.read(tmp.resolve(ProbeFile.NAME)), p);
            assertEquals("instruction", p.context());
        }
    }

    @Test
    void badOptionsAndCancellationStopBeforeAnyWork(@TempDir Path tmp) {
        InvalidArgumentException none = assertThrows(InvalidArgumentException.class,
                () -> EvaluateOptions.builder(task()).build());
        assertEquals("iv", none.field());
        assertEquals("layer", assertThrows(InvalidArgumentException.class,
                () -> EvaluateOptions.builder(task()).ivDir(tmp).layer(1).sweep(true).build()).field());
        assertEquals("maxNewTokens", assertThrows(InvalidArgumentException.class,
                () -> EvaluateOptions.builder(task()).ivDir(tmp).maxNewTokens(-1).build()).field());
        assertEquals("shots", assertThrows(InvalidArgumentException.class,
                () -> ProbeOptions.builder(task()).shots(-1).build()).field());
        assertEquals("prompts", assertThrows(InvalidArgumentException.class,
                () -> ProbeOptions.builder(task()).prompts(0).build()).field());
        try (IvkitModel m = Ivkit.open(model())) {
            CancellationToken cancelled = new CancellationToken();
            cancelled.cancel();
            assertThrows(CancelledException.class, () -> m.probe(ProbeOptions.builder(task()).build(),
                    ProgressListener.none(), cancelled));
            // cancelled before the vector folder (which does not exist) is read
            assertThrows(CancelledException.class, () -> m.evaluate(EvaluateOptions.builder(task())
                    .ivDir(tmp.resolve("nope")).build(), ProgressListener.none(), cancelled));
            assertEquals("layer", assertThrows(InvalidArgumentException.class, () -> m.evaluate(EvaluateOptions
                    .builder(task()).ivDir(vector(m, tmp.resolve("iv"))).layer(99).build())).field());
        }
    }
}
