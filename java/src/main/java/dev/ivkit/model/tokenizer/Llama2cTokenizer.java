package dev.ivkit.model.tokenizer;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * llama2.c's tokenizer ({@code tokenizer.bin}, {@code tok512.bin}, ...): a SentencePiece BPE vocabulary exported as
 * {@code int32 max_token_len} followed by {@code vocab_size × (float32 score, int32 len, len bytes)}, all little
 * endian. Encoding and decoding follow llama2.c {@code run.c} exactly (dummy-prefix space, codepoint lookup with
 * {@code <0xHH>} byte fallback at id {@code byte + 3}, greedy highest-score pair merging). BOS is id 1, EOS id 2.
 * Immutable and thread-safe.
 */
public final class Llama2cTokenizer implements Tokenizer {
    /** Id of {@code <unk>}. */
    public static final int UNK_ID = 0;
    /** Id of BOS ({@code "\n<s>\n"}). */
    public static final int BOS_ID = 1;
    /** Id of EOS ({@code "\n</s>\n"}). */
    public static final int EOS_ID = 2;
    /** Byte-fallback pieces {@code <0x00>..<0xFF>} start at this id. */
    public static final int BYTE_OFFSET = 3;

    /** Upper bound on a single piece length, to reject garbage before allocating. */
    private static final int MAX_PIECE_BYTES = 1 << 16;

    private final Path file;
    private final int maxTokenLength;
    private final byte[][] pieces;
    private final float[] scores;
    /** Piece bytes (as a Latin-1 string, one char per byte) → lowest id carrying it. */
    private final Map<String, Integer> lookup;

    private Llama2cTokenizer(Path file, int maxTokenLength, byte[][] pieces, float[] scores) {
        this.file = file;
        this.maxTokenLength = maxTokenLength;
        this.pieces = pieces;
        this.scores = scores;
        this.lookup = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            lookup.putIfAbsent(latin1(pieces[i]), i);
        }
    }

    /**
     * Reads the whole file; the vocabulary size is the number of entries up to end of file.
     *
     * @param file the tokenizer file
     * @return the tokenizer
     * @throws ModelFormatException when the file is missing or corrupt
     */
    public static Llama2cTokenizer load(Path file) {
        return read(file, -1);
    }

    /**
     * Reads the first {@code vocabSize} entries (as llama2.c does; bytes after them are ignored).
     *
     * @param file the tokenizer file
     * @param vocabSize the model's vocabulary size
     * @return the tokenizer
     * @throws InvalidArgumentException when {@code vocabSize <= 0}
     * @throws ModelFormatException when the file is shorter than that or corrupt
     */
    public static Llama2cTokenizer load(Path file, int vocabSize) {
        if (vocabSize <= 0) {
            throw new InvalidArgumentException("vocabSize", "must be positive, got " + vocabSize);
        }
        return read(file, vocabSize);
    }

    private static Llama2cTokenizer read(Path file, int vocabSize) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read tokenizer file: " + e, e);
        }
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.remaining() < 4) {
            throw new ModelFormatException(file, "max_token_len", "file too short for the header (" + data.length + " bytes)");
        }
        int maxLen = buf.getInt();
        if (maxLen <= 0 || maxLen > MAX_PIECE_BYTES) {
            throw new ModelFormatException(file, "max_token_len", "implausible value " + maxLen);
        }
        int capacity = vocabSize > 0 ? vocabSize : 1024;
        byte[][] pieces = new byte[capacity][];
        float[] scores = new float[capacity];
        int n = 0;
        while (vocabSize > 0 ? n < vocabSize : buf.hasRemaining()) {
            String where = "token " + n;
            if (buf.remaining() < 8) {
                throw new ModelFormatException(file, where, "truncated: need 8 bytes for score and length at offset "
                        + buf.position() + ", " + buf.remaining() + " left"
                        + (vocabSize > 0 ? " (expected " + vocabSize + " tokens)" : ""));
            }
            float score = buf.getFloat();
            int len = buf.getInt();
            if (len < 0) {
                throw new ModelFormatException(file, where, "negative piece length " + len);
            }
            if (len > maxLen) {
                throw new ModelFormatException(file, where, "piece length " + len + " exceeds max_token_len " + maxLen);
            }
            if (len > buf.remaining()) {
                throw new ModelFormatException(file, where, "truncated: piece length " + len + " but only "
                        + buf.remaining() + " bytes left");
            }
            if (n == capacity) {
                capacity *= 2;
                pieces = Arrays.copyOf(pieces, capacity);
                scores = Arrays.copyOf(scores, capacity);
            }
            byte[] piece = new byte[len];
            buf.get(piece);
            pieces[n] = piece;
            scores[n] = score;
            n++;
        }
        if (n < BYTE_OFFSET + 256) {
            throw new ModelFormatException(file, "vocab_size", "only " + n + " tokens; a llama2.c vocabulary has at least "
                    + (BYTE_OFFSET + 256) + " (<unk>, BOS, EOS and 256 byte pieces)");
        }
        return new Llama2cTokenizer(file, maxLen, Arrays.copyOf(pieces, n), Arrays.copyOf(scores, n));
    }

    /**
     * The file this was read from.
     *
     * @return the file's path
     */
    public Path file() {
        return file;
    }

    /**
     * {@code max_token_len} from the header.
     *
     * @return the longest piece's length in bytes
     */
    public int maxTokenLength() {
        return maxTokenLength;
    }

    /**
     * Raw bytes of the piece of {@code id} (a copy).
     *
     * @param id a token id
     * @return the piece's bytes
     */
    public byte[] pieceBytes(int id) {
        checkId(id);
        return pieces[id].clone();
    }

    /**
     * Merge score of {@code id}.
     *
     * @param id a token id
     * @return the score from the file
     */
    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /**
     * Id whose piece is exactly {@code piece} (UTF-8), or -1.
     *
     * @param piece a piece's text
     * @return its id, or -1
     */
    public int pieceId(String piece) {
        return lookup.getOrDefault(latin1(piece.getBytes(StandardCharsets.UTF_8)), -1);
    }

    @Override
    public int bosId() {
        return BOS_ID;
    }

    @Override
    public int eosId() {
        return EOS_ID;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    /** llama2.c {@code encode(t, text, bos, eos=0, ...)}. */
    @Override
    public int[] encode(String text, boolean addBos) {
        if (text == null) {
            throw new InvalidArgumentException("text", "is null");
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] tokens = new int[bytes.length + 3];
        int n = 0;
        if (addBos) {
            tokens[n++] = BOS_ID;
        }
        // add_dummy_prefix is true by default in SentencePiece: prepend the id of " " when text is non-empty
        // (run.c would store -1 when " " is not a piece; the byte piece of ' ' is used instead)
        if (bytes.length > 0) {
            tokens[n++] = lookup.getOrDefault(" ", ' ' + BYTE_OFFSET);
        }
        // one token per UTF-8 codepoint when the codepoint is a piece; otherwise one byte token per byte
        int i = 0;
        while (i < bytes.length) {
            int start = i;
            i++;
            // like run.c: continuation bytes (10xxxxxx) join the current sequence, at most 4 bytes in all
            while (i < bytes.length && (bytes[i] & 0xC0) == 0x80 && i - start < 4) {
                i++;
            }
            Integer id = lookup.get(new String(bytes, start, i - start, StandardCharsets.ISO_8859_1));
            if (id != null) {
                tokens[n++] = id;
            } else {
                for (int j = start; j < i; j++) {
                    tokens[n++] = (bytes[j] & 0xFF) + BYTE_OFFSET;
                }
            }
        }
        // merge the best-scoring adjacent pair (first one on ties) until no pair's concatenation is a piece
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int k = 0; k + 1 < n; k++) {
                Integer id = lookup.get(latin1(pieces[tokens[k]]) + latin1(pieces[tokens[k + 1]]));
                if (id != null && scores[id] > bestScore) {
                    bestScore = scores[id];
                    bestId = id;
                    bestIdx = k;
                }
            }
            if (bestIdx == -1) {
                break;
            }
            tokens[bestIdx] = bestId;
            System.arraycopy(tokens, bestIdx + 2, tokens, bestIdx + 1, n - bestIdx - 2);
            n--;
        }
        return Arrays.copyOf(tokens, n);
    }

    /**
     * Bytes llama2.c prints for {@code id} after {@code prevId}: the piece, without its leading space when
     * {@code prevId} is BOS, and a {@code <0xHH>} piece as the single raw byte.
     *
     * @param prevId the token before {@code id}
     * @param id the generated token
     * @return the bytes to print
     */
    public byte[] decodePieceBytes(int prevId, int id) {
        checkId(id);
        byte[] p = pieces[id];
        int b = byteValue(p);
        if (b >= 0) {
            return new byte[] {(byte) b};
        }
        if (prevId == BOS_ID && p.length > 0 && p[0] == ' ') {
            return Arrays.copyOfRange(p, 1, p.length);
        }
        return p.clone();
    }

    /**
     * {@link #decodePieceBytes} as text. A lone byte piece of a multi-byte character decodes to U+FFFD; use
     * {@link #streamingDecoder(int)} to stream such text correctly.
     */
    @Override
    public String decodePiece(int prevId, int id) {
        return new String(decodePieceBytes(prevId, id), StandardCharsets.UTF_8);
    }

    /**
     * Concatenates the pieces as {@link #decodePieceBytes} does, starting as if after BOS (so the dummy-prefix space
     * is dropped), skipping BOS and EOS, then decodes the bytes as UTF-8. {@code decode(encode(s, bos))} returns
     * {@code s} for any string {@code s} that contains no unpaired surrogates.
     */
    @Override
    public String decode(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int prev = BOS_ID;
        for (int id : ids) {
            if (id == BOS_ID || id == EOS_ID) {
                checkId(id);
                prev = BOS_ID;
                continue;
            }
            out.writeBytes(decodePieceBytes(prev, id));
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Streams pieces through an incremental UTF-8 decoder, so split multi-byte characters come out whole. */
    @Override
    public StreamingDecoder streamingDecoder(int prevId) {
        return new StreamingDecoder() {
            private final Utf8StreamingDecoder utf8 = new Utf8StreamingDecoder();
            private int prev = prevId;

            @Override
            public String next(int id) {
                byte[] b = decodePieceBytes(prev, id);
                prev = id;
                return utf8.feed(b);
            }

            @Override
            public String flush() {
                return utf8.flush();
            }
        };
    }

    /** The byte of a {@code <0xHH>} piece, or -1. */
    private static int byteValue(byte[] p) {
        if (p.length != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') {
            return -1;
        }
        int hi = Character.digit(p[3], 16);
        int lo = Character.digit(p[4], 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new InvalidArgumentException("id", "token id " + id + " outside [0, " + pieces.length + ")");
        }
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return "Llama2cTokenizer[" + file + ", vocab=" + pieces.length + "]";
    }
}
