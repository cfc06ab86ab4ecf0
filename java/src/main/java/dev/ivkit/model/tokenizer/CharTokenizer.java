package dev.ivkit.model.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A character-level tokenizer over a small fixed vocabulary: one id per single character, plus multi-character
 * special tokens (e.g. {@code <pad>}, {@code <s>}, task tokens such as {@code [upper]}) matched longest-first
 * wherever they occur in the text. Used by the model organism ({@code dev.ivkit.organism}).
 *
 * <p>Stored as {@value #FILE_NAME}: {@code {"type": "ivkit-char", "tokens": [...], "bos_id": n, "eos_id": n,
 * "pad_id": n}} with the tokens in id order; {@link Tokenizer#load(Path)} recognises the file or a directory holding
 * it.
 */
public final class CharTokenizer implements Tokenizer {
    /** The file name the organism's vocabulary is stored under. */
    public static final String FILE_NAME = "organism_tokenizer.json";
    static final String TYPE = "ivkit-char";

    private final List<String> tokens;
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> multi = new ArrayList<>();
    private final int bosId, eosId, padId;

    /**
     * A tokenizer over {@code tokens}.
     *
     * @param tokens the vocabulary in id order (no duplicates, none empty)
     * @param bosId  id of BOS (or -1)
     * @param eosId  id of EOS (or -1)
     * @param padId  id of the padding token (or -1)
     */
    public CharTokenizer(List<String> tokens, int bosId, int eosId, int padId) {
        this.tokens = List.copyOf(tokens);
        for (int i = 0; i < this.tokens.size(); i++) {
            String t = this.tokens.get(i);
            if (t.isEmpty() || ids.put(t, i) != null) {
                throw new InvalidArgumentException("tokens", "empty or duplicate token '" + t + "' at id " + i);
            }
            if (t.length() > 1) {
                multi.add(t);
            }
        }
        multi.sort((a, b) -> b.length() - a.length());
        for (int id : new int[] {bosId, eosId, padId}) {
            if (id < -1 || id >= this.tokens.size()) {
                throw new InvalidArgumentException("tokens", "special id " + id + " is outside the vocabulary");
            }
        }
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
    }

    /**
     * Reads {@value #FILE_NAME} (or a directory holding it).
     *
     * @param path the file, or a directory holding it
     * @return the tokenizer
     * @throws ModelFormatException when the file is missing or not a valid vocabulary
     */
    public static CharTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
        try {
            JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            if (!o.has("type") || !TYPE.equals(o.get("type").getAsString())) {
                throw new ModelFormatException(file, "type", "not an ivkit character tokenizer (type must be \"" + TYPE + "\")");
            }
            List<String> toks = new ArrayList<>();
            for (JsonElement e : o.getAsJsonArray("tokens")) {
                toks.add(e.getAsString());
            }
            return new CharTokenizer(toks, o.get("bos_id").getAsInt(), o.get("eos_id").getAsInt(), o.get("pad_id").getAsInt());
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof ModelFormatException m) {
                throw m;
            }
            throw new ModelFormatException(file, null, "malformed character tokenizer: " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code dir/}{@value #FILE_NAME} atomically.
     *
     * @param dir the directory to write into
     */
    public void save(Path dir) {
        JsonObject o = new JsonObject();
        o.addProperty("type", TYPE);
        JsonArray a = new JsonArray();
        tokens.forEach(a::add);
        o.add("tokens", a);
        o.addProperty("bos_id", bosId);
        o.addProperty("eos_id", eosId);
        o.addProperty("pad_id", padId);
        AtomicFiles.writeString(dir.resolve(FILE_NAME), new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n");
    }

    /**
     * Id of a token (a character or a special token).
     *
     * @param token a character or a special token
     * @return its id
     */
    public int id(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new InvalidArgumentException("token", "'" + token + "' is not in the vocabulary");
        }
        return id;
    }

    /**
     * The token of {@code id}.
     *
     * @param id a token id in [0, vocabSize())
     * @return the character or special token
     */
    public String token(int id) {
        return tokens.get(id);
    }

    /**
     * The vocabulary in id order.
     *
     * @return the tokens (unmodifiable)
     */
    public List<String> tokens() {
        return tokens;
    }

    /**
     * Id of the padding token.
     *
     * @return the padding id, or -1
     */
    public int padId() {
        return padId;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        int[] out = new int[text.length() + 1];
        int n = 0;
        if (addBos && bosId >= 0) {
            out[n++] = bosId;
        }
        int i = 0;
        outer:
        while (i < text.length()) {
            for (String m : multi) {
                if (text.startsWith(m, i)) {
                    out[n++] = ids.get(m);
                    i += m.length();
                    continue outer;
                }
            }
            Integer id = ids.get(String.valueOf(text.charAt(i)));
            if (id == null) {
                throw new InvalidArgumentException("text", "character '" + text.charAt(i) + "' (U+"
                        + String.format("%04X", (int) text.charAt(i)) + ") is not in the vocabulary");
            }
            out[n++] = id;
            i++;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id != bosId && id != eosId && id != padId) {
                sb.append(tokens.get(id));
            }
        }
        return sb.toString();
    }

    @Override
    public String decodePiece(int prevId, int id) {
        return id == bosId || id == eosId || id == padId ? "" : tokens.get(id);
    }

    @Override
    public StreamingDecoder streamingDecoder(int prevId) {
        return new StreamingDecoder() {
            @Override
            public String next(int id) {
                return decodePiece(-1, id);
            }

            @Override
            public String flush() {
                return "";
            }
        };
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
        return tokens.size();
    }
}
