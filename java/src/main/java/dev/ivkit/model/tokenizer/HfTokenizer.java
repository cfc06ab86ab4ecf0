package dev.ivkit.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (BPE, byte-level BPE, Unigram, WordPiece, ...) run by DJL's binding of the
 * Rust {@code tokenizers} library, loaded from a local file only — never from the Hub, never over the network.
 *
 * <p><b>Special tokens.</b> Added tokens (e.g. Llama-3's {@code <|begin_of_text|>}, {@code <|eot_id|>}, Qwen's
 * {@code <|im_start|>}) that occur in the text are encoded as their single ids, with or without {@code addBos}.
 * {@link #decode(int[])} leaves out tokens marked {@code "special": true}; {@link #decode(int[], boolean)} can keep
 * them, so {@code decode(encode(s, false), false)} is {@code s} for byte-level BPE tokenizers (Llama-3, Qwen2,
 * GPT-2; Qwen2's NFC normaliser composes decomposed accents). Decoding never "cleans up tokenization spaces", whatever
 * {@code tokenizer_config.json} says.
 *
 * <p><b>BOS</b> ({@link #bosId()}, the id {@code encode(text, true)} puts first), first match wins:
 * <ol>
 *   <li>{@code "add_bos_token": false} in {@code tokenizer_config.json}: none;
 *   <li>the special token the {@code tokenizer.json} post-processor puts before the text (a
 *       {@code TemplateProcessing} such as Llama-3.x's {@code <|begin_of_text|> $A}, alone or inside a
 *       {@code Sequence}; the {@code cls} of a BERT/RoBERTa processor);
 *   <li>{@code bos_token} of {@code tokenizer_config.json}, then of {@code special_tokens_map.json}, next to the
 *       {@code tokenizer.json} (GPT-2 names {@code <|endoftext|>} there);
 *   <li>none (-1): e.g. Qwen2, whose post-processor adds nothing and whose config has {@code "bos_token": null}, and an
 *       early Llama-3 {@code tokenizer.json} (ByteLevel post-processor only) with no config beside it.
 * </ol>
 * {@link #encode} never lets the post-processor itself add anything (so no EOS/SEP is ever appended); with
 * {@code addBos} it prepends {@link #bosId()} — unless the text's own encoding already starts with it (the text
 * begins with {@code "<|begin_of_text|>"}), so there is never a doubled BOS from {@code addBos}. (Hugging Face's
 * {@code add_special_tokens=True} would give two there.) BOS tokens written twice in the text are both kept.
 *
 * <p><b>EOS</b> ({@link #eosId()}): {@code eos_token} of {@code tokenizer_config.json}, then of
 * {@code special_tokens_map.json}; without either, the first special added token among {@code <|end_of_text|>}
 * (Llama-3), {@code <|endoftext|>} (GPT-2, Qwen2), {@code </s>}, {@code <eos>}, {@code <|im_end|>},
 * {@code <|eot_id|>}; else -1. Chat models end turns with other tokens too ({@code <|eot_id|>}, {@code <|im_end|>}):
 * look them up with {@link #tokenId(String)}.
 *
 * <p>Thread-safe; {@link #close()} frees the native tokenizer.
 */
public final class HfTokenizer implements Tokenizer {

    static {
        // Must run before any DJL class is initialised: DJL otherwise contacts a cloud-metadata address on load.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    /** EOS candidates, in order, when no config file names one. */
    private static final List<String> EOS_NAMES =
            List.of("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>", "<|im_end|>", "<|eot_id|>");

    private final Path file;
    private final HuggingFaceTokenizer hf;
    private final int vocabSize;
    private final Map<String, Integer> ids;
    private final BitSet special;
    private final Special bos;
    private final Special eos;

    /** A special token, its id and where it was found ({@code token == null, id == -1} when there is none). */
    private record Special(String token, int id, String source) {
        static final Special NONE = new Special(null, -1, "none");
    }

    private HfTokenizer(Path file, HuggingFaceTokenizer hf, int vocabSize, Map<String, Integer> ids, BitSet special,
            Special bos, Special eos) {
        this.file = file;
        this.hf = hf;
        this.vocabSize = vocabSize;
        this.ids = ids;
        this.special = special;
        this.bos = bos;
        this.eos = eos;
    }

    /**
     * Loads {@code tokenizer.json} (or the {@code tokenizer.json} inside a directory), with the
     * {@code tokenizer_config.json} and {@code special_tokens_map.json} beside it when they exist.
     *
     * @throws ModelFormatException when the file is missing, is not valid JSON, or the tokenizers library rejects it
     */
    public static HfTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, null, "tokenizer.json does not exist");
        }
        JsonObject json = readJsonObject(file);
        Map<String, Integer> ids = new HashMap<>();
        BitSet special = new BitSet();
        int maxId = collectIds(file, json, ids, special);
        if (maxId < 0) {
            throw new ModelFormatException(file, "model.vocab", "tokenizer has an empty vocabulary");
        }

        Path dir = file.toAbsolutePath().getParent();
        JsonObject config = sidecar(dir, "tokenizer_config.json");
        JsonObject map = sidecar(dir, "special_tokens_map.json");
        Special bos = findBos(file, json, config, map, ids);
        Special eos = findEos(config, map, ids, special);

        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        options.put("cleanUpTokenization", "false");
        HuggingFaceTokenizer hf;
        try (var in = Files.newInputStream(file)) {
            hf = HuggingFaceTokenizer.newInstance(in, options);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file, null, "the tokenizers library cannot load it: " + e.getMessage(), e);
        }
        return new HfTokenizer(file, hf, maxId + 1, ids, special, bos, eos);
    }

    /** The tokenizer.json this was read from. */
    public Path file() {
        return file;
    }

    /** The BOS token text ({@link #bosId()}'s), or null when there is none. */
    public String bosToken() {
        return bos.token;
    }

    /** The EOS token text ({@link #eosId()}'s), or null when there is none. */
    public String eosToken() {
        return eos.token;
    }

    /**
     * Where {@link #bosId()} came from: {@code "post_processor"}, {@code "tokenizer_config.json"},
     * {@code "special_tokens_map.json"}, {@code "tokenizer_config.json add_bos_token=false"} or {@code "none"}.
     */
    public String bosSource() {
        return bos.source;
    }

    /** Id of a token of the vocabulary or an added token, exactly as written in tokenizer.json; -1 when absent. */
    public int tokenId(String token) {
        return ids.getOrDefault(token, -1);
    }

    /** Whether {@code id} is an added token marked {@code "special": true} (left out by {@link #decode(int[])}). */
    public boolean isSpecial(int id) {
        return id >= 0 && special.get(id);
    }

    @Override
    public int bosId() {
        return bos.id;
    }

    @Override
    public int eosId() {
        return eos.id;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /**
     * Token ids of {@code text}; added tokens written in it become their ids. With {@code addBos}, {@link #bosId()}
     * is put first when there is one and the text's own ids do not already start with it (see the class comment).
     */
    @Override
    public int[] encode(String text, boolean addBos) {
        if (text == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        Encoding enc = hf.encode(text, false, false);
        long[] ids = enc.getIds();
        int off = addBos && bos.id >= 0 && !(ids.length > 0 && ids[0] == bos.id) ? 1 : 0;
        int[] out = new int[ids.length + off];
        if (off == 1) {
            out[0] = bos.id;
        }
        for (int i = 0; i < ids.length; i++) {
            out[i + off] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Text of {@code ids}, special tokens left out ({@code decode(ids, true)}). */
    @Override
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /**
     * Text of {@code ids}; special tokens are left out when {@code skipSpecialTokens}, written as their text otherwise.
     * No clean-up of tokenization spaces.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new InvalidArgumentException("id", "token id " + ids[i] + " outside [0, " + vocabSize + ")");
            }
            l[i] = ids[i];
        }
        return l.length == 0 ? "" : hf.decode(l, skipSpecialTokens);
    }

    /**
     * {@code decode([prevId, id])} minus {@code decode([prevId])}, so the leading space of {@code id} is kept or
     * dropped as the tokenizer's decoder would do in context; {@code prevId < 0} means no context.
     */
    @Override
    public String decodePiece(int prevId, int id) {
        if (prevId < 0) {
            return decode(new int[] {id});
        }
        String before = decode(new int[] {prevId});
        String both = decode(new int[] {prevId, id});
        return both.startsWith(before) ? both.substring(before.length()) : decode(new int[] {id});
    }

    @Override
    public void close() {
        hf.close();
    }

    @Override
    public String toString() {
        return "HfTokenizer[" + file + ", vocab=" + vocabSize + ", bos=" + bos.id + " (" + bos.source + "), eos="
                + eos.id + " (" + eos.source + ")]";
    }

    private static JsonObject sidecar(Path dir, String name) {
        Path side = dir == null ? null : dir.resolve(name);
        return side != null && Files.isRegularFile(side) ? readJsonObject(side) : null;
    }

    private static Special findBos(Path file, JsonObject json, JsonObject config, JsonObject map,
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

    private static Special findEos(JsonObject config, JsonObject map, Map<String, Integer> ids, BitSet special) {
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
    private static Special named(JsonObject cfg, String key, String source, Map<String, Integer> ids) {
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
    private static Special leadingSpecial(Path file, JsonElement pp, Map<String, Integer> ids) {
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

    private static JsonObject readJsonObject(Path file) {
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
    private static int collectIds(Path file, JsonObject json, Map<String, Integer> ids, BitSet special) {
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
    private static String tokenContent(JsonElement e) {
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
