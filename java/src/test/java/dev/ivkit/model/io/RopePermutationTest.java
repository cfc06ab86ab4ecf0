package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.util.Torch;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RopePermutationTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    private static float[] range(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    @Test
    void handComputedOneHeadOfWidth4() {
        try (PointerScope s = new PointerScope()) {
            // rows r0..r3 of a [4, 2] weight: r_i = (2i, 2i+1)
            Tensor w = Torch.fromFloats(range(8), 4, 2);
            // pairs (0,1),(2,3) -> halves: new row j*2+i = old row 2i+j, so rows [r0, r2, r1, r3]
            assertArrayEquals(new float[] {0, 1, 4, 5, 2, 3, 6, 7}, Torch.toFloatArray(RopePermutation.interleavedToHalf(w, 1, 4)));
            assertArrayEquals(new float[] {0, 1, 4, 5, 2, 3, 6, 7}, Torch.toFloatArray(RopePermutation.halfToInterleaved(w, 1, 4)));
        }
    }

    @Test
    void handComputedWidth8AndTwoHeadsOnBiases() {
        try (PointerScope s = new PointerScope()) {
            Tensor b = Torch.fromFloats(range(8), 8);
            // width 8 is not its own inverse: both directions are distinguishable
            assertArrayEquals(new float[] {0, 2, 4, 6, 1, 3, 5, 7}, Torch.toFloatArray(RopePermutation.interleavedToHalf(b, 1, 8)));
            assertArrayEquals(new float[] {0, 4, 1, 5, 2, 6, 3, 7}, Torch.toFloatArray(RopePermutation.halfToInterleaved(b, 1, 8)));
            // two heads of width 4: each head permuted on its own
            assertArrayEquals(new float[] {0, 2, 1, 3, 4, 6, 5, 7}, Torch.toFloatArray(RopePermutation.interleavedToHalf(b, 2, 4)));
        }
    }

    @Test
    void inverseIsIdentity() {
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(3);
            Tensor w = torch.randn(3 * 6, 5);
            assertTrue(torch.equal(w, RopePermutation.halfToInterleaved(RopePermutation.interleavedToHalf(w, 3, 6), 3, 6)));
            assertTrue(torch.equal(w, RopePermutation.interleavedToHalf(RopePermutation.halfToInterleaved(w, 3, 6), 3, 6)));
            assertTrue(!torch.equal(w, RopePermutation.interleavedToHalf(w, 3, 6)));
            assertThrows(InvalidArgumentException.class, () -> RopePermutation.interleavedToHalf(w, 4, 6));
        }
    }

    /**
     * The reason for the permutation: interleaved RoPE on W x and rotate-half RoPE on P(W) x give the same attention
     * scores. RoPE written out here in plain Java as the reference.
     */
    @Test
    void permutedWeightsGiveTheSameScoresUnderRotateHalf() {
        int heads = 2, d = 8, dm = 5;
        Random rnd = new Random(11);
        float[] wq = new float[heads * d * dm];
        float[] wk = new float[heads * d * dm];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = (float) rnd.nextGaussian();
            wk[i] = (float) rnd.nextGaussian();
        }
        float[] x1 = new float[dm];
        float[] x2 = new float[dm];
        for (int i = 0; i < dm; i++) {
            x1[i] = (float) rnd.nextGaussian();
            x2[i] = (float) rnd.nextGaussian();
        }
        float[] wqH;
        float[] wkH;
        try (PointerScope s = new PointerScope()) {
            wqH = Torch.toFloatArray(RopePermutation.interleavedToHalf(Torch.fromFloats(wq, heads * d, dm), heads, d));
            wkH = Torch.toFloatArray(RopePermutation.interleavedToHalf(Torch.fromFloats(wk, heads * d, dm), heads, d));
        }
        int p1 = 3, p2 = 7;
        for (int h = 0; h < heads; h++) {
            double[] qi = rope(matvec(wq, x1, h, d, dm), p1, false);
            double[] ki = rope(matvec(wk, x2, h, d, dm), p2, false);
            double[] qh = rope(matvec(wqH, x1, h, d, dm), p1, true);
            double[] kh = rope(matvec(wkH, x2, h, d, dm), p2, true);
            assertEquals(dot(qi, ki), dot(qh, kh), 1e-9);
        }
    }

    private static double[] matvec(float[] w, float[] x, int head, int d, int dm) {
        double[] out = new double[d];
        for (int r = 0; r < d; r++) {
            for (int c = 0; c < dm; c++) {
                out[r] += (double) w[(head * d + r) * dm + c] * x[c];
            }
        }
        return out;
    }

    private static double[] rope(double[] v, int pos, boolean half) {
        int d = v.length;
        double[] out = new double[d];
        for (int i = 0; i < d / 2; i++) {
            double ang = pos * Math.pow(10000.0, -2.0 * i / d);
            int a = half ? i : 2 * i;
            int b = half ? i + d / 2 : 2 * i + 1;
            out[a] = v[a] * Math.cos(ang) - v[b] * Math.sin(ang);
            out[b] = v[a] * Math.sin(ang) + v[b] * Math.cos(ang);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
