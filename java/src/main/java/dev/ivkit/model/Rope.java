package dev.ivkit.model;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embeddings. Tables cos/sin [max_pos, d_head/2] are computed in double and stored as float32;
 * {@link #apply} rotates [batch, pos, head, d_head] by per-row positions [batch, pos] in either pairing convention.
 */
final class Rope {
    private final RopeStyle style;
    private final int half;
    private final Tensor cos;  // [max_pos, d_head/2] float32
    private final Tensor sin;  // [max_pos, d_head/2] float32

    Rope(ModelConfig cfg, Device device) {
        this.style = cfg.ropeStyle();
        this.half = cfg.headDim() / 2;
        double[] invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = 1.0 / Math.pow(cfg.ropeTheta(), (2.0 * i) / cfg.headDim());
        }
        if (cfg.ropeScaling() != null) {
            cfg.ropeScaling().apply(invFreq);
        }
        int maxPos = cfg.maxSeqLen();
        float[] c = new float[maxPos * half];
        float[] s = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                // angle in float32 as llama2.c computes it (pos * freq in float), then cos/sin
                float angle = (float) p * (float) invFreq[i];
                c[p * half + i] = (float) Math.cos(angle);
                s[p * half + i] = (float) Math.sin(angle);
            }
        }
        Tensor cosHost = torch.tensor(c).reshape(maxPos, half);
        Tensor sinHost = torch.tensor(s).reshape(maxPos, half);
        if (device != null && !device.equals(Device.CPU)) {
            this.cos = cosHost.to(device.torch(), torch.ScalarType.Float);
            this.sin = sinHost.to(device.torch(), torch.ScalarType.Float);
            cosHost.close();
            sinHost.close();
        } else {
            this.cos = cosHost;
            this.sin = sinHost;
        }
    }

    /** cos/sin of per-row positions, gathered once per forward and shared by every layer's q and k. */
    record Angles(Tensor cos, Tensor sin) {}

    /**
     * @param positions [batch, pos] int64
     * @param dtype     the dtype of the tensors to rotate
     * @return cos/sin [batch, pos, 1, d_head/2] for {@link #apply(Tensor, Angles)}
     */
    Angles angles(Tensor positions, torch.ScalarType dtype) {
        long b = positions.size(0), t = positions.size(1);
        Tensor flat = positions.reshape(-1);
        return new Angles(Torch.rows(cos, flat).reshape(b, t, 1, half).to(dtype),
                Torch.rows(sin, flat).reshape(b, t, 1, half).to(dtype));
    }

    /** Rotates x [batch, pos, head, d_head] by angles of the same batch and positions; returns a copy, same dtype. */
    Tensor apply(Tensor x, Angles a) {
        long b = x.size(0), t = x.size(1), h = x.size(2), d = x.size(3);
        Tensor c = a.cos(), s = a.sin();
        if (style == RopeStyle.INTERLEAVED) {
            Tensor pairs = x.reshape(b, t, h, half, 2);
            Tensor x0 = pairs.select(4, 0), x1 = pairs.select(4, 1);
            Tensor r0 = x0.mul(c).sub(x1.mul(s));
            Tensor r1 = x0.mul(s).add(x1.mul(c));
            return torch.stack(new org.bytedeco.pytorch.TensorVector(r0, r1), 4).reshape(b, t, h, d);
        }
        Tensor x1 = x.narrow(3, 0, half), x2 = x.narrow(3, half, half);
        Tensor r1 = x1.mul(c).sub(x2.mul(s));
        Tensor r2 = x2.mul(c).add(x1.mul(s));
        return torch.cat(new org.bytedeco.pytorch.TensorVector(r1, r2), 3);
    }

    void close() {
        cos.close();
        sin.close();
    }
}
