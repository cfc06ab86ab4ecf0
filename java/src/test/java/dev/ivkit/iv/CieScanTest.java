package dev.ivkit.iv;

import dev.ivkit.data.prompt.TokenizedPrompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The exact fast scan equals the naive one-forward-per-head scan (max |Δ| ≤ 1e-5 in fp32), in REPLACE and ADD mode,
 * on stories260K (5- and 10-shot prompts) and on a random grouped-query model, for prompts of different lengths from
 * three real function-vector task files.
 */
class CieScanTest {
    static final String[] TASKS = {"abstractive/antonym.json", "abstractive/country-capital.json", "extractive/choose_first_of_3.json"};

    static List<TokenizedPrompt> prompts(Tokenizer tok, int perTask, int shots, boolean shuffled) throws Exception {
        List<TokenizedPrompt> out = new ArrayList<>();
        long seed = 1;
        for (String t : TASKS) {
            out.addAll(ScanPrompts.build(tok, SharedData.require("function_vectors/" + t), shots, perTask, shuffled, seed++));
        }
        return out;
    }

    static void assertExactEqualsNaive(LlamaModel model, List<TokenizedPrompt> clean, List<TokenizedPrompt> corrupted) {
        assertExactEqualsNaive(model, clean, corrupted, 64L << 20);
    }

    static void assertExactEqualsNaive(LlamaModel model, List<TokenizedPrompt> clean, List<TokenizedPrompt> corrupted,
            long logitsBytes) {
        java.util.Set<Integer> lengths = new java.util.HashSet<>();
        boolean longAnswer = false;
        for (TokenizedPrompt p : corrupted) {
            lengths.add(p.promptIds().length);
            longAnswer |= p.targetIds().length > 1;
        }
        assertTrue(lengths.size() > 1 && longAnswer, "prompts of different lengths, some with answers of several tokens");
        try (PointerScope s = new PointerScope()) {
            Tensor meanZ = MeanActivations.compute(model, clean, 3);
            for (PatchMode mode : PatchMode.values()) {
                CieScan scan = new CieScan(model, meanZ, mode).withLogitsBytes(logitsBytes);
                double worst = 0;
                boolean anyEffect = false;
                for (TokenizedPrompt p : corrupted) {
                    double[][][] naive = scan.scorePrompt(p, ScanMethod.NAIVE);
                    double[][][] exact = scan.scorePrompt(p, ScanMethod.EXACT);
                    assertEquals(naive[2][0][0], exact[2][0][0], 1e-6, "clean probability");
                    assertEquals(naive[2][0][1], exact[2][0][1], 1e-5, "clean NLL");
                    for (int k = 0; k < 2; k++) {
                        for (int l = 0; l < naive[k].length; l++) {
                            for (int h = 0; h < naive[k][l].length; h++) {
                                worst = Math.max(worst, Math.abs(naive[k][l][h] - exact[k][l][h]));
                                anyEffect |= Math.abs(naive[k][l][h]) > 1e-4;
                            }
                        }
                    }
                }
                assertTrue(worst <= 1e-5, mode + ": max |naive - exact| = " + worst);
                assertTrue(anyEffect, mode + ": the patches must move the scores (else the test proves nothing)");
            }
        }
    }

    @Test
    void exactEqualsNaiveOnStories260K() throws Exception {
        Path dir = SharedData.stories260K();
        try (Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin")); LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            assertExactEqualsNaive(model, prompts(tok, 3, 5, false), prompts(tok, 2, 5, true));
        }
    }

    @Test
    void exactEqualsNaiveOnTenShotPromptsOfStories260K() throws Exception {
        Path dir = SharedData.stories260K();
        try (Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin")); LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            assertExactEqualsNaive(model, prompts(tok, 1, 10, false), prompts(tok, 1, 10, true));   // ~170 tokens, as ScanBench
        }
    }

    @Test
    void exactEqualsNaiveWhenTheLastLayerRunsInRowChunks() throws Exception {
        Path dir = SharedData.stories260K();
        try (Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin")); LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            List<TokenizedPrompt> clean = prompts(tok, 2, 4, false), corrupted = prompts(tok, 1, 4, true);
            assertExactEqualsNaive(model, clean, corrupted, 1);          // one row per chunk
            assertExactEqualsNaive(model, clean, corrupted, 20_000);     // 9, 4 or 3 rows (1-3 answer tokens): a ragged last chunk
        }
    }

    @Test
    void exactEqualsNaiveOnRandomGroupedQueryModel() throws Exception {
        Path dir = SharedData.stories260K();
        try (Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin")); LlamaModel model = TestModels.random(TestModels.gqaConfig(), 11)) {
            assertExactEqualsNaive(model, prompts(tok, 2, 3, false), prompts(tok, 2, 3, true));
        }
    }

    @Test
    void meanActivationsEqualPerPromptCaptures() throws Exception {
        Path dir = SharedData.stories260K();
        try (PointerScope s = new PointerScope(); Tokenizer tok = Tokenizer.load(dir.resolve("tok512.bin"));
             LlamaModel model = ModelLoader.load(dir.resolve("stories260K.bin"), null)) {
            List<TokenizedPrompt> ps = prompts(tok, 2, 4, false);             // 6 prompts of different lengths
            Tensor batched = MeanActivations.compute(model, ps, 4);        // left-padded batches of 4 and 2
            Tensor sum = torch.zeros(5, 8, 8);
            for (TokenizedPrompt p : ps) {
                long[] ids = new long[p.promptIds().length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = p.promptIds()[i];
                }
                HookPlan.Builder b = HookPlan.builder();
                for (int l = 0; l < 5; l++) {
                    b.capture(HookSite.attnZ(l), Positions.last());
                }
                var r = model.forward(torch.tensor(ids).reshape(1, ids.length), b.build());
                for (int l = 0; l < 5; l++) {
                    sum.select(0, l).add_(r.capture(HookSite.attnZ(l)).select(0, 0));
                }
            }
            Compare.assertClose(sum.div(new org.bytedeco.pytorch.Scalar(ps.size())), batched, 1e-5, 1e-6,
                    "mean over left-padded batches vs one prompt at a time");
            assertEquals(3, Torch.sizes(batched).length);
        }
    }
}
