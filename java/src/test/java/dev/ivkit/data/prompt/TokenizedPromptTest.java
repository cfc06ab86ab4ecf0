package dev.ivkit.data.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskExample;
import dev.ivkit.model.tokenizer.HfTokenizer;
import dev.ivkit.model.tokenizer.Llama2cTokenizer;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.testutil.SharedData;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenizedPromptTest {

    private static Llama2cTokenizer tok512() {
        return Llama2cTokenizer.load(SharedData.require("models/stories260K/tok512.bin"));
    }

    private static HfTokenizer gpt2() {
        return HfTokenizer.load(SharedData.require("models/gpt2-tokenizer/tokenizer.json"));
    }

    private static List<Prompt> prompts() {
        List<TaskExample> pool = List.of(new TaskExample("hot", "cold"), new TaskExample("up", "down"),
                new TaskExample("big", "small"), new TaskExample("along", "5"), new TaskExample("fast", "slow"));
        TaskExample q = new TaskExample("happy", "sad");
        return List.of(
                new PromptBuilder(PromptStyle.QA).zeroShot(q),
                new PromptBuilder(PromptStyle.QA).fewShot(pool, q, 3, new Random(1), false),
                new PromptBuilder(PromptStyle.QA).fewShot(pool, q, 3, new Random(1), true),
                new PromptBuilder(PromptStyle.NONE).withDemos(pool.subList(0, 2), new TaskExample("along", "5")),
                new PromptBuilder(PromptStyle.INPUT_OUTPUT).zeroShot(new TaskExample("Once upon a", "time")),
                new PromptBuilder(PromptStyle.QUESTION_ANSWER).zeroShot(new TaskExample("why?", "because")),
                PromptBuilder.superNiInstruction("Say the opposite", new TaskExample("The cat is big", "The cat is small")),
                new Prompt("the ca", "t", null, null), // a merge across the boundary
                new Prompt("Lily had a dog", ".", null, null));
    }

    private static void checkAll(Tokenizer tok) {
        for (Prompt p : prompts()) {
            TokenizedPrompt t = TokenizedPrompt.of(tok, p);
            String what = p.text() + "|" + p.target() + " -> " + t;
            assertEquals(p.text() + p.target(), tok.decode(t.fullIds()), what);
            assertEquals(p.text(), tok.decode(t.promptIds()), what);
            assertArrayEquals(tok.encode(p.text(), true), t.promptIds(), what);
            assertEquals(t.promptIds().length - 1, t.predictPosition());
            if (tok.bosId() >= 0) {
                assertEquals(tok.bosId(), t.promptIds()[0], what);
            }
            int[] full = t.fullIds();
            assertEquals(t.promptIds().length + t.targetIds().length, full.length);
            assertEquals(t.targetIds()[0], full[t.predictPosition() + 1]);
        }
    }

    @Test
    void llama2cTok512RoundTripsEveryPrompt() {
        checkAll(tok512());
    }

    @Test
    void gpt2RoundTripsEveryPrompt() {
        try (HfTokenizer tok = gpt2()) {
            assertEquals(50256, tok.bosId());
            checkAll(tok);
        }
    }

    @Test
    void llama2cUsualCaseIsTheSuffixOfTheFullTokenization() {
        Llama2cTokenizer tok = tok512();
        Prompt p = new PromptBuilder(PromptStyle.QA).zeroShot(new TaskExample("hot", "cold"));
        TokenizedPrompt t = TokenizedPrompt.of(tok, p);
        int[] full = tok.encode("Q: hot\nA: cold", true);
        assertArrayEquals(full, t.fullIds());
        // the target starts with a space-prefixed piece, no stray lone-space token
        assertTrue(tok.decode(new int[] {t.promptIds()[t.predictPosition()], t.targetIds()[0]}).contains(" c")
                || tok.decodePiece(t.promptIds()[t.predictPosition()], t.targetIds()[0]).startsWith(" "), t.toString());
    }

    @Test
    void llama2cBoundaryMergeHasNoDoubleSpace() {
        Llama2cTokenizer tok = tok512();
        // "the ca" + "t": full tokenization differs from the prompt's, so the target is tokenized on its own;
        // plain encode("t") would carry a dummy-prefix space and decode as "the ca t"
        int[] full = tok.encode("the cat", true);
        int[] prompt = tok.encode("the ca", true);
        assertTrue(full.length < prompt.length || !Arrays.equals(Arrays.copyOf(full, prompt.length), prompt),
                "test premise: the boundary merges: " + Arrays.toString(full) + " vs " + Arrays.toString(prompt));
        int[] plain = tok.encode("t", false);
        assertEquals("the ca t", tok.decode(concat(prompt, plain)), "test premise: a lone encode adds a space");
        TokenizedPrompt t = TokenizedPrompt.of(tok, "the ca", "t");
        assertEquals("the cat", tok.decode(t.fullIds()));
        assertArrayEquals(prompt, t.promptIds());
        TokenizedPrompt s = TokenizedPrompt.of(tok, "the ca", " cold");
        assertEquals("the ca cold", tok.decode(s.fullIds()));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void gpt2BoundaryMerge() {
        try (HfTokenizer tok = gpt2()) {
            int[] full = tok.encode("the cat", true);
            int[] prompt = tok.encode("the ca", true);
            assertTrue(!Arrays.equals(Arrays.copyOf(full, prompt.length), prompt), "test premise: merge");
            TokenizedPrompt t = TokenizedPrompt.of(tok, "the ca", "t");
            assertEquals("the cat", tok.decode(t.fullIds()));
            assertArrayEquals(prompt, t.promptIds());
        }
    }

    @Test
    void emptyTargetIsAnError() {
        Llama2cTokenizer tok = tok512();
        assertEquals("target", assertThrows(InvalidArgumentException.class,
                () -> TokenizedPrompt.of(tok, "Q: x\nA:", "")).field());
    }
}
