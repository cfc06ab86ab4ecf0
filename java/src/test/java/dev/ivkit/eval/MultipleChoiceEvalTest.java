package dev.ivkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class MultipleChoiceEvalTest {
    @Test
    void pickUsesSumsOrPerTokenMeans() {
        double[][] s = {{-4.0, 4}, {-3.0, 1}, {-3.5, 7}};   // sums -4, -3, -3.5; means -1, -3, -0.5
        assertEquals(1, MultipleChoiceEval.pick(s, false));
        assertEquals(2, MultipleChoiceEval.pick(s, true));
    }

    @Test
    void scoresAreSummedLogProbabilitiesAndTheObviousContinuationWins() {
        try (PointerScope s = new PointerScope();
             Tokenizer tok = Tokenizer.load(SharedData.stories260K().resolve("tok512.bin"));
             LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null)) {
            MultipleChoiceEval ev = new MultipleChoiceEval(m, tok);
            // by hand: log_softmax of the full-sequence logits at the positions predicting each choice token
            TokenizedPrompt tp = TokenizedPrompt.of(tok, "Once upon a", " time");
            long[] ids = tp.teacherForcedIds();
            Tensor lp = m.forward(torch.tensor(ids).reshape(1, ids.length), HookPlan.empty()).logits().select(0, 0).log_softmax(1);
            double want = 0;
            for (int i = 0; i < tp.targetIds().length; i++) {
                want += Torch.toFloatArray(lp.select(0, tp.predictPosition() + i))[tp.targetIds()[i]];
            }
            double[] got = ev.score("Once upon a", " time");
            assertEquals(want, got[0], 1e-4);
            assertEquals(tp.targetIds().length, (int) got[1]);
            MultipleChoiceEval.Result r = ev.run(List.of(
                    new MultipleChoiceEval.Item("Once upon a", List.of(" zebra quantum", " time"), 1),
                    new MultipleChoiceEval.Item("Once upon a time, there was a little", List.of(" girl", " xylophone"), 0)));
            assertEquals(2, r.items());
            assertEquals(1.0, r.accuracy());
            assertTrue(r.accuracyNorm() >= 0.5);
        }
    }

    @Test
    void loadersReadTheSharedSubsets() {
        List<MultipleChoiceEval.Item> h = MultipleChoiceEval.hellaSwag(SharedData.require("general_eval/hellaswag/hellaswag_val_first1000.jsonl"), 3, 200);
        assertEquals(3, h.size());
        assertEquals(4, h.get(0).choices().size());
        assertEquals(3, h.get(0).gold());
        List<MultipleChoiceEval.Item> c = MultipleChoiceEval.copa(SharedData.require("general_eval/superglue_from_sapt/copa/test.json"), 2);
        assertEquals("The man turned on the faucet so", c.get(0).context());
        assertEquals(List.of(" the toilet filled with water.", " water flowed from the spout."), c.get(0).choices());
        assertEquals(1, c.get(0).gold());
        List<MultipleChoiceEval.Item> b = MultipleChoiceEval.boolQ(SharedData.require("general_eval/superglue_from_sapt/boolq/test.json"), 2, 100);
        assertTrue(b.get(0).context().startsWith("question: does ethanol") && b.get(0).context().endsWith("\nAnswer:"));
        assertEquals(1, b.get(0).gold());
    }

    @Test
    void malformedRecordsAreTypedErrorsNamingFileAndRecord(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path h = tmp.resolve("hs.jsonl");
        java.nio.file.Files.writeString(h, "{\"ctx\": \"a\", \"label\": 1, \"endings\": [\"x\", \"y\"]}\n\n{\"ctx\": \"b\", \"label\": 2, \"endings\": [\"x\", \"y\"]}\n");
        assertRecord(() -> MultipleChoiceEval.hellaSwag(h, 10, 0), h, 2, "label 2");           // third line: label out of range
        java.nio.file.Files.writeString(h, "{\"ctx\": \"a\", \"label\": 0, \"endings\": [\"x\", \"y\"]}\nnot json\n");
        assertRecord(() -> MultipleChoiceEval.hellaSwag(h, 10, 0), h, 1, "line 2");
        java.nio.file.Path j = tmp.resolve("test.json");
        java.nio.file.Files.writeString(j, "{\"Instances\": [{\"input\": \"q\", \"output\": \"True\"}, {\"output\": \"False\"}]}");
        assertRecord(() -> MultipleChoiceEval.boolQ(j, 10, 0), j, 1, "BoolQ");                // no input
        java.nio.file.Files.writeString(j, "{\"Instances\": [{\"input\": \"q\", \"output\": \"maybe\"}]}");
        assertRecord(() -> MultipleChoiceEval.boolQ(j, 10, 0), j, 0, "'maybe'");
        java.nio.file.Files.writeString(j, "{\"Instances\": [{\"input\": \"q\", \"output\": \"C\"}]}");
        assertRecord(() -> MultipleChoiceEval.copa(j, 10), j, 0, "'C'");
        assertEquals(1, MultipleChoiceEval.boolQ(writeOk(j), 10, 0).get(0).gold());
    }

    private static java.nio.file.Path writeOk(java.nio.file.Path j) throws Exception {
        java.nio.file.Files.writeString(j, "{\"Instances\": [{\"input\": \"q\", \"output\": \" false \"}]}");
        return j;
    }

    private static void assertRecord(org.junit.jupiter.api.function.Executable load, java.nio.file.Path file, int record, String says) {
        dev.ivkit.data.DataFormatException e = org.junit.jupiter.api.Assertions.assertThrows(dev.ivkit.data.DataFormatException.class, load);
        assertEquals(record, e.record(), e.getMessage());
        assertTrue(e.getMessage().contains(file.getFileName().toString()) && e.getMessage().contains(says), e.getMessage());
    }
}
