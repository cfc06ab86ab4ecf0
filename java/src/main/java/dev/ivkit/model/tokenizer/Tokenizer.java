package dev.ivkit.model.tokenizer;

import dev.ivkit.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Text ⇄ token ids for a causal language model.
 *
 * <p>Three implementations: {@link Llama2cTokenizer} (llama2.c's binary {@code tokenizer.bin} / {@code tok512.bin}),
 * {@link HfTokenizer} (a Hugging Face {@code tokenizer.json}) and {@link CharTokenizer} (the model organism's
 * {@code organism_tokenizer.json}). {@link #load(Path)} picks one by file.
 */
public interface Tokenizer extends AutoCloseable {

    /**
     * Token ids of {@code text}. With {@code addBos} the model's BOS id is put first (when the tokenizer has one,
     * that is {@link #bosId()} &ge; 0); no EOS is ever appended. {@link HfTokenizer} puts no second BOS before a text
     * that itself begins with the BOS token (e.g. {@code "<|begin_of_text|>..."}).
     *
     * @param text the text to encode
     * @param addBos put the BOS id first (when there is one)
     * @return the token ids
     */
    int[] encode(String text, boolean addBos);

    /**
     * Text of a whole id sequence; BOS/EOS (and other special tokens where the format knows them) are left out.
     *
     * @param ids token ids
     * @return their text
     */
    String decode(int[] ids);

    /**
     * Text of one generated token {@code id} that follows {@code prevId} (pass {@link #bosId()} for the first
     * generated token). A multi-byte character split over several tokens cannot be represented by a single piece
     * (it comes out as U+FFFD); use {@link #streamingDecoder(int)} for correct streaming output.
     *
     * @param prevId the token before {@code id}
     * @param id the generated token
     * @return the token's text after {@code prevId}
     */
    String decodePiece(int prevId, int id);

    /**
     * Id of the beginning-of-sequence token, or -1 when the tokenizer defines none.
     *
     * @return the BOS id, or -1
     */
    int bosId();

    /**
     * Id of the end-of-sequence token, or -1 when the tokenizer defines none.
     *
     * @return the EOS id, or -1
     */
    int eosId();

    /**
     * Number of token ids (largest id + 1).
     *
     * @return the vocabulary size
     */
    int vocabSize();

    /**
     * A stateful decoder for a stream of generated ids that only emits complete characters. {@code prevId} is the
     * token preceding the first id fed to it (normally {@link #bosId()}, or the last prompt token).
     *
     * @param prevId the token before the first id fed to the decoder
     * @return a new decoder
     */
    default StreamingDecoder streamingDecoder(int prevId) {
        return new TextDiffStreamingDecoder(this, prevId);
    }

    /** Frees native resources, if any (the Hugging Face tokenizer holds some); a no-op by default. */
    @Override
    default void close() {}

    /**
     * Loads a tokenizer: a {@code *.json} file, or a directory holding {@code tokenizer.json}, is read as a Hugging
     * Face tokenizer; a file named {@code organism_tokenizer.json}, or a directory holding one (and no
     * {@code tokenizer.json}), as a {@link CharTokenizer}; a directory holding {@code tokenizer.bin} and any other file
     * are read as llama2.c tokenizer files (vocabulary size inferred from the file length).
     *
     * @param path a tokenizer file, or a directory holding one
     * @return the tokenizer
     * @throws ModelFormatException when the path does not exist, a directory has no tokenizer file, or the file is
     *     corrupt
     */
    static Tokenizer load(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("path is null");
        }
        if (Files.isDirectory(path)) {
            Path json = path.resolve("tokenizer.json");
            if (Files.isRegularFile(json)) {
                return HfTokenizer.load(json);
            }
            Path chars = path.resolve(CharTokenizer.FILE_NAME);
            if (Files.isRegularFile(chars)) {
                return CharTokenizer.load(chars);
            }
            Path bin = path.resolve("tokenizer.bin");
            if (Files.isRegularFile(bin)) {
                return Llama2cTokenizer.load(bin);
            }
            throw new ModelFormatException(path, null, "directory holds none of tokenizer.json, "
                    + CharTokenizer.FILE_NAME + ", tokenizer.bin");
        }
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, null, "tokenizer file does not exist");
        }
        Path name = path.getFileName();
        if (name != null && name.toString().equals(CharTokenizer.FILE_NAME)) {
            return CharTokenizer.load(path);
        }
        if (name != null && name.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".json")) {
            return HfTokenizer.load(path);
        }
        return Llama2cTokenizer.load(path);
    }
}
