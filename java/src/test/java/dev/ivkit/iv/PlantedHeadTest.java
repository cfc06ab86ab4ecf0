package dev.ivkit.iv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.PatchMode;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.testutil.PlantedHeadModel;
import dev.ivkit.util.Torch;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Positive and negative controls of the CIE head scan on a hand-built model ({@link PlantedHeadModel}) in which
 * exactly one head, layer 1 head 2, reads a task cue and switches the task on. The scan on corrupted prompts
 * (shuffled labels, no cue) with means from clean prompts must rank that head first by a wide margin, in both patch
 * modes and with the exact and naive methods agreeing. Negative controls: with that head's W_O slice zeroed, or with
 * the cue absent from the prompts the means come from, no head may show an effect (|mean CIE| below 0.01).
 */
class PlantedHeadTest {
    static final double NOISE = 0.05;          // std of the 11 other heads' weights
    static final int PROMPTS = 24;

    @Test
    void scanPutsThePlantedHeadFirst() {
        try (PointerScope s = new PointerScope(); LlamaModel model = PlantedHeadModel.build(NOISE, true, 7)) {
            List<TokenizedPrompt> clean = PlantedHeadModel.prompts(PROMPTS, true, 1);
            List<TokenizedPrompt> corrupted = PlantedHeadModel.prompts(PROMPTS, false, 2);
            double cleanAcc = accuracy(model, clean), corruptedAcc = accuracy(model, corrupted);
            System.out.printf(Locale.ROOT, "planted head: clean accuracy %.3f, corrupted accuracy %.3f%n", cleanAcc, corruptedAcc);
            assertEquals(1.0, cleanAcc, "clean prompts: the model does the task");
            assertEquals(0.0, corruptedAcc, "corrupted prompts: nothing switches the task on");
            Tensor meanZ = MeanActivations.compute(model, clean, 8);
            for (PatchMode mode : PatchMode.values()) {
                CieScan scan = new CieScan(model, meanZ, mode);
                ScanScores exact = scan.scan(corrupted, ScanMethod.EXACT, null);
                ScanScores naive = scan.scan(corrupted, ScanMethod.NAIVE, null);
                double diff = maxDiff(exact, naive);
                double[][] cie = HeadRanking.scores(exact, HeadRanking.By.PROB);
                List<HeadRanking.Head> top = HeadRanking.top(cie, 2);
                HeadRanking.Head first = top.get(0), second = top.get(1);
                System.out.printf(Locale.ROOT, "planted head %s: CIE of L%dH%d %.4f, runner-up L%dH%d %.4f, "
                        + "unpatched P(answer) on corrupted prompts %.4f, max |exact - naive| %.2e%n", mode,
                        first.layer(), first.head(), first.score(), second.layer(), second.head(), second.score(),
                        mean(exact.cleanProb()), diff);
                assertTrue(diff <= 1e-5, mode + ": max |exact - naive| = " + diff);
                assertTrue(mean(exact.cleanProb()) < 0.05, mode + ": unpatched P(answer) " + mean(exact.cleanProb()));
                assertEquals(PlantedHeadModel.LAYER, first.layer(), mode + ": layer of the top head");
                assertEquals(PlantedHeadModel.HEAD, first.head(), mode + ": the top head");
                assertTrue(first.score() > 0.9, mode + ": CIE of the planted head " + first.score());
                assertTrue(first.score() - second.score() > 0.9, mode + ": margin over the runner-up "
                        + (first.score() - second.score()));
                HeadRanking.Head byNll = HeadRanking.top(HeadRanking.scores(exact, HeadRanking.By.NLL), 1).get(0);
                assertEquals(List.of(PlantedHeadModel.LAYER, PlantedHeadModel.HEAD), List.of(byNll.layer(), byNll.head()),
                        mode + ": top head by NLL");
            }
        }
    }

    @Test
    void withoutThePlantedOutputNoHeadHasAnEffect() {
        try (PointerScope s = new PointerScope(); LlamaModel model = PlantedHeadModel.build(NOISE, false, 7)) {
            List<TokenizedPrompt> clean = PlantedHeadModel.prompts(PROMPTS, true, 1);
            double cleanAcc = accuracy(model, clean);
            System.out.printf(Locale.ROOT, "negative control, planted W_O zeroed: clean accuracy %.3f%n", cleanAcc);
            assertEquals(0.0, cleanAcc, "with the planted W_O zeroed the model cannot do the task even when cued");
            assertNoHeadMatters(model, clean, "planted W_O zeroed");
        }
    }

    @Test
    void withoutTheCueNoHeadHasAnEffect() {
        try (PointerScope s = new PointerScope(); LlamaModel model = PlantedHeadModel.build(NOISE, true, 7)) {
            // consistent demonstrations but no cue: what the mean activations carry is not the task any more
            List<TokenizedPrompt> uncued = PlantedHeadModel.prompts(PROMPTS, true, false, 1);
            double acc = accuracy(model, uncued);
            System.out.printf(Locale.ROOT, "negative control, no cue in the mean prompts: their accuracy %.3f%n", acc);
            assertEquals(0.0, acc, "consistent labels alone do not switch the task on in this model");
            assertNoHeadMatters(model, uncued, "no cue");
        }
    }

    /** Scans the corrupted prompts with means over {@code meanPrompts}: no head's |mean CIE| may reach 0.01. */
    static void assertNoHeadMatters(LlamaModel model, List<TokenizedPrompt> meanPrompts, String what) {
        List<TokenizedPrompt> corrupted = PlantedHeadModel.prompts(PROMPTS, false, 2);
        Tensor meanZ = MeanActivations.compute(model, meanPrompts, 8);
        for (PatchMode mode : PatchMode.values()) {
            ScanScores exact = new CieScan(model, meanZ, mode).scan(corrupted, ScanMethod.EXACT, null);
            double worst = 0;
            for (double[] row : exact.meanDProb()) {
                for (double x : row) {
                    worst = Math.max(worst, Math.abs(x));
                }
            }
            System.out.printf(Locale.ROOT, "negative control, %s, %s: max |CIE| %.2e%n", what, mode, worst);
            assertTrue(worst < 0.01, what + ", " + mode + ": max |CIE| = " + worst);
        }
    }

    /** Share of prompts whose argmax at the last prompt position is the first answer token (one batched forward). */
    static double accuracy(LlamaModel model, List<TokenizedPrompt> prompts) {
        try (PointerScope s = new PointerScope()) {
            int t = prompts.get(0).promptIds().length;
            long[] ids = new long[prompts.size() * t];
            for (int r = 0; r < prompts.size(); r++) {
                int[] p = prompts.get(r).promptIds();
                assertEquals(t, p.length, "prompts of one length");
                for (int i = 0; i < t; i++) {
                    ids[r * t + i] = p[i];
                }
            }
            Tensor logits = model.forward(torch.tensor(ids).reshape(prompts.size(), t), HookPlan.empty()).logits();
            long[] argmax = Torch.toLongArray(logits.select(1, t - 1).argmax(new org.bytedeco.pytorch.LongOptional(1), false));
            int hits = 0;
            for (int r = 0; r < prompts.size(); r++) {
                hits += argmax[r] == prompts.get(r).targetIds()[0] ? 1 : 0;
            }
            return hits / (double) prompts.size();
        }
    }

    static double maxDiff(ScanScores a, ScanScores b) {
        double worst = 0;
        for (int p = 0; p < a.prompts(); p++) {
            for (int l = 0; l < a.layers(); l++) {
                for (int h = 0; h < a.heads(); h++) {
                    worst = Math.max(worst, Math.abs(a.dProb()[p][l][h] - b.dProb()[p][l][h]));
                    worst = Math.max(worst, Math.abs(a.dNll()[p][l][h] - b.dNll()[p][l][h]));
                }
            }
        }
        return worst;
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }
}
