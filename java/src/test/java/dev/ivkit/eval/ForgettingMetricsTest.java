package dev.ivkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import org.junit.jupiter.api.Test;

class ForgettingMetricsTest {
    @Test
    void threeTasksByHand() {
        double[][] r = {
            {0.9, 0.2, 0.1},
            {0.6, 0.8, 0.3},
            {0.5, 0.7, 0.95}};
        double[] b = {0.1, 0.15, 0.2};
        ForgettingMetrics.Summary s = ForgettingMetrics.of(r, b);
        assertEquals((0.5 + 0.7 + 0.95) / 3, s.ap(), 1e-12);
        assertEquals(((0.5 - 0.9) + (0.7 - 0.8)) / 2, s.bwt(), 1e-12);          // -0.25
        assertEquals(((0.2 - 0.15) + (0.3 - 0.2)) / 2, s.fwt(), 1e-12);         // 0.075
    }

    @Test
    void noForgettingAndPerfectTransfer() {
        double[][] r = {{1, 1}, {1, 1}};
        ForgettingMetrics.Summary s = ForgettingMetrics.of(r, new double[] {0, 0});
        assertEquals(1, s.ap());
        assertEquals(0, s.bwt());
        assertEquals(1, s.fwt());
    }

    @Test
    void oneTaskHasNoBwtOrFwtAndShapesAreChecked() {
        ForgettingMetrics.Summary s = ForgettingMetrics.of(new double[][] {{0.4}}, new double[] {0.1});
        assertEquals(0.4, s.ap());
        assertTrue(Double.isNaN(s.bwt()) && Double.isNaN(s.fwt()));
        assertThrows(InvalidArgumentException.class, () -> ForgettingMetrics.ap(new double[][] {{1, 2}}));
        assertThrows(InvalidArgumentException.class, () -> ForgettingMetrics.fwt(new double[][] {{1, 2}, {3, 4}}, new double[] {1}));
    }
}
