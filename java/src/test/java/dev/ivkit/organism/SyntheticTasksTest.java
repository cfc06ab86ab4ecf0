package dev.ivkit.organism;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticTasksTest {
    private final SyntheticTasks tasks = new SyntheticTasks(7);

    private String run(String task, String x) {
        return tasks.apply(tasks.task(task), x);
    }

    @Test
    void stringFunctionsOnHandWrittenExamples() {
        assertEquals("ABC", run("upper", "abc"));
        assertEquals("cba", run("reverse", "abc"));
        assertEquals("h", run("first", "hello"));
        assertEquals("o", run("last", "hello"));
        assertEquals("bcd", run("next", "abc"));
        assertEquals("aza", run("next", "zyz"));           // next of z wraps to a
        assertEquals("zab", run("prev", "abc"));           // prev of a wraps to z
        assertEquals("abab", run("dup", "ab"));
        assertEquals("ehllo", run("sort", "hello"));
        assertEquals("ello", run("dropfirst", "hello"));
        assertEquals("Hello", run("capfirst", "hello"));
        assertEquals("elloh", run("rotl", "hello"));
        assertEquals("hell", run("droplast", "hello"));
        assertEquals("hellO", run("caplast", "hello"));
    }

    @Test
    void suiteHasTwelvePretrainingTasksThreeLookupsAndHeldOutOnes() {
        assertTrue(tasks.pretrainTasks().size() >= 12);
        assertTrue(tasks.pretrainTasks().stream().filter(t -> t.kind() == SyntheticTasks.Kind.LOOKUP).count() >= 3);
        assertTrue(tasks.heldOutTasks().size() >= 4);
        assertEquals(List.of("rotl", "prev", "droplast", "caplast"), tasks.heldOutTasks().stream().map(SyntheticTasks.Task::name).toList());
    }

    @Test
    void lookupsAreFixedMapsOverTheEntities() {
        assertEquals(SyntheticTasks.ENTITIES, tasks.entities().size());
        assertEquals(SyntheticTasks.ENTITIES, new HashSet<>(tasks.entities()).size());
        for (String e : tasks.entities()) {
            assertTrue(tasks.continents().contains(run("continent", e)));
            assertTrue(run("code", e).matches("[A-Z]{2}"));
            assertTrue(run("capital", e).matches("[a-z]{4,6}"));
        }
        assertThrows(InvalidArgumentException.class, () -> run("capital", "notanentity"));
    }

    @Test
    void deterministicForASeed() {
        SyntheticTasks again = new SyntheticTasks(7), other = new SyntheticTasks(8);
        assertEquals(tasks.entities(), again.entities());
        assertNotEquals(tasks.entities(), other.entities());
        for (SyntheticTasks.Task t : tasks.tasks()) {
            assertEquals(tasks.dataset(t, true, 20, 1).examples(), again.dataset(again.task(t.name()), true, 20, 1).examples());
        }
        assertEquals(tasks.tokenizer().tokens(), again.tokenizer().tokens());
        OrganismTrainer a = new OrganismTrainer(OrganismConfig.defaults()), b = new OrganismTrainer(OrganismConfig.defaults());
        assertArrayEquals(a.batch(5).ids(), b.batch(5).ids());
        assertArrayEquals(a.batch(5).mask(), b.batch(5).mask());
    }

    @Test
    void trainAndTestWordsAreDisjointAndPretrainingNeverSeesTestWords() {
        int test = 0, n = 20000;
        Random r = new Random(3);
        for (int i = 0; i < n; i++) {
            if (tasks.isTestWord(tasks.randomWord(r, false))) {
                throw new AssertionError("train word in the test split");
            }
        }
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < 3 + r.nextInt(4); k++) {
                sb.append((char) ('a' + r.nextInt(26)));
            }
            test += tasks.isTestWord(sb.toString()) ? 1 : 0;
        }
        assertEquals(0.2, test / (double) n, 0.02);
        for (SyntheticTasks.Task t : tasks.tasks()) {
            TaskDataset train = tasks.dataset(t, false, 100, 5), testSet = tasks.dataset(t, true, 100, 5);
            Set<String> trainInputs = new HashSet<>();
            train.examples().forEach(e -> trainInputs.add(e.input()));
            for (TaskExample e : testSet.examples()) {
                assertFalse(trainInputs.contains(e.input()), t.name() + ": " + e.input() + " in both splits");
                assertEquals(tasks.apply(t, e.input()), e.output());
            }
            assertEquals(t.instruction(), train.instruction().orElseThrow());
        }
        // the pretraining batches hold no test word as a string-task input
        OrganismTrainer tr = new OrganismTrainer(OrganismConfig.defaults());
        CharTokenizer tok = tr.tokenizer();
        for (int step = 0; step < 3; step++) {
            OrganismTrainer.Batch b = tr.batch(step);
            int[] row = new int[b.len()];
            for (int i = 0; i < b.rows(); i++) {
                for (int j = 0; j < b.len(); j++) {
                    row[j] = (int) b.ids()[i * b.len() + j];
                }
                String text = tok.decode(row);
                boolean lookup = text.startsWith("[capital]") || text.startsWith("[continent]") || text.startsWith("[code]");
                for (String pair : text.replaceFirst("^\\[[a-z]+\\]", "").split("\n")) {
                    String x = pair.split(">")[0];
                    if (!x.isEmpty() && !tasks.entities().contains(x) && !lookup) {
                        assertFalse(tasks.isTestWord(x), "test word " + x + " in pretraining");
                    }
                }
            }
        }
    }

    @Test
    void promptFormatsTokenizeForTheIvPipeline() {
        SyntheticTasks.Task rev = tasks.task("reverse");
        TaskExample q = new TaskExample("abc", "cba");
        Prompt few = SyntheticTasks.fewShot(List.of(new TaskExample("xy", "yx"), new TaskExample("pqr", "rqp")), q);
        assertEquals("xy>yx\npqr>rqp\nabc>", few.text());
        assertEquals("cba", few.target());
        assertEquals("[reverse]abc>", SyntheticTasks.instruction(rev, q).text());
        assertEquals("abc>", SyntheticTasks.bare(q).text());
        CharTokenizer tok = tasks.tokenizer();
        TokenizedPrompt tp = TokenizedPrompt.of(tok, SyntheticTasks.instruction(rev, q));
        assertEquals(tok.bosId(), tp.promptIds()[0]);
        assertEquals(tok.id("[reverse]"), tp.promptIds()[1]);
        assertEquals(3, tp.targetIds().length);
    }

    @Test
    void charTokenizerRoundTripsAndLoads(@TempDir Path dir) {
        CharTokenizer tok = tasks.tokenizer();
        String text = "[upper]abc>ABC\nzyx>XYZ\n";
        int[] ids = tok.encode(text, true);
        assertEquals(tok.bosId(), ids[0]);
        assertEquals(1 + 1 + 3 + 1 + 3 + 1 + 3 + 1 + 3 + 1, ids.length);
        assertEquals(text, tok.decode(ids));
        tok.save(dir);
        Tokenizer loaded = Tokenizer.load(dir);
        assertInstanceOf(CharTokenizer.class, loaded);
        assertArrayEquals(ids, loaded.encode(text, true));
        assertEquals(tok.vocabSize(), loaded.vocabSize());
        Tokenizer byFile = Tokenizer.load(dir.resolve(CharTokenizer.FILE_NAME));
        assertEquals(text, byFile.decode(ids));
        assertThrows(InvalidArgumentException.class, () -> tok.encode("a b", false));
    }
}
