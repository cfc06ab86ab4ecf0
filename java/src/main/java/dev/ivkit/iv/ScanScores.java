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
    public int prompts() {
        return dProb.length;
    }

    public int layers() {
        return dProb[0].length;
    }

    public int heads() {
        return dProb[0][0].length;
    }

    /** Mean over prompts of Δ probability: [layer][head] (the CIE map; Todd's AIE). */
    public double[][] meanDProb() {
        return mean(dProb);
    }

    /** Mean over prompts of Δ NLL: [layer][head]. */
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
