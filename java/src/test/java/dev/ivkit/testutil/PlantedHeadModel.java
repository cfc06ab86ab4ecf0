package dev.ivkit.testutil;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A tiny fp32 Llama whose weights are written by hand so that exactly one attention head, {@link #LAYER}.{@link
 * #HEAD}, carries a task: a positive control for the CIE head scan (a scan must put that head first).
 *
 * <p><b>The task.</b> Vocabulary of 32: PAD 0, BOS 1, CUE 2, FILLER 3, DEFAULT 4, inputs X_0..X_7 (ids 8..15),
 * outputs Y_0..Y_7 (ids 16..23); ids 5..7 and 24..31 are unused. The task maps X_k to Y_{f(k)} with the permutation
 * {@code f(k) = (3k + 1) mod 8}. A clean prompt is {@code BOS, x1, f(x1), x2, f(x2), x3, f(x3), xq} with one CUE
 * token inserted at a random place before the query; its answer is {@code f(xq)}. A corrupted prompt (Todd et al.)
 * has the demonstrations' labels shuffled and the CUE replaced by FILLER, so nothing in it says "do the task".
 *
 * <p><b>The residual stream</b> (d_model 32) reserves dimensions: BIAS (0, 1 in every token's embedding), CUE (1, in
 * the CUE token's embedding), TASK (2, written only by the planted head), IN_k (3+k, one-hot of an input token X_k),
 * ANS_m (11+m, "the answer is Y_m", written only by layer 1's MLP); dims 19..31 are scratch. Norm weights are 1.
 *
 * <p><b>The planted head</b> (layer 1, head 2; d_head 8, rotate-half RoPE with theta 10000). Rotate-half pairs dim
 * i with i + 4; pair 3 (dims 3 and 7) turns by pos·10000^(-6/8) ≈ 0.001 rad per position, so putting the query and
 * key content in dim 3 makes the score position-independent at these lengths (cos(0.01) ≈ 1).
 * <ul>
 *   <li>query dim 3 = {@code QK}·BIAS (every position asks), key dim 3 = {@code QK}·CUE (only the cue answers): from
 *       the last position the cue scores ≈ (4·QK)²/√8 ≈ 23 (RMSNorm scales a residual holding two unit dims to 4),
 *       every other key 0, so the head puts ≈ all its weight on the cue when there is one, and spreads it evenly
 *       over keys whose values are 0 when there is none;
 *   <li>value dim 0 = CUE (≈ 4 at the cue), W_O maps head dim 0 to TASK: the head writes TASK ≈ 4 iff the prompt
 *       has a cue. Its mean output over clean prompts is that same vector, so patching it into a corrupted prompt
 *       restores the task.
 * </ul>
 *
 * <p><b>Reading the task out.</b> Layer 1's SwiGLU MLP has 8 hidden units, unit k = silu(2·TASK − 2·BIAS)·IN_k
 * (gate reads TASK with a threshold, up reads IN_k) written to ANS_{f(k)}: a product, so the answer appears only when
 * TASK is on and names the query's image. After the MLP's RMSNorm the gate is ≈ 2·5.3 − 2·1.3 = 8 with the task on
 * and ≈ −8 (silu ≈ 0) without it; the threshold keeps small stray writes of the noise heads into TASK from leaking
 * the answer (a plain silu(TASK) gate did). The untied LM head maps ANS_m to Y_m with gain {@code ANSWER_GAIN} and
 * BIAS to DEFAULT with gain 1: with the task on the model answers f(xq) (P ≈ 0.99), without it DEFAULT wins and
 * P(f(xq)) ≈ 0.01.
 *
 * <p><b>Everything else</b>: the other 11 heads get seeded Gaussian q/k/v/o weights of std {@code noise} over all
 * dimensions (weak, but they do write into TASK and ANS; at std 0.1 their writes swamp this sparse residual stream
 * and the task fails, at 0.05 it works); the MLPs of layers 0 and 2 are zero.
 */
public final class PlantedHeadModel {
    private PlantedHeadModel() {}

    /** Layer of the planted head. */
    public static final int LAYER = 1;
    /** Index of the planted head within {@link #LAYER}. */
    public static final int HEAD = 2;
    /** Token ids. */
    public static final int BOS = 1, CUE = 2, FILLER = 3, DEFAULT = 4, X0 = 8, Y0 = 16, N = 8;

    static final int D_MODEL = 32, D_HEAD = 8, HEADS = 4, LAYERS = 3, VOCAB = 32;
    static final int BIAS_DIM = 0, CUE_DIM = 1, TASK_DIM = 2, IN_DIM = 3, ANS_DIM = 11;
    static final float QK = 2f, GATE = 2f, ANSWER_GAIN = 2f;

    /** The architecture: 3 layers, 4 heads of 8, d_model 32, vocab 32, rotate-half RoPE, theta 10000, untied head. */
    public static ModelConfig config() {
        return new ModelConfig("llama", D_MODEL, N, LAYERS, HEADS, HEADS, D_HEAD, VOCAB, 64, 1e-5, 10000.0,
                RopeStyle.HALF, null, false, false, BOS, -1);
    }

    /** The task's map on input indices: X_k -> Y_{f(k)}. */
    public static int f(int k) {
        return (3 * k + 1) % N;
    }

    /**
     * Builds the model.
     *
     * @param noise         std of the other heads' weights
     * @param plantedOutput false zeroes the planted head's W_O slice (a negative control: nothing carries the task)
     * @param seed          seed of the noise
     */
    public static LlamaModel build(double noise, boolean plantedOutput, long seed) {
        Random rng = new Random(seed);
        int qd = HEADS * D_HEAD;
        Map<String, Tensor> w = new LinkedHashMap<>();
        float[][] embed = new float[VOCAB][D_MODEL];
        for (int t = 0; t < VOCAB; t++) {
            embed[t][BIAS_DIM] = 1;
        }
        embed[CUE][CUE_DIM] = 1;
        for (int k = 0; k < N; k++) {
            embed[X0 + k][IN_DIM + k] = 1;
        }
        w.put(WeightNames.EMBED, tensor(embed));
        float[][] lm = new float[VOCAB][D_MODEL];
        for (int m = 0; m < N; m++) {
            lm[Y0 + m][ANS_DIM + m] = ANSWER_GAIN;
        }
        lm[DEFAULT][BIAS_DIM] = 1;
        w.put(WeightNames.LM_HEAD, tensor(lm));
        w.put(WeightNames.FINAL_NORM, torch.ones(D_MODEL));
        for (int l = 0; l < LAYERS; l++) {
            float[][] q = new float[qd][D_MODEL], k = new float[qd][D_MODEL], v = new float[qd][D_MODEL];
            float[][] o = new float[D_MODEL][qd];
            for (int h = 0; h < HEADS; h++) {
                if (l == LAYER && h == HEAD) {
                    continue;
                }
                for (int i = h * D_HEAD; i < (h + 1) * D_HEAD; i++) {
                    for (int d = 0; d < D_MODEL; d++) {
                        q[i][d] = gauss(rng, noise);
                        k[i][d] = gauss(rng, noise);
                        v[i][d] = gauss(rng, noise);
                        o[d][i] = gauss(rng, noise);
                    }
                }
            }
            float[][] gate = new float[N][D_MODEL], up = new float[N][D_MODEL], down = new float[D_MODEL][N];
            if (l == LAYER) {
                int base = HEAD * D_HEAD;
                q[base + 3][BIAS_DIM] = QK;       // RoPE pair 3 (dims 3, 7): the slowest rotation
                k[base + 3][CUE_DIM] = QK;
                v[base][CUE_DIM] = 1;
                o[TASK_DIM][base] = plantedOutput ? 1 : 0;
                for (int j = 0; j < N; j++) {
                    gate[j][TASK_DIM] = GATE;
                    gate[j][BIAS_DIM] = -GATE;
                    up[j][IN_DIM + j] = 1;
                    down[ANS_DIM + f(j)][j] = 1;
                }
            }
            w.put(WeightNames.attnNorm(l), torch.ones(D_MODEL));
            w.put(WeightNames.mlpNorm(l), torch.ones(D_MODEL));
            w.put(WeightNames.q(l), tensor(q));
            w.put(WeightNames.k(l), tensor(k));
            w.put(WeightNames.v(l), tensor(v));
            w.put(WeightNames.o(l), tensor(o));
            w.put(WeightNames.gate(l), tensor(gate));
            w.put(WeightNames.up(l), tensor(up));
            w.put(WeightNames.down(l), tensor(down));
        }
        return new LlamaModel(config(), w, torch.ScalarType.Float);
    }

    /**
     * Prompts of the task: 3 demonstrations and a query, answer {@code Y_f(query)}.
     *
     * @param count how many
     * @param clean true: consistent labels and a CUE; false: shuffled labels and FILLER in the CUE's place
     * @param seed  seed of the draws
     */
    public static List<TokenizedPrompt> prompts(int count, boolean clean, long seed) {
        return prompts(count, clean, clean, seed);
    }

    /**
     * Prompts of the task with the two corruptions chosen apart.
     *
     * @param count      how many
     * @param consistent demonstrations labelled by f (else their labels are shuffled)
     * @param cue        a CUE token before the query (else FILLER in its place)
     * @param seed       seed of the draws
     */
    public static List<TokenizedPrompt> prompts(int count, boolean consistent, boolean cue, long seed) {
        Random rng = new Random(seed);
        List<TokenizedPrompt> out = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            List<Integer> xs = new ArrayList<>();
            for (int k = 0; k < N; k++) {
                xs.add(k);
            }
            Collections.shuffle(xs, rng);                     // 3 demonstration inputs and the query, all distinct
            List<Integer> labels = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                labels.add(f(xs.get(i)));
            }
            if (!consistent) {
                Collections.shuffle(labels, rng);
            }
            List<Integer> ids = new ArrayList<>(List.of(BOS));
            for (int i = 0; i < 3; i++) {
                ids.add(X0 + xs.get(i));
                ids.add(Y0 + labels.get(i));
            }
            ids.add(1 + rng.nextInt(ids.size()), cue ? CUE : FILLER);   // anywhere after BOS, before the query
            ids.add(X0 + xs.get(3));
            out.add(new TokenizedPrompt(ids.stream().mapToInt(Integer::intValue).toArray(), new int[] {Y0 + f(xs.get(3))}));
        }
        return out;
    }

    private static float gauss(Random rng, double std) {
        return (float) (rng.nextGaussian() * std);
    }

    private static Tensor tensor(float[][] m) {
        float[] flat = new float[m.length * m[0].length];
        for (int r = 0; r < m.length; r++) {
            System.arraycopy(m[r], 0, flat, r * m[0].length, m[0].length);
        }
        return Torch.fromFloats(flat, m.length, m[0].length);
    }
}
