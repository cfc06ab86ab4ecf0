package dev.ivkit.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** The recovery test's share: defined only from a loss of 0.5, then in [-1, 2]; anything outside is refused. */
class RecoveryScoreTest {
    @Test
    void theBoundsAreReachedAtTheEdgesAndNeverPassed() {
        // the extremes by hand: learned 1, now 0.5, the IV takes it to 0 -> -0.5 / 0.5 = -1
        assertEquals(-1.0, RecoveryScore.of(1, 0.5, 0).shareRegained());
        // learned 0.5, now 0, the IV lifts it to 1 -> 1 / 0.5 = 2
        assertEquals(2.0, RecoveryScore.of(0.5, 0, 1).shareRegained());
        // learned 1, now 0, back to 1 -> 1; the IV does nothing -> 0
        assertEquals(1.0, RecoveryScore.of(1, 0, 1).shareRegained());
        assertEquals(0.0, RecoveryScore.of(1, 0, 0).shareRegained());
        // exactly at the floor: defined; just below: null with the reason
        assertEquals(0.5, RecoveryScore.of(0.75, 0.25, 0.5).shareRegained());
        ResultsFile.Recovery below = RecoveryScore.of(0.75, 0.25 + 1.0 / 1024, 0.5);
        assertNull(below.shareRegained());
        assertEquals("lost 0.499 < 0.5", below.shareReason());
        // every accuracy on a 1/20 grid: where lost >= 0.5 the share lies in [-1, 2], else it is null with a reason
        int defined = 0;
        for (int a = 0; a <= 20; a++) {
            for (int b = 0; b <= 20; b++) {
                for (int c = 0; c <= 20; c++) {
                    ResultsFile.Recovery r = RecoveryScore.of(a / 20.0, b / 20.0, c / 20.0);
                    assertEquals(c / 20.0 - b / 20.0, r.regained(), 1e-15);
                    if (a - b >= 10) {
                        assertNotNull(r.shareRegained(), a + " " + b + " " + c);
                        assertTrue(r.shareRegained() >= -1 && r.shareRegained() <= 2, a + " " + b + " " + c + ": " + r.shareRegained());
                        assertNull(r.shareReason());
                        defined++;
                    } else {
                        assertNull(r.shareRegained());
                        assertTrue(r.shareReason().startsWith("lost "), r.shareReason());
                    }
                }
            }
        }
        assertEquals(66 * 21, defined);   // pairs (a, b) with a - b >= 10: 11 + 10 + ... + 1 = 66, times 21 values of c
    }

    @Test
    void aShareOutsideTheRangeIsRefusedNotReturned() {
        // only possible from numbers that are not accuracies in [0, 1]
        RecoveryRangeException low = assertThrows(RecoveryRangeException.class, () -> RecoveryScore.share(0.5, -0.75));
        assertEquals(-1.5, low.share());
        assertEquals("recovery.share_regained", low.field());
        assertThrows(RecoveryRangeException.class, () -> RecoveryScore.share(0.5, 1.25));
        assertEquals(2.0, RecoveryScore.share(0.5, 1.0));
        assertNull(RecoveryScore.share(0.03, -0.2), "below the floor: no share at all");
        assertNull(RecoveryScore.share(Double.NaN, 0.1));
        // accuracies outside [0, 1] are refused by name before any share is formed
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> RecoveryScore.of(1.5, 0, 0));
        assertEquals("recovery.learned", e.field());
        assertEquals("recovery.with_iv", assertThrows(InvalidArgumentException.class, () -> RecoveryScore.of(1, 0, Double.NaN)).field());
    }
}
