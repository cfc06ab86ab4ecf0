package dev.ivkit;

import dev.ivkit.iv.InstructionVector;
import java.util.Objects;

/**
 * The IV-guidance part of {@link TrainOptions}: the instruction vector (none: plain LoRA), where and how strongly it
 * enters the reference pass, and the weights of the regulariser's terms. {@link TrainOptions.Builder} extends
 * {@link Builder}, which holds the setters and their defaults.
 *
 * @param iv          the instruction vector, or null for plain LoRA
 * @param layer       layer the IV is added at, or null for the layer in the IV's metadata (else layers / 3)
 * @param site        where the IV enters the reference pass
 * @param schedule    IV strength over training
 * @param alpha1      weight of the KL at the answer-predicting position, or null for 20
 * @param alpha2      weight of the KL over the real positions, or null for 0.1
 * @param alphaPr     weight of head preservation, or null for 1
 * @param temperature KL temperature
 * @param kl          direction of the KL terms
 * @param gates       the IV authors' hard gates
 * @param referenceCacheTopK tokens per position the reference cache keeps (0: no cache; ≥ V: exact; see
 *                    {@link dev.ivkit.train.IvGuidedRegulariser})
 * @param referencePrecision precision of the reference pass's float32 GEMMs (null: {@link MatmulPrecision#FULL})
 */
public record IvGuidance(InstructionVector iv, Integer layer, TrainOptions.IvSite site,
        TrainOptions.IvScheduleKind schedule, Double alpha1, Double alpha2, Double alphaPr, double temperature,
        TrainOptions.Kl kl, boolean gates, int referenceCacheTopK, MatmulPrecision referencePrecision) {
    /**
     * Checks that the weights are only given with a vector.
     *
     * @param iv          the instruction vector, or null for plain LoRA
     * @param layer       layer the IV is added at, or null for the default
     * @param site        where the IV enters the reference pass
     * @param schedule    IV strength over training
     * @param alpha1      weight of the KL at the answer-predicting position, or null for the default
     * @param alpha2      weight of the KL over the real positions, or null for the default
     * @param alphaPr     weight of head preservation, or null for the default
     * @param temperature KL temperature
     * @param kl          direction of the KL terms
     * @param gates       the IV authors' hard gates
     * @param referenceCacheTopK tokens per position the reference cache keeps (0: no cache)
     * @param referencePrecision precision of the reference pass's float32 GEMMs, or null for full
     * @throws InvalidArgumentException naming {@code iv} when alpha1, alpha2 or alphaPr is set without a vector,
     *                                  naming {@code referenceCacheTopK} when it is negative
     */
    public IvGuidance {
        if (referenceCacheTopK < 0) {
            throw new InvalidArgumentException("referenceCacheTopK", "must be >= 0 (0: no cache), got " + referenceCacheTopK);
        }
        if (iv == null && (alpha1 != null || alpha2 != null || alphaPr != null)) {
            throw new InvalidArgumentException("iv", "alpha1 / alpha2 / alphaPr need an instruction vector");
        }
        referencePrecision = referencePrecision == null ? MatmulPrecision.FULL : referencePrecision;
    }

    /** @return whether a vector is given (training is IV-guided) */
    public boolean guided() {
        return iv != null;
    }

    /**
     * The IV-guidance setters of {@link TrainOptions.Builder}; each returns the concrete builder and documents its
     * default. Only ivkit's option builders extend it.
     *
     * @param <B> the concrete builder
     */
    public abstract static class Builder<B extends Builder<B>> extends TaskSpec.Builder<B> {
        private InstructionVector iv;
        private Integer ivLayer;
        private TrainOptions.IvSite ivSite = TrainOptions.IvSite.ATTN_OUT;
        private TrainOptions.IvScheduleKind ivSchedule = TrainOptions.IvScheduleKind.RAMP;
        private Double alpha1;
        private Double alpha2;
        private Double alphaPr;
        private double temperature = 2;
        private TrainOptions.Kl kl = TrainOptions.Kl.REVERSE;
        private boolean gates;
        private int referenceCacheTopK = dev.ivkit.train.IvGuidedRegulariser.DEFAULT_CACHE_TOP_K;
        private MatmulPrecision referencePrecision = MatmulPrecision.FULL;

        Builder(java.nio.file.Path task) {
            super(task);
        }

        /**
         * @param iv the instruction vector (from {@link IvkitModel#extractIv} or {@code InstructionVector.load}):
         *           makes training IV-guided; default none (plain LoRA). Not closed by training.
         * @return this builder
         */
        public B iv(InstructionVector iv) {
            this.iv = iv;
            return self();
        }

        /**
         * @param ivLayer layer the IV is added at; default the layer recorded in the IV's metadata, else layers / 3
         * @return this builder
         */
        public B ivLayer(int ivLayer) {
            this.ivLayer = ivLayer;
            return self();
        }

        /**
         * @param ivSite where the IV enters the reference pass; default {@link TrainOptions.IvSite#ATTN_OUT}
         * @return this builder
         */
        public B ivSite(TrainOptions.IvSite ivSite) {
            this.ivSite = Objects.requireNonNull(ivSite, "ivSite");
            return self();
        }

        /**
         * @param ivSchedule IV strength over training; default {@link TrainOptions.IvScheduleKind#RAMP}
         * @return this builder
         */
        public B ivSchedule(TrainOptions.IvScheduleKind ivSchedule) {
            this.ivSchedule = Objects.requireNonNull(ivSchedule, "ivSchedule");
            return self();
        }

        /**
         * @param alpha1 weight of the KL at the answer-predicting position (&ge; 0); default 20 (needs an IV)
         * @return this builder
         */
        public B alpha1(double alpha1) {
            this.alpha1 = alpha1;
            return self();
        }

        /**
         * @param alpha2 weight of the KL over the real positions (&ge; 0); default 0.1 (needs an IV)
         * @return this builder
         */
        public B alpha2(double alpha2) {
            this.alpha2 = alpha2;
            return self();
        }

        /**
         * @param alphaPr weight of head preservation (&ge; 0); default 1 (needs an IV)
         * @return this builder
         */
        public B alphaPr(double alphaPr) {
            this.alphaPr = alphaPr;
            return self();
        }

        /**
         * @param temperature KL temperature (&gt; 0); default 2
         * @return this builder
         */
        public B temperature(double temperature) {
            this.temperature = temperature;
            return self();
        }

        /**
         * @param kl direction of the KL terms; default {@link TrainOptions.Kl#REVERSE}
         * @return this builder
         */
        public B klDirection(TrainOptions.Kl kl) {
            this.kl = Objects.requireNonNull(kl, "klDirection");
            return self();
        }

        /**
         * @param gates the IV authors' hard gates (a KL term counts only above 0.1, a head's MSE above 0.01);
         *              default false
         * @return this builder
         */
        public B gates(boolean gates) {
            this.gates = gates;
            return self();
        }

        /**
         * @param referenceCacheTopK keep each example's reference distribution after its first visit: the top-k tokens
         *                           per position (plus the rest's mass), or full rows when k ≥ the vocabulary size
         *                           (exact; {@code Integer.MAX_VALUE} always); default 0 (no cache: a reference
         *                           forward every step)
         * @return this builder
         */
        public B referenceCacheTopK(int referenceCacheTopK) {
            this.referenceCacheTopK = referenceCacheTopK;
            return self();
        }

        /**
         * @param referencePrecision the reference pass's float32 GEMMs: {@link MatmulPrecision#REDUCED} uses bfloat16
         *                           products with float32 sums on CUDA and on CPUs with bfloat16 GEMMs; default
         *                           {@link MatmulPrecision#FULL}
         * @return this builder
         */
        public B referencePrecision(MatmulPrecision referencePrecision) {
            this.referencePrecision = Objects.requireNonNull(referencePrecision, "referencePrecision");
            return self();
        }

        /** @return the IV-guidance part as set so far (checked) */
        IvGuidance ivGuidance() {
            return new IvGuidance(iv, ivLayer, ivSite, ivSchedule, alpha1, alpha2, alphaPr, temperature, kl, gates,
                    referenceCacheTopK, referencePrecision);
        }
    }
}
