package dev.ivkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
    private static final double EPS = 1e-12;

    @Test
    void normalizeIsSquadStyle() {
        assertEquals("cats hat", Metrics.normalize("  The  cat's   hat. "));
        assertEquals("apple", Metrics.normalize("An APPLE!"));
        assertEquals("theory", Metrics.normalize("the theory")); // articles only as whole words
        assertEquals("", Metrics.normalize("a the an ..."));
    }

    @Test
    void exactMatchAfterNormalisation() {
        assertEquals(1.0, Metrics.exactMatch("The Cat!", "cat"));
        assertEquals(1.0, Metrics.exactMatch("an apple", "Apple."));
        assertEquals(0.0, Metrics.exactMatch("cats", "cat"));
        assertEquals(0.0, Metrics.exactMatch("cat dog", "dog cat"));
    }

    @Test
    void tokenF1() {
        // [quick, brown, fox] vs [quick, fox, jumps]: 2 common, P = R = 2/3
        assertEquals(2.0 / 3.0, Metrics.f1("The quick brown fox", "a quick fox jumps"), EPS);
        // multiset overlap: [cat, cat, cat] vs [cat, dog]: 1 common, P = 1/3, R = 1/2, F1 = 0.4
        assertEquals(0.4, Metrics.f1("cat cat cat", "cat dog"), EPS);
        assertEquals(1.0, Metrics.f1("Paris.", "paris"), EPS);
        assertEquals(0.0, Metrics.f1("London", "Paris"), EPS);
        assertEquals(0.0, Metrics.f1("", ""), EPS);
        assertEquals(0.0, Metrics.f1("the", "a"), EPS); // both normalise to nothing
    }

    @Test
    void rougeL() {
        // LCS "the cat on the mat" = 5 of 6 tokens on each side
        assertEquals(5.0 / 6.0, Metrics.rougeL("the cat sat on the mat", "the cat is on the mat"), EPS);
        // LCS 2, P = 2/4, R = 2/2, F = 2/3
        assertEquals(2.0 / 3.0, Metrics.rougeL("a b c d", "b d"), EPS);
        assertEquals(1.0, Metrics.rougeL("Hello, World!", "hello world"), EPS);
        assertEquals(0.0, Metrics.rougeL("", "hello"), EPS);
        assertEquals(0.0, Metrics.rougeL("!!!", "hello"), EPS);
        assertEquals(0.0, Metrics.rougeL("x", "y"), EPS);
        assertEquals(List.of("it", "s", "caf", "2024"), Metrics.rougeTokens("It's café-2024"));
        // order matters for the LCS: reversed tokens share only 1 in order
        assertEquals(0.5, Metrics.rougeL("b a", "a b"), EPS);
        // no stemming: "cats" vs "cat" do not match
        assertEquals(0.0, Metrics.rougeL("cats", "cat"), EPS);
    }

    @Test
    void maxOverGroundTruths() {
        assertEquals(1.0, Metrics.maxOverGroundTruths(Metrics::exactMatch, "Paris", List.of("London", "paris")));
        assertEquals(5.0 / 6.0, Metrics.maxOverGroundTruths(Metrics::rougeL, "the cat sat on the mat",
                List.of("dog", "the cat is on the mat")), EPS);
    }

    @Test
    void firstTokenRankCountsStrictlyGreater() {
        float[] logits = {1f, 3f, 2f, 3f};
        assertEquals(0, Metrics.firstTokenRank(logits, 1));
        assertEquals(0, Metrics.firstTokenRank(logits, 3)); // tie with id 1 does not count
        assertEquals(2, Metrics.firstTokenRank(logits, 2));
        assertEquals(3, Metrics.firstTokenRank(logits, 0));
        assertEquals("target", assertThrows(InvalidArgumentException.class,
                () -> Metrics.firstTokenRank(logits, 4)).field());
        assertEquals("logits", assertThrows(InvalidArgumentException.class,
                () -> Metrics.firstTokenRank(new float[] {Float.NaN, 1f}, 0)).field());
    }

    @Test
    void nllByHand() {
        float ln3 = (float) Math.log(3);
        float[][] logits = {
            {0f, 0f, 0f},   // p(target 1) = 1/3        → ln 3
            {0f, ln3, 0f},  // p(target 1) = 3/5        → ln(5/3)
            {2f, 0f},       // p(target 0) = e²/(e²+1)  → ln(1 + e^-2)
        };
        int[] targets = {1, 1, 0};
        double expected = (Math.log(3) + Math.log(5.0 / 3.0) + Math.log(1 + Math.exp(-2))) / 3; // ≈ 0.5787886
        assertEquals(0.5787886, expected, 1e-7);
        assertEquals(expected, Metrics.nll(logits, targets), 1e-7);
    }

    @Test
    void nllIsStable() {
        assertEquals(1000.0, Metrics.nll(new float[][] {{1000f, 0f}}, new int[] {1}), 1e-9);
        assertEquals(0.0, Metrics.nll(new float[][] {{1000f, 0f}}, new int[] {0}), 1e-9);
        assertEquals(Math.log(2), Metrics.nll(new float[][] {{-1000f, -1000f}}, new int[] {0}), 1e-12);
    }

    @Test
    void nllArgumentErrors() {
        assertThrows(InvalidArgumentException.class, () -> Metrics.nll(new float[][] {{0f}}, new int[] {0, 0}));
        assertThrows(InvalidArgumentException.class, () -> Metrics.nll(new float[0][], new int[0]));
        assertThrows(InvalidArgumentException.class, () -> Metrics.nll(new float[][] {{0f, 1f}}, new int[] {2}));
    }
}
