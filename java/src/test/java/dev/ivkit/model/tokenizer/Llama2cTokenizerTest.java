package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.testutil.SharedData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cTokenizerTest {

    private static Path tokFile() {
        return SharedData.require("models/stories260K/tok512.bin");
    }

    private static JsonObject reference() throws IOException {
        Path p = SharedData.require("models/stories260K/reference_outputs.json");
        return JsonParser.parseString(Files.readString(p)).getAsJsonObject();
    }

    private static int[] ints(JsonArray a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).getAsInt();
        }
        return r;
    }

    @Test
    void readsWholeFileAndInfersVocabSize() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokFile());
        assertEquals(512, tok.vocabSize());
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals("<0x41>", new String(tok.pieceBytes('A' + 3), StandardCharsets.US_ASCII));
        assertEquals(512, Llama2cTokenizer.load(tokFile(), 512).vocabSize());
        assertEquals(300, Llama2cTokenizer.load(tokFile(), 300).vocabSize());
        assertThrows(InvalidArgumentException.class, () -> Llama2cTokenizer.load(tokFile(), 0));
    }

    @Test
    void encodeMatchesReferenceExamples() throws IOException {
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokFile());
        JsonObject examples = reference().getAsJsonObject("encode_examples_llama2c_algorithm_with_dummy_prefix_space");
        assertFalse(examples.entrySet().isEmpty());
        for (Map.Entry<String, JsonElement> e : examples.entrySet()) {
            int[] expected = ints(e.getValue().getAsJsonArray());
            assertArrayEquals(expected, tok.encode(e.getKey(), false), e.getKey());
            int[] withBos = tok.encode(e.getKey(), true);
            assertEquals(1, withBos[0]);
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(withBos, 1, withBos.length), e.getKey());
            assertEquals(e.getKey(), tok.decode(expected));
        }
    }

    @Test
    void streamingDecodeOfGreedyIdsReproducesGreedyText() throws IOException {
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokFile());
        JsonObject ref = reference();
        int[] ids = ints(ref.getAsJsonArray("greedy_ids_from_bos"));
        String expected = ref.get("greedy_text").getAsString();
        assertEquals(200, ids.length);

        StringBuilder pieces = new StringBuilder();
        StringBuilder streamed = new StringBuilder();
        StreamingDecoder sd = tok.streamingDecoder(tok.bosId());
        int prev = tok.bosId();
        for (int id : ids) {
            pieces.append(tok.decodePiece(prev, id));
            streamed.append(sd.next(id));
            prev = id;
        }
        streamed.append(sd.flush());
        assertEquals(expected, pieces.toString());
        assertEquals(expected, streamed.toString());
        assertEquals(expected, tok.decode(ids));
        // the first generated token " Once" loses its space only because it follows BOS
        assertEquals("Once", tok.decodePiece(1, ids[0]));
        assertEquals(" Once", tok.decodePiece(ids[1], ids[0]));
        assertEquals("\n", tok.decodePiece(ids[0], 13)); // <0x0A> is the raw newline byte
    }

    @Test
    void roundTripsAsciiAndNonAsciiViaByteFallback() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokFile());
        for (String s : new String[] {"Lily saw a big red ball.", "hot is cold.\nbig is small.", "a", " two  spaces ",
                "héllo 世界 🙂", "Ünïcödé — “quotes” ½ 😀😀", ""}) {
            assertEquals(s, tok.decode(tok.encode(s, false)), s);
            assertEquals(s, tok.decode(tok.encode(s, true)), s);
        }
        assertArrayEquals(new int[0], tok.encode("", false));
        assertArrayEquals(new int[] {1}, tok.encode("", true));
    }

    @Test
    void nonAsciiUsesByteTokensAndStreamsWholeCharacters() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokFile());
        String s = "héllo 世界 🙂";
        int[] ids = tok.encode(s, true);
        // 🙂 is 4 UTF-8 bytes F0 9F 99 82, none of which merges with anything: expect its byte tokens in order
        int[] smile = {0xF0 + 3, 0x9F + 3, 0x99 + 3, 0x82 + 3};
        assertArrayEquals(smile, java.util.Arrays.copyOfRange(ids, ids.length - 4, ids.length));
        // single pieces of a split character are not valid text on their own ...
        assertEquals("\uFFFD", tok.decodePiece(ids[ids.length - 2], ids[ids.length - 1]));
        // ... but the streaming decoder buffers them and never emits a replacement character
        StreamingDecoder sd = tok.streamingDecoder(ids[0]);
        StringBuilder out = new StringBuilder();
        int emptyEmissions = 0;
        for (int i = 1; i < ids.length; i++) {
            String chunk = sd.next(ids[i]);
            assertFalse(chunk.contains("\uFFFD"), "chunk " + i + " = " + chunk);
            if (chunk.isEmpty()) {
                emptyEmissions++;
            }
            out.append(chunk);
        }
        assertEquals("", sd.flush());
        assertEquals(s, out.toString());
        assertTrue(emptyEmissions >= 3, "the 3 leading bytes of 🙂 must have been held back");
    }

    @Test
    void streamingFlushReplacesDanglingBytes() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokFile());
        StreamingDecoder sd = tok.streamingDecoder(tok.bosId());
        assertEquals("", sd.next(0xE4 + 3)); // first byte of a 3-byte character
        assertEquals("", sd.next(0xB8 + 3));
        assertEquals("\uFFFD", sd.flush());
    }

    @Test
    void mergesPickHighestScoreFirstPairOnTies(@TempDir Path dir) throws IOException {
        // a tiny vocabulary: ' ', 'a', 'b', "ab" (score 1), " a" (score 5) — " ab" must be [" a", "b"]
        Path f = dir.resolve("tiny.bin");
        writeTokenizer(f, 4, new String[] {" ", "a", "b", "ab", " a"}, new float[] {0, 0, 0, 1, 5});
        Llama2cTokenizer tok = Llama2cTokenizer.load(f);
        assertEquals(259 + 5, tok.vocabSize());
        assertArrayEquals(new int[] {263, 261}, tok.encode("ab", false));
        // "bab" → [' ', b, a, b]: neither " b" nor "ba" is a piece, "ab" is
        assertArrayEquals(new int[] {259, 261, 262}, tok.encode("bab", false));
        // unknown character 'z' falls back to its byte token
        assertArrayEquals(new int[] {259, 'z' + 3}, tok.encode("z", false));
        assertEquals("z", tok.decode(tok.encode("z", true)));

        // tie: "ab" and "bc" both score 1 → the first (leftmost) pair wins, and "abc" is not a piece
        Path g = dir.resolve("tie.bin");
        writeTokenizer(g, 4, new String[] {" ", "a", "b", "c", "ab", "bc"}, new float[] {0, 0, 0, 0, 1, 1});
        assertArrayEquals(new int[] {259, 263, 262}, Llama2cTokenizer.load(g).encode("abc", false));
    }

    @Test
    void truncatedFileNamesFileAndToken(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(tokFile());
        Path f = dir.resolve("truncated.bin");
        Files.write(f, java.util.Arrays.copyOf(good, good.length - 3));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(f));
        assertEquals(f, e.file());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertEquals("token 511", e.field());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        // complete file but fewer tokens than asked for
        ModelFormatException e2 = assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(tokFile(), 600));
        assertEquals("token 512", e2.field());

        Path tiny = dir.resolve("tiny.bin");
        Files.write(tiny, new byte[] {7, 0});
        assertEquals("max_token_len", assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(tiny)).field());
    }

    @Test
    void negativeAndHugeLengthsAreRejected(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(tokFile());
        // entry 0 starts at offset 4: float score, int32 len at offset 8
        Path neg = dir.resolve("negative.bin");
        byte[] b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -5);
        Files.write(neg, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(neg));
        assertEquals(neg, e.file());
        assertEquals("token 0", e.field());
        assertTrue(e.getMessage().contains("negative"), e.getMessage());

        Path huge = dir.resolve("huge.bin");
        b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, Integer.MAX_VALUE);
        Files.write(huge, b);
        ModelFormatException h = assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(huge));
        assertEquals("token 0", h.field());
        assertTrue(h.getMessage().contains(huge.toString()), h.getMessage());

        Path badHeader = dir.resolve("header.bin");
        b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, -1);
        Files.write(badHeader, b);
        assertEquals("max_token_len", assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(badHeader)).field());

        Path missing = dir.resolve("missing.bin");
        assertEquals(missing, assertThrows(ModelFormatException.class, () -> Llama2cTokenizer.load(missing)).file());
    }

    @Test
    void tokenizerLoadPicksLlama2cForBinaryFiles(@TempDir Path dir) throws IOException {
        Tokenizer t = Tokenizer.load(tokFile());
        assertInstanceOf(Llama2cTokenizer.class, t);
        Files.copy(tokFile(), dir.resolve("tokenizer.bin"));
        assertInstanceOf(Llama2cTokenizer.class, Tokenizer.load(dir));
        assertThrows(ModelFormatException.class, () -> Tokenizer.load(dir.resolve("nope")));
        Path emptyDir = Files.createDirectory(dir.resolve("emptydir"));
        assertEquals(emptyDir, assertThrows(ModelFormatException.class, () -> Tokenizer.load(emptyDir)).file());
        Path emptyFile = Files.createFile(dir.resolve("empty.bin"));
        assertEquals(emptyFile, assertThrows(ModelFormatException.class, () -> Tokenizer.load(emptyFile)).file());
    }

    /** Writes a llama2.c tokenizer: &lt;unk&gt;, BOS, EOS, 256 byte pieces, then {@code extra}. */
    static void writeTokenizer(Path f, int maxLen, String[] extra, float[] scores) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer hdr = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(Math.max(maxLen, 6));
        out.writeBytes(hdr.array());
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("<unk>", "\n<s>\n", "\n</s>\n"));
        for (int i = 0; i < 256; i++) {
            all.add(String.format("<0x%02X>", i));
        }
        java.util.List<Float> sc = new java.util.ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            sc.add(0f);
        }
        for (int i = 0; i < extra.length; i++) {
            all.add(extra[i]);
            sc.add(scores[i]);
        }
        for (int i = 0; i < all.size(); i++) {
            byte[] p = all.get(i).getBytes(StandardCharsets.UTF_8);
            ByteBuffer e = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(sc.get(i)).putInt(p.length);
            out.writeBytes(e.array());
            out.writeBytes(p);
        }
        Files.write(f, out.toByteArray());
    }
}
