package dev.ivkit.testutil;

import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.WeightNames;
import dev.ivkit.util.Torch;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A Llama forward pass written out in plain Java doubles, one token row at a time, as an independent reference for
 * the libtorch model: RMSNorm, q/k/v (+ biases), rotate-half RoPE with the inverse frequencies the caller gives,
 * causal grouped-query softmax attention, o_proj, SwiGLU, final norm, lm_head. Slow; for models of a few thousand
 * parameters.
 */
public final class ReferenceForward {
    private final ModelConfig c;
    private final Map<String, Tensor> w;
    private final double[] invFreq;

    /** @param invFreq d_head/2 inverse frequencies (already scaled), pairing dimension i with i + d_head/2 */
    public ReferenceForward(ModelConfig c, Map<String, Tensor> weights, double[] invFreq) {
        if (invFreq.length != c.headDim() / 2) {
            throw new IllegalArgumentException("need " + c.headDim() / 2 + " frequencies");
        }
        this.c = c;
        this.w = weights;
        this.invFreq = invFreq;
    }

    private double[][] mat(String name) {
        Tensor t = w.get(name);
        long[] s = Torch.sizes(t);
        float[] f = Torch.toFloatArray(t.contiguous());
        double[][] m = new double[(int) s[0]][(int) s[1]];
        for (int i = 0; i < s[0]; i++) {
            for (int j = 0; j < s[1]; j++) {
                m[i][j] = f[(int) (i * s[1] + j)];
            }
        }
        return m;
    }

    private double[] vec(String name) {
        float[] f = Torch.toFloatArray(w.get(name));
        double[] v = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            v[i] = f[i];
        }
        return v;
    }

    private static double[] mul(double[][] m, double[] x) {
        double[] y = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            double s = 0;
            for (int j = 0; j < x.length; j++) {
                s += m[i][j] * x[j];
            }
            y[i] = s;
        }
        return y;
    }

    private double[] rmsNorm(double[] x, double[] g) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + c.normEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * r * g[i];
        }
        return y;
    }

    private void rope(double[] x, int heads, int pos) {
        int d = c.headDim(), half = d / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double a = pos * invFreq[i], x1 = x[h * d + i], x2 = x[h * d + i + half];
                x[h * d + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
                x[h * d + i + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
            }
        }
    }

    private static void add(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
    }

    /** Logits [pos][vocab] of one sequence at positions 0..n-1. */
    public double[][] logits(long[] ids) {
        int n = ids.length, d = c.headDim(), hq = c.nHeads(), hkv = c.nKvHeads();
        double[][] emb = mat(WeightNames.EMBED);
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = emb[(int) ids[t]].clone();
        }
        for (int l = 0; l < c.nLayers(); l++) {
            double[][] wq = mat(WeightNames.q(l)), wk = mat(WeightNames.k(l)), wv = mat(WeightNames.v(l));
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], vec(WeightNames.attnNorm(l)));
                q[t] = mul(wq, h);
                k[t] = mul(wk, h);
                v[t] = mul(wv, h);
                if (c.attentionBias()) {
                    add(q[t], vec(WeightNames.qBias(l)));
                    add(k[t], vec(WeightNames.kBias(l)));
                    add(v[t], vec(WeightNames.vBias(l)));
                }
                rope(q[t], hq, t);
                rope(k[t], hkv, t);
            }
            double[][] wo = mat(WeightNames.o(l));
            for (int t = 0; t < n; t++) {
                double[] z = new double[hq * d];
                for (int h = 0; h < hq; h++) {
                    int g = h / c.groupSize();
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double dot = 0;
                        for (int i = 0; i < d; i++) {
                            dot += q[t][h * d + i] * k[u][g * d + i];
                        }
                        s[u] = dot / Math.sqrt(d);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) {
                        s[u] = Math.exp(s[u] - max);
                        sum += s[u];
                    }
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < d; i++) {
                            z[h * d + i] += s[u] / sum * v[u][g * d + i];
                        }
                    }
                }
                add(x[t], mul(wo, z));
            }
            double[][] gate = mat(WeightNames.gate(l)), up = mat(WeightNames.up(l)), down = mat(WeightNames.down(l));
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], vec(WeightNames.mlpNorm(l)));
                double[] a = mul(gate, h), b = mul(up, h);
                for (int i = 0; i < a.length; i++) {
                    a[i] = a[i] / (1 + Math.exp(-a[i])) * b[i];
                }
                add(x[t], mul(down, a));
            }
        }
        double[][] head = mat(c.tiedEmbeddings() ? WeightNames.EMBED : WeightNames.LM_HEAD);
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = mul(head, rmsNorm(x[t], vec(WeightNames.FINAL_NORM)));
        }
        return out;
    }
}
