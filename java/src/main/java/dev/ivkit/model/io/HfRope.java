package dev.ivkit.model.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.model.RopeScaling;
import java.util.Map;
import java.util.Set;

/**
 * The rotary-embedding settings of a Hugging Face config, in either layout:
 * <ul>
 *   <li>transformers 4: top-level {@code rope_theta} and an optional {@code rope_scaling} object;</li>
 *   <li>transformers 5: one {@code rope_parameters} object holding {@code rope_type}, {@code rope_theta} and the
 *       scaling parameters.</li>
 * </ul>
 * Where both layouts are present they must agree (a contradiction is an error naming both fields). rope types:
 * {@code default}; {@code linear} (factor); {@code dynamic} (factor, optional original_max_position_embeddings:
 * identical to default up to the original context, so the context is capped there); {@code llama3} (factor,
 * low_freq_factor, high_freq_factor, original_max_position_embeddings). Any other type (yarn, longrope, ...) and any
 * key of the rope object that the type does not define is an {@link UnsupportedException} naming the field: such a
 * setting would change the numbers, so it is never ignored.
 *
 * @param theta      the RoPE base
 * @param scaling    the frequency scaling, or null
 * @param contextCap the largest context at which the settings are exact (dynamic scaling), or 0 for no cap
 */
record HfRope(double theta, RopeScaling scaling, int contextCap) {
    static final double DEFAULT_THETA = 10000.0;

    private static final Set<String> COMMON = Set.of("rope_type", "type", "rope_theta");
    private static final Map<String, Set<String>> KEYS = Map.of(
            "default", Set.of(),
            "linear", Set.of("factor"),
            "dynamic", Set.of("factor", "original_max_position_embeddings"),
            "llama3", Set.of("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"));
    /** Keys of other rope types' parameter sets that change nothing when they hold their neutral value. */
    private static final Map<String, Double> NEUTRAL = Map.of("partial_rotary_factor", 1.0, "attention_factor", 1.0);

    static HfRope read(JsonFields cfg) {
        Double topTheta = cfg.has("rope_theta") ? cfg.reqDouble("rope_theta") : null;
        JsonObject params = cfg.optObject("rope_parameters");
        JsonObject scaling = cfg.optObject("rope_scaling");
        HfRope rope;
        if (params != null) {
            JsonFields p = new JsonFields(cfg.file(), perLayerType(cfg, params), "rope_parameters.");
            rope = block(p, topTheta != null ? topTheta : DEFAULT_THETA, "default");
            if (topTheta != null && topTheta != rope.theta) {
                throw cfg.error("rope_theta", "rope_theta " + topTheta + " contradicts rope_parameters.rope_theta " + rope.theta);
            }
            if (scaling != null) {
                HfRope old = block(new JsonFields(cfg.file(), scaling, "rope_scaling."), rope.theta, null);
                if (!old.equals(rope)) {
                    throw cfg.error("rope_scaling", "rope_scaling " + scaling + " contradicts rope_parameters " + params);
                }
            }
        } else {
            double theta = topTheta != null ? topTheta : DEFAULT_THETA;
            rope = scaling == null ? new HfRope(theta, null, 0)
                    : block(new JsonFields(cfg.file(), scaling, "rope_scaling."), theta, null);
        }
        if (!(rope.theta > 0)) {
            throw cfg.error(params != null ? "rope_parameters.rope_theta" : "rope_theta", "rope_theta must be positive, got " + rope.theta);
        }
        return rope;
    }

    /** transformers 5 may key rope_parameters by layer type ({"full_attention": {...}, ...}); all must agree. */
    private static JsonObject perLayerType(JsonFields cfg, JsonObject params) {
        boolean nested = !params.isEmpty() && params.entrySet().stream().allMatch(e -> e.getValue().isJsonObject());
        if (!nested) {
            return params;
        }
        JsonObject first = null;
        for (Map.Entry<String, JsonElement> e : params.entrySet()) {
            JsonObject v = e.getValue().getAsJsonObject();
            if (first != null && !first.equals(v)) {
                throw new UnsupportedException(cfg.file() + " [rope_parameters." + e.getKey() + "]: rope parameters that "
                        + "differ between layer types are not supported");
            }
            first = v;
        }
        return first;
    }

    /** One rope object; {@code dfltType} is used when it names no type (null: the type is required). */
    private static HfRope block(JsonFields b, double thetaFallback, String dfltType) {
        String type = b.optString("rope_type", null);
        String legacy = b.optString("type", null);
        if (type != null && legacy != null && !type.equals(legacy)) {
            throw b.error("type", b.name("type") + " '" + legacy + "' contradicts " + b.name("rope_type") + " '" + type + "'");
        }
        type = type != null ? type : legacy != null ? legacy : dfltType;
        if (type == null) {
            throw b.error("rope_type", "missing field " + b.name("rope_type"));
        }
        Set<String> allowed = KEYS.get(type);
        if (allowed == null) {
            throw new UnsupportedException(b.file() + " [" + b.name("rope_type") + "]: rope type '" + type
                    + "' is not implemented (ivkit implements default, linear, dynamic, llama3)");
        }
        for (String key : b.json().keySet()) {
            if (COMMON.contains(key) || allowed.contains(key) || !b.has(key)) {
                continue;
            }
            Double neutral = NEUTRAL.get(key);
            if (neutral != null && b.reqDouble(key) == neutral) {
                continue;
            }
            throw new UnsupportedException(b.file() + " [" + b.name(key) + "]: " + b.name(key) + "=" + b.json().get(key)
                    + " is not a parameter of rope type '" + type + "' that ivkit implements; it would change the model's numbers");
        }
        double theta = b.optDouble("rope_theta", thetaFallback);
        try {
            return switch (type) {
                case "default" -> new HfRope(theta, null, 0);
                case "linear" -> new HfRope(theta, RopeScaling.linear(b.reqDouble("factor")), 0);
                case "dynamic" -> {
                    if (!(b.reqDouble("factor") > 0)) {
                        throw new InvalidArgumentException("factor", "must be positive");
                    }
                    yield new HfRope(theta, null, b.optInt("original_max_position_embeddings", 0));
                }
                default -> new HfRope(theta, new RopeScaling(b.reqDouble("factor"), b.reqDouble("low_freq_factor"),
                        b.reqDouble("high_freq_factor"), b.reqInt("original_max_position_embeddings")), 0);
            };
        } catch (InvalidArgumentException e) {
            throw new dev.ivkit.ModelFormatException(b.file(), b.objectName(), "rope type '" + type + "': " + e.getMessage(), e);
        }
    }
}
