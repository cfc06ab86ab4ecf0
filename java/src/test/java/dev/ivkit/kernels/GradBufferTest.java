package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ivkit.KlDirection;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The KL kernels' reusable gradient buffer: a gradient a caller still holds is never overwritten by the next call
 * (that call gets a fresh tensor), and once released the buffer serves the next call again.
 */
class GradBufferTest {
    @Test
    void aHeldGradientIsNotOverwrittenAndAReleasedOneIsReused() {
        Torch.init();
        Tensor cur = torch.randn(64, 3000), ref1 = torch.randn(64, 3000), ref2 = torch.randn(64, 3000);
        long first;
        try (PointerScope s = new PointerScope()) {
            KlRowsResult a = Kernels.klRows(cur, ref1, null, 2.0, KlDirection.REVERSE, true);
            Tensor keep = a.grad().clone();
            first = a.grad().data_ptr().address();
            KlRowsResult b = Kernels.klRows(cur, ref2, null, 2.0, KlDirection.REVERSE, true);   // a's gradient still held
            assertNotEquals(first, b.grad().data_ptr().address(), "a held gradient's storage is not handed out again");
            Compare.assertBitEqual(keep, a.grad(), "the held gradient is unchanged by the second call");
        }
        try (PointerScope s = new PointerScope()) {   // both released with the scope above
            KlRowsResult c = Kernels.klRows(cur, ref1, null, 2.0, KlDirection.REVERSE, true);
            assertEquals(first, c.grad().data_ptr().address(), "the released buffer serves the next call");
            KlRowsResult fresh = Kernels.klRows(cur.clone(), ref1.clone(), null, 2.0, KlDirection.REVERSE, true);
            Compare.assertBitEqual(fresh.grad(), c.grad(), "the reused buffer holds this call's gradient");
        }
    }
}
