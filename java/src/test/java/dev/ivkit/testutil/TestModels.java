package dev.ivkit.testutil;

import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import dev.ivkit.model.WeightNames;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Small random Llama models for tests (seeded, so every run builds the same weights). */
public final class TestModels {
    private TestModels() {}

    /** A grouped-query model: d_model 64, 3 layers, 4 query heads, 2 kv heads, d_head 16, vocab 512, untied head. */
    public static ModelConfig gqaConfig() {
        return new ModelConfig("llama", 64, 96, 3, 4, 2, 16, 512, 256, 1e-5, 10000.0, RopeStyle.HALF, null, false, false, 1, 2);
    }

    public static LlamaModel random(ModelConfig c, long seed) {
        torch.manual_seed(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        long d = c.dModel(), q = (long) c.nHeads() * c.headDim(), kv = (long) c.nKvHeads() * c.headDim();
        w.put(WeightNames.EMBED, rnd(1.0, c.vocabSize(), d));
        w.put(WeightNames.FINAL_NORM, torch.ones(d));
        if (!c.tiedEmbeddings()) {
            w.put(WeightNames.LM_HEAD, rnd(1 / Math.sqrt(d), c.vocabSize(), d));
        }
        for (int l = 0; l < c.nLayers(); l++) {
            w.put(WeightNames.attnNorm(l), torch.rand(d).add(new Scalar(0.5)));
            w.put(WeightNames.mlpNorm(l), torch.rand(d).add(new Scalar(0.5)));
            w.put(WeightNames.q(l), rnd(1 / Math.sqrt(d), q, d));
            w.put(WeightNames.k(l), rnd(1 / Math.sqrt(d), kv, d));
            w.put(WeightNames.v(l), rnd(1 / Math.sqrt(d), kv, d));
            w.put(WeightNames.o(l), rnd(1 / Math.sqrt(q), d, q));
            w.put(WeightNames.gate(l), rnd(1 / Math.sqrt(d), c.hiddenDim(), d));
            w.put(WeightNames.up(l), rnd(1 / Math.sqrt(d), c.hiddenDim(), d));
            w.put(WeightNames.down(l), rnd(1 / Math.sqrt(c.hiddenDim()), d, c.hiddenDim()));
            if (c.attentionBias()) {
                w.put(WeightNames.qBias(l), rnd(0.1, q));
                w.put(WeightNames.kBias(l), rnd(0.1, kv));
                w.put(WeightNames.vBias(l), rnd(0.1, kv));
            }
        }
        return new LlamaModel(c, w, torch.ScalarType.Float);
    }

    /**
     * Writes config.json + model.safetensors of a seeded random model for {@code cfg} in Hugging Face names (std
     * {@code std}), after {@code edit} has changed the tensors as it likes (nothing is validated: tests damage files so).
     */
    public static java.nio.file.Path writeHf(java.nio.file.Path dir, ModelConfig c, double std,
            java.util.function.Consumer<LinkedHashMap<String, Tensor>> edit) {
        try (org.bytedeco.javacpp.PointerScope s = new org.bytedeco.javacpp.PointerScope()) {
            torch.manual_seed(1);
            LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : dev.ivkit.model.io.HfCheckpoint.expectedShapes(c).entrySet()) {
                w.put(e.getKey(), rnd(std, e.getValue()));
            }
            edit.accept(w);
            dev.ivkit.model.io.HfConfig.write(dir, c);
            dev.ivkit.model.io.Safetensors.write(dir.resolve(dev.ivkit.model.io.HfCheckpoint.WEIGHTS), w, Map.of("format", "pt"));
        }
        return dir;
    }

    private static Tensor rnd(double std, long... shape) {
        return torch.randn(shape).mul(new Scalar(std));
    }
}
