package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.WeightNames;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstructionVectorTest {
    @Test
    void vectorIsTheOutputProjectionOfHeadSlots() {
        // The authors' construction: put each head's mean in its slot of a zero o_proj input and apply o_proj.
        try (PointerScope s = new PointerScope(); LlamaModel model = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null)) {
            torch.manual_seed(3);
            Tensor meanZ = torch.randn(5, 8, 8);
            List<HeadRanking.Head> heads = List.of(new HeadRanking.Head(1, 3, 0.5), new HeadRanking.Head(4, 0, 0.2), new HeadRanking.Head(1, 7, 0.1));
            try (InstructionVector iv = InstructionVector.build(model, meanZ, new double[5][8], heads, Map.of("task", "t"))) {
                Tensor expected = torch.zeros(64);
                for (HeadRanking.Head h : heads) {
                    Tensor slot = torch.zeros(64);                            // o_proj input [head*d_head]
                    slot.narrow(0, h.head() * 8L, 8).copy_(meanZ.select(0, h.layer()).select(0, h.head()));
                    expected = expected.add(model.weights().get(WeightNames.o(h.layer())).matmul(slot));
                }
                Compare.assertClose(expected, iv.vector(), 1e-6, 1e-6, "IV");
            }
        }
    }

    @Test
    void saveLoadRoundTripAndModelCheck(@TempDir Path tmp) throws Exception {
        try (PointerScope s = new PointerScope(); LlamaModel model = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null);
             LlamaModel other = TestModels.random(TestModels.gqaConfig(), 5)) {
            Tensor meanZ = torch.randn(5, 8, 8);
            double[][] scores = new double[5][8];
            scores[2][5] = 0.9;
            scores[0][1] = 0.4;
            List<HeadRanking.Head> top = HeadRanking.top(scores, 2);
            assertEquals(new HeadRanking.Head(2, 5, 0.9), top.get(0));
            assertEquals(new HeadRanking.Head(0, 1, 0.4), top.get(1));
            try (InstructionVector iv = InstructionVector.build(model, meanZ, scores, top, Map.of("task", "antonym", "shots", 10))) {
                iv.save(tmp);
                assertTrue(Files.exists(tmp.resolve("iv.safetensors")) && Files.exists(tmp.resolve("iv.json")));
                try (InstructionVector back = InstructionVector.load(tmp)) {
                    Compare.assertBitEqual(iv.vector(), back.vector(), "iv");
                    Compare.assertBitEqual(iv.meanZ(), back.meanZ(), "mean_z");
                    Compare.assertBitEqual(iv.cie(), back.cie(), "cie");
                    assertEquals(iv.heads(), back.heads());
                    assertEquals("antonym", back.metadata().get("task"));
                    assertEquals(iv.metadata().get("model_fingerprint"), back.metadata().get("model_fingerprint"));
                    assertTrue(!back.metadata().containsKey("format") && !back.metadata().containsKey("schema_version"),
                            "format and version are the file's, not metadata: " + back.metadata().keySet());
                    back.requireCompatible(model, tmp);
                    ModelFormatException e = assertThrows(ModelFormatException.class, () -> back.requireCompatible(other, tmp));
                    assertEquals("mean_z", e.field());                          // same d_model, other head grid
                    try (LlamaModel narrow = TestModels.random(new dev.ivkit.model.ModelConfig("llama", 32, 48, 5, 8, 4, 4, 512, 64,
                            1e-5, 10000.0, dev.ivkit.model.RopeStyle.HALF, null, true, false, 1, 2), 6)) {
                        e = assertThrows(ModelFormatException.class, () -> back.requireCompatible(narrow, tmp));
                        assertEquals("d_model", e.field());
                    }
                }
            }
            // the version: written; absent (files from before versions) reads as 1; newer or another format refused
            String json = Files.readString(tmp.resolve("iv.json"));
            assertTrue(json.startsWith("{\n  \"format\": \"ivkit-iv\",\n  \"schema_version\": 1,"), json);
            Files.writeString(tmp.resolve("iv.json"), json.replace("\"schema_version\": 1,", ""));
            try (InstructionVector old = InstructionVector.load(tmp)) {
                assertEquals("antonym", old.metadata().get("task"));
            }
            Files.writeString(tmp.resolve("iv.json"), json.replace("\"schema_version\": 1,", "\"schema_version\": 2,"));
            assertEquals("schema_version", assertThrows(ModelFormatException.class, () -> InstructionVector.load(tmp)).field());
            Files.writeString(tmp.resolve("iv.json"), json.replace("\"ivkit-iv\"", "\"ivkit-scan\""));
            assertEquals("format", assertThrows(ModelFormatException.class, () -> InstructionVector.load(tmp)).field());
            Files.delete(tmp.resolve("iv.safetensors"));
            assertThrows(ModelFormatException.class, () -> InstructionVector.load(tmp));
        }
    }

    @Test
    void rankingRules() {
        assertThrows(InvalidArgumentException.class, () -> HeadRanking.top(new double[2][2], 5));
        double[][] a = {{1, 0}, {0, 2}}, b = {{0, 3}, {0, 0}};
        double[][] sum = HeadRanking.sum(List.of(a, b));
        assertEquals(3.0, sum[0][1]);
        assertEquals(new HeadRanking.Head(0, 1, 3.0), HeadRanking.top(sum, 1).get(0));
        ScanScores s = new ScanScores(new double[][][] {{{0.1, 0.2}}}, new double[][][] {{{-0.5, 0.3}}}, new double[] {0.5}, new double[] {1.0});
        assertEquals(0.5, HeadRanking.scores(s, HeadRanking.By.NLL)[0][0], 1e-12);   // NLL ranking: -ΔNLL
        assertEquals(new HeadRanking.Head(0, 1, 0.2), HeadRanking.top(HeadRanking.scores(s, HeadRanking.By.PROB), 1).get(0));
    }
}
