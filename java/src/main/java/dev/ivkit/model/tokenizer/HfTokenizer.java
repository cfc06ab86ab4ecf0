package dev.ivkit.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (BPE, byte-level BPE, Unigram, WordPiece, ...) run by DJL's binding of the
 * Rust {@code tokenizers} library, loaded from a local file only — never from the Hub, never over the network.
 *
 * <p>BOS/EOS come from {@code tokenizer_config.json} (or else {@code special_tokens_map.json}) next to the
 * {@code tokenizer.json}; when neither names them they are -1. {@link #encode} never lets the tokenizer's
 * post-processor add special tokens: with {@code addBos} it prepends {@link #bosId()} itself (if there is one).
 * Decoding skips special tokens and does not "clean up tokenization spaces", so {@code decode(encode(s))} is
 * {@code s} for byte-level BPE tokenizers. Thread-safe; {@link #close()} frees the native tokenizer.
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

    private final Path file;
    private final HuggingFaceTokenizer hf;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final String bosToken;
    private final String eosToken;

    private HfTokenizer(Path file, HuggingFaceTokenizer hf, int vocabSize, String bosToken, int bosId,
            String eosToken, int eosId) {
        this.file = file;
        this.hf = hf;
        this.vocabSize = vocabSize;
        this.bosToken = bosToken;
        this.bosId = bosId;
        this.eosToken = eosToken;
        this.eosId = eosId;
    }

    /**
     * Loads {@code tokenizer.json} (or the {@code tokenizer.json} inside a directory).
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
        int maxId = collectIds(file, json, ids);
        if (maxId < 0) {
            throw new ModelFormatException(file, "model.vocab", "tokenizer has an empty vocabulary");
        }

        Path dir = file.toAbsolutePath().getParent();
        String bos = null;
        String eos = null;
        for (String name : new String[] {"tokenizer_config.json", "special_tokens_map.json"}) {
            Path side = dir == null ? null : dir.resolve(name);
            if (side != null && Files.isRegularFile(side)) {
                JsonObject cfg = readJsonObject(side);
                bos = bos != null ? bos : tokenContent(cfg.get("bos_token"));
                eos = eos != null ? eos : tokenContent(cfg.get("eos_token"));
            }
        }
        int bosId = bos == null ? -1 : ids.getOrDefault(bos, -1);
        int eosId = eos == null ? -1 : ids.getOrDefault(eos, -1);

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
        return new HfTokenizer(file, hf, maxId + 1, bos, bosId, eos, eosId);
    }

    /** The tokenizer.json this was read from. */
    public Path file() {
        return file;
    }

    /** The BOS token text from the tokenizer config, or null. */
    public String bosToken() {
        return bosToken;
    }

    /** The EOS token text from the tokenizer config, or null. */
    public String eosToken() {
        return eosToken;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        if (text == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        Encoding enc = hf.encode(text, false, false);
        long[] ids = enc.getIds();
        int off = addBos && bosId >= 0 ? 1 : 0;
        int[] out = new int[ids.length + off];
        if (off == 1) {
            out[0] = bosId;
        }
        for (int i = 0; i < ids.length; i++) {
            out[i + off] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new InvalidArgumentException("id", "token id " + ids[i] + " outside [0, " + vocabSize + ")");
            }
            l[i] = ids[i];
        }
        return hf.decode(l, true);
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
        return "HfTokenizer[" + file + ", vocab=" + vocabSize + ", bos=" + bosId + ", eos=" + eosId + "]";
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

    /** Fills token → id from model.vocab and added_tokens; returns the largest id (-1 when none). */
    private static int collectIds(Path file, JsonObject json, Map<String, Integer> ids) {
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
                    maxId = Math.max(maxId, id);
                }
            }
        } catch (IllegalStateException | UnsupportedOperationException | NullPointerException
                | ClassCastException | NumberFormatException e) {
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
