package dev.ivkit.eval;

import dev.ivkit.InvalidArgumentException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleBiFunction;
import java.util.regex.Pattern;

/**
 * Scores used by Todd et al. and the IV/FV papers: SQuAD-style exact match and token F1 (Todd's
 * {@code f1_score}), ROUGE-L F-measure, the rank of the target's first token and the mean negative log-likelihood of a
 * teacher-forced target. Stateless and thread-safe.
 */
public final class Metrics {
    private Metrics() {}

    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");
    private static final Pattern NON_ALNUM = Pattern.compile("[^a-z0-9]+");

    // ------------------------------------------------------------------------------------------- string metrics

    /**
     * SQuAD's {@code normalize_answer}: lowercase, remove ASCII punctuation (Python's {@code string.punctuation}),
     * remove the words a / an / the, collapse whitespace to single spaces (trimmed).
     *
     * @param s the text
     * @return the normalized text
     * @throws InvalidArgumentException when {@code s} is null
     */
    public static String normalize(String s) {
        if (s == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        String lower = s.toLowerCase(Locale.ROOT);
        StringBuilder sb = new StringBuilder(lower.length());
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            if (PUNCTUATION.indexOf(c) < 0) {
                sb.append(c);
            }
        }
        String noArticles = ARTICLES.matcher(sb).replaceAll(" ");
        return String.join(" ", whitespaceTokens(noArticles));
    }

    /**
     * Exact match after {@link #normalize}.
     *
     * @param pred the predicted answer
     * @param gold the gold answer
     * @return 1.0 when the normalized texts are equal, else 0.0
     * @throws InvalidArgumentException when either text is null
     */
    public static double exactMatch(String pred, String gold) {
        return normalize(pred).equals(normalize(gold)) ? 1.0 : 0.0;
    }

    /**
     * SQuAD token F1 on {@link #normalize}d whitespace tokens: with {@code c} = size of the multiset intersection,
     * {@code P = c/|pred|}, {@code R = c/|gold|}, {@code F1 = 2PR/(P+R)}; 0 when {@code c = 0} (including when either
     * side has no tokens).
     *
     * @param pred the predicted answer
     * @param gold the gold answer
     * @return the F1 in [0, 1]
     * @throws InvalidArgumentException when either text is null
     */
    public static double f1(String pred, String gold) {
        List<String> p = whitespaceTokens(normalize(pred));
        List<String> g = whitespaceTokens(normalize(gold));
        Map<String, Integer> counts = new HashMap<>();
        for (String t : g) {
            counts.merge(t, 1, Integer::sum);
        }
        int common = 0;
        for (String t : p) {
            Integer n = counts.get(t);
            if (n != null && n > 0) {
                common++;
                counts.put(t, n - 1);
            }
        }
        if (common == 0) {
            return 0.0;
        }
        double precision = (double) common / p.size();
        double recall = (double) common / g.size();
        return 2 * precision * recall / (precision + recall);
    }

    /**
     * ROUGE-L F-measure as Google's {@code rouge_score} computes it with its default tokenizer and <b>without</b>
     * stemming: both texts are lowercased, every run of characters other than {@code a-z0-9} becomes a separator (so
     * punctuation and non-ASCII letters are dropped), and with {@code L} the longest-common-subsequence length,
     * {@code P = L/|pred|}, {@code R = L/|gold|}, {@code F = 2PR/(P+R)}; 0 when either side has no tokens or
     * {@code L = 0}. [FVF] scores with {@code use_stemmer=True} (Porter stemming of tokens longer than 3
     * characters), which is not applied here, so inflected forms can score lower than in [FVF].
     *
     * @param pred the predicted answer
     * @param gold the gold answer
     * @return the F-measure in [0, 1]
     * @throws InvalidArgumentException when either text is null
     */
    public static double rougeL(String pred, String gold) {
        List<String> p = rougeTokens(pred);
        List<String> g = rougeTokens(gold);
        if (p.isEmpty() || g.isEmpty()) {
            return 0.0;
        }
        int lcs = lcsLength(p, g);
        if (lcs == 0) {
            return 0.0;
        }
        double precision = (double) lcs / p.size();
        double recall = (double) lcs / g.size();
        return 2 * precision * recall / (precision + recall);
    }

    /**
     * rouge_score's default tokenization (lowercase, split on non-{@code [a-z0-9]}, no stemming).
     *
     * @param s the text
     * @return its tokens in order; empty when it has none
     * @throws InvalidArgumentException when {@code s} is null
     */
    public static List<String> rougeTokens(String s) {
        if (s == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        String t = NON_ALNUM.matcher(s.toLowerCase(Locale.ROOT)).replaceAll(" ");
        return whitespaceTokens(t);
    }

    /**
     * {@code metric_max_over_ground_truths}: the best score of {@code pred} against any of {@code golds}.
     *
     * @param metric the score of a prediction against one gold answer, such as {@link #f1}
     * @param pred   the predicted answer
     * @param golds  the acceptable answers; at least one
     * @return the highest score over {@code golds}
     * @throws InvalidArgumentException when {@code golds} is null or empty
     */
    public static double maxOverGroundTruths(ToDoubleBiFunction<String, String> metric, String pred,
            List<String> golds) {
        if (golds == null || golds.isEmpty()) {
            throw new InvalidArgumentException("golds", "needs at least one ground truth");
        }
        double best = Double.NEGATIVE_INFINITY;
        for (String g : golds) {
            best = Math.max(best, metric.applyAsDouble(pred, g));
        }
        return best;
    }

    // ------------------------------------------------------------------------------------------- logit metrics

    /**
     * Rank of {@code target} in {@code logits}: the number of logits strictly greater than {@code logits[target]}
     * (0 = top-1; ties do not push the target down).
     *
     * @param logits the logits over the vocabulary, [vocab]
     * @param target the target token id
     * @return the target's 0-based rank
     * @throws InvalidArgumentException when {@code logits} is null or empty, {@code target} is out of range or its
     *                                  logit is NaN
     */
    public static int firstTokenRank(float[] logits, int target) {
        if (logits == null || logits.length == 0) {
            throw new InvalidArgumentException("logits", "is null or empty");
        }
        if (target < 0 || target >= logits.length) {
            throw new InvalidArgumentException("target", "token id " + target + " outside [0, " + logits.length + ")");
        }
        float t = logits[target];
        if (Float.isNaN(t)) {
            throw new InvalidArgumentException("logits", "the target's logit is NaN");
        }
        int rank = 0;
        for (float v : logits) {
            if (v > t) {
                rank++;
            }
        }
        return rank;
    }

    /**
     * Mean negative log-likelihood of a teacher-forced target: {@code logitsPerTargetPosition[i]} are the logits
     * that predict {@code targetIds[i]} (i.e. the logits at prompt position {@code predictPosition() + i}). Each term
     * is {@code logsumexp(z) - z[target]}, computed in double with the maximum subtracted first.
     *
     * @param logitsPerTargetPosition [target position][vocab] logits
     * @param targetIds               the target token ids, one per row
     * @return the mean NLL per target token, in nats
     * @throws InvalidArgumentException when the lengths differ or are 0, an id is out of range, or a row is empty
     */
    public static double nll(float[][] logitsPerTargetPosition, int[] targetIds) {
        if (logitsPerTargetPosition == null || targetIds == null) {
            throw new InvalidArgumentException("targetIds", "logits or target ids are null");
        }
        if (targetIds.length == 0) {
            throw new InvalidArgumentException("targetIds", "is empty");
        }
        if (logitsPerTargetPosition.length != targetIds.length) {
            throw new InvalidArgumentException("logitsPerTargetPosition", logitsPerTargetPosition.length
                    + " rows of logits for " + targetIds.length + " target ids");
        }
        double sum = 0;
        for (int i = 0; i < targetIds.length; i++) {
            float[] z = logitsPerTargetPosition[i];
            if (z == null || z.length == 0) {
                throw new InvalidArgumentException("logitsPerTargetPosition", "row " + i + " is empty");
            }
            int id = targetIds[i];
            if (id < 0 || id >= z.length) {
                throw new InvalidArgumentException("targetIds",
                        "targetIds[" + i + "] = " + id + " outside [0, " + z.length + ")");
            }
            double max = Double.NEGATIVE_INFINITY;
            for (float v : z) {
                max = Math.max(max, v);
            }
            double s = 0;
            for (float v : z) {
                s += Math.exp(v - max);
            }
            sum += max + Math.log(s) - z[id];
        }
        return sum / targetIds.length;
    }

    // ------------------------------------------------------------------------------------------- helpers

    private static List<String> whitespaceTokens(CharSequence s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (i < n) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            int b = i;
            while (i < n && !Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i > b) {
                out.add(s.subSequence(b, i).toString());
            }
        }
        return out;
    }

    private static int lcsLength(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }
}
