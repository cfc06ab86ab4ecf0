package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.ivkit.testutil.Errors.assertField;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.KlDirection;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Kernels#klTopkRows}' argument checks (each names the field; the native CPU path rejects ids out of range or
 * repeated, and writes nothing), its independence of the thread count, and masked rows whose ids are garbage.
 * Numerical agreement with the composite it replaces: dev.ivkit.train.KlTopkRowsTest.
 */
class KlTopkRowsArgsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    static Tensor ids(int rows, int k, int vocab, long seed) {
        torch.manual_seed(seed);
        return torch.rand(rows, vocab).topk(k, 1, true, true).get1().to(torch.ScalarType.Int);
    }

    @Test
    void invalidArgumentsNameTheField() {
        try (PointerScope scope = new PointerScope()) {
            Tensor s = torch.randn(4, 10), id = ids(4, 3, 10, 1), lq = torch.randn(4, 3).sub(new Scalar(3)), lr = torch.zeros(4);
            KlDirection f = KlDirection.FORWARD;
            torch.ScalarType fl = torch.ScalarType.Float;
            assertField("ids", () -> Kernels.klTopkRows(s, id.to(torch.ScalarType.Long), lq, lr, null, 1, f, true, fl));
            assertField("ids", () -> Kernels.klTopkRows(s, id.narrow(0, 0, 3).contiguous(), lq, lr, null, 1, f, true, fl));
            assertField("ids", () -> Kernels.klTopkRows(s, torch.zeros(4, 10).to(torch.ScalarType.Int), torch.zeros(4, 10), lr, null,
                    1, f, true, fl));
            assertField("ids", () -> Kernels.klTopkRows(s, null, lq, lr, null, 1, f, true, fl));
            assertField("logq", () -> Kernels.klTopkRows(s, id, lq.narrow(1, 0, 2).contiguous(), lr, null, 1, f, true, fl));
            assertField("logq", () -> Kernels.klTopkRows(s, id, lq.to(torch.ScalarType.Double), lr, null, 1, f, true, fl));
            assertField("logRest", () -> Kernels.klTopkRows(s, id, lq, torch.zeros(3), null, 1, f, true, fl));
            assertField("logRest", () -> Kernels.klTopkRows(s, id, lq, null, null, 1, f, true, fl));
            assertField("current", () -> Kernels.klTopkRows(torch.randn(10), id, lq, lr, null, 1, f, true, fl));
            assertField("current", () -> Kernels.klTopkRows(s.to(torch.ScalarType.Double), id, lq, lr, null, 1, f, true, fl));
            assertField("temperature", () -> Kernels.klTopkRows(s, id, lq, lr, null, 0, f, true, fl));
            assertField("temperature", () -> Kernels.klTopkRows(s, id, lq, lr, null, Double.NaN, f, true, fl));
            assertField("direction", () -> Kernels.klTopkRows(s, id, lq, lr, null, 1, null, true, fl));
            assertField("mask", () -> Kernels.klTopkRows(s, id, lq, lr, torch.ones(3), 1, f, true, fl));
            assertField("gradDtype", () -> Kernels.klTopkRows(s, id, lq, lr, null, 1, f, true, torch.ScalarType.Half));
            assertField("reduction", () -> FusedKl.lossTopK(s, id, lq, lr, null, 1, f, null));
            // id values: checked by the native CPU path; nothing is written
            Tensor out = id.clone();
            out.narrow(0, 2, 1).narrow(1, 1, 1).fill_(new Scalar(10));
            InvalidArgumentException e = assertField("ids", () -> Kernels.klTopkRows(s, out, lq, lr, null, 1, f, true, fl));
            assertTrue(e.getMessage().contains("ids[2, 1]=10"), e.getMessage());
            Tensor neg = id.clone();
            neg.narrow(0, 0, 1).narrow(1, 0, 1).fill_(new Scalar(-1));
            assertField("ids", () -> Kernels.klTopkRows(s, neg, lq, lr, null, 1, f, true, fl));
            Tensor dup = id.clone();
            dup.narrow(0, 3, 1).narrow(1, 2, 1).copy_(dup.narrow(0, 3, 1).narrow(1, 0, 1));
            e = assertField("ids", () -> Kernels.klTopkRows(s, dup, lq, lr, null, 1, f, true, fl));
            assertTrue(e.getMessage().contains("twice"), e.getMessage());
        }
    }

    @Test
    void maskedRowsAreNotRead() {
        try (PointerScope scope = new PointerScope()) {
            Tensor s = torch.randn(3, 50), id = ids(3, 4, 50, 2), lq = torch.randn(3, 4).sub(new Scalar(4)), lr = torch.full(
                    new long[] {3}, new Scalar(-0.1));
            Tensor keep = Torch.fromFloats(new float[] {1, 0, 1}, 3).to(torch.ScalarType.Bool);
            KlRowsResult clean = Kernels.klTopkRows(s, id, lq, lr, keep, 2.0, KlDirection.REVERSE, true, torch.ScalarType.Float);
            Tensor s2 = s.clone(), id2 = id.clone();
            s2.narrow(0, 1, 1).fill_(new Scalar(Double.NaN));
            id2.narrow(0, 1, 1).fill_(new Scalar(-7));   // out of range, but the row is masked: not read, not checked
            KlRowsResult dirty = Kernels.klTopkRows(s2, id2, lq, lr, keep, 2.0, KlDirection.REVERSE, true, torch.ScalarType.Float);
            Compare.assertBitEqual(clean.loss(), dirty.loss(), "loss with a garbage masked row");
            Compare.assertBitEqual(clean.grad(), dirty.grad(), "grad with a garbage masked row");
            assertEquals(0f, dirty.grad().narrow(0, 1, 1).abs().sum().item_float());
        }
    }

    @Test
    void threadsDoNotChangeTheResult() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor s = torch.randn(37, 5000), id = ids(37, 64, 5000, 4), lq = torch.randn(37, 64).sub(new Scalar(6));
            Tensor lr = torch.full(new long[] {37}, new Scalar(-0.5));
            Tensor l1 = torch.zeros(37), l4 = torch.zeros(37), g1 = torch.zeros(37, 5000), g4 = torch.zeros(37, 5000);
            for (Object[] run : new Object[][] {{l1, g1, 1}, {l4, g4, 4}}) {
                assertEquals(0, IvkitNative.ivkit_kl_topk_rows(s.data_ptr().address(), 37, 5000, 0, id.data_ptr().address(),
                        lq.data_ptr().address(), lr.data_ptr().address(), 64, 0, 0, 2f, 1, ((Tensor) run[0]).data_ptr().address(),
                        ((Tensor) run[1]).data_ptr().address(), 0, (int) run[2]));
            }
            Compare.assertBitEqual(l1, l4, "loss, 1 vs 4 threads");
            Compare.assertBitEqual(g1, g4, "grad, 1 vs 4 threads");
        }
    }
}
