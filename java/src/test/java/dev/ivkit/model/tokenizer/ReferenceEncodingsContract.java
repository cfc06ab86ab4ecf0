package dev.ivkit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;

/**
 * The checks every real-model tokenizer gets against its reference encodings ({@link TokRef}): the same ids as the
 * independent JS implementation with and without special tokens, the same decoded text, round trips, BOS as the
 * post-processor adds it but never twice, and streaming decoding that emits whole characters only. The tokenizer is
 * loaded from the reference's {@code tokenizer.json}, which has no config file beside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ReferenceEncodingsContract {
    private static final char REPLACEMENT = '\uFFFD';

    TokRef.Ref ref;
    HfTokenizer tok;

    /** Name of the reference set (a folder of {@link TokRef#dir()}). */
    abstract String set();

    /** What {@code decode(encode(text))} gives back: the text after the tokenizer's normaliser. */
    String normalized(String text) {
        return text;
    }

    /** Why this class's tests skip (null when the references are there). */
    String missing;

    @BeforeAll
    void load() {
        missing = TokRef.missing(set());
        if (missing != null) {
            System.err.println(getClass().getSimpleName() + " skipped: " + missing);
            return;
        }
        ref = TokRef.load(set());
        tok = HfTokenizer.load(ref.tokenizerJson());
    }

    @BeforeEach
    void skipWithoutReferences() {
        Assumptions.assumeTrue(missing == null, () -> missing);
    }

    @AfterAll
    void close() {
        if (tok != null) {
            tok.close();
        }
    }

    @Test
    void referenceCoversEnoughTexts() {
        assertTrue(ref.cases().size() >= 50, "only " + ref.cases().size() + " texts");
    }

    @Test
    void idsWithoutSpecialTokensMatchReference() {
        each(c -> assertArrayEquals(c.idsWithout(), tok.encode(c.text(), false), () -> show(c.text())));
    }

    /**
     * {@code encode(text, true)} is the reference's {@code add_special_tokens: true} encoding (the post-processor's
     * BOS, if any), except that a text starting with BOS gets no second one.
     */
    @Test
    void addBosMatchesPostProcessorWithoutDoubleBos() {
        int bos = tok.bosId();
        each(c -> {
            int[] want = c.idsWithSpecial();
            boolean textStartsWithBos = bos >= 0 && c.idsWithout().length > 0 && c.idsWithout()[0] == bos;
            if (textStartsWithBos && want.length > c.idsWithout().length && want[0] == bos) {
                want = Arrays.copyOfRange(want, 1, want.length); // the JS tokenizer doubles it; HfTokenizer does not
            }
            int[] got = tok.encode(c.text(), true);
            assertArrayEquals(want, got, () -> show(c.text()));
            if (bos >= 0) {
                assertEquals(bos, got[0], () -> show(c.text()));
                int leading = 0;
                while (leading < got.length && got[leading] == bos) {
                    leading++;
                }
                int inText = 0;
                while (inText < c.idsWithout().length && c.idsWithout()[inText] == bos) {
                    inText++;
                }
                assertEquals(Math.max(1, inText), leading, () -> "BOS count, " + show(c.text()));
            }
        });
    }

    @Test
    void decodeMatchesReference() {
        each(c -> {
            assertEquals(c.decoded(), tok.decode(c.idsWithout(), false), () -> "keeping specials, " + show(c.text()));
            assertEquals(c.decodedSkipSpecial(), tok.decode(c.idsWithout()), () -> "skipping specials, " + show(c.text()));
        });
    }

    @Test
    void decodeRoundTrips() {
        each(c -> {
            assertEquals(normalized(c.text()), tok.decode(tok.encode(c.text(), false), false), () -> show(c.text()));
            // BOS is special: left out by decode(ids), as are the special tokens written in the text
            assertEquals(c.decodedSkipSpecial(), tok.decode(tok.encode(c.text(), true)), () -> show(c.text()));
        });
    }

    /** Every stream of ids, fed one at a time, gives back the whole text and never a U+FFFD for a split character. */
    @Test
    void streamingDecodeEmitsWholeCharacters() {
        int[] split = {0};
        each(c -> {
            int[] ids = tok.encode(c.text(), true);
            for (int id : ids) {
                if (tok.decode(new int[] {id}).indexOf(REPLACEMENT) >= 0 && c.text().indexOf(REPLACEMENT) < 0) {
                    split[0]++;
                }
            }
            for (int prev : new int[] {-1, tok.bosId()}) {
                StreamingDecoder sd = tok.streamingDecoder(prev);
                StringBuilder out = new StringBuilder();
                List<String> chunks = new ArrayList<>();
                for (int id : ids) {
                    String chunk = sd.next(id);
                    chunks.add(chunk);
                    out.append(chunk);
                }
                out.append(sd.flush());
                assertEquals(tok.decode(ids), out.toString(), () -> "prev " + prev + ", " + show(c.text()));
                if (c.text().indexOf(REPLACEMENT) < 0) {
                    assertFalse(chunks.stream().anyMatch(s -> s.indexOf(REPLACEMENT) >= 0),
                            () -> "partial character in " + chunks + ", " + show(c.text()));
                }
            }
        });
        assertTrue(split[0] >= 3, "the texts should split characters over tokens; only " + split[0] + " such tokens");
    }

    /** A stream cut off inside a character: the partial character is held back, and comes out on flush as U+FFFD. */
    @Test
    void flushEmitsAnIncompleteCharacter() {
        int[] ids = null;
        int cut = -1;
        for (TokRef.Case c : ref.cases()) {
            int[] all = c.idsWithout();
            for (int i = 1; i < all.length && cut < 0; i++) {
                String prefix = tok.decode(Arrays.copyOf(all, i));
                if (prefix.endsWith(String.valueOf(REPLACEMENT)) && prefix.indexOf(REPLACEMENT) == prefix.length() - 1
                        && c.text().indexOf(REPLACEMENT) < 0) {
                    ids = all;
                    cut = i;
                }
            }
            if (cut > 0) {
                break;
            }
        }
        assertTrue(cut > 0, "no text splits a character over tokens");
        String whole = tok.decode(Arrays.copyOf(ids, cut));
        StreamingDecoder sd = tok.streamingDecoder(-1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < cut; i++) {
            out.append(sd.next(ids[i]));
        }
        // the held-back token may carry complete characters before the partial one (" \xC3" of " Æ")
        assertTrue(out.indexOf(String.valueOf(REPLACEMENT)) < 0, out::toString);
        String rest = sd.flush();
        assertTrue(rest.endsWith(String.valueOf(REPLACEMENT)), rest);
        assertEquals(whole, out + rest);
        assertEquals("", sd.flush());
    }

    @Test
    void flushOfAnEmptyStreamIsEmpty() {
        assertEquals("", tok.streamingDecoder(-1).flush());
        assertEquals("", tok.streamingDecoder(tok.bosId()).flush());
    }

    /** A folder holding {@code tokenizer.json} with the package's {@code tokenizer_config.json} beside it. */
    Path withUpstreamConfig(Path tmp) throws IOException {
        Files.copy(ref.tokenizerJson(), tmp.resolve("tokenizer.json"));
        Files.copy(ref.upstreamConfig(), tmp.resolve("tokenizer_config.json"));
        return tmp;
    }

    private void each(java.util.function.Consumer<TokRef.Case> check) {
        List<Executable> all = new ArrayList<>();
        for (TokRef.Case c : ref.cases()) {
            all.add(() -> check.accept(c));
        }
        assertAll(set(), all);
    }

    static String show(String text) {
        StringBuilder sb = new StringBuilder("text \"");
        text.codePoints().forEach(cp -> {
            if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append('"').toString();
    }
}
