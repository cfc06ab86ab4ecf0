package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;

/**
 * Rotary frequency scaling of a checkpoint ({@code rope_scaling} in transformers 4 configs, the scaling part of
 * {@code rope_parameters} in transformers 5).
 *
 * <ul>
 *   <li>{@link Type#LLAMA3}: wavelengths shorter than {@code originalMaxPositions / highFreqFactor} keep their
 *       frequency, longer than {@code originalMaxPositions / lowFreqFactor} are divided by {@code factor}, and those
 *       between are interpolated (transformers' {@code _compute_llama3_parameters}).</li>
 *   <li>{@link Type#LINEAR}: every inverse frequency is divided by {@code factor} (position interpolation; the
 *       same as dividing positions by {@code factor}). The other fields are unused (0).</li>
 * </ul>
 * "default" is no scaling (null); "dynamic" NTK scaling equals the default up to the original context length, so
 * {@link dev.ivkit.model.io.HfConfig} reads it as null with the context capped there.
 *
 * @param type                  the scaling rule
 * @param factor                scale factor (&gt; 0)
 * @param lowFreqFactor         llama3 only
 * @param highFreqFactor        llama3 only
 * @param originalMaxPositions  llama3 only: the pre-training context length
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
        int originalMaxPositions) {

    /** The scaling rules ivkit implements. */
    public enum Type {
        /** Llama-3's frequency-dependent scaling. */
        LLAMA3,
        /** Every frequency divided by the factor (position interpolation). */
        LINEAR;

        /**
         * The {@code rope_type} string of transformers' configs.
         *
         * @return {@code "llama3"} or {@code "linear"}
         */
        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Checks the fields the rule needs.
     *
     * @param type                 the scaling rule
     * @param factor               scale factor, positive and finite
     * @param lowFreqFactor        llama3 only
     * @param highFreqFactor       llama3 only
     * @param originalMaxPositions llama3 only: the pre-training context length
     * @throws InvalidArgumentException when a field the rule needs is missing or out of range
     */
    public RopeScaling {
        if (type == null) {
            throw new InvalidArgumentException("ropeScaling.type", "must be set");
        }
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new InvalidArgumentException("ropeScaling.factor", "must be a positive finite number, got " + factor);
        }
        if (type == Type.LLAMA3 && (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0)) {
            throw new InvalidArgumentException("ropeScaling", "llama3 scaling needs 0 < low_freq_factor < high_freq_factor "
                    + "and original_max_position_embeddings > 0, got low " + lowFreqFactor + ", high " + highFreqFactor
                    + ", original " + originalMaxPositions);
        }
    }

    /**
     * Llama-3 scaling (the canonical constructor with {@link Type#LLAMA3}).
     *
     * @param factor               scale factor of long wavelengths
     * @param lowFreqFactor        wavelengths longer than {@code originalMaxPositions / lowFreqFactor} are scaled
     * @param highFreqFactor       wavelengths shorter than {@code originalMaxPositions / highFreqFactor} are kept
     * @param originalMaxPositions the pre-training context length
     */
    public RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        this(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
    }

    /**
     * Linear (position-interpolation) scaling by {@code factor}.
     *
     * @param factor scale factor
     * @return the scaling
     */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }

    /**
     * Applies the scaling to the inverse frequencies (in place) and returns them.
     *
     * @param invFreq the inverse frequencies of one head's dimension pairs
     * @return {@code invFreq}, scaled
     */
    public double[] apply(double[] invFreq) {
        if (type == Type.LINEAR) {
            for (int i = 0; i < invFreq.length; i++) {
                invFreq[i] = invFreq[i] / factor;
            }
            return invFreq;
        }
        double lowWavelen = originalMaxPositions / lowFreqFactor;
        double highWavelen = originalMaxPositions / highFreqFactor;
        for (int i = 0; i < invFreq.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen < highWavelen) {
                continue;
            }
            if (wavelen > lowWavelen) {
                invFreq[i] = invFreq[i] / factor;
            } else {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                invFreq[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
            }
        }
        return invFreq;
    }

    @Override
    public String toString() {
        return type == Type.LINEAR ? "linear(factor " + factor + ")"
                : "llama3(factor " + factor + ", low " + lowFreqFactor + ", high " + highFreqFactor + ", original "
                        + originalMaxPositions + ")";
    }
}
