package dev.ivkit.model;

/**
 * Llama-3 style frequency scaling ({@code rope_scaling} with {@code rope_type: "llama3"} in config.json).
 * Wavelengths shorter than {@code originalMaxPositions / highFreqFactor} keep their frequency, longer than
 * {@code originalMaxPositions / lowFreqFactor} are divided by {@code factor}, and those between are interpolated.
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    /** Applies the scaling to the inverse frequencies (in place) and returns them. */
    public double[] apply(double[] invFreq) {
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
}
