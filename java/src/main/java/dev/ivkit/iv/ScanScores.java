package dev.ivkit.iv;

/**
 * Causal indirect effects of every head for a set of prompts.
 *
 * @param dProb [prompt][layer][head]: P(first answer token | patched) − P(… | unpatched)
 * @param dNll  [prompt][layer][head]: mean answer NLL patched − unpatched
 * @param cleanProb [prompt]: unpatched P(first answer token)
 * @param cleanNll  [prompt]: unpatched mean answer NLL
 */
public record ScanScores(double[][][] dProb, double[][][] dNll, double[] cleanProb, double[] cleanNll) {
    /**
     * The number of prompts scanned.
     *
     * @return the length of the prompt dimension
     */
    public int prompts() {
        return dProb.length;
    }

    /**
     * The number of layers scanned.
     *
     * @return the length of the layer dimension
     */
    public int layers() {
        return dProb[0].length;
    }

    /**
     * The number of heads per layer scanned.
     *
     * @return the length of the head dimension
     */
    public int heads() {
        return dProb[0][0].length;
    }

    /**
     * Mean over prompts of Δ probability (the CIE map; Todd's AIE).
     *
     * @return a new [layer][head] array
     */
    public double[][] meanDProb() {
        return mean(dProb);
    }

    /**
     * Mean over prompts of Δ NLL.
     *
     * @return a new [layer][head] array
     */
    public double[][] meanDNll() {
        return mean(dNll);
    }

    static double[][] mean(double[][][] x) {
        int n = x.length, L = x[0].length, H = x[0][0].length;
        double[][] m = new double[L][H];
        for (double[][] p : x) {
            for (int l = 0; l < L; l++) {
                for (int h = 0; h < H; h++) {
                    m[l][h] += p[l][h] / n;
                }
            }
        }
        return m;
    }
}
