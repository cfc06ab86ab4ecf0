package dev.ivkit.testutil;

import static org.junit.jupiter.api.Assertions.fail;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;

/** NaN-aware closeness check that reports the first mismatches with their flat indices. */
public final class Compare {
    private Compare() {}

    public static void assertClose(Tensor expected, Tensor actual, double rtol, double atol, String what) {
        float[] e = Torch.toFloatArray(expected);
        float[] a = Torch.toFloatArray(actual);
        if (e.length != a.length) {
            fail(what + ": sizes differ, expected " + Torch.shape(expected) + " got " + Torch.shape(actual));
        }
        StringBuilder sb = new StringBuilder();
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            boolean ok;
            if (Float.isNaN(e[i]) || Float.isNaN(a[i])) {
                ok = Float.isNaN(e[i]) && Float.isNaN(a[i]);
            } else if (Float.isInfinite(e[i]) || Float.isInfinite(a[i])) {
                ok = e[i] == a[i];
            } else {
                double diff = Math.abs((double) e[i] - a[i]);
                worst = Math.max(worst, diff);
                ok = diff <= atol + rtol * Math.abs(e[i]);
            }
            if (!ok) {
                if (bad < 8) {
                    sb.append(String.format("%n  [%d] expected %s got %s", i, e[i], a[i]));
                }
                bad++;
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + e.length + " elements differ (rtol " + rtol + ", atol " + atol
                    + ", max abs diff " + worst + ")" + sb);
        }
    }

    /** Bit-exact equality (same dtype and values, NaNs at the same places). */
    public static void assertBitEqual(Tensor expected, Tensor actual, String what) {
        assertClose(expected, actual, 0, 0, what);
    }
}
