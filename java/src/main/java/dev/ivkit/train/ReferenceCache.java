package dev.ivkit.train;

import dev.ivkit.kernels.Kernels;
import dev.ivkit.kernels.TopkLogprobs;
import dev.ivkit.util.Torch;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
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
            Tensor idx = Torch.onDevice(torch.tensor(flat), logits);
            if (exact(vocab)) {
                width = (int) vocab;
                values = Torch.toFloatArray(logits.index_select(0, idx).to(torch.ScalarType.Float));
            } else {   // one streaming pass per row (topk_logprobs); most rows kept: all rows, no copy of the logits
                width = topK;
                boolean most = 2L * n >= logits.size(0);
                TopkLogprobs top = Kernels.topkLogprobs(most ? logits.contiguous() : logits.index_select(0, idx), temperature, topK);
                Tensor lr = most ? top.logRest().index_select(0, idx) : top.logRest();
                Tensor lp = most ? top.logp().index_select(0, idx) : top.logp();
                Tensor ti = most ? top.ids().index_select(0, idx) : top.ids();
                rest = Torch.toFloatArray(lr);
                values = Torch.toFloatArray(lp);
                long[] idl = Torch.toLongArray(ti.to(torch.ScalarType.Long));
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
     * The cached top-k distributions of a batch as {@link dev.ivkit.kernels.FusedKl#lossTopK} takes them: {ids int32
     * [rows, k], log q [rows, k], log rest mass [rows]} on {@code like}'s device. Rows {@code kept} get their entry's
     * (in entry order, as {@link #exactLogits}); every other row gets the ids 0..k−1 and zeros, so its weight in the
     * KL call must be 0 (such rows are then not read).
     *
     * @param rows rows of the batch's logits [rows, V]
     * @param kept the rows the cached entries describe, in entry order
     * @param hits the cached entries (top-k mode)
     * @param like a tensor on the target device
     * @return the three tensors
     */
    Tensor[] topkRows(int rows, long[] kept, Entry[] hits, Tensor like) {
        int k = topK;
        long[] ids = new long[rows * k];
        float[] logq = new float[rows * k], rest = new float[rows];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < k; i++) {
                ids[r * k + i] = i;
            }
        }
        int at = 0;
        for (Entry e : hits) {
            int p = e.logRest().length;
            for (int j = 0; j < p; j++) {
                int r = (int) kept[at + j];
                for (int i = 0; i < k; i++) {
                    ids[r * k + i] = e.ids()[j * k + i];
                }
                System.arraycopy(e.values(), j * k, logq, r * k, k);
                rest[r] = e.logRest()[j];
            }
            at += p;
        }
        return new Tensor[] {Torch.onDevice(torch.tensor(ids).reshape(rows, k).to(torch.ScalarType.Int), like),
            Torch.onDevice(Torch.fromFloats(logq, rows, k), like), Torch.onDevice(Torch.fromFloats(rest, rows), like)};
    }

    /**
     * Exact mode: the reference logits a cached batch is compared with, detached: rows {@code kept} of {@code current}
     * get their entry's cached logits, every other row is {@code current}'s own (a KL of 0: padding, or rows no term
     * reads). Top-k entries are compared by {@link #topkRows} and the kl_topk_rows kernel instead.
     *
     * @param current the training logits [rows, V] (only read)
     * @param kept    the rows of {@code current} the cached entries describe, in entry order
     * @param hits    the cached entries (exact mode), each covering its run of {@code kept}
     * @return reference logits [rows, V] of {@code current}'s dtype and device
     * @throws IllegalStateException in top-k mode
     */
    Tensor exactLogits(Tensor current, long[] kept, Entry[] hits) {
        Tensor x = current.detach();
        long vocab = x.size(1);
        if (!exact(vocab)) {
            throw new IllegalStateException("exactLogits: the cache keeps the top " + topK + " of " + vocab + " tokens");
        }
        int n = kept.length, width = (int) vocab;
        float[] values = new float[n * width];
        int at = 0;
        for (Entry e : hits) {
            System.arraycopy(e.values(), 0, values, at * width, e.values().length);
            at += e.values().length / width;
        }
        Tensor dense = x.clone();
        dense.index_copy_(0, Torch.onDevice(torch.tensor(kept), x), Torch.onDevice(Torch.fromFloats(values, n, width), x)
                .to(x.scalar_type()));
        return dense;
    }
}
