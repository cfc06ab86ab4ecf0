package dev.ivkit.hooks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.RunResult;
import dev.ivkit.model.WeightNames;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Captures of hook_z and hook_resid_post on stories260K, checked against independent recomputations with libtorch
 * ops from the captured values and the model's weights.
 */
class CaptureTest {
    static LlamaModel model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static Tensor tokens() {
        return torch.tensor(new long[] {1, 403, 407, 261, 378, 432, 1, 317, 381, 261, 352, 266}).reshape(2, 6);
    }

    @Test
    void zThroughOutputProjectionIsAttnOut() {
        try (PointerScope s = new PointerScope()) {
            int d = model.config().dModel();
            HookPlan plan = HookPlan.builder().capture(HookSite.attnZ(2)).capture(HookSite.attnOut(2))
                    .capture(HookSite.residPre(2)).capture(HookSite.residMid(2)).build();
            RunResult r = model.forward(tokens(), plan);
            Tensor z = r.capture(HookSite.attnZ(2));                      // [batch, pos, head, d_head]
            assertArrayEquals(new long[] {2, 6, 8, 8}, Torch.sizes(z));
            Tensor wo = model.weights().get(WeightNames.o(2));            // [d_model, head*d_head]
            Tensor viaWo = z.reshape(2, 6, 64).matmul(wo.t());
            Compare.assertClose(r.capture(HookSite.attnOut(2)), viaWo, 1e-5, 1e-6, "z @ W_O^T vs hook_attn_out");
            // per-head decomposition: sum over heads of z_h @ W_O[:, h-slice]^T is the same output
            Tensor sum = torch.zeros(2, 6, d);
            for (int h = 0; h < 8; h++) {
                sum = sum.add(z.select(2, h).matmul(wo.narrow(1, h * 8, 8).t()));
            }
            Compare.assertClose(viaWo, sum, 1e-5, 1e-6, "sum of per-head outputs");
            Compare.assertClose(r.capture(HookSite.residMid(2)), r.capture(HookSite.residPre(2)).add(viaWo), 1e-5, 1e-6,
                    "resid_mid = resid_pre + attn_out");
        }
    }

    @Test
    void lastResidPostGivesTheLogits() {
        try (PointerScope s = new PointerScope()) {
            int last = model.config().nLayers() - 1;
            HookPlan plan = HookPlan.builder().capture(HookSite.residPost(last)).build();
            RunResult r = model.forward(tokens(), plan);
            Tensor x = r.capture(HookSite.residPost(last));               // [batch, pos, d_model]
            Tensor ms = x.mul(x).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor normed = x.mul(ms.add(new Scalar(1e-5)).rsqrt()).mul(model.weights().get(WeightNames.FINAL_NORM));
            Tensor logits = normed.matmul(model.weights().get(WeightNames.EMBED).t());  // tied
            Compare.assertClose(r.logits(), logits, 1e-4, 1e-5, "final norm + tied head from captured resid_post");
        }
    }

    @Test
    void positionSelectionPicksRows() {
        try (PointerScope s = new PointerScope()) {
            HookPlan all = HookPlan.builder().capture(HookSite.attnZ(1)).capture(HookSite.residPost(3)).build();
            HookPlan some = HookPlan.builder().capture(HookSite.attnZ(1), Positions.of(4, 2))
                    .capture(HookSite.residPost(3), Positions.last()).build();
            RunResult a = model.forward(tokens(), all);
            RunResult b = model.forward(tokens(), null, some, null, LogitsMode.NONE);
            assertEquals(null, b.logits());
            Tensor zAll = a.capture(HookSite.attnZ(1));
            Tensor zSome = b.capture(HookSite.attnZ(1));                   // [batch, head, d_head]
            assertArrayEquals(new long[] {2, 8, 8}, Torch.sizes(zSome));
            Compare.assertBitEqual(zAll.select(0, 0).select(0, 4), zSome.select(0, 0), "row 0 pos 4");
            Compare.assertBitEqual(zAll.select(0, 1).select(0, 2), zSome.select(0, 1), "row 1 pos 2");
            Compare.assertBitEqual(a.capture(HookSite.residPost(3)).select(1, 5), b.capture(HookSite.residPost(3)), "last");
        }
    }

    @Test
    void invalidPlansNameTheField() {
        try (PointerScope s = new PointerScope()) {
            HookPlan badLayer = HookPlan.builder().capture(HookSite.attnZ(5)).build();
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> model.forward(tokens(), badLayer));
            assertEquals("layer", e.field());
            HookPlan badPos = HookPlan.builder().capture(HookSite.residPost(0), Positions.of(1, 6)).build();
            e = assertThrows(InvalidArgumentException.class, () -> model.forward(tokens(), badPos));
            assertEquals("positions of capture blocks.0.hook_resid_post", e.field());
            HookPlan badRows = HookPlan.builder().capture(HookSite.residPost(0), Positions.of(1, 2, 3)).build();
            assertThrows(InvalidArgumentException.class, () -> model.forward(tokens(), badRows));
            assertThrows(InvalidArgumentException.class, () -> HookPlan.builder().capture(HookSite.attnZ(0)).capture(HookSite.attnZ(0)));
            assertThrows(InvalidArgumentException.class, () -> model.forward(torch.tensor(new long[] {1, 999}).reshape(1, 2), HookPlan.empty()));
        }
    }

    @Test
    void siteNamesAreTransformerLens() {
        assertEquals("blocks.12.attn.hook_z", HookSite.attnZ(12).canonicalName());
        assertEquals("blocks.0.hook_resid_post", HookSite.residPost(0).canonicalName());
        assertEquals(HookSite.residMid(3), HookSite.parse("blocks.3.hook_resid_mid"));
        assertEquals(HookSite.lnFinal(), HookSite.parse("ln_final.hook_normalized"));
        for (String bad : new String[] {"resid_post", "blocks.x.hook_z", "blocks.1.hook_z", "", "logits.1"}) {
            assertThrows(InvalidArgumentException.class, () -> HookSite.parse(bad), bad);
        }
    }
}
