package dev.ivkit.organism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.cli.Main;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny organism (d=32, 2 layers) trains, saves in HF layout, loads back, and resumes bit for bit. */
class OrganismTest {
    /** Tiny recipe: warm-up 5, checkpoints every 4 steps. */
    static OrganismConfig tiny(int steps) {
        return new OrganismConfig(32, 2, 2, 2, 96, 128, 96, 16, steps, 3e-3, 5, 0.1, 0.05, 1.0, 0.02, 1234, 7, 4, true, 2);
    }

    @Test
    void tinyOrganismLearnsAndSavesInHfLayout(@TempDir Path dir) {
        OrganismTrainer tr = new OrganismTrainer(tiny(40));
        OrganismTrainer.Result r = tr.train(dir, 0, -1);
        assertEquals(40, r.steps());
        List<Double> l = r.losses();
        double first = l.subList(0, 5).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = l.subList(35, 40).stream().mapToDouble(d -> d).average().orElseThrow();
        assertTrue(last < first - 0.5, "loss " + first + " -> " + last);
        assertTrue(Files.isRegularFile(dir.resolve("config.json")));
        assertTrue(Files.isRegularFile(dir.resolve(HfCheckpoint.WEIGHTS)));
        assertTrue(Files.isRegularFile(dir.resolve(CharTokenizer.FILE_NAME)));
        assertFalse(Files.exists(dir.resolve(OrganismTrainer.STATE_DIR)), "training state removed after the final write");
        assertTrue(Tokenizer.load(dir) instanceof CharTokenizer);
        try (LlamaModel m = ModelLoader.load(dir, null)) {
            assertEquals(tr.modelConfig().dModel(), m.config().dModel());
            assertEquals(tr.tokenizer().vocabSize(), m.config().vocabSize());
            // the evaluation runs on it (accuracy of a 40-step model is not asserted)
            List<Organism.TaskScores> s = Organism.evaluate(m, tr.tokenizer(), tr.tasks(), 2, 1);
            assertEquals(tr.tasks().tasks().size(), s.size());
        }
    }

    @Test
    void savedModelLoadsThroughModelLoaderWithIdenticalLogits(@TempDir Path dir) {
        OrganismTrainer tr = new OrganismTrainer(tiny(1));
        tr.writeModel(dir, tr.initialWeights());
        try (PointerScope s = new PointerScope();
                LlamaModel mem = new LlamaModel(tr.modelConfig(), tr.initialWeights(), torch.ScalarType.Float);
                LlamaModel disk = ModelLoader.load(dir, null)) {
            Tensor ids = torch.tensor(tr.batch(0).ids()).reshape(16, -1);
            Tensor a = mem.forward(ids, HookPlan.empty()).logits(), b = disk.forward(ids, HookPlan.empty()).logits();
            assertTrue(torch.equal(a, b), "logits differ after the HF round trip");
        }
    }

    @Test
    void resumeAfterInterruptionGivesBitIdenticalWeights(@TempDir Path tmp) {
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        new OrganismTrainer(tiny(12)).train(straight, 0, -1);
        OrganismTrainer.Result part = new OrganismTrainer(tiny(12)).train(resumed, 0, 6);
        assertEquals(6, part.steps());
        assertFalse(Files.exists(resumed.resolve(HfCheckpoint.WEIGHTS)));
        OrganismTrainer.Result rest = new OrganismTrainer(tiny(12)).train(resumed, 0, -1);
        assertEquals(6, rest.resumedFrom());
        assertTrue(rest.seconds() > part.seconds(), "the resumed run's time includes the interrupted part's");
        // a state saved after the last step: the rerun trains nothing, yet reports the run's time and last loss
        Path late = tmp.resolve("late");
        OrganismTrainer.Result all = new OrganismTrainer(tiny(12)).train(late, 0, 12);
        OrganismTrainer.Result none = new OrganismTrainer(tiny(12)).train(late, 0, -1);
        assertEquals(12, none.resumedFrom());
        assertEquals(all.finalLoss(), none.finalLoss());
        assertTrue(none.seconds() >= all.seconds(), none.seconds() + " < " + all.seconds());
        try (PointerScope s = new PointerScope()) {
            Map<String, Tensor> a = Safetensors.readAll(straight.resolve(HfCheckpoint.WEIGHTS));
            Map<String, Tensor> b = Safetensors.readAll(resumed.resolve(HfCheckpoint.WEIGHTS));
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) {
                assertTrue(torch.equal(a.get(k), b.get(k)), k + " differs after resume");
            }
        }
    }

    @Test
    void infoCommandWorksWithoutAModel(@TempDir Path dir) {
        assertEquals(0, Main.run("organism", "info", "--out", dir.toString()));
    }
}
