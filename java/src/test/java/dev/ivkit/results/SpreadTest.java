package dev.ivkit.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The NaN policy of {@link Spread}: non-finite values are left out and counted, no mean without values, no std without two. */
class SpreadTest {
    @Test
    void meanAndSampleStdOfTheFiniteValues() {
        Spread s = Spread.of(1, 2, 3, Double.NaN, Double.POSITIVE_INFINITY);
        assertEquals(2.0, s.mean());
        assertEquals(1.0, s.std(), 1e-12);
        assertEquals(3, s.n());
        assertEquals(2, s.nan());
        assertEquals(new Spread(2.0, Math.sqrt(0.5), 2, 0), Spread.of(1.5, 2.5));
    }

    @Test
    void oneValueHasNoStdAndNoneHasNoMean() {
        assertEquals(new Spread(0.25, null, 1, 1), Spread.of(0.25, Double.NaN));
        assertEquals(new Spread(null, null, 0, 2), Spread.of(Double.NaN, Double.NaN));
        assertEquals(new Spread(null, null, 0, 0), Spread.of());
    }

    @Test
    void formatsAndNumbers() {
        assertEquals("n/a", Spread.of(Double.NaN).format("%.3f", "±"));
        assertEquals("0.250", Spread.of(0.25).format("%.3f", "±"));
        assertEquals("2.0000 ± 1.0000", Spread.of(1, 2, 3).format("%.4f", " ± "));
        assertNull(Spread.num(Double.NaN));
        assertEquals(0.5, Spread.num(0.5));
        assertEquals(Double.NaN, Spread.of().meanOrNaN());
    }
}
