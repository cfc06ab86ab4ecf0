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

    private final Path file;
    private final HuggingFaceTokenizer hf;
    private final int vocabSize;
    private final Map<String, Integer> ids;
    private final BitSet special;
    private final HfTokenizerFiles.Special bos;
    private final HfTokenizerFiles.Special eos;

    private HfTokenizer(Path file, HuggingFaceTokenizer hf, int vocabSize, Map<String, Integer> ids, BitSet special,
            HfTokenizerFiles.Special bos, HfTokenizerFiles.Special eos) {
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
     * @param path {@code tokenizer.json}, or a directory holding it
     * @return the tokenizer
     * @throws ModelFormatException when the file is missing, is not valid JSON, or the tokenizers library rejects it
     */
    public static HfTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, null, "tokenizer.json does not exist");
        }
        JsonObject json = HfTokenizerFiles.readJsonObject(file);
        Map<String, Integer> ids = new HashMap<>();
        BitSet special = new BitSet();
        int maxId = HfTokenizerFiles.collectIds(file, json, ids, special);
        if (maxId < 0) {
            throw new ModelFormatException(file, "model.vocab", "tokenizer has an empty vocabulary");
        }

        Path dir = file.toAbsolutePath().getParent();
        JsonObject config = HfTokenizerFiles.sidecar(dir, "tokenizer_config.json");
        JsonObject map = HfTokenizerFiles.sidecar(dir, "special_tokens_map.json");
        HfTokenizerFiles.Special bos = HfTokenizerFiles.findBos(file, json, config, map, ids);
        HfTokenizerFiles.Special eos = HfTokenizerFiles.findEos(config, map, ids, special);

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

    /**
     * The tokenizer.json this was read from.
     *
     * @return the file's path
     */
    public Path file() {
        return file;
    }

    /**
     * The BOS token text ({@link #bosId()}'s), or null when there is none.
     *
     * @return the BOS text, or null
     */
    public String bosToken() {
        return bos.token();
    }

    /**
     * The EOS token text ({@link #eosId()}'s), or null when there is none.
     *
     * @return the EOS text, or null
     */
    public String eosToken() {
        return eos.token();
    }

    /**
     * Where {@link #bosId()} came from: {@code "post_processor"}, {@code "tokenizer_config.json"},
     * {@code "special_tokens_map.json"}, {@code "tokenizer_config.json add_bos_token=false"} or {@code "none"}.
     *
     * @return the source of the BOS id
     */
    public String bosSource() {
        return bos.source();
    }

    /**
     * Id of a token of the vocabulary or an added token, exactly as written in tokenizer.json; -1 when absent.
     *
     * @param token a token as written in tokenizer.json
     * @return its id, or -1
     */
    public int tokenId(String token) {
        return ids.getOrDefault(token, -1);
    }

    /**
     * Whether {@code id} is an added token marked {@code "special": true} (left out by {@link #decode(int[])}).
     *
     * @param id a token id
     * @return true for a special added token
     */
    public boolean isSpecial(int id) {
        return id >= 0 && special.get(id);
    }

    @Override
    public int bosId() {
        return bos.id();
    }

    @Override
    public int eosId() {
        return eos.id();
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
        int off = addBos && bos.id() >= 0 && !(ids.length > 0 && ids[0] == bos.id()) ? 1 : 0;
        int[] out = new int[ids.length + off];
        if (off == 1) {
            out[0] = bos.id();
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
     *
     * @param ids token ids
     * @param skipSpecialTokens leave special tokens out
     * @return the text
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
        return "HfTokenizer[" + file + ", vocab=" + vocabSize + ", bos=" + bos.id() + " (" + bos.source() + "), eos="
                + eos.id() + " (" + eos.source() + ")]";
    }
}
