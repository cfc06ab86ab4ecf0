package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.PatchMode;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.testutil.PlantedHeadModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The scan-validity measures: first-token accuracy of a prompt set (against {@link PlantedHeadTest}'s unbatched,
 * unpadded reference on the planted-head model, where clean prompts score 1 and corrupted ones 0), and the bootstrap
 * interval of the mean CIE (hand-checked cases, the normal approximation, and the planted head standing out).
 */
class ScanValidityTest {
    @Test
    void accuracyMatchesTheReferenceAtEveryBatchSize() {
        try (PointerScope s = new PointerScope(); LlamaModel model = PlantedHeadModel.build(PlantedHeadTest.NOISE, true, 7)) {
            List<TokenizedPrompt> clean = PlantedHeadModel.prompts(12, true, 1), corrupted = PlantedHeadModel.prompts(12, false, 2);
            assertEquals(PlantedHeadTest.accuracy(model, clean), ScanValidity.accuracy(model, clean, 5));
            assertEquals(1.0, ScanValidity.accuracy(model, clean, 5));
            assertEquals(0.0, ScanValidity.accuracy(model, corrupted, 5));
            List<TokenizedPrompt> mixed = new ArrayList<>(clean.subList(0, 6));
            mixed.addAll(corrupted.subList(0, 6));
            for (int batch : new int[] {1, 4, 12, 100}) {
                assertEquals(0.5, ScanValidity.accuracy(model, mixed, batch), "batch " + batch);
            }
            assertThrows(InvalidArgumentException.class, () -> ScanValidity.accuracy(model, List.of(), 4));
            assertThrows(InvalidArgumentException.class, () -> ScanValidity.accuracy(model, clean, 0));
        }
    }

    @Test
    void bootstrapIntervalsByHand() {
        // every prompt the same map: every resample's mean is that map, so the interval is the point
        double[][] m = {{0.25, -1}, {0, 3}};
        ScanValidity.Interval same = ScanValidity.bootstrap(List.of(m, m, m), 200, 1);
        assertTrue(Arrays.deepEquals(m, same.low()) && Arrays.deepEquals(m, same.high()));
        assertEquals(List.of(new HeadRanking.Head(1, 1, 3.0), new HeadRanking.Head(0, 0, 0.25)), same.significant());
        // N(mu, 1) per prompt, n = 400: the percentile interval of the mean ~ mu ± 1.96 / 20 (normal approximation)
        Random rnd = new Random(3);
        List<double[][]> per = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            per.add(new double[][] {{rnd.nextGaussian(), 0.2 + rnd.nextGaussian()}});
        }
        ScanValidity.Interval ci = ScanValidity.bootstrap(per, ScanValidity.RESAMPLES, 11);
        double mean0 = per.stream().mapToDouble(p -> p[0][0]).average().orElseThrow();
        double mean1 = per.stream().mapToDouble(p -> p[0][1]).average().orElseThrow();
        for (double[] lh : new double[][] {{ci.low()[0][0], ci.high()[0][0], mean0}, {ci.low()[0][1], ci.high()[0][1], mean1}}) {
            assertTrue(lh[0] < lh[2] && lh[2] < lh[1], "the interval holds the mean: " + Arrays.toString(lh));
            assertEquals(2 * 1.96 / 20, lh[1] - lh[0], 0.025, "width ~ 2 x 1.96 sd / sqrt(n): " + Arrays.toString(lh));
        }
        assertTrue(ci.low()[0][0] < 0 && ci.high()[0][0] > 0, "mean 0: not significant");
        assertEquals(List.of(1), ci.significant().stream().map(HeadRanking.Head::head).toList(), "mean 0.2: significant");
        // reproducible for a seed
        assertTrue(Arrays.deepEquals(ci.low(), ScanValidity.bootstrap(per, ScanValidity.RESAMPLES, 11).low()));
        assertThrows(InvalidArgumentException.class, () -> ScanValidity.bootstrap(List.of(), 200, 1));
        assertThrows(InvalidArgumentException.class, () -> ScanValidity.bootstrap(per, 10, 1));
    }

    @Test
    void thePlantedHeadIsTheMostSignificant() {
        try (PointerScope s = new PointerScope(); LlamaModel model = PlantedHeadModel.build(PlantedHeadTest.NOISE, true, 7)) {
            List<TokenizedPrompt> clean = PlantedHeadModel.prompts(24, true, 1), corrupted = PlantedHeadModel.prompts(24, false, 2);
            Tensor meanZ = MeanActivations.compute(model, clean, 8);
            ScanScores scores = new CieScan(model, meanZ, PatchMode.REPLACE).scan(corrupted, ScanMethod.EXACT, null);
            ScanValidity.Interval ci = ScanValidity.bootstrap(Arrays.asList(scores.dProb()), ScanValidity.RESAMPLES, 42);
            HeadRanking.Head first = ci.significant().get(0);
            System.out.printf(Locale.ROOT, "planted head CIE 95%% CI [%.4f, %.4f]; %d head(s) significant%n",
                    ci.low()[PlantedHeadModel.LAYER][PlantedHeadModel.HEAD], ci.high()[PlantedHeadModel.LAYER][PlantedHeadModel.HEAD],
                    ci.significant().size());
            assertArrayEquals(new int[] {PlantedHeadModel.LAYER, PlantedHeadModel.HEAD}, new int[] {first.layer(), first.head()});
            assertTrue(first.score() > 0.9, "its lower bound " + first.score());
            for (HeadRanking.Head h : ci.significant().subList(1, ci.significant().size())) {
                assertTrue(h.score() < 0.01, "no other head comes near: " + h);
            }
        }
    }
}
