package dev.ivkit.train;

import dev.ivkit.util.Torch;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The reference distributions of {@link IvGuidedRegulariser}, kept in RAM per example so that a later visit of the
 * example pays no reference forward. An entry is keyed by the example's real tokens, its answer-predicting position and
 * the IV strength it was computed with; it holds, for each position the KL uses (every real position when α2 &gt; 0, else
 * only the answer-predicting one), either
 * <ul>
 *   <li><b>exact mode</b> ({@code topK ≥ V}): the reference's full logit row, or</li>
 *   <li><b>top-k mode</b>: the ids of the reference's k most likely tokens at temperature T, their log-probabilities
 *       and the log of the mass of the other V − k tokens (the "rest"),</li>
 * </ul>
 * and the reference outputs of the preserved heads at the answer-predicting position.
 *
 * <p><b>The top-k distribution.</b> A later visit compares the current logits with q̃: the cached probabilities on the
 * top-k tokens and the cached rest mass Q spread over the other tokens in the current model's own proportions
 * (q̃_j = Q · p_j / P, P the current mass on them). The KL (either direction) against q̃ equals the KL between the two
 * distributions coarse-grained to k + 1 outcomes (the top-k tokens and one "rest" bucket), value and gradient; by the
 * chain rule of KL the error is {@code KL_exact − KL_cached = P · KL(p̂ ‖ q̂)} (reverse) or {@code Q · KL(q̂ ‖ p̂)}
 * (forward), p̂ and q̂ the two distributions restricted to the rest and renormalised: never negative, and at most the
 * rest's mass times the within-rest divergence.
 *
 * <p><b>Memory per example</b> (Java arrays): top-k mode {@code positions × (8k + 4)} bytes (int32 id + float32
 * log-probability per kept token, float32 log rest mass per position), exact mode {@code positions × 4V}, plus
 * {@code heads × d_head × 4} for head preservation and {@code 8 × real tokens} for the key; positions is the example's
 * real length with α2 &gt; 0, else 1. Example: 40 real tokens, k = 64, 8 heads of 64: 40 × 516 + 2 048 + 320 ≈ 23 KB.
 *
 * <p>The entries describe one frozen reference model: {@link #bind} clears them when the model object changes or the
 * step counter goes back (a new training run, e.g. the next task of a continual run after a merge).
 */
final class ReferenceCache {
    private final int topK;
    private final double temperature;
    private final boolean allPositions;
    private final Map<Key, Entry> entries = new HashMap<>();
    private Object owner;
    private int lastStep = -1;
    private long bytes;

    /**
     * @param topK         tokens kept per position (≥ V: exact mode)
     * @param temperature  the KL temperature
     * @param allPositions keep every real position (α2 &gt; 0), else only the answer-predicting one
     */
    ReferenceCache(int topK, double temperature, boolean allPositions) {
        this.topK = topK;
        this.temperature = temperature;
        this.allPositions = allPositions;
    }

    /** An example: its real tokens, answer-predicting position (relative to its first real token) and IV strength. */
    static final class Key {
        private final long[] tokens;
        private final long predict;
        private final long strengthBits;
        private final int hash;

        Key(long[] tokens, long predict, double strength) {
            this.tokens = tokens;
            this.predict = predict;
            this.strengthBits = Double.doubleToLongBits(strength);
            this.hash = 31 * (31 * Arrays.hashCode(tokens) + Long.hashCode(predict)) + Long.hashCode(strengthBits);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.predict == predict && k.strengthBits == strengthBits
                    && Arrays.equals(k.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        int length() {
            return tokens.length;
        }
    }

    /** One example's reference: {@code ids} null in exact mode; {@code heads[i]} the i-th preserved head's output. */
    record Entry(int[] ids, float[] values, float[] logRest, float[][] heads) {}

    /** Clears the entries when {@code model} is not the one they were computed on or {@code step} went back. */
    void bind(Object model, int step) {
        if (model != owner || step < lastStep) {
            clear();
            owner = model;
        }
        lastStep = step;
    }

    void clear() {
        entries.clear();
        bytes = 0;
    }

    Entry get(Key k) {
        return entries.get(k);
    }

    int size() {
        return entries.size();
    }

    /** Bytes held by the entries' arrays (keys included). */
    long bytes() {
        return bytes;
    }

    boolean exact(long vocab) {
        return topK >= vocab;
    }

    /** The flat rows (row·len + position) this cache keeps for batch row {@code r} with {@code offset} left padding. */
    long[] keptRows(int r, int len, int offset, long predict) {
        if (!allPositions) {
            return new long[] {(long) r * len + predict};
        }
        long[] out = new long[len - offset];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) r * len + offset + i;
        }
        return out;
    }

    /**
     * Stores the entries of {@code keys.length} examples from their reference logits.
     *
     * @param keys   the examples
     * @param rows   per example, its kept flat rows in {@code logits} (as {@link #keptRows} gives them)
     * @param logits the reference logits [examples · len, V] (null when no KL term is on)
     * @param heads  per preserved head, its reference outputs [examples, d_head]
     */
    void put(Key[] keys, long[][] rows, Tensor logits, Tensor[] heads) {
        float[][] headVals = new float[heads.length][];
        for (int i = 0; i < heads.length; i++) {
            headVals[i] = Torch.toFloatArray(heads[i]);
        }
        int n = 0;
        for (long[] r : rows) {
            n += r.length;
        }
        long[] flat = new long[n];
        int at = 0;
        for (long[] r : rows) {
            System.arraycopy(r, 0, flat, at, r.length);
            at += r.length;
        }
        int[] ids = null;
        float[] values = null, rest = null;
        int width = 0;
        if (logits != null) {
            long vocab = logits.size(1);
            Tensor x = logits.index_select(0, Torch.onDevice(torch.tensor(flat), logits)).to(torch.ScalarType.Float);
            if (exact(vocab)) {
                width = (int) vocab;
                values = Torch.toFloatArray(x);
            } else {
                width = topK;
                Tensor lq = x.div(new Scalar(temperature)).log_softmax(1);
                T_TensorTensor_T top = lq.topk(topK, 1, true, true);
                Tensor topIds = top.get1();
                rest = Torch.toFloatArray(lq.scatter(1, topIds, new Scalar(Double.NEGATIVE_INFINITY)).logsumexp(new long[] {1}, false));
                values = Torch.toFloatArray(top.get0());
                long[] idl = Torch.toLongArray(topIds);
                ids = new int[idl.length];
                for (int i = 0; i < idl.length; i++) {
                    ids[i] = (int) idl[i];
                }
            }
        }
        at = 0;
        for (int e = 0; e < keys.length; e++) {
            int p = rows[e].length;
            float[][] hv = new float[heads.length][];
            long b = 8L * keys[e].length();
            for (int i = 0; i < heads.length; i++) {
                int dh = headVals[i].length / keys.length;
                hv[i] = Arrays.copyOfRange(headVals[i], e * dh, (e + 1) * dh);
                b += 4L * dh;
            }
            Entry entry = values == null ? new Entry(null, null, null, hv)
                    : new Entry(ids == null ? null : Arrays.copyOfRange(ids, at * width, (at + p) * width),
                            Arrays.copyOfRange(values, at * width, (at + p) * width),
                            rest == null ? null : Arrays.copyOfRange(rest, at, at + p), hv);
            if (values != null) {
                b += (ids == null ? 4L : 8L) * p * width + (rest == null ? 0 : 4L * p);
            }
            Entry old = entries.put(keys[e], entry);
            bytes += old == null ? b : 0;
            at += p;
        }
    }

    /**
     * The reference logits a cached batch is compared with: rows {@code rows} get the cached entries' distribution
     * (exact logits, or the top-k distribution with the rest in the current proportions, as T · log q̃); every other
     * row gets the current logits themselves (a KL of 0 there: padding, or positions no term reads).
     *
     * @param current the training logits [batch, len, V] (detached here)
     * @param rows    the flat rows the cached entries describe, in entry order
     * @param hits    the cached entries, each covering its run of {@code rows}
     * @return reference logits [batch, len, V] of {@code current}'s dtype and device
     */
    Tensor referenceLogits(Tensor current, long[] rows, Entry[] hits) {
        long vocab = current.size(2);
        Tensor dense = current.detach().to(torch.ScalarType.Float).reshape(-1, vocab).clone();
        if (rows.length == 0) {
            return dense.reshape(current.size(0), current.size(1), vocab).to(current.scalar_type());
        }
        int width = exact(vocab) ? (int) vocab : topK, n = rows.length;
        float[] values = new float[n * width], rest = new float[n];
        long[] ids = exact(vocab) ? null : new long[n * width];
        int at = 0;
        for (Entry e : hits) {
            int p = e.values().length / width;
            System.arraycopy(e.values(), 0, values, at * width, p * width);
            if (ids != null) {
                System.arraycopy(e.logRest(), 0, rest, at, p);
                for (int i = 0; i < p * width; i++) {
                    ids[at * width + i] = e.ids()[i];
                }
            }
            at += p;
        }
        Tensor idx = Torch.onDevice(torch.tensor(rows), dense);
        Tensor vals = Torch.onDevice(Torch.fromFloats(values, n, width), dense);
        if (ids == null) {
            dense.index_copy_(0, idx, vals);
        } else {
            Scalar t = new Scalar(temperature);
            Tensor id = Torch.onDevice(torch.tensor(ids).reshape(n, width), dense);
            Tensor cur = dense.index_select(0, idx);                                              // [n, V] current logits
            Tensor curTail = cur.div(t).scatter(1, id, new Scalar(Double.NEGATIVE_INFINITY)).logsumexp(new long[] {1}, true);
            Tensor logQ = Torch.onDevice(Torch.fromFloats(rest, n, 1), dense);
            // rest: T·log(Q · p_j / P) = cur_j + T·(log Q − log Σ_rest exp(cur/T)); top-k: T·log q_i
            Tensor ref = cur.add(logQ.sub(curTail).mul(t));
            ref.scatter_(1, id, vals.mul(t));
            dense.index_copy_(0, idx, ref);
        }
        return dense.reshape(current.size(0), current.size(1), vocab).to(current.scalar_type());
    }
}
