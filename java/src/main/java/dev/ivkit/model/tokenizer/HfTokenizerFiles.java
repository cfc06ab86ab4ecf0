package dev.ivkit.model.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * What {@link HfTokenizer} reads from a {@code tokenizer.json} and the files beside it: the vocabulary and added
 * tokens (which are special), and where BOS and EOS come from (post-processor, tokenizer_config.json,
 * special_tokens_map.json, the usual EOS names), each a {@link ModelFormatException} naming the file and field when
 * malformed.
 */
final class HfTokenizerFiles {
    private HfTokenizerFiles() {}

    /** EOS candidates, in order, when no config file names one. */
    static final List<String> EOS_NAMES =
            List.of("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>", "<|im_end|>", "<|eot_id|>");

    /** A special token, its id and where it was found ({@code token == null, id == -1} when there is none). */
    record Special(String token, int id, String source) {
        static final Special NONE = new Special(null, -1, "none");
    }

    static JsonObject sidecar(Path dir, String name) {
        Path side = dir == null ? null : dir.resolve(name);
        return side != null && Files.isRegularFile(side) ? readJsonObject(side) : null;
    }

    static Special findBos(Path file, JsonObject json, JsonObject config, JsonObject map,
            Map<String, Integer> ids) {
        if (config != null && config.get("add_bos_token") instanceof JsonPrimitive p && p.isBoolean()
                && !p.getAsBoolean()) {
            return new Special(null, -1, "tokenizer_config.json add_bos_token=false");
        }
        Special fromTemplate = leadingSpecial(file, json.get("post_processor"), ids);
        if (fromTemplate != null) {
            return fromTemplate;
        }
        Special s = named(config, "bos_token", "tokenizer_config.json", ids);
        s = s != null ? s : named(map, "bos_token", "special_tokens_map.json", ids);
        return s != null ? s : Special.NONE;
    }

    static Special findEos(JsonObject config, JsonObject map, Map<String, Integer> ids, BitSet special) {
        Special s = named(config, "eos_token", "tokenizer_config.json", ids);
        s = s != null ? s : named(map, "eos_token", "special_tokens_map.json", ids);
        if (s != null) {
            return s;
        }
        for (String name : EOS_NAMES) {
            Integer id = ids.get(name);
            if (id != null && special.get(id)) {
                return new Special(name, id, "added token " + name);
            }
        }
        return Special.NONE;
    }

    /** {@code cfg[key]} when it names a token of the vocabulary, else null. */
    static Special named(JsonObject cfg, String key, String source, Map<String, Integer> ids) {
        String token = cfg == null ? null : tokenContent(cfg.get(key));
        Integer id = token == null ? null : ids.get(token);
        return id == null ? null : new Special(token, id, source);
    }

    /**
     * The special token a post-processor puts before the text of a single sequence: the first item of a
     * {@code TemplateProcessing}'s {@code single} template when it is a {@code SpecialToken} (not the {@code $A}
     * sequence), the {@code cls} token of a {@code BertProcessing}/{@code RobertaProcessing}, the first such token of
     * a {@code Sequence}'s processors; null when it puts none. A template token that stands for several ids is not
     * a BOS (null).
     */
    static Special leadingSpecial(Path file, JsonElement pp, Map<String, Integer> ids) {
        if (pp == null || !pp.isJsonObject()) {
            return null;
        }
        JsonObject o = pp.getAsJsonObject();
        String type = o.get("type") instanceof JsonPrimitive t ? t.getAsString() : "";
        try {
            switch (type) {
                case "Sequence" -> {
                    JsonElement procs = o.get("processors");
                    if (procs != null && procs.isJsonArray()) {
                        for (JsonElement p : procs.getAsJsonArray()) {
                            Special s = leadingSpecial(file, p, ids);
                            if (s != null) {
                                return s;
                            }
                        }
                    }
                    return null;
                }
                case "TemplateProcessing" -> {
                    JsonElement single = o.get("single");
                    String token = null;
                    if (single != null && single.isJsonArray() && !single.getAsJsonArray().isEmpty()) {
                        JsonObject first = single.getAsJsonArray().get(0).getAsJsonObject();
                        if (first.has("SpecialToken")) {
                            token = first.getAsJsonObject("SpecialToken").get("id").getAsString();
                        }
                    }
                    if (token == null) {
                        return null;
                    }
                    JsonElement specials = o.get("special_tokens");
                    if (specials != null && specials.isJsonObject() && specials.getAsJsonObject().has(token)) {
                        JsonArray tokIds = specials.getAsJsonObject().getAsJsonObject(token).getAsJsonArray("ids");
                        return tokIds.size() == 1 ? new Special(token, tokIds.get(0).getAsInt(), "post_processor") : null;
                    }
                    Integer id = ids.get(token);
                    return id == null ? null : new Special(token, id, "post_processor");
                }
                case "BertProcessing", "RobertaProcessing" -> {
                    JsonArray cls = o.getAsJsonArray("cls"); // ["[CLS]", 101]
                    return new Special(cls.get(0).getAsString(), cls.get(1).getAsInt(), "post_processor");
                }
                default -> {
                    return null;
                }
            }
        } catch (IllegalStateException | UnsupportedOperationException | NullPointerException | ClassCastException
                | IndexOutOfBoundsException | NumberFormatException e) {
            throw new ModelFormatException(file, "post_processor", "malformed " + type + ": " + e, e);
        }
    }

    static JsonObject readJsonObject(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) {
                throw new ModelFormatException(file, null, "not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e, e);
        } catch (JsonParseException e) {
            throw new ModelFormatException(file, null, "invalid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Fills token → id from model.vocab and added_tokens, and {@code special} with the ids of added tokens marked
     * {@code "special": true}; returns the largest id (-1 when none).
     */
    static int collectIds(Path file, JsonObject json, Map<String, Integer> ids, BitSet special) {
        int maxId = -1;
        try {
            JsonElement model = json.get("model");
            if (model == null || !model.isJsonObject()) {
                throw new ModelFormatException(file, "model", "missing or not an object");
            }
            JsonElement vocab = model.getAsJsonObject().get("vocab");
            if (vocab != null && vocab.isJsonObject()) { // BPE, WordPiece, WordLevel: {token: id}
                for (Map.Entry<String, JsonElement> e : vocab.getAsJsonObject().entrySet()) {
                    int id = e.getValue().getAsInt();
                    ids.putIfAbsent(e.getKey(), id);
                    maxId = Math.max(maxId, id);
                }
            } else if (vocab != null && vocab.isJsonArray()) { // Unigram: [[piece, score], ...], id = index
                JsonArray arr = vocab.getAsJsonArray();
                for (int i = 0; i < arr.size(); i++) {
                    ids.putIfAbsent(arr.get(i).getAsJsonArray().get(0).getAsString(), i);
                }
                maxId = arr.size() - 1;
            } else {
                throw new ModelFormatException(file, "model.vocab", "missing or of unknown shape");
            }
            JsonElement added = json.get("added_tokens");
            if (added != null && added.isJsonArray()) {
                for (JsonElement t : added.getAsJsonArray()) {
                    JsonObject o = t.getAsJsonObject();
                    int id = o.get("id").getAsInt();
                    ids.put(o.get("content").getAsString(), id);
                    if (o.get("special") instanceof JsonPrimitive p && p.isBoolean() && p.getAsBoolean()) {
                        special.set(id);
                    }
                    maxId = Math.max(maxId, id);
                }
            }
        } catch (IllegalStateException | UnsupportedOperationException | NullPointerException
                | ClassCastException | NumberFormatException | IndexOutOfBoundsException e) {
            throw new ModelFormatException(file, "model.vocab", "malformed vocabulary: " + e, e);
        }
        return maxId;
    }

    /** {@code "<s>"} or {@code {"content": "<s>", ...}} → {@code "<s>"}; anything else → null. */
    static String tokenContent(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonPrimitive()) {
            return e.getAsString();
        }
        if (e.isJsonObject() && e.getAsJsonObject().has("content")) {
            JsonElement c = e.getAsJsonObject().get("content");
            return c.isJsonPrimitive() ? c.getAsString() : null;
        }
        return null;
    }
}
