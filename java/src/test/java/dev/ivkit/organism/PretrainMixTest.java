package dev.ivkit.organism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.model.tokenizer.CharTokenizer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The held-out tasks' place in pretraining: with {@code heldOutInContext} they appear as few-shot sequences and never
 * with their task token; without it they never appear. Sequences are classified by decoding them and checking every
 * pair against each task's function.
 */
class PretrainMixTest {
    @Test
    void heldOutTasksArePretrainedInContextOnly() {
        Map<String, Integer> inContext = census(true), strict = census(false);
        for (String held : new String[] {"rotl", "prev", "droplast", "caplast"}) {
            assertTrue(inContext.getOrDefault(held, 0) > 0, held + " never drawn in context: " + inContext);
            assertFalse(strict.containsKey(held), held + " drawn although held out strictly: " + strict);
        }
        for (String held : new String[] {"rotl", "prev", "droplast", "caplast"}) {
            assertEquals(0, inContext.getOrDefault("token:" + held, 0), "a held-out task token appeared in pretraining: " + inContext);
        }
        assertTrue(inContext.getOrDefault("token:upper", 0) + strict.getOrDefault("token:upper", 0) > 0,
                "pretrained tasks still show their token: " + inContext);
    }

    /** Per task, how many of 8 batches' sequences apply it to every pair; "token:T" counts T's task token. */
    private static Map<String, Integer> census(boolean heldOutInContext) {
        OrganismTrainer tr = new OrganismTrainer(OrganismTest.tiny(8).withHeldOutInContext(heldOutInContext));
        SyntheticTasks tasks = tr.tasks();
        CharTokenizer tok = tr.tokenizer();
        Map<String, Integer> counts = new HashMap<>();
        for (int step = 0; step < 8; step++) {
            OrganismTrainer.Batch b = tr.batch(step);
            for (int row = 0; row < b.rows(); row++) {
                int[] ids = Arrays.stream(Arrays.copyOfRange(b.ids(), row * b.len(), (row + 1) * b.len())).mapToInt(x -> (int) x).toArray();
                for (SyntheticTasks.Task t : tasks.tasks()) {
                    if (Arrays.stream(ids).anyMatch(id -> id == tok.id(t.instruction()))) {
                        counts.merge("token:" + t.name(), 1, Integer::sum);
                    }
                }
                String text = tok.decode(Arrays.stream(ids).filter(id -> tasks.tasks().stream()
                        .noneMatch(t -> tok.id(t.instruction()) == id)).toArray());
                String[] pairs = text.split(SyntheticTasks.END);
                for (SyntheticTasks.Task t : tasks.tasks()) {
                    if (t.kind() != SyntheticTasks.Kind.STRING) {
                        continue;   // lookups reject non-entities; only string tasks are classified
                    }
                    boolean all = pairs.length >= 3;
                    for (String p : pairs) {
                        int sep = p.indexOf(SyntheticTasks.SEP);
                        all &= sep > 0 && tasks.apply(t, p.substring(0, sep)).equals(p.substring(sep + 1));
                    }
                    if (all) {
                        counts.merge(t.name(), 1, Integer::sum);
                    }
                }
            }
        }
        return counts;
    }
}
