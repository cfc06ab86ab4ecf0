package dev.ivkit.continual;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.RankCorrelation;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.util.Torch;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * IV extraction on the model as it is now and the comparisons of method-spec §3.3–3.4: mean head outputs z at the
 * last prompt token over the task's IV prompts, CIE of every head (EXACT scan, the mean added at the last token as
 * the IV authors' code does), top-k heads by mean Δprob, IV = Σ_heads W_O·mean z.
 */
public final class IvDynamics {
    private IvDynamics() {}

    /** Extracts the task's IV on {@code model}. With {@code heads} null the top-k heads of this scan are used. */
    public static InstructionVector extract(LlamaModel model, List<TokenizedPrompt> prompts, int k, List<HeadRanking.Head> heads,
            Map<String, Object> meta) {
        try (PointerScope s = new PointerScope()) {
            Tensor meanZ = MeanActivations.compute(model, prompts, 8);
            double[][] scores = HeadRanking.scores(new CieScan(model, meanZ, PatchMode.ADD).scan(prompts, ScanMethod.EXACT, null),
                    HeadRanking.By.PROB);
            int kk = Math.min(k, scores.length * scores[0].length);
            return InstructionVector.build(model, meanZ, scores, heads != null ? heads : HeadRanking.top(scores, kk), meta);
        }
    }

    /**
     * A task's IV re-extracted on the model as it is now, against its earlier IV.
     *
     * @param cosine       cosine of the IV now (built from the earlier IV's heads) to the earlier IV
     * @param headJaccard  overlap of the earlier top-k heads with the top-k heads of the new CIE scan
     * @param cieSpearman  Spearman correlation of the two CIE maps
     * @param cieRelChange ‖after − before‖₂ / ‖before‖₂ over the CIE maps (NaN when the earlier map is zero)
     */
    public record Comparison(double cosine, double headJaccard, double cieSpearman, double cieRelChange) {}

    /**
     * Re-extracts the IV of {@code pre}'s task on {@code model} from {@code prompts} with {@code pre}'s heads and compares it
     * with {@code pre} (method-spec §3.3–3.4). The model is left as it was.
     *
     * @param model   the model as it is now
     * @param prompts the task's IV prompts (the ones {@code pre} was extracted from)
     * @param pre     the task's earlier IV
     * @param meta    metadata of the re-extracted IV (discarded with it)
     * @return the comparison
     */
    public static Comparison compare(LlamaModel model, List<TokenizedPrompt> prompts, InstructionVector pre, Map<String, Object> meta) {
        try (PointerScope s = new PointerScope();
             InstructionVector now = extract(model, prompts, pre.heads().size(), pre.heads(), meta)) {
            double[][] before = map(pre.cie()), after = map(now.cie());
            return new Comparison(cosine(now.vector(), pre.vector()), jaccard(pre.heads(), HeadRanking.top(after, pre.heads().size())),
                    spearman(before, after), relativeChange(before, after));
        }
    }

    /** Cosine similarity of two tensors taken as flat vectors (0 when either is zero). */
    public static double cosine(Tensor a, Tensor b) {
        float[] x = Torch.toFloatArray(a), y = Torch.toFloatArray(b);
        double d = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.length; i++) {
            d += (double) x[i] * y[i];
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        return nx == 0 || ny == 0 ? 0 : d / Math.sqrt(nx * ny);
    }

    /** |A ∩ B| / |A ∪ B| of two head sets (scores ignored). */
    public static double jaccard(List<HeadRanking.Head> a, List<HeadRanking.Head> b) {
        Set<List<Integer>> x = new HashSet<>(), y = new HashSet<>();
        a.forEach(h -> x.add(List.of(h.layer(), h.head())));
        b.forEach(h -> y.add(List.of(h.layer(), h.head())));
        Set<List<Integer>> union = new HashSet<>(x);
        union.addAll(y);
        x.retainAll(y);
        return union.isEmpty() ? 1 : (double) x.size() / union.size();
    }

    /** [layer][head] of a CIE tensor. */
    public static double[][] map(Tensor cie) {
        int l = (int) cie.size(0), h = (int) cie.size(1);
        float[] f = Torch.toFloatArray(cie);
        double[][] out = new double[l][h];
        for (int i = 0; i < l; i++) {
            for (int j = 0; j < h; j++) {
                out[i][j] = f[i * h + j];
            }
        }
        return out;
    }

    /** ‖after − before‖₂ / ‖before‖₂ over the CIE maps. */
    public static double relativeChange(double[][] before, double[][] after) {
        double d = 0, n = 0;
        for (int i = 0; i < before.length; i++) {
            for (int j = 0; j < before[i].length; j++) {
                d += (after[i][j] - before[i][j]) * (after[i][j] - before[i][j]);
                n += before[i][j] * before[i][j];
            }
        }
        return n == 0 ? Double.NaN : Math.sqrt(d / n);
    }

    /** Spearman rank correlation of two [layer][head] maps. */
    public static double spearman(double[][] a, double[][] b) {
        return RankCorrelation.spearman(a, b);
    }
}
