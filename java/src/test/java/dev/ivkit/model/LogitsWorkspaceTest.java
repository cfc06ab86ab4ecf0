package dev.ivkit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.testutil.Compare;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.testutil.TestModels;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link LogitsBuffer#WORKSPACE} gives the same bits as a fresh logits tensor (the older path, {@code torch.linear})
 * in every shape sequence that grows, shrinks and repeats the workspace, and keeps the contract of
 * {@link LogitsBuffer}: only the next WORKSPACE forward of the same instance overwrites a WORKSPACE result.
 */
class LogitsWorkspaceTest {
    /** batch × positions of successive calls: grow, shrink after a larger one, repeat, grow again. */
    static final int[][] SHAPES = {{2, 7}, {3, 11}, {1, 4}, {3, 11}, {1, 1}, {4, 16}, {2, 5}};

    static Tensor ids(ModelConfig c, int batch, int len, long seed) {
        torch.manual_seed(seed);
        return torch.randint(c.vocabSize(), new long[] {batch, len});
    }

    /** Runs every shape with FRESH and then WORKSPACE (ALL and LAST) and compares the bits. */
    static void assertSameAsFresh(LlamaModel m) {
        ModelConfig c = m.config();
        long most = 0;
        for (int i = 0; i < SHAPES.length; i++) {
            try (PointerScope s = new PointerScope()) {
                int b = SHAPES[i][0], t = SHAPES[i][1];
                Tensor tok = ids(c, b, t, 100 + i);
                for (LogitsMode mode : new LogitsMode[] {LogitsMode.ALL, LogitsMode.LAST}) {
                    Tensor fresh = m.forward(tok, null, null, null, mode, LogitsBuffer.FRESH).logits();
                    Tensor ws = m.forward(tok, null, null, null, mode, LogitsBuffer.WORKSPACE).logits();
                    Compare.assertBitEqual(fresh, ws, mode + " logits of call " + i + " (" + b + "x" + t + ")");
                    assertTrue(ws.is_contiguous());
                    most = Math.max(most, (long) b * (mode == LogitsMode.ALL ? t : 1) * c.vocabSize());
                }
            }
        }
        assertEquals(most * (m.dtype() == torch.ScalarType.Float ? 4 : 2), m.logitsWorkspaceBytes(), "the workspace holds the largest call's logits, never shrinks");
    }

    /** A padded batch, a KV-cache step and a suffix forward, FRESH vs WORKSPACE. */
    static void assertCachedAndSuffixSameAsFresh(LlamaModel m) {
        ModelConfig c = m.config();
        try (PointerScope s = new PointerScope()) {
            Tensor tok = ids(c, 2, 6, 7);
            Tensor mask = torch.tensor(new long[] {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}).reshape(2, 6);
            Compare.assertBitEqual(m.forward(tok, mask, null, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits(),
                    m.forward(tok, mask, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits(), "left-padded batch");
            Tensor[] step = new Tensor[2];
            for (LogitsBuffer buf : LogitsBuffer.values()) {
                try (KvCache cache = m.newCache(2, 8)) {
                    m.forward(tok, mask, null, cache, LogitsMode.LAST, buf);
                    step[buf.ordinal()] = m.forward(ids(c, 2, 1, 8), null, null, cache, LogitsMode.LAST, buf).logits().clone();
                }
            }
            Compare.assertBitEqual(step[0], step[1], "cached decoding step");
            try (KvCache prefix = m.newCache(1, 5)) {
                m.forward(ids(c, 1, 5, 9), null, null, prefix, LogitsMode.NONE);
                Tensor resid = m.embedTokens(ids(c, 4, 3, 10));
                Compare.assertBitEqual(m.forwardSuffix(0, m.config().nLayers(), resid, prefix, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits(),
                        m.forwardSuffix(0, m.config().nLayers(), resid, prefix, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits(), "suffix forward");
            }
        }
    }

    @Test
    void tinyRandomLlamaGivesTheSameBits() {
        try (LlamaModel m = TestModels.random(TestModels.gqaConfig(), 3)) {
            assertEquals(0, m.logitsWorkspaceBytes());
            assertSameAsFresh(m);
            assertCachedAndSuffixSameAsFresh(m);
        }
    }

    @Test
    void stories260KGivesTheSameBitsInFloat32AndBfloat16() {
        java.nio.file.Path bin = SharedData.stories260K().resolve("stories260K.bin");
        for (torch.ScalarType dtype : new torch.ScalarType[] {torch.ScalarType.Float, torch.ScalarType.BFloat16}) {
            try (LlamaModel m = ModelLoader.load(bin, dtype)) {
                assertSameAsFresh(m);
                assertCachedAndSuffixSameAsFresh(m);
            }
        }
    }

    /** The same on a CUDA device (cuBLAS's mm and mm_out): runs only where a GPU is present. */
    @Test
    void stories260KOnCudaGivesTheSameBits() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ivkit.kernels.Cuda.available(), "no usable CUDA: "
                + dev.ivkit.kernels.Cuda.reason());
        try (LlamaModel m = ModelLoader.load(SharedData.stories260K().resolve("stories260K.bin"), null, Device.cuda(0), null)) {
            assertSameAsFresh(m);
            assertCachedAndSuffixSameAsFresh(m);
        }
    }

    @Test
    void onlyTheNextWorkspaceForwardOverwritesAWorkspaceResult() {
        ModelConfig c = TestModels.gqaConfig();
        try (PointerScope s = new PointerScope(); LlamaModel m = TestModels.random(c, 5); LlamaModel r = m.replica()) {
            Tensor a = ids(c, 2, 9, 1), b = ids(c, 3, 12, 2);
            Tensor expectA = m.forward(a, null, null, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits();
            Tensor expectB = m.forward(b, null, null, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits();
            Tensor keptFresh = expectA.clone();

            Tensor first = m.forward(b, null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits();
            // a FRESH forward, a replica's WORKSPACE forward and a capture of the logits leave it alone
            m.forward(a, null, null, null, LogitsMode.ALL, LogitsBuffer.FRESH);
            r.forward(a, null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE);
            Tensor captured = m.forward(a, null, HookPlan.builder().capture(HookSite.logits()).build(), null, LogitsMode.ALL,
                    LogitsBuffer.WORKSPACE).capture(HookSite.logits());
            Compare.assertBitEqual(expectB, first, "WORKSPACE result after FRESH, replica and capturing forwards");
            Compare.assertBitEqual(expectA, captured, "captured logits");

            // a forward that needs a gradient allocates as always, so it leaves the workspace alone too
            try (AutoGradMode grad = new AutoGradMode(true)) {
                Tensor resid = m.embedTokens(b).detach().requires_grad_(true);
                Tensor g = m.forwardFrom(0, resid, null, null, null, LogitsMode.ALL).logits();
                assertTrue(g.requires_grad());
                try (KvCache prefix = m.newCache(1, 2)) {
                    m.forward(ids(c, 1, 2, 3), null, null, prefix, LogitsMode.NONE);
                    Tensor gs = m.forwardSuffix(0, m.config().nLayers(), resid, prefix, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits();
                    assertTrue(gs.requires_grad(), "a WORKSPACE call that needs a gradient gets autograd logits");
                    gs.sum().backward();
                    assertTrue(resid.grad().abs().sum().item_double() > 0);
                }
            }
            Compare.assertBitEqual(expectB, first, "WORKSPACE result after a forward that needed a gradient");

            // the next WORKSPACE forward of the same instance (smaller) reuses the memory: the contract's one overwrite
            Tensor second = m.forward(a, null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits();
            assertEquals(first.data_ptr_float().address(), second.data_ptr_float().address(), "same memory");
            Compare.assertBitEqual(expectA, second, "second WORKSPACE result");
            assertFalse(torch.equal(expectB, first), "the first result was overwritten, as documented");
            // FRESH results are never touched
            Compare.assertBitEqual(keptFresh, expectA, "a FRESH result after later forwards");
            assertNotEquals(second.data_ptr_float().address(), captured.data_ptr_float().address());
        }
    }

    /** Weights that require grad (pretraining) get autograd logits from a WORKSPACE call, as a FRESH one would. */
    @Test
    void trainableWeightsGetAutogradLogits() {
        ModelConfig c = TestModels.gqaConfig();
        try (PointerScope s = new PointerScope(); LlamaModel m = TestModels.random(c, 8);
             AutoGradMode grad = new AutoGradMode(true)) {
            Tensor head = m.weights().get(WeightNames.LM_HEAD).requires_grad_(true);
            Tensor tok = ids(c, 2, 6, 5);
            Tensor expect = m.forward(tok, null, null, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits();
            Tensor logits = m.forward(tok, null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits();
            assertTrue(logits.requires_grad());
            assertEquals(0, m.logitsWorkspaceBytes(), "no workspace was used");
            Compare.assertBitEqual(expect, logits, "autograd logits");
            logits.sum().backward();
            assertTrue(head.grad().abs().sum().item_double() > 0);
        }
    }

    @Test
    void garbageInTheWorkspaceNeverReachesTheResult() {
        ModelConfig c = TestModels.gqaConfig();
        try (PointerScope s = new PointerScope(); LlamaModel m = TestModels.random(c, 6)) {
            Tensor tok = ids(c, 3, 10, 4);
            Tensor expect = m.forward(tok, null, null, null, LogitsMode.ALL, LogitsBuffer.FRESH).logits();
            m.forward(tok, null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits().fill_(new Scalar(Double.NaN));
            Compare.assertBitEqual(expect, m.forward(tok, null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE).logits(),
                    "logits written over a NaN-filled workspace");
        }
    }

    @Test
    void workspaceIsBoundedSurvivesScopesAndIsFreedByClose() {
        try (PointerScope outer = new PointerScope()) {
            Tensor like = torch.zeros(1);
            LogitsWorkspace w = new LogitsWorkspace(400);
            try (PointerScope s = new PointerScope()) {
                Tensor v = w.view(4, 25, like);
                assertEquals(4, v.size(0));
                assertEquals(25, v.size(1));
            }
            assertEquals(400, w.bytes());
            try (PointerScope s = new PointerScope()) {
                // the buffer outlived the scope that created it: a smaller view of it is usable
                Tensor v = w.view(2, 10, like).fill_(new Scalar(1.5));
                assertEquals(30.0, v.sum().item_double());
            }
            assertNull(w.view(101, 1, like), "over the cap: the caller allocates a fresh tensor");
            assertEquals(400, w.bytes());
            w.close();
            assertEquals(0, w.bytes());
        }
        LlamaModel m = TestModels.random(TestModels.gqaConfig(), 2);
        try (PointerScope s = new PointerScope()) {
            m.forward(ids(m.config(), 2, 3, 1), null, null, null, LogitsMode.ALL, LogitsBuffer.WORKSPACE);
            assertEquals(2L * 3 * m.config().vocabSize() * 4, m.logitsWorkspaceBytes());
        } finally {
            m.close();
        }
        assertEquals(0, m.logitsWorkspaceBytes(), "close() frees the workspace");
    }
}
