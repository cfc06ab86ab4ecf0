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

    /**
     * The fingerprint of a model's configuration and weights.
     *
     * @param model the model
     * @return 16 hex digits (the leading 64 bits of the SHA-256)
     */
    public static String of(LlamaModel model) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(describe(model.config()).getBytes(StandardCharsets.UTF_8));
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

    /**
     * The configuration as the record printed itself before eosIds and rope types existed, so fingerprints stored
     * with earlier IVs and adapters stay valid; what is new (a linear rope scaling, several eos ids) is appended.
     */
    static String describe(ModelConfig c) {
        RopeScaling r = c.ropeScaling();
        String rope = r == null ? "null" : r.type() == RopeScaling.Type.LLAMA3
                ? "RopeScaling[factor=" + r.factor() + ", lowFreqFactor=" + r.lowFreqFactor() + ", highFreqFactor="
                        + r.highFreqFactor() + ", originalMaxPositions=" + r.originalMaxPositions() + "]"
                : "RopeScaling[type=" + r.type() + ", factor=" + r.factor() + "]";
        return "ModelConfig[architecture=" + c.architecture() + ", dModel=" + c.dModel() + ", hiddenDim=" + c.hiddenDim()
                + ", nLayers=" + c.nLayers() + ", nHeads=" + c.nHeads() + ", nKvHeads=" + c.nKvHeads() + ", headDim="
                + c.headDim() + ", vocabSize=" + c.vocabSize() + ", maxSeqLen=" + c.maxSeqLen() + ", normEps=" + c.normEps()
                + ", ropeTheta=" + c.ropeTheta() + ", ropeStyle=" + c.ropeStyle() + ", ropeScaling=" + rope
                + ", tiedEmbeddings=" + c.tiedEmbeddings() + ", attentionBias=" + c.attentionBias() + ", bosId=" + c.bosId()
                + ", eosId=" + c.eosId() + (c.eosIds().size() > 1 ? ", eosIds=" + c.eosIds() : "") + "]";
    }

    private static void update(MessageDigest md, Tensor t) {
        float[] v = dev.ivkit.util.Torch.toFloatArray(t.to(torch.ScalarType.Float));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4);
        b.asFloatBuffer().put(v);
        md.update(b.array());
    }
}
