package dev.ivkit.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A short identity of a model's weights, stored with instruction vectors and adapters so they are not applied to
 * another model: SHA-256 over the configuration and, for every weight (by name), its shape, dtype and up to 4096
 * leading and trailing float32 values. Cheap even for 7B models; two different checkpoints collide only if they
 * agree on all of that.
 */
public final class ModelFingerprint {
    private ModelFingerprint() {}

    public static String of(LlamaModel model) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(model.config().toString().getBytes(StandardCharsets.UTF_8));
            Map<String, Tensor> sorted = new TreeMap<>(model.weights());
            for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
                Tensor flat = e.getValue().reshape(-1);
                md.update((e.getKey() + dev.ivkit.util.Torch.shape(e.getValue()) + dev.ivkit.util.Torch.dtype(e.getValue()))
                        .getBytes(StandardCharsets.UTF_8));
                long n = flat.numel(), k = Math.min(n, 4096);
                update(md, flat.narrow(0, 0, k));
                update(md, flat.narrow(0, n - k, k));
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest md, Tensor t) {
        float[] v = dev.ivkit.util.Torch.toFloatArray(t.to(torch.ScalarType.Float));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4);
        b.asFloatBuffer().put(v);
        md.update(b.array());
    }
}
