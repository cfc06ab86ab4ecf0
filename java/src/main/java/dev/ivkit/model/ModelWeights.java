package dev.ivkit.model;

import static dev.ivkit.model.WeightNames.*;

import dev.ivkit.IvkitException;
import dev.ivkit.util.Torch;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Weight handling behind {@link LlamaModel}'s constructor: the dtype/device conversion of the weights it takes over,
 * and their assembly into {@link DecoderBlocks.Layer}s.
 */
final class ModelWeights {
    private ModelWeights() {}

    /**
     * The weights in {@code dtype} on {@code target}, one tensor at a time: a tensor already there is kept, any other
     * is converted and the original closed.
     *
     * @return the converted weights in the map's order (unmodifiable)
     */
    static Map<String, Tensor> convert(Map<String, Tensor> weights, torch.ScalarType dtype, Device target) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.entrySet()) {
            Tensor t = e.getValue();
            if (Torch.dtype(t) != dtype || !Device.of(t).equals(target)) {
                Tensor converted = t.to(target.torch(), dtype);
                t.close();
                t = converted;
            }
            w.put(e.getKey(), t);
        }
        return Collections.unmodifiableMap(w);
    }

    /** Every decoder layer's weights (biases only when the config has them). */
    static DecoderBlocks.Layer[] layers(ModelConfig cfg, Map<String, Tensor> w) {
        DecoderBlocks.Layer[] layers = new DecoderBlocks.Layer[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            boolean bias = cfg.attentionBias();
            layers[l] = new DecoderBlocks.Layer(require(w, attnNorm(l)), require(w, q(l)), require(w, k(l)), require(w, v(l)),
                    bias ? require(w, qBias(l)) : null, bias ? require(w, kBias(l)) : null, bias ? require(w, vBias(l)) : null,
                    require(w, o(l)), require(w, mlpNorm(l)), require(w, gate(l)), require(w, up(l)), require(w, down(l)));
        }
        return layers;
    }

    /** The weight called {@code name}; a missing one is an {@link IvkitException} naming it. */
    static Tensor require(Map<String, Tensor> w, String name) {
        Tensor t = w.get(name);
        if (t == null) {
            throw new IvkitException("missing weight " + name);
        }
        return t;
    }
}
