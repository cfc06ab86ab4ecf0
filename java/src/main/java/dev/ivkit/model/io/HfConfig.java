package dev.ivkit.model.io;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeScaling;
import dev.ivkit.model.RopeStyle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import java.util.List;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Hugging Face {@code config.json} of Llama, Mistral and Qwen2 models, to and from {@link ModelConfig}.
 *
 * <p>Reading: {@code model_type} llama / mistral / qwen2, or any type whose {@code architectures} names
 * LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM. Required: hidden_size, intermediate_size,
 * num_hidden_layers, num_attention_heads, vocab_size, max_position_embeddings. Defaults as in transformers:
 * num_key_value_heads = num_attention_heads, head_dim = hidden_size / num_attention_heads, rms_norm_eps = 1e-6,
 * rope_theta = 10000, tie_word_embeddings = false, no rope scaling. The style is always {@link RopeStyle#HALF}.
 * A missing or malformed field is a {@link ModelFormatException} naming config.json and the field; a valid setting
 * ivkit's model cannot run (another rope type, o_proj/MLP biases, an activation other than SiLU) is an
 * {@link UnsupportedException} naming both too.
 */
public final class HfConfig {
    public static final String FILE_NAME = "config.json";

    private HfConfig() {}

    /** Reads {@code dir/config.json} (or the file itself when {@code path} is a file). */
    public static ModelConfig read(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, null, "file not found", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ModelFormatException(file, null, "not valid UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        JsonObject o;
        try {
            JsonElement el = JsonParser.parseString(text);
            if (!el.isJsonObject()) {
                throw new ModelFormatException(file, null, "not a JSON object");
            }
            o = el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ModelFormatException(file, null, "not valid JSON: " + e.getMessage(), e);
        }
        return parse(file, o);
    }

    static ModelConfig parse(Path file, JsonObject o) {
        String family = family(file, o);

        int hidden = reqInt(file, o, "hidden_size");
        int inter = reqInt(file, o, "intermediate_size");
        int layers = reqInt(file, o, "num_hidden_layers");
        int heads = reqInt(file, o, "num_attention_heads");
        int vocab = reqInt(file, o, "vocab_size");
        int maxPos = reqInt(file, o, "max_position_embeddings");
        int kvHeads = optInt(file, o, "num_key_value_heads", heads);
        if (heads <= 0) {
            throw new ModelFormatException(file, "num_attention_heads", "must be positive, got " + heads);
        }
        int headDim = optInt(file, o, "head_dim", hidden / heads);
        double eps = optDouble(file, o, "rms_norm_eps", 1e-6);
        double theta = optDouble(file, o, "rope_theta", 10000.0);
        boolean tied = optBool(file, o, "tie_word_embeddings", false);

        boolean bias;
        if (family.equals("qwen2")) {
            bias = true; // Qwen2Attention: q/k/v with bias, o without
        } else {
            if (optBool(file, o, "attention_bias", false)) {
                throw new UnsupportedException(file + " [attention_bias]: attention_bias=true gives o_proj a bias too, "
                        + "which ivkit's model does not have");
            }
            bias = false;
        }
        if (optBool(file, o, "mlp_bias", false)) {
            throw new UnsupportedException(file + " [mlp_bias]: MLP biases are not supported");
        }
        String act = optString(file, o, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new UnsupportedException(file + " [hidden_act]: activation '" + act + "' is not supported (only silu)");
        }
        // Sliding-window attention (Mistral v0.1, Qwen2 with use_sliding_window) is not implemented: the context is
        // capped at the window, where full attention and sliding-window attention agree.
        boolean sliding = family.equals("qwen2") ? optBool(file, o, "use_sliding_window", false) : true;
        if (sliding && o.has("sliding_window") && !o.get("sliding_window").isJsonNull()) {
            int window = reqInt(file, o, "sliding_window");
            if (window > 0 && window < maxPos) {
                maxPos = window;
            }
        }

        RopeScaling scaling = ropeScaling(file, o);
        int bos = tokenId(file, o, "bos_token_id");
        int eos = tokenId(file, o, "eos_token_id");
        try {
            return new ModelConfig(family, hidden, inter, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta,
                    RopeStyle.HALF, scaling, tied, bias, bos, eos);
        } catch (InvalidArgumentException e) {
            throw new ModelFormatException(file, e.field(), "inconsistent config: " + e.getMessage(), e);
        }
    }

    private static String family(Path file, JsonObject o) {
        String type = optString(file, o, "model_type", null);
        if (type != null && List.of("llama", "mistral", "qwen2").contains(type)) {
            return type;
        }
        JsonElement arch = o.get("architectures");
        if (arch != null && arch.isJsonArray()) {
            for (JsonElement a : arch.getAsJsonArray()) {
                if (a.isJsonPrimitive()) {
                    switch (a.getAsString()) {
                        case "LlamaForCausalLM": return "llama";
                        case "MistralForCausalLM": return "mistral";
                        case "Qwen2ForCausalLM": return "qwen2";
                        default: break;
                    }
                }
            }
        }
        if (type == null && arch == null) {
            throw new ModelFormatException(file, "model_type", "missing field model_type (and no architectures)");
        }
        throw new UnsupportedException(file + " [model_type]: model_type '" + type + "' / architectures " + arch
                + " is not supported (llama, mistral, qwen2)");
    }

    private static RopeScaling ropeScaling(Path file, JsonObject o) {
        JsonElement el = o.get("rope_scaling");
        if (el == null || el.isJsonNull()) {
            return null;
        }
        if (!el.isJsonObject()) {
            throw new ModelFormatException(file, "rope_scaling", "rope_scaling is not an object");
        }
        JsonObject r = el.getAsJsonObject();
        String type = optString(file, r, "rope_type", null);
        if (type == null) {
            type = optString(file, r, "type", null);
        }
        if (type == null) {
            throw new ModelFormatException(file, "rope_scaling.rope_type", "missing field rope_scaling.rope_type");
        }
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("llama3")) {
            throw new UnsupportedException(file + " [rope_scaling.rope_type]: unsupported rope scaling type '" + type + "' (only llama3)");
        }
        double factor = reqDouble(file, r, "factor", "rope_scaling.");
        double low = reqDouble(file, r, "low_freq_factor", "rope_scaling.");
        double high = reqDouble(file, r, "high_freq_factor", "rope_scaling.");
        int orig = reqInt(file, r, "original_max_position_embeddings", "rope_scaling.");
        if (!(factor > 0) || !(low > 0) || !(high > low) || orig <= 0) {
            throw new ModelFormatException(file, "rope_scaling", "llama3 rope_scaling needs factor > 0, "
                    + "0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0, got " + r);
        }
        return new RopeScaling(factor, low, high, orig);
    }

    private static int tokenId(Path file, JsonObject o, String key) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            return -1;
        }
        if (el.isJsonArray()) {
            JsonArray a = el.getAsJsonArray();
            if (a.isEmpty()) {
                return -1;
            }
            el = a.get(0);
        }
        Long v = exactLong(el);
        if (v == null || v < 0 || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, key, key + " is not a token id: " + o.get(key));
        }
        return v.intValue();
    }

    // ---- typed field access ---------------------------------------------------------------------------------

    private static Long exactLong(JsonElement el) {
        if (el == null || !el.isJsonPrimitive() || !((JsonPrimitive) el).isNumber()) {
            return null;
        }
        try {
            return new BigDecimal(el.getAsString()).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            return null;
        }
    }

    private static int reqInt(Path file, JsonObject o, String key) {
        return reqInt(file, o, key, "");
    }

    private static int reqInt(Path file, JsonObject o, String key, String prefix) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            throw new ModelFormatException(file, prefix + key, "missing field " + prefix + key);
        }
        Long v = exactLong(el);
        if (v == null || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, prefix + key, prefix + key + " is not an int: " + el);
        }
        return v.intValue();
    }

    private static int optInt(Path file, JsonObject o, String key, int dflt) {
        JsonElement el = o.get(key);
        return el == null || el.isJsonNull() ? dflt : reqInt(file, o, key);
    }

    private static double reqDouble(Path file, JsonObject o, String key, String prefix) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            throw new ModelFormatException(file, prefix + key, "missing field " + prefix + key);
        }
        if (!el.isJsonPrimitive() || !((JsonPrimitive) el).isNumber()) {
            throw new ModelFormatException(file, prefix + key, prefix + key + " is not a number: " + el);
        }
        return el.getAsDouble();
    }

    private static double optDouble(Path file, JsonObject o, String key, double dflt) {
        JsonElement el = o.get(key);
        return el == null || el.isJsonNull() ? dflt : reqDouble(file, o, key, "");
    }

    private static boolean optBool(Path file, JsonObject o, String key, boolean dflt) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            return dflt;
        }
        if (!el.isJsonPrimitive() || !((JsonPrimitive) el).isBoolean()) {
            throw new ModelFormatException(file, key, key + " is not a boolean: " + el);
        }
        return el.getAsBoolean();
    }

    private static String optString(Path file, JsonObject o, String key, String dflt) {
        JsonElement el = o.get(key);
        if (el == null || el.isJsonNull()) {
            return dflt;
        }
        if (!el.isJsonPrimitive() || !((JsonPrimitive) el).isString()) {
            throw new ModelFormatException(file, key, key + " is not a string: " + el);
        }
        return el.getAsString();
    }

    // ---- writing --------------------------------------------------------------------------------------------

    /** {@link #write(Path, ModelConfig, ScalarType)} with torch_dtype float32. */
    public static void write(Path dir, ModelConfig cfg) {
        write(dir, cfg, ScalarType.Float);
    }

    /**
     * Writes {@code dir/config.json} for transformers' LlamaForCausalLM (Qwen2ForCausalLM when the config has q/k/v
     * biases, which Llama's attention_bias cannot express). The config must use {@link RopeStyle#HALF}: Hugging Face
     * models always rotate halves, so interleaved weights must be permuted first ({@link HfCheckpoint#write} does).
     *
     * @param dtype written as torch_dtype (the dtype of the weights next to it)
     */
    public static void write(Path dir, ModelConfig cfg, ScalarType dtype) {
        if (cfg.ropeStyle() != RopeStyle.HALF) {
            throw new InvalidArgumentException("ropeStyle", "Hugging Face configs imply rotate-half RoPE; permute the "
                    + "q/k weights and use withRopeStyle(HALF) (see RopePermutation / HfCheckpoint.write)");
        }
        String torchDtype = switch (dtype.intern()) {
            case Float -> "float32";
            case BFloat16 -> "bfloat16";
            case Half -> "float16";
            case Double -> "float64";
            default -> throw new InvalidArgumentException("dtype", "unsupported weight dtype " + dtype);
        };
        boolean qwen = cfg.attentionBias();
        JsonObject o = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        o.add("architectures", arch);
        o.addProperty("model_type", qwen ? "qwen2" : "llama");
        o.addProperty("hidden_size", cfg.dModel());
        o.addProperty("intermediate_size", cfg.hiddenDim());
        o.addProperty("num_hidden_layers", cfg.nLayers());
        o.addProperty("num_attention_heads", cfg.nHeads());
        o.addProperty("num_key_value_heads", cfg.nKvHeads());
        o.addProperty("head_dim", cfg.headDim());
        o.addProperty("vocab_size", cfg.vocabSize());
        o.addProperty("max_position_embeddings", cfg.maxSeqLen());
        o.addProperty("rms_norm_eps", cfg.normEps());
        o.addProperty("rope_theta", cfg.ropeTheta());
        if (cfg.ropeScaling() != null) {
            RopeScaling s = cfg.ropeScaling();
            JsonObject r = new JsonObject();
            r.addProperty("rope_type", "llama3");
            r.addProperty("factor", s.factor());
            r.addProperty("low_freq_factor", s.lowFreqFactor());
            r.addProperty("high_freq_factor", s.highFreqFactor());
            r.addProperty("original_max_position_embeddings", s.originalMaxPositions());
            o.add("rope_scaling", r);
        } else {
            o.add("rope_scaling", com.google.gson.JsonNull.INSTANCE);
        }
        o.addProperty("tie_word_embeddings", cfg.tiedEmbeddings());
        if (qwen) {
            o.addProperty("use_sliding_window", false);
        } else {
            o.addProperty("attention_bias", false);
            o.addProperty("mlp_bias", false);
            o.addProperty("pretraining_tp", 1);
        }
        o.addProperty("attention_dropout", 0.0);
        o.addProperty("hidden_act", "silu");
        o.addProperty("initializer_range", 0.02);
        if (cfg.bosId() >= 0) {
            o.addProperty("bos_token_id", cfg.bosId());
        }
        if (cfg.eosId() >= 0) {
            o.addProperty("eos_token_id", cfg.eosId());
        }
        o.addProperty("torch_dtype", torchDtype);
        o.addProperty("use_cache", true);
        String json = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create().toJson(o) + "\n";
        writeAtomically(dir.resolve(FILE_NAME), json.getBytes(StandardCharsets.UTF_8));
    }

    static void writeAtomically(Path file, byte[] bytes) {
        dev.ivkit.util.AtomicFiles.write(file, bytes);
    }
}
