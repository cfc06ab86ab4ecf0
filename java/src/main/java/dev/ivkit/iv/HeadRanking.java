package dev.ivkit.iv;

import dev.ivkit.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Selecting heads from scan scores: top-k of one task, or "universal" heads from scores summed over tasks. */
public final class HeadRanking {
    private HeadRanking() {}

    /**
     * A head and its score.
     *
     * @param layer the head's layer
     * @param head  the head's index within the layer
     * @param score its ranking score, higher is better
     */
    public record Head(int layer, int head, double score) {}

    /** Which score ranks heads. */
    public enum By {
        /** largest mean increase of the first answer token's probability (Todd et al.) */
        PROB,
        /** largest mean decrease of the answer NLL (the IV authors' --gen ranking) */
        NLL
    }

    /**
     * Ranking scores of a scan, higher is better.
     *
     * @param s  the scan's per-prompt scores
     * @param by which score ranks heads
     * @return [layer][head] mean Δprob ({@link By#PROB}), or −mean ΔNLL ({@link By#NLL})
     */
    public static double[][] scores(ScanScores s, By by) {
        if (by == By.PROB) {
            return s.meanDProb();
        }
        double[][] m = s.meanDNll();
        for (double[] row : m) {
            for (int h = 0; h < row.length; h++) {
                row[h] = -row[h];
            }
        }
        return m;
    }

    /**
     * The k best heads, best first (ties by layer, then head).
     *
     * @param scores [layer][head] ranking scores, higher is better
     * @param k      how many heads, 1 to layers × heads
     * @return the k highest-scoring heads with their scores
     * @throws InvalidArgumentException when {@code k} is out of range
     */
    public static List<Head> top(double[][] scores, int k) {
        int L = scores.length, H = scores[0].length;
        if (k <= 0 || k > L * H) {
            throw new InvalidArgumentException("heads", "k=" + k + " is out of range [1, " + L * H + "]");
        }
        List<Head> all = new ArrayList<>();
        for (int l = 0; l < L; l++) {
            for (int h = 0; h < H; h++) {
                all.add(new Head(l, h, scores[l][h]));
            }
        }
        all.sort(Comparator.comparingDouble((Head x) -> -x.score()).thenComparingInt(Head::layer).thenComparingInt(Head::head));
        return new ArrayList<>(all.subList(0, k));
    }

    /**
     * Sums [layer][head] score maps of several tasks ("universal" heads, Todd et al. §3).
     *
     * @param perTask one [layer][head] score map per task, all of one shape
     * @return the element-wise sum, [layer][head]
     * @throws InvalidArgumentException when {@code perTask} is empty or the maps differ in shape
     */
    public static double[][] sum(List<double[][]> perTask) {
        if (perTask.isEmpty()) {
            throw new InvalidArgumentException("scores", "no tasks to sum");
        }
        int L = perTask.get(0).length, H = perTask.get(0)[0].length;
        double[][] out = new double[L][H];
        for (double[][] t : perTask) {
            if (t.length != L || t[0].length != H) {
                throw new InvalidArgumentException("scores", "score maps of different shapes");
            }
            for (int l = 0; l < L; l++) {
                for (int h = 0; h < H; h++) {
                    out[l][h] += t[l][h];
                }
            }
        }
        return out;
    }
}
