package dev.ivkit.model.io;

import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** A tiny Llama-shaped config and random weights for checkpoint tests. Call inside a PointerScope. */
final class TinyModels {
    private TinyModels() {}

    /** d_model 8, SwiGLU 12, 2 layers, 2 query heads sharing 1 kv head of width 4, vocab 10. */
    static ModelConfig config(boolean bias, boolean tied, RopeStyle style) {
        return new ModelConfig(bias ? "qwen2" : "llama", 8, 12, 2, 2, 1, 4, 10, 32, 1e-5, 10000.0, style, null, tied,
                bias, 1, 2);
    }

    static LinkedHashMap<String, Tensor> weights(ModelConfig cfg, long seed) {
        torch.manual_seed(seed);
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : HfCheckpoint.expectedShapes(cfg).entrySet()) {
            w.put(e.getKey(), torch.randn(e.getValue()));
        }
        return w;
    }

    /** Writes config.json + model.safetensors with exactly these tensors (no validation). */
    static void writeRaw(Path dir, ModelConfig cfg, LinkedHashMap<String, Tensor> w) {
        HfConfig.write(dir, cfg.withRopeStyle(RopeStyle.HALF));
        Safetensors.write(dir.resolve(HfCheckpoint.WEIGHTS), w, Map.of("format", "pt"));
    }
}
