package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static dev.ivkit.testutil.Errors.assertField;

import dev.ivkit.hooks.HeadPatch;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.PatchMode;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link LlamaModel#forwardSuffix}: several rows, each with its own suffix tokens after one cached prefix (the shared
 * prefix attention), give the logits of full forwards of prefix + that row's suffix; running the layers one range at
 * a time (blocks.l.hook_resid_pre handed on) gives the same; ranges and hooks outside the rules are errors.
 */
class SuffixForwardTest {
    private static final int PREFIX = 23;
    private static final int SUFFIX = 5;
    private static final int ROWS = 4;

    @Test
    void rowsAfterSharedPrefixEqualFullForwardsOnStories260K() throws Exception {
        try (LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null)) {
            assertSuffixEqualsFull(m);
        }
    }

    @Test
    void rowsAfterSharedPrefixEqualFullForwardsOnGroupedQueryModel() {
        try (LlamaModel m = TestModels.random(TestModels.gqaConfig(), 5)) {
            assertSuffixEqualsFull(m);
        }
    }

    private static void assertSuffixEqualsFull(LlamaModel m) {
        int layers = m.config().nLayers(), vocab = m.config().vocabSize();
        Random rng = new Random(7);
        long[] full = new long[ROWS * (PREFIX + SUFFIX)];
        long[] suffix = new long[ROWS * SUFFIX];
        long[] prefixIds = new long[PREFIX];
        for (int i = 0; i < PREFIX; i++) {
            prefixIds[i] = rng.nextInt(vocab);
        }
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(prefixIds, 0, full, r * (PREFIX + SUFFIX), PREFIX);
            for (int i = 0; i < SUFFIX; i++) {
                suffix[r * SUFFIX + i] = rng.nextInt(vocab);
                full[r * (PREFIX + SUFFIX) + PREFIX + i] = suffix[r * SUFFIX + i];
            }
        }
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard();
             KvCache cache = m.newCache(1, PREFIX)) {
            Tensor expected = m.forward(torch.tensor(full).reshape(ROWS, PREFIX + SUFFIX), null).logits()
                    .narrow(1, PREFIX, SUFFIX);                                                  // [rows, suffix, vocab]
            m.forward(torch.tensor(prefixIds).reshape(1, PREFIX), null, HookPlan.empty(), cache, LogitsMode.NONE);
            Tensor embedded = m.embedTokens(torch.tensor(suffix).reshape(ROWS, SUFFIX));
            Tensor whole = m.forwardSuffix(0, embedded, cache, null, LogitsMode.ALL).logits();
            Compare.assertClose(expected, whole, 1e-4, 1e-5, "suffix rows after the cached prefix vs full forwards");
            Tensor x = embedded;
            for (int l = 0; l < layers - 1; l++) {
                HookPlan plan = HookPlan.builder().capture(HookSite.residPre(l + 1)).build();
                x = m.forwardSuffix(l, l + 1, x, cache, plan, LogitsMode.NONE, LogitsBuffer.FRESH).capture(HookSite.residPre(l + 1));
            }
            Tensor chained = m.forwardSuffix(layers - 1, layers, x, cache, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits();
            Compare.assertClose(whole, chained, 1e-5, 1e-6, "layer by layer vs all layers in one call");
            Tensor oneRow = m.forwardSuffix(0, embedded.narrow(0, 2, 1), cache, null, LogitsMode.ALL).logits();
            Compare.assertClose(expected.narrow(0, 2, 1), oneRow, 1e-4, 1e-5, "one row (fused attention)");
            assertEquals(PREFIX, cache.length(), "the suffix leaves the cache as it was");
        }
    }

    @Test
    void rangesAndHooksOutsideTheRulesAreErrors() {
        try (LlamaModel m = TestModels.random(TestModels.gqaConfig(), 5); PointerScope s = new PointerScope();
             NoGradGuard g = new NoGradGuard(); KvCache cache = m.newCache(1, 4)) {
            m.forward(torch.tensor(new long[] {1, 2, 3, 4}).reshape(1, 4), null, HookPlan.empty(), cache, LogitsMode.NONE);
            Tensor x = m.embedTokens(torch.tensor(new long[] {5, 6, 7, 8, 9, 10}).reshape(2, 3));
            assertField("endLayer", () -> m.forwardSuffix(1, 1, x, cache, null, LogitsMode.NONE, LogitsBuffer.FRESH));
            assertField("endLayer", () -> m.forwardSuffix(0, 4, x, cache, null, LogitsMode.ALL, LogitsBuffer.FRESH));
            assertField("logitsMode", () -> m.forwardSuffix(0, 1, x, cache, null, LogitsMode.ALL, LogitsBuffer.FRESH));
            assertField("layer", () -> m.forwardSuffix(0, 1, x, cache,
                    HookPlan.builder().capture(HookSite.attnZ(1)).build(), LogitsMode.NONE, LogitsBuffer.FRESH));
            assertField("layer", () -> m.forwardSuffix(0, 1, x, cache,
                    HookPlan.builder().capture(HookSite.residPre(2)).build(), LogitsMode.NONE, LogitsBuffer.FRESH));
            assertField("layer", () -> m.forwardSuffix(0, 1, x, cache,
                    HookPlan.builder().capture(HookSite.logits()).build(), LogitsMode.NONE, LogitsBuffer.FRESH));
            Tensor value = torch.zeros(m.config().headDim());
            assertField("layer", () -> m.forwardSuffix(0, 1, x, cache, HookPlan.builder()
                    .patch(new HeadPatch(1, 0, Positions.of(0), value, PatchMode.ADD, new int[] {0})).build(), LogitsMode.NONE, LogitsBuffer.FRESH));
            RunResult ok = m.forwardSuffix(0, 1, x, cache, HookPlan.builder().capture(HookSite.residPre(1)).build(), LogitsMode.NONE, LogitsBuffer.FRESH);
            assertEquals(null, ok.logits());
            assertEquals(3, ok.capture(HookSite.residPre(1)).dim());
        }
    }
}
