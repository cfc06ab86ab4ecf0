package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.Generator;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.Sampler;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class IvEvaluatorTest {
    static List<Prompt> prompts(int n, int shots) {
        TaskDataset ds = TaskDataset.loadFunctionVector(SharedData.require("function_vectors/abstractive/antonym.json"));
        PromptBuilder b = new PromptBuilder(PromptStyle.QA, "", true);
        Random rng = new Random(5);
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TaskExample q = ds.get(100 + i);
            out.add(shots == 0 ? b.zeroShot(q) : b.fewShot(ds.examples().subList(0, 50), q, shots, rng, false));
        }
        return out;
    }

    @Test
    void zeroVectorIsTheBaselineAndARealVectorMovesScores() {
        Path dir = SharedData.stories260K();
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin"));
             LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            IvEvaluator ev = new IvEvaluator(model, tok);
            List<Prompt> ps = prompts(4, 2);
            IvEvaluator.Result base = ev.evaluate(ps, null, -1, 1f, 4, true);
            IvEvaluator.Result zero = ev.evaluate(ps, torch.zeros(64), 2, 1f, 4, true);
            assertEquals(base.nll(), zero.nll(), 0.0);
            assertEquals(base.top1(), zero.top1(), 0.0);
            assertEquals(base.rougeL(), zero.rougeL(), 0.0);
            assertEquals(-1, base.layer());
            IvEvaluator.Result moved = ev.evaluate(ps, torch.randn(64).mul(new Scalar(5)), 2, 1f, 0, true);
            assertNotEquals(base.nll(), moved.nll());
            assertTrue(Double.isNaN(moved.exactMatch()), "no generation requested: no string metrics");
            List<IvEvaluator.Result> sweep = ev.sweep(ps.subList(0, 1), torch.randn(64), 1f, 0, true);
            assertEquals(6, sweep.size());
            for (int l = 0; l < 5; l++) {
                assertEquals(l, sweep.get(l + 1).layer());
            }
        }
    }

    @Test
    void teacherForcedTopOneAgreesWithCachedGeneration() {
        // Two code paths: full forward + rank of the first answer token, and the KV-cached generator's first token,
        // both with the vector at the last prompt token.
        Path dir = SharedData.stories260K();
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin"));
             LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            IvEvaluator ev = new IvEvaluator(model, tok);
            Tensor iv = torch.randn(64).mul(new Scalar(2));
            for (Prompt p : prompts(6, 1)) {
                TokenizedPrompt tp = TokenizedPrompt.of(tok, p);
                var plan = dev.ivkit.hooks.HookPlan.builder().add(dev.ivkit.hooks.ResidualAdd.residPostAtLast(3, iv, 1f)).build();
                int first = new Generator(model).generate(tp.promptIds(), 1, new Sampler(0f, 1f, 0), t -> true, plan, null)[0];
                IvEvaluator.Result r = ev.evaluate(List.of(p), iv, 3, 1f, 0, true);
                assertEquals(first == tp.targetIds()[0] ? 1.0 : 0.0, r.top1(), p.text());
            }
        }
    }

    @Test
    void answerIsTheFirstLine() {
        assertEquals("hot", IvEvaluator.firstLine(" hot\n\nQ: cold"));
        assertEquals("a b", IvEvaluator.firstLine("a b "));
    }
}
