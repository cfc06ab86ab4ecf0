package dev.ivkit.data.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskExample;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {
    private static final TaskExample HOT = new TaskExample("hot", "cold");
    private static final TaskExample UP = new TaskExample("up", "down");
    private static final TaskExample BIG = new TaskExample("big", "small");
    private static final List<TaskExample> TWO = List.of(HOT, UP);

    @Test
    void zeroShotEachStyle() {
        Prompt qa = new PromptBuilder(PromptStyle.QA).zeroShot(BIG);
        assertEquals("Q: big\nA:", qa.text());
        assertEquals(" small", qa.target());
        assertEquals(BIG, qa.query());
        assertTrue(qa.demos().isEmpty());

        Prompt none = new PromptBuilder(PromptStyle.NONE).zeroShot(BIG);
        assertEquals("big", none.text()); // [FVF]: N/N zero-shot prompt is exactly the raw input
        assertEquals(" small", none.target());

        assertEquals("Input: big\nOutput:", new PromptBuilder(PromptStyle.INPUT_OUTPUT).zeroShot(BIG).text());
        assertEquals("Question: big\nAnswer:", new PromptBuilder(PromptStyle.QUESTION_ANSWER).zeroShot(BIG).text());
    }

    @Test
    void twoShotEachStyle() {
        assertEquals("Q: hot\nA: cold\n\nQ: up\nA: down\n\nQ: big\nA:",
                new PromptBuilder(PromptStyle.QA).withDemos(TWO, BIG).text());
        assertEquals("hot cold\n\nup down\n\nbig",
                new PromptBuilder(PromptStyle.NONE).withDemos(TWO, BIG).text());
        assertEquals("Input: hot\nOutput: cold\n\nInput: up\nOutput: down\n\nInput: big\nOutput:",
                new PromptBuilder(PromptStyle.INPUT_OUTPUT).withDemos(TWO, BIG).text());
        assertEquals("Question: hot\nAnswer: cold\n\nQuestion: up\nAnswer: down\n\nQuestion: big\nAnswer:",
                new PromptBuilder(PromptStyle.QUESTION_ANSWER).withDemos(TWO, BIG).text());
        Prompt p = new PromptBuilder(PromptStyle.QA).withDemos(TWO, BIG);
        assertEquals(TWO, p.demos());
        assertEquals("Q: hot\nA: cold\n\nQ: up\nA: down\n\nQ: big\nA: small", p.fullText());
    }

    @Test
    void toddPrependsSpaceEvenWithEmptyPrefixes() {
        PromptBuilder todd = new PromptBuilder(PromptStyle.NONE, "", true);
        Prompt p = todd.withDemos(List.of(HOT), BIG);
        assertEquals(" hot cold\n\n big", p.text());
        assertEquals(" small", p.target());
        // Todd's rule has no digit exception
        assertEquals(" 5", new PromptBuilder(PromptStyle.QA).zeroShot(new TaskExample("along", "5")).target());
    }

    @Test
    void instructionsComeFirst() {
        PromptBuilder b = new PromptBuilder(PromptStyle.QA, "Give the antonym.\n", true);
        assertEquals("Give the antonym.\nQ: hot\nA: cold\n\nQ: big\nA:", b.withDemos(List.of(HOT), BIG).text());
    }

    @Test
    void fvfTargetSpaceRule() {
        assertEquals(" cold", PromptBuilder.targetText("cold", false));
        assertEquals("5", PromptBuilder.targetText("5", false));
        assertEquals("10 items", PromptBuilder.targetText("10 items", false));
        assertEquals(".", PromptBuilder.targetText("", false));
        assertEquals(" cold", PromptBuilder.targetText("cold", true));
        assertEquals(" ", PromptBuilder.targetText("", true));
        PromptBuilder n = new PromptBuilder(PromptStyle.NONE);
        Prompt p = n.withDemos(List.of(new TaskExample("along", "5"), HOT), new TaskExample("altruistic", "10"));
        assertEquals("along5\n\nhot cold\n\naltruistic", p.text());
        assertEquals("10", p.target());
    }

    @Test
    void fewShotSamplesWithoutReplacementAndNeverTheQuery() {
        List<TaskExample> pool = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            pool.add(new TaskExample("x" + i, "y" + i));
        }
        TaskExample query = pool.get(7);
        PromptBuilder b = new PromptBuilder(PromptStyle.QA);
        for (int seed = 0; seed < 50; seed++) {
            Prompt p = b.fewShot(pool, query, 10, new Random(seed), false);
            assertEquals(10, p.demos().size());
            assertEquals(10, new HashSet<>(p.demos()).size());
            assertFalse(p.demos().contains(query));
            assertTrue(pool.containsAll(p.demos()));
            assertTrue(p.text().endsWith("\n\nQ: x7\nA:"));
            assertEquals(" y7", p.target());
        }
        assertEquals(b.fewShot(pool, query, 5, new Random(3), false), b.fewShot(pool, query, 5, new Random(3), false));
        assertNotEquals(b.fewShot(pool, query, 5, new Random(3), false).demos(),
                b.fewShot(pool, query, 5, new Random(4), false).demos());
        // the query's slot is excluded, so 19 others can fill 19 shots
        assertEquals(19, b.fewShot(pool, query, 19, new Random(1), false).demos().size());
        assertEquals(b.zeroShot(query), b.fewShot(pool, query, 0, new Random(1), false));
    }

    @Test
    void shuffledLabelsPermuteOnlyDemoOutputs() {
        List<TaskExample> pool = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            pool.add(new TaskExample("x" + i, "y" + i));
        }
        TaskExample query = new TaskExample("q", "a");
        PromptBuilder b = new PromptBuilder(PromptStyle.QA);
        boolean someMoved = false;
        for (int seed = 0; seed < 20; seed++) {
            Prompt clean = b.fewShot(pool, query, 10, new Random(seed), false);
            Prompt corrupt = b.fewShot(pool, query, 10, new Random(seed), true);
            // same inputs in the same order (same draws), same query and target
            List<String> cleanIn = clean.demos().stream().map(TaskExample::input).toList();
            assertEquals(cleanIn, corrupt.demos().stream().map(TaskExample::input).toList());
            assertEquals(clean.target(), corrupt.target());
            assertEquals(query, corrupt.query());
            assertTrue(corrupt.text().endsWith("Q: q\nA:"));
            // outputs are a permutation of the clean outputs
            List<String> a = new ArrayList<>(clean.demos().stream().map(TaskExample::output).toList());
            List<String> c = new ArrayList<>(corrupt.demos().stream().map(TaskExample::output).toList());
            someMoved |= !a.equals(c);
            a.sort(null);
            c.sort(null);
            assertEquals(a, c);
        }
        assertTrue(someMoved);
    }

    @Test
    void shuffledLabelsHandWritten() {
        // with two demos the only non-identity permutation swaps the outputs
        PromptBuilder b = new PromptBuilder(PromptStyle.QA);
        Set<String> texts = new HashSet<>();
        for (int seed = 0; seed < 40; seed++) {
            texts.add(b.fewShot(TWO, BIG, 2, new Random(seed), true).text());
        }
        Set<String> clean = Set.of(
                "Q: hot\nA: cold\n\nQ: up\nA: down\n\nQ: big\nA:",
                "Q: up\nA: down\n\nQ: hot\nA: cold\n\nQ: big\nA:");
        Set<String> swapped = Set.of(
                "Q: hot\nA: down\n\nQ: up\nA: cold\n\nQ: big\nA:",
                "Q: up\nA: cold\n\nQ: hot\nA: down\n\nQ: big\nA:");
        Set<String> allowed = new HashSet<>(clean);
        allowed.addAll(swapped);
        assertTrue(allowed.containsAll(texts), texts.toString());
        assertTrue(texts.stream().anyMatch(swapped::contains), texts.toString());
        assertTrue(texts.stream().anyMatch(clean::contains), texts.toString());
    }

    @Test
    void tooFewRecordsForShots() {
        PromptBuilder b = new PromptBuilder(PromptStyle.QA);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> b.fewShot(List.of(HOT, UP, BIG), BIG, 3, new Random(0), false));
        assertEquals("shots", e.field());
        assertTrue(e.getMessage().contains("only 2 records other than the query"), e.getMessage());
        assertEquals("shots", assertThrows(InvalidArgumentException.class,
                () -> b.fewShot(TWO, BIG, -1, new Random(0), false)).field());
    }

    @Test
    void superNiInstructionFormatExactly() {
        Prompt p = PromptBuilder.superNiInstruction(
                "In this task, you are given sentences from movie reviews. The task is to classify a sentence as "
                        + "\"POS\" if the sentiment of the sentence is positive or as \"NEG\" if the sentiment of the "
                        + "sentence is negative",
                new TaskExample("A smart , witty follow-up ", "POS"));
        assertEquals("Definition: In this task, you are given sentences from movie reviews. The task is to classify "
                + "a sentence as \"POS\" if the sentiment of the sentence is positive or as \"NEG\" if the sentiment "
                + "of the sentence is negative.\n\nNow complete the following example -\n"
                + "Input: A smart , witty follow-up.\nOutput:", p.text());
        assertEquals(" POS", p.target());

        // no period added after a final punctuation mark; surrounding whitespace stripped
        Prompt q = PromptBuilder.superNiInstruction("  Summarize the article!\n",
                new TaskExample("\tIt rained today.  ", "Rain."));
        assertEquals("Definition: Summarize the article!\n\nNow complete the following example -\n"
                + "Input: It rained today.\nOutput:", q.text());
        assertEquals(" Rain.", q.target());
        // a digit answer takes no space ([FVF] evaluation rule)
        assertEquals("4", PromptBuilder.superNiInstruction("Rate it", new TaskExample("good", "4")).target());
        assertEquals("Definition: Rate it.\n\nNow complete the following example -\nInput: good).\nOutput:"
                .replace("good).", "good)"),
                PromptBuilder.superNiInstruction("Rate it", new TaskExample("good)", "4")).text());
    }
}
