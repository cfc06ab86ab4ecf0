package dev.ivkit.organism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.ResidualAdd;
import dev.ivkit.model.Generator;
import dev.ivkit.model.GreedyDecoder;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.Sampler;
import dev.ivkit.model.tokenizer.CharTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batched, cache-free {@link GreedyDecoder} behind {@link Organism#greedy} (used by the organism's evaluation and
 * the demo) equals the library's KV-cache {@link Generator} row by row: without an IV, and with a residual IV at the last
 * prompt token (and, with every-token mode, at each generated token).
 */
class GreedyAnswersTest {
    @Test
    void batchedGreedyMatchesTheCachedGeneratorWithAndWithoutEveryTokenAddition(@TempDir Path dir) {
        // a briefly trained tiny organism: an untrained one has almost tied logits everywhere, and the padded batch and
        // the cached run differ in float rounding (~1e-6), so greedy choices would flip on those ties
        OrganismTrainer tr = new OrganismTrainer(new OrganismConfig(32, 2, 2, 2, 96, 128, 96, 16, 150, 3e-3, 5, 0.1, 0.05, 1.0,
                0.02, 1234, 7, 1000, true, 2));
        tr.train(dir, 0, -1);
        CharTokenizer tok = tr.tokenizer();
        SyntheticTasks tasks = tr.tasks();
        List<Prompt> prompts = new ArrayList<>();
        for (TaskExample e : tasks.dataset(tasks.task("reverse"), true, 6, 3).examples()) {   // different lengths: left padding
            prompts.add(SyntheticTasks.instruction(tasks.task("reverse"), e));   // multi-token answers
        }
        try (PointerScope s = new PointerScope(); LlamaModel m = ModelLoader.load(dir, null)) {
            // the IV pushes the residual away from the end-of-answer token's unembedding row, so that adding it at every
            // generated token (not only the last prompt token) lengthens answers: the two modes must differ
            int end = tok.id(SyntheticTasks.END);
            Tensor row = Safetensors.readAll(dir.resolve(HfCheckpoint.WEIGHTS)).get("lm_head.weight").get(end);
            Tensor iv = row.div(row.norm()).mul(new org.bytedeco.pytorch.Scalar(-4.0));
            List<String> plain = Organism.greedy(m, tok, prompts, SyntheticTasks.MAX_ANSWER + 1);
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(cached(m, tok, prompts.get(i), null, false), plain.get(i), "row " + i + ", no IV");
            }
            List<String> last = plain;
            for (boolean every : new boolean[] {false, true}) {
                List<String> batched = Organism.greedy(m, tok, prompts, SyntheticTasks.MAX_ANSWER + 1, new GreedyDecoder.ResidualIv(iv, 1, every));
                for (int i = 0; i < prompts.size(); i++) {
                    assertEquals(cached(m, tok, prompts.get(i), iv, every), batched.get(i), "row " + i + (every ? ", every token" : ", last token"));
                }
                assertNotEquals(last, batched, "the IV, and adding it at every generated token, must change some answer (else the test proves nothing)");
                last = batched;
            }
        }
    }

    /** The reference: the KV-cache generator's greedy answer up to the end token, with {@code iv} (null: none) after layer 1. */
    private static String cached(LlamaModel m, CharTokenizer tok, Prompt p, Tensor iv, boolean every) {
        int end = tok.id(SyntheticTasks.END);
        HookPlan plan = iv == null ? null : HookPlan.builder().add(ResidualAdd.residPostAtLast(1, iv, 1f)).build();
        StringBuilder want = new StringBuilder();
        new Generator(m).generate(tok.encode(p.text(), true), SyntheticTasks.MAX_ANSWER + 1, new Sampler(0f, 1f, 0), id -> {
            if (id == end) {
                return false;
            }
            want.append(tok.decode(new int[] {id}));
            return true;
        }, plan, every ? plan : null);
        return want.toString();
    }
}
