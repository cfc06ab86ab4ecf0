package dev.ivkit.train;

import dev.ivkit.util.Torch;
import dev.ivkit.KlDirection;
import dev.ivkit.MatmulPrecision;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.kernels.FusedKl;
import dev.ivkit.model.LlamaModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The IV-guided regulariser (method-spec §4.2, made exact and cheaper):
 * <ul>
 *   <li><b>KL</b>: the reference is the model with the current adapter disabled (base + earlier merged tasks), no
 *       gradient, with {@code s(step) · IV} added at {@code site} of layer L at each example's answer-predicting
 *       position. α1 · KL at that position (mean over examples, the authors' batchmean) + α2 · KL summed over the real
 *       (non-padding) positions of each example and averaged over examples (the authors also summed over padding),
 *       at temperature T, direction selectable (default the authors' KL(p_new ‖ p_ref)), no T² factor (as theirs).</li>
 *   <li><b>Head preservation</b>: α_pr · Σ over selected heads of the MSE between the training pass's z and the
 *       adapter-disabled z (without IV) at the answer-predicting position.</li>
 *   <li>Optional hard gates as in the authors' code (a term counts only above 0.1 for KL, 0.01 per head for MSE);
 *       off by default because they make the objective discontinuous.</li>
 * </ul>
 * Cost: one no-grad forward plus, for the positions from the batch's first answer-predicting position on, a pass
 * from layer L up with the IV ({@link ReferencePass}: the IV cannot change earlier positions), instead of the authors'
 * two full reference passes; both KL terms in one fused kernel call over the logits ({@link KlTerms}), which with the
 * gates off also carries the answer CE's gradient ({@link Regulariser.Prepared#loss}; {@code IvPrepared}).
 *
 * <p><b>Reference cache</b> ({@link Config#referenceCacheTopK()} &gt; 0; off by default): the
 * reference sees frozen weights and an example's fixed tokens, so it is computed on an example's first visit and kept
 * ({@link ReferenceCache}: per KL position the top-k tokens' log-probabilities and the rest's log-mass, exact full rows
 * when k ≥ V, and the preserved heads' outputs); later visits run no reference forward. A batch with any row not
 * cached yet runs the exact reference for all its rows (and stores the new ones); a batch of cached rows compares with the cached top-k distribution, whose KL is the KL between the two distributions
 * coarse-grained to the top-k tokens and one "rest" bucket (never above the exact KL; the gap is the rest's mass times
 * its within-rest divergence). Entries are keyed by the IV strength too and only stored at the schedule's plateau
 * strength ({@link IvSchedule#peak()}): during a ramp every step runs today's exact per-step pass. A regulariser
 * instance caches for one reference model: the cache is cleared when the model object changes or the step goes back
 * (a new run, e.g. the next task of a continual run), and {@link #clearReferenceCache()} clears it explicitly.
 * The exact mode ({@link #EXACT_CACHE}, or k ≥ V) reproduces the uncached terms up to float rounding; the top-k mode
 * is off by default because its error is large at the authors' T = 2 on small models (stories260K, k = 64 of 512: the
 * cached KL is 6–8 % below the exact one in the forward direction, 24–46 % in the reverse; ReferenceCacheTest).
 *
 * <p><b>Reference precision</b> ({@link Config#referencePrecision()}, {@link MatmulPrecision#FULL} by default):
 * {@link MatmulPrecision#REDUCED} runs the reference pass's projections and lm_head with bfloat16 products on the
 * calling thread (CUDA, or CPUs with AVX512-BF16/AMX; elsewhere unchanged): 3× faster GEMMs there, reference
 * distributions within about 1e-3 KL of the full ones (ReducedReferenceTest). The training pass is never reduced.
 */
public final class IvGuidedRegulariser implements Regulariser {
    /** Where the IV enters the reference pass. The authors' training adds it to the o_proj output (hook_attn_out). */
    public enum Site {
        /** Added to layer L's attention output (hook_attn_out), as the authors' training does. */
        ATTN_OUT,
        /** Added to the residual stream between layer L's attention and MLP (hook_resid_mid). */
        RESID_MID,
        /** Added to the residual stream after block L (hook_resid_post). */
        RESID_POST
    }

    /**
     * The regulariser's settings.
     *
     * @param iv          the instruction vector [d_model]; required when {@code alpha1} or {@code alpha2} is positive
     * @param layer       the layer L the vector is added at
     * @param site        where in layer L it is added
     * @param alpha1      weight of the KL at the answer-predicting position; ≥ 0
     * @param alpha2      weight of the KL summed over each example's real positions; ≥ 0
     * @param alphaPr     weight of head preservation; ≥ 0
     * @param temperature softmax temperature of both distributions; &gt; 0
     * @param direction   which KL direction is taken
     * @param gates       whether the authors' hard gates apply
     * @param heads       the selected heads to preserve; required when {@code alphaPr} is positive
     * @param schedule    the IV's strength over training; null for {@link IvSchedule#defaults()}
     * @param referenceCacheTopK tokens per position kept by the reference cache; 0 turns the cache off, a value ≥ the
     *                    vocabulary size (e.g. {@link #EXACT_CACHE}) keeps full rows (exact)
     * @param referencePrecision precision of the reference pass's float32 GEMMs; null for {@link MatmulPrecision#FULL}
     */
    public record Config(Tensor iv, int layer, Site site, double alpha1, double alpha2, double alphaPr, double temperature,
            KlDirection direction, boolean gates, List<HeadRanking.Head> heads, IvSchedule schedule, int referenceCacheTopK,
            MatmulPrecision referencePrecision) {
        /**
         * Checks the settings, copies {@code heads} (null: none) and fills in the default schedule.
         *
         * @param iv          the instruction vector [d_model]
         * @param layer       the layer L the vector is added at
         * @param site        where in layer L it is added
         * @param alpha1      weight of the KL at the answer-predicting position
         * @param alpha2      weight of the KL summed over each example's real positions
         * @param alphaPr     weight of head preservation
         * @param temperature softmax temperature
         * @param direction   which KL direction is taken
         * @param gates       whether the authors' hard gates apply
         * @param heads       the selected heads to preserve
         * @param schedule    the IV's strength over training, or null
         * @param referenceCacheTopK tokens per position the reference cache keeps (0: no cache; ≥ V: exact)
         * @param referencePrecision precision of the reference pass's float32 GEMMs, or null for full
         * @throws InvalidArgumentException when the temperature is not positive, a weight or
         *                                  {@code referenceCacheTopK} is negative, or the KL terms lack a vector or head
         *                                  preservation lacks heads
         */
        public Config {
            if (referenceCacheTopK < 0) {
                throw new InvalidArgumentException("referenceCacheTopK", "must be >= 0 (0: no cache), got " + referenceCacheTopK);
            }
            if (!(temperature > 0)) {
                throw new InvalidArgumentException("temperature", "must be positive, got " + temperature);
            }
            if (alpha1 < 0 || alpha2 < 0 || alphaPr < 0) {
                throw new InvalidArgumentException("alpha", "regulariser weights must be >= 0");
            }
            if ((alpha1 > 0 || alpha2 > 0) && iv == null) {
                throw new InvalidArgumentException("iv", "the KL terms need an instruction vector");
            }
            if (alphaPr > 0 && (heads == null || heads.isEmpty())) {
                throw new InvalidArgumentException("heads", "head preservation needs the selected heads");
            }
            heads = heads == null ? List.of() : List.copyOf(heads);
            schedule = schedule == null ? IvSchedule.defaults() : schedule;
            referencePrecision = referencePrecision == null ? MatmulPrecision.FULL : referencePrecision;
        }

        /**
         * The settings with full-precision reference GEMMs; the parameters are those of the canonical constructor.
         *
         * @param iv          the instruction vector [d_model]
         * @param layer       the layer L the vector is added at
         * @param site        where in layer L it is added
         * @param alpha1      weight of the KL at the answer-predicting position
         * @param alpha2      weight of the KL summed over each example's real positions
         * @param alphaPr     weight of head preservation
         * @param temperature softmax temperature
         * @param direction   which KL direction is taken
         * @param gates       whether the authors' hard gates apply
         * @param heads       the selected heads to preserve
         * @param schedule    the IV's strength over training, or null
         * @param referenceCacheTopK tokens per position the reference cache keeps (0: no cache; ≥ V: exact)
         */
        public Config(Tensor iv, int layer, Site site, double alpha1, double alpha2, double alphaPr, double temperature,
                KlDirection direction, boolean gates, List<HeadRanking.Head> heads, IvSchedule schedule, int referenceCacheTopK) {
            this(iv, layer, site, alpha1, alpha2, alphaPr, temperature, direction, gates, heads, schedule, referenceCacheTopK,
                    MatmulPrecision.FULL);
        }

        /**
         * The settings without a reference cache ({@link IvGuidedRegulariser#DEFAULT_CACHE_TOP_K}); the parameters
         * are those of the canonical constructor.
         *
         * @param iv          the instruction vector [d_model]
         * @param layer       the layer L the vector is added at
         * @param site        where in layer L it is added
         * @param alpha1      weight of the KL at the answer-predicting position
         * @param alpha2      weight of the KL summed over each example's real positions
         * @param alphaPr     weight of head preservation
         * @param temperature softmax temperature
         * @param direction   which KL direction is taken
         * @param gates       whether the authors' hard gates apply
         * @param heads       the selected heads to preserve
         * @param schedule    the IV's strength over training, or null
         */
        public Config(Tensor iv, int layer, Site site, double alpha1, double alpha2, double alphaPr, double temperature,
                KlDirection direction, boolean gates, List<HeadRanking.Head> heads, IvSchedule schedule) {
            this(iv, layer, site, alpha1, alpha2, alphaPr, temperature, direction, gates, heads, schedule, DEFAULT_CACHE_TOP_K);
        }
    }

    /** The reference cache's default: off (see the class comment for the top-k mode's measured error). */
    public static final int DEFAULT_CACHE_TOP_K = 0;
    /** The usual top-k size of the reference cache (8 · 64 + 4 = 516 bytes per cached position). */
    public static final int TOP_K_CACHE = 64;
    /** A {@link Config#referenceCacheTopK()} that keeps full rows whatever the vocabulary (the exact cache). */
    public static final int EXACT_CACHE = Integer.MAX_VALUE;

    private final Config cfg;
    private final ReferenceCache cache;
    private long referenceRows;

    /**
     * A regulariser with the given settings.
     *
     * @param cfg the settings
     */
    public IvGuidedRegulariser(Config cfg) {
        this.cfg = cfg;
        this.cache = cfg.referenceCacheTopK() == 0 ? null
                : new ReferenceCache(cfg.referenceCacheTopK(), cfg.temperature(), cfg.alpha2() > 0);
    }

    /** Forgets the cached references (call it after changing the model's weights in place between runs). */
    public void clearReferenceCache() {
        if (cache != null) {
            cache.clear();
        }
    }

    /**
     * Bytes the reference cache holds now (its arrays and keys; see {@link ReferenceCache} for the per-example formula).
     *
     * @return 0 without a cache
     */
    public long referenceCacheBytes() {
        return cache == null ? 0 : cache.bytes();
    }

    /** Examples whose reference forward has run so far (one per batch row per reference pass; tests count it). */
    long referenceRows() {
        return referenceRows;
    }

    /** Examples held by the reference cache. */
    int cachedExamples() {
        return cache == null ? 0 : cache.size();
    }

    /**
     * The settings.
     *
     * @return the settings given to the constructor
     */
    public Config config() {
        return cfg;
    }

    private boolean klOn() {
        return cfg.alpha1() > 0 || cfg.alpha2() > 0;
    }

    @Override
    public Prepared prepare(LlamaModel model, TrainBatch batch, int step, int totalSteps) {
        if (klOn() && (cfg.layer() < 0 || cfg.layer() >= model.config().nLayers())) {
            throw new InvalidArgumentException("layer", cfg.layer() + " is out of range [0, " + model.config().nLayers() + ")");
        }
        double strength = klOn() ? cfg.schedule().at(step, totalSteps) : 0;
        if (cache != null) {
            cache.bind(model, step);
        }
        // an entry is reused only at the strength the schedule keeps (a ramp's strengths never repeat)
        if (cache == null || (!klOn() && cfg.alphaPr() == 0) || (klOn() && strength != cfg.schedule().peak())) {
            return exact(batch, reference(model, batch.tokens, batch.mask, batch.predict, strength));
        }
        long[] tokens = batch.hostTokens, mask = batch.hostMask;
        int b = batch.batch, len = batch.len;
        ReferenceCache.Key[] keys = new ReferenceCache.Key[b];
        ReferenceCache.Entry[] hits = new ReferenceCache.Entry[b];
        int[] offset = new int[b];
        List<Integer> miss = new ArrayList<>();
        for (int r = 0; r < b; r++) {
            while (offset[r] < len && mask[r * len + offset[r]] == 0) {
                offset[r]++;
            }
            keys[r] = new ReferenceCache.Key(Arrays.copyOfRange(tokens, r * len + offset[r], (r + 1) * len),
                    batch.predict[r] - offset[r], strength);
            hits[r] = cache.get(keys[r]);
            if (hits[r] == null) {
                miss.add(r);
            }
        }
        if (miss.isEmpty()) {
            return cachedPrepared(batch, hits, offset);
        }
        // a row not cached yet: the exact reference of the whole batch, as without the cache; its new rows are stored
        Tensor[] ref = reference(model, batch.tokens, batch.mask, batch.predict, strength);
        ReferenceCache.Key[] missKeys = new ReferenceCache.Key[miss.size()];
        long[][] kept = new long[miss.size()][];
        for (int i = 0; i < miss.size(); i++) {
            int r = miss.get(i);
            missKeys[i] = keys[r];
            kept[i] = cache.keptRows(r, len, offset[r], batch.predict[r]);
        }
        Tensor missIdx = torch.tensor(miss.stream().mapToLong(Integer::longValue).toArray());
        Tensor[] missHeads = new Tensor[ref.length - 1];
        for (int i = 0; i < missHeads.length; i++) {
            missHeads[i] = ref[i + 1].index_select(0, Torch.onDevice(missIdx, ref[i + 1]));
        }
        cache.put(missKeys, kept, ref[0] == null ? null : ref[0].reshape(-1, ref[0].size(2)), missHeads);
        return exact(batch, ref);
    }

    /** The terms against an exact reference {logits [batch, len, V] or null, heads...}. */
    private Prepared exact(TrainBatch batch, Tensor[] ref) {
        return new IvPrepared(cfg, batch, (cur, fold) -> w -> FusedKl.lossAndRows(cur.reshape(-1, cur.size(2)),
                ref[0].reshape(-1, cur.size(2)), w, cfg.temperature(), cfg.direction(), FusedKl.Reduction.SUM, fold),
                Arrays.copyOfRange(ref, 1, ref.length));
    }

    /** A batch all of whose rows are cached: no reference forward; the KL against the cached distributions. */
    private Prepared cachedPrepared(TrainBatch batch, ReferenceCache.Entry[] hits, int[] offset) {
        List<Long> rows = new ArrayList<>();
        for (int r = 0; r < hits.length; r++) {
            for (long f : cache.keptRows(r, batch.len, offset[r], batch.predict[r])) {
                rows.add(f);
            }
        }
        long[] kept = rows.stream().mapToLong(Long::longValue).toArray();
        Tensor[] refHeads = new Tensor[cfg.alphaPr() > 0 ? cfg.heads().size() : 0];
        for (int i = 0; i < refHeads.length; i++) {
            int dh = hits[0].heads()[i].length;
            float[] v = new float[batch.batch * dh];
            for (int r = 0; r < hits.length; r++) {
                System.arraycopy(hits[r].heads()[i], 0, v, r * dh, dh);
            }
            refHeads[i] = Torch.fromFloats(v, batch.batch, dh);
        }
        return new IvPrepared(cfg, batch, (cur, fold) -> {   // rows not kept get weight 0 in KlTerms: never read
            Tensor flat = cur.reshape(-1, cur.size(2));
            if (cache.exact(flat.size(1))) {
                Tensor ref = cache.exactLogits(flat, kept, hits);
                return w -> FusedKl.lossAndRows(flat, ref, w, cfg.temperature(), cfg.direction(), FusedKl.Reduction.SUM, fold);
            }
            Tensor[] top = cache.topkRows((int) flat.size(0), kept, hits, flat);   // one kl_topk_rows pass, O(k) per row
            return w -> FusedKl.lossTopKAndRows(flat, top[0], top[1], top[2], w, cfg.temperature(), cfg.direction(),
                    FusedKl.Reduction.SUM, fold);
        }, refHeads);
    }

    /** The reference pass over {@code tokens} ({@link ReferencePass#run}), counted. */
    private Tensor[] reference(LlamaModel model, Tensor tokens, Tensor mask, long[] predict, double strength) {
        referenceRows += predict.length;
        return ReferencePass.run(cfg, klOn(), headLayers(cfg), model, tokens, mask, predict, strength);
    }

    /** The layers of the preserved heads, ascending. */
    static TreeSet<Integer> headLayers(Config cfg) {
        TreeSet<Integer> headLayers = new TreeSet<>();
        for (HeadRanking.Head h : cfg.heads()) {
            headLayers.add(h.layer());
        }
        return headLayers;
    }
}
