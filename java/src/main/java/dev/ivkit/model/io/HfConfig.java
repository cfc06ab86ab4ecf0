package dev.ivkit.model.io;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeScaling;
import dev.ivkit.model.RopeStyle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import java.util.ArrayList;
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
 * Rotary settings come from either layout, transformers 4's rope_theta/rope_scaling or transformers 5's
 * rope_parameters ({@link HfRope}); eos_token_id may be a list. Every top-level key is either read, known to leave
 * the numbers alone, or refused ({@link HfConfigKeys}): a setting that could change the numbers is never ignored.
 * A missing or malformed field is a {@link ModelFormatException} naming config.json and the field; a valid setting
 * ivkit's model cannot run (another rope type, o_proj/MLP biases, an activation other than SiLU) is an
 * {@link UnsupportedException} naming both too.
 */
public final class HfConfig {
    /** The file name of a Hugging Face model's configuration. */
    public static final String FILE_NAME = "config.json";

    private HfConfig() {}

    /**
     * Reads {@code dir/config.json} (or the file itself when {@code path} is a file).
     *
     * @param path the model directory, or the config file itself
     * @return the configuration
     * @throws ModelFormatException naming the file and key when the config is missing, malformed or unsupported
     */
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
        HfConfigKeys.check(file, o.keySet());
        JsonFields f = new JsonFields(file, o, "");

        int hidden = f.reqInt("hidden_size");
        int inter = f.reqInt("intermediate_size");
        int layers = f.reqInt("num_hidden_layers");
        int heads = f.reqInt("num_attention_heads");
        int vocab = f.reqInt("vocab_size");
        int maxPos = f.reqInt("max_position_embeddings");
        int kvHeads = f.optInt("num_key_value_heads", heads);
        if (heads <= 0) {
            throw f.error("num_attention_heads", "must be positive, got " + heads);
        }
        int headDim = f.optInt("head_dim", hidden / heads);
        double eps = f.optDouble("rms_norm_eps", 1e-6);
        boolean tied = f.optBool("tie_word_embeddings", false);
        weightDtype(f);
        neutral(f, "partial_rotary_factor", 1.0, "partial rotary embeddings are not implemented");
        neutral(f, "attention_dropout", 0.0, "ivkit's attention has no dropout");
        if (f.optInt("pretraining_tp", 1) < 1) {
            throw f.error("pretraining_tp", "must be >= 1, got " + o.get("pretraining_tp"));
        }
        if (f.optBool("use_mrope", false)) {
            throw new UnsupportedException(file + " [use_mrope]: multimodal rotary embeddings (Qwen2-VL) are not supported");
        }
        if (f.has("quantization_config")) {
            throw new UnsupportedException(file + " [quantization_config]: quantized checkpoints are not supported "
                    + "(bf16, fp16 or fp32 weights only)");
        }

        boolean bias;
        if (family.equals("qwen2")) {
            bias = true; // Qwen2Attention: q/k/v with bias, o without
        } else {
            if (f.optBool("attention_bias", false)) {
                throw new UnsupportedException(file + " [attention_bias]: attention_bias=true gives o_proj a bias too, "
                        + "which ivkit's model does not have");
            }
            bias = false;
        }
        if (f.optBool("mlp_bias", false)) {
            throw new UnsupportedException(file + " [mlp_bias]: MLP biases are not supported");
        }
        String act = f.optString("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new UnsupportedException(file + " [hidden_act]: activation '" + act + "' is not supported (only silu)");
        }
        maxPos = slidingWindowCap(f, family, layers, maxPos);

        HfRope rope = HfRope.read(f);
        if (rope.contextCap() > 0 && rope.contextCap() < maxPos) {
            maxPos = rope.contextCap(); // dynamic NTK scaling is the default rope up to here
        }
        int bos = tokenId(f, "bos_token_id");
        List<Integer> eos = tokenIds(f, "eos_token_id");
        try {
            return new ModelConfig(family, hidden, inter, layers, heads, kvHeads, headDim, vocab, maxPos, eps, rope.theta(),
                    RopeStyle.HALF, rope.scaling(), tied, bias, bos, eos.isEmpty() ? -1 : eos.get(0), eos);
        } catch (InvalidArgumentException e) {
            throw new ModelFormatException(file, e.field(), "inconsistent config: " + e.getMessage(), e);
        }
    }

    /**
     * Sliding-window attention (Mistral v0.1, Qwen2 with use_sliding_window, "sliding_attention" layer_types) is not
     * implemented: the context is capped at the window, where full attention and sliding-window attention agree.
     */
    private static int slidingWindowCap(JsonFields f, String family, int layers, int maxPos) {
        boolean sliding = family.equals("qwen2") ? f.optBool("use_sliding_window", false) : true;
        if (f.has("layer_types")) {
            JsonElement lt = f.json().get("layer_types");
            if (!lt.isJsonArray() || lt.getAsJsonArray().size() != layers) {
                throw f.error("layer_types", "layer_types must be an array of " + layers + " strings, got " + lt);
            }
            boolean anySliding = false;
            for (JsonElement e : lt.getAsJsonArray()) {
                String t = e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
                if ("sliding_attention".equals(t)) {
                    anySliding = true;
                } else if (!"full_attention".equals(t)) {
                    throw new UnsupportedException(f.file() + " [layer_types]: layer type " + e
                            + " is not supported (full_attention, sliding_attention)");
                }
            }
            if (anySliding && !f.has("sliding_window")) {
                throw f.error("sliding_window", "layer_types has sliding_attention layers but sliding_window is not set");
            }
            sliding = sliding || anySliding;
        }
        if (sliding && f.has("sliding_window")) {
            int window = f.reqInt("sliding_window");
            if (window > 0 && window < maxPos) {
                return window;
            }
        }
        return maxPos;
    }

    /** {@code torch_dtype} (transformers 4) or {@code dtype} (transformers 5): a known name, the same in both. */
    private static String weightDtype(JsonFields f) {
        String a = f.optString("torch_dtype", null);
        String b = f.optString("dtype", null);
        if (a != null && b != null && !a.equals(b)) {
            throw f.error("dtype", "dtype '" + b + "' contradicts torch_dtype '" + a + "'");
        }
        String d = b != null ? b : a;
        if (d != null && !List.of("float32", "bfloat16", "float16", "float64", "auto").contains(d)) {
            throw f.error(b != null ? "dtype" : "torch_dtype", "unknown weight dtype '" + d
                    + "' (float32, bfloat16, float16, float64)");
        }
        return d;
    }

    /** A numeric setting ivkit supports only at its neutral value. */
    private static void neutral(JsonFields f, String key, double value, String why) {
        if (f.has(key) && f.reqDouble(key) != value) {
            throw new UnsupportedException(f.file() + " [" + key + "]: " + key + "=" + f.json().get(key) + " is not supported: " + why);
        }
    }

    private static String family(Path file, JsonObject o) {
        String type = new JsonFields(file, o, "").optString("model_type", null);
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

    private static int tokenId(JsonFields f, String key) {
        List<Integer> ids = tokenIds(f, key);
        return ids.isEmpty() ? -1 : ids.get(0);
    }

    /** A token id or a list of them (eos_token_id of Llama-3.1 lists three); empty when absent. */
    private static List<Integer> tokenIds(JsonFields f, String key) {
        if (!f.has(key)) {
            return List.of();
        }
        JsonElement el = f.json().get(key);
        List<JsonElement> items = new ArrayList<>();
        if (el.isJsonArray()) {
            el.getAsJsonArray().forEach(items::add);
        } else {
            items.add(el);
        }
        List<Integer> ids = new ArrayList<>();
        for (JsonElement item : items) {
            Long v = JsonFields.exactLong(item);
            if (v == null || v < 0 || v > Integer.MAX_VALUE) {
                throw f.error(key, key + " is not a token id: " + el);
            }
            if (!ids.contains(v.intValue())) {
                ids.add(v.intValue());
            }
        }
        return ids;
    }

    // ---- writing --------------------------------------------------------------------------------------------

    /**
     * {@link #write(Path, ModelConfig, ScalarType)} with torch_dtype float32.
     *
     * @param dir the folder to write into
     * @param cfg the configuration (rotate-half RoPE)
     */
    public static void write(Path dir, ModelConfig cfg) {
        write(dir, cfg, ScalarType.Float);
    }

    /**
     * Writes {@code dir/config.json} for transformers' LlamaForCausalLM (Qwen2ForCausalLM when the config has q/k/v
     * biases, which Llama's attention_bias cannot express). The config must use {@link RopeStyle#HALF}: Hugging Face
     * models always rotate halves, so interleaved weights must be permuted first ({@link HfCheckpoint#write} does).
     *
     * @param dir the folder to write into
     * @param cfg the configuration (rotate-half RoPE)
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
            r.addProperty("rope_type", s.type().configName());
            r.addProperty("factor", s.factor());
            if (s.type() == RopeScaling.Type.LLAMA3) {
                r.addProperty("low_freq_factor", s.lowFreqFactor());
                r.addProperty("high_freq_factor", s.highFreqFactor());
                r.addProperty("original_max_position_embeddings", s.originalMaxPositions());
            }
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
        if (cfg.eosIds().size() == 1) {
            o.addProperty("eos_token_id", cfg.eosId());
        } else if (cfg.eosIds().size() > 1) {
            JsonArray eos = new JsonArray();
            cfg.eosIds().forEach(eos::add);
            o.add("eos_token_id", eos);
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
