package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where {@link HfTokenizer} finds BOS and EOS, on tiny word-level tokenizer.json files written here (no shared data,
 * no node): post-processor templates, config files beside the file, the EOS name fallback, no doubled BOS.
 */
class HfTokenizerSpecialTokensTest {
    private static final int S = 0;
    private static final int END = 1;
    private static final int A = 2;
    private static final int B = 3;

    /** A WordLevel tokenizer over {@code <s> </s> a b [UNK]} with the given post_processor (a JSON value). */
    private static Path write(Path dir, String postProcessor) throws IOException {
        String added = "{\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, "
                + "\"rstrip\": false, \"normalized\": false, \"special\": true}";
        String json = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
                + String.format(added, S, "<s>") + ", " + String.format(added, END, "</s>") + "], "
                + "\"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, "
                + "\"post_processor\": " + postProcessor + ", \"decoder\": null, "
                + "\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"<s>\": 0, \"</s>\": 1, \"a\": 2, \"b\": 3, "
                + "\"[UNK]\": 4}, \"unk_token\": \"[UNK]\"}}";
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json);
        return file;
    }

    private static final String TEMPLATE = "{\"type\": \"TemplateProcessing\", "
            + "\"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", "
            + "\"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"</s>\", \"type_id\": 0}}], "
            + "\"pair\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], "
            + "\"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [0], \"tokens\": [\"<s>\"]}, "
            + "\"</s>\": {\"id\": \"</s>\", \"ids\": [1], \"tokens\": [\"</s>\"]}}}";

    @Test
    void templateGivesBosButNeverAppendsItsEos(@TempDir Path dir) throws IOException {
        try (HfTokenizer t = HfTokenizer.load(write(dir, TEMPLATE))) {
            assertEquals(S, t.bosId());
            assertEquals("<s>", t.bosToken());
            assertEquals("post_processor", t.bosSource());
            assertEquals(END, t.eosId()); // by name: </s>
            assertArrayEquals(new int[] {S, A, B}, t.encode("a b", true));
            assertArrayEquals(new int[] {A, B}, t.encode("a b", false));
            assertArrayEquals(new int[] {S, A}, t.encode("<s> a", true));
            assertArrayEquals(new int[] {S, S, A}, t.encode("<s> <s> a", true));
            assertArrayEquals(new int[] {S, A, END}, t.encode("a </s>", true));
            assertTrue(t.isSpecial(S) && t.isSpecial(END) && !t.isSpecial(A) && !t.isSpecial(-1) && !t.isSpecial(99));
            assertEquals(A, t.tokenId("a"));
            assertEquals(-1, t.tokenId("c"));
        }
    }

    @Test
    void templateInsideASequence(@TempDir Path dir) throws IOException {
        String seq = "{\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                + "\"trim_offsets\": false, \"use_regex\": true}, " + TEMPLATE + "]}";
        try (HfTokenizer t = HfTokenizer.load(write(dir, seq))) {
            assertEquals(S, t.bosId());
            assertEquals("post_processor", t.bosSource());
        }
    }

    @Test
    void bertProcessingClsIsTheBos(@TempDir Path dir) throws IOException {
        try (HfTokenizer t = HfTokenizer.load(write(dir, "{\"type\": \"BertProcessing\", \"sep\": [\"</s>\", 1], "
                + "\"cls\": [\"<s>\", 0]}"))) {
            assertEquals(S, t.bosId());
            assertArrayEquals(new int[] {S, A}, t.encode("a", true));
        }
    }

    @Test
    void noPostProcessorBosFallsBackToTheConfigs(@TempDir Path dir) throws IOException {
        Path file = write(dir, "null");
        try (HfTokenizer t = HfTokenizer.load(file)) {
            assertEquals(-1, t.bosId());
            assertEquals("none", t.bosSource());
            assertArrayEquals(new int[] {A}, t.encode("a", true));
        }
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"bos_token\": {\"content\": \"<s>\"}}");
        try (HfTokenizer t = HfTokenizer.load(file)) {
            assertEquals(S, t.bosId());
            assertEquals("special_tokens_map.json", t.bosSource());
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"a\", \"eos_token\": \"b\"}");
        try (HfTokenizer t = HfTokenizer.load(file)) {
            assertEquals(A, t.bosId());
            assertEquals("tokenizer_config.json", t.bosSource());
            assertEquals(B, t.eosId());
            assertArrayEquals(new int[] {A, B}, t.encode("a b", true)); // the text starts with BOS already
        }
    }

    @Test
    void addBosTokenFalseWins(@TempDir Path dir) throws IOException {
        Path file = write(dir, TEMPLATE);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": false, \"bos_token\": \"<s>\"}");
        try (HfTokenizer t = HfTokenizer.load(file)) {
            assertEquals(-1, t.bosId());
            assertEquals(null, t.bosToken());
            assertArrayEquals(new int[] {A}, t.encode("a", true));
            assertFalse(t.toString().isEmpty());
        }
    }

    @Test
    void malformedTemplateIsAModelFormatException(@TempDir Path dir) throws IOException {
        Path file = write(dir, "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {}}]}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfTokenizer.load(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("post_processor"), e.getMessage());
    }
}
