package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.ModelFormatException;
import dev.ivkit.testutil.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {
    private static final String SENTENCE = "Hello world, the capital of France is";
    /** From ../shared/data/models/gpt2-tokenizer/README.md. */
    private static final int[] SENTENCE_IDS = {15496, 995, 11, 262, 3139, 286, 4881, 318};
    private static final int ENDOFTEXT = 50256;

    private static HfTokenizer tok;

    private static Path gpt2Json() {
        return SharedData.require("models/gpt2-tokenizer/tokenizer.json");
    }

    @BeforeAll
    static void load() {
        Path p = SharedData.root().resolve("data/models/gpt2-tokenizer/tokenizer.json");
        if (Files.exists(p)) {
            tok = HfTokenizer.load(p);
        }
    }

    @AfterAll
    static void close() {
        if (tok != null) {
            tok.close();
        }
    }

    @Test
    void encodesReadmeSentence() {
        gpt2Json();
        assertArrayEquals(SENTENCE_IDS, tok.encode(SENTENCE, false));
        int[] withBos = tok.encode(SENTENCE, true);
        assertEquals(ENDOFTEXT, withBos[0]);
        assertArrayEquals(SENTENCE_IDS, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
    }

    @Test
    void readsSpecialTokensAndVocabSize() {
        gpt2Json();
        assertEquals(50257, tok.vocabSize());
        assertEquals(ENDOFTEXT, tok.bosId());
        assertEquals(ENDOFTEXT, tok.eosId());
        assertEquals("<|endoftext|>", tok.bosToken());
        assertTrue(System.getProperty("ai.djl.offline") != null);
    }

    @Test
    void decodeRoundTrips() {
        gpt2Json();
        assertEquals(SENTENCE, tok.decode(SENTENCE_IDS));
        for (String s : new String[] {SENTENCE, " leading space", "a , b  c\n\nnew lines\t", "héllo 世界 🙂", ""}) {
            assertEquals(s, tok.decode(tok.encode(s, false)), s);
            assertEquals(s, tok.decode(tok.encode(s, true)), s); // BOS is a special token: skipped
        }
        // long input is not truncated (tokenizer_config says model_max_length 1024)
        String longText = "the cat sat on the mat. ".repeat(400);
        int[] ids = tok.encode(longText, false);
        assertTrue(ids.length > 2000, "got " + ids.length);
        assertEquals(longText, tok.decode(ids));
    }

    @Test
    void decodePieceAndStreamingRebuildText() {
        gpt2Json();
        StringBuilder pieces = new StringBuilder();
        int prev = tok.bosId();
        for (int id : SENTENCE_IDS) {
            pieces.append(tok.decodePiece(prev, id));
            prev = id;
        }
        assertEquals(SENTENCE, pieces.toString());
        assertEquals(" world", tok.decodePiece(15496, 995));

        String s = "Emoji 🙂 and 世界 end";
        int[] ids = tok.encode(s, false);
        StreamingDecoder sd = tok.streamingDecoder(tok.bosId());
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String chunk = sd.next(id);
            assertFalse(chunk.contains("\uFFFD"), chunk);
            out.append(chunk);
        }
        out.append(sd.flush());
        assertEquals(s, out.toString());
        assertTrue(ids.length > s.split(" ").length, "byte-level BPE splits the emoji over several tokens");
    }

    @Test
    void tokenizerLoadPicksHfForJsonAndDirectory() {
        Path json = gpt2Json();
        try (Tokenizer a = Tokenizer.load(json); Tokenizer b = Tokenizer.load(json.getParent())) {
            assertInstanceOf(HfTokenizer.class, a);
            assertInstanceOf(HfTokenizer.class, b);
            assertArrayEquals(SENTENCE_IDS, b.encode(SENTENCE, false));
        }
    }

    @Test
    void missingOrCorruptFileIsModelFormatException(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("tokenizer.json");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfTokenizer.load(missing));
        assertEquals(missing, e.file());
        assertTrue(e.getMessage().contains(missing.toString()));

        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, "{\"model\": {\"vocab\": {\"a\": 0}, ");
        assertEquals(garbage, assertThrows(ModelFormatException.class, () -> HfTokenizer.load(garbage)).file());

        Path notTokenizer = dir.resolve("other.json");
        Files.writeString(notTokenizer, "{\"hello\": 1}");
        assertEquals(notTokenizer, assertThrows(ModelFormatException.class, () -> Tokenizer.load(notTokenizer)).file());

        // valid JSON with a vocabulary that the tokenizers library still rejects (unknown model type)
        Path badModel = dir.resolve("bad-model.json");
        Files.writeString(badModel, "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}}");
        assertEquals(badModel, assertThrows(ModelFormatException.class, () -> HfTokenizer.load(badModel)).file());
    }
}
