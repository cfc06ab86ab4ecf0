package dev.ivkit.organism;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.model.tokenizer.CharTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The model organism's synthetic task suite, generated from a seed: pseudo-words, string functions over them, and
 * "knowledge" lookups over a fixed set of pseudo-word entities.
 *
 * <h2>Words and splits</h2>
 * A pseudo-word is 3–6 random lowercase letters. A hash of the word (mixed with the seed) sends about 20 % of all
 * words to the <em>test</em> split ({@link #isTestWord}); pretraining never sees a test word as a string-task input,
 * and every accuracy is measured on test words. Lookup tasks are over {@value #ENTITIES} entities whose facts are
 * all pretrained (that is the knowledge); their datasets split the entities by the same hash, so demonstrations and
 * queries still come from disjoint sets.
 *
 * <h2>Prompt formats</h2>
 * Characters only, one token each (see {@link #tokenizer()}); BOS is added by the tokenizer, shown as {@code ^}:
 * <ul>
 *   <li>few-shot: {@code ^x1>y1\nx2>y2\n…xq>} — demonstrations {@code x>y} each closed by a newline;
 *   <li>instruction: {@code ^[task]xq>} — the task's token ({@link Task#instruction()}) before the input;
 *   <li>bare zero-shot: {@code ^xq>}.
 * </ul>
 * The target is {@code yq}; the model ends an answer with a newline, so the IV pipeline's greedy generation (which
 * stops at a newline) and its teacher-forced scores work on these prompts unchanged. Pretraining sequences pack
 * pairs of one task the same way: {@code ^[task]?x1>y1\nx2>y2\n…} (see {@link OrganismTrainer}).
 */
public final class SyntheticTasks {
    /** Number of knowledge entities. */
    public static final int ENTITIES = 50;
    /** Minimum and maximum pseudo-word length. */
    public static final int MIN_LEN = 3, MAX_LEN = 6;
    /** The longest answer any task produces (dup of a 6-letter word). */
    public static final int MAX_ANSWER = 2 * MAX_LEN;

    public static final String PAD = "<pad>", BOS = "<s>", SEP = ">", END = "\n";

    public enum Kind { STRING, LOOKUP }

    /**
     * One task.
     *
     * @param pretrain whether pretraining uses it (false: held out for the fine-tuning sequence)
     */
    public record Task(String name, Kind kind, boolean pretrain, String description) {
        /** The instruction: the task's own token, {@code [name]}. */
        public String instruction() {
            return "[" + name + "]";
        }
    }

    private final long seed;
    private final List<Task> tasks = new ArrayList<>();
    private final Map<String, UnaryOperator<String>> functions = new LinkedHashMap<>();
    private final List<String> entities;
    private final Map<String, String> capital = new LinkedHashMap<>(), continent = new LinkedHashMap<>(),
            code = new LinkedHashMap<>();
    private final List<String> continents;

    public SyntheticTasks(long seed) {
        this.seed = seed;
        str("upper", true, "uppercase every letter", String::toUpperCase);
        str("reverse", true, "reverse the word", SyntheticTasks::reverse);
        str("first", true, "first letter", x -> x.substring(0, 1));
        str("last", true, "last letter", x -> x.substring(x.length() - 1));
        str("next", true, "each letter replaced by the next one (z -> a)", x -> shift(x, 1));
        str("dup", true, "the word twice", x -> x + x);
        str("sort", true, "letters sorted", SyntheticTasks::sortLetters);
        str("dropfirst", true, "without its first letter", x -> x.substring(1));
        str("capfirst", true, "first letter capitalised", x -> Character.toUpperCase(x.charAt(0)) + x.substring(1));
        // held out of pretraining: the fine-tuning sequence
        str("rotl", false, "first letter moved to the end", x -> x.substring(1) + x.charAt(0));
        str("prev", false, "each letter replaced by the previous one (a -> z)", x -> shift(x, -1));
        str("droplast", false, "without its last letter", x -> x.substring(0, x.length() - 1));
        str("caplast", false, "last letter capitalised", x -> x.substring(0, x.length() - 1)
                + Character.toUpperCase(x.charAt(x.length() - 1)));

        Random r = new Random(mix(seed, 0x5eed_e1L));
        Set<String> used = new LinkedHashSet<>();
        entities = uniqueWords(r, ENTITIES, 4, 6, used);
        List<String> capitals = uniqueWords(r, ENTITIES, 4, 6, used);
        continents = uniqueWords(r, 5, 4, 5, used);
        Set<String> codes = new LinkedHashSet<>();
        for (int i = 0; i < ENTITIES; i++) {
            capital.put(entities.get(i), capitals.get(i));
            continent.put(entities.get(i), continents.get(r.nextInt(continents.size())));
            String c;
            do {
                c = "" + (char) ('A' + r.nextInt(26)) + (char) ('A' + r.nextInt(26));
            } while (!codes.add(c));
            code.put(entities.get(i), c);
        }
        lookup("capital", "the entity's capital", capital);
        lookup("continent", "the entity's continent", continent);
        lookup("code", "the entity's two-letter code", code);
    }

    private void str(String name, boolean pretrain, String description, UnaryOperator<String> f) {
        tasks.add(new Task(name, Kind.STRING, pretrain, description));
        functions.put(name, f);
    }

    private void lookup(String name, String description, Map<String, String> map) {
        tasks.add(new Task(name, Kind.LOOKUP, true, description));
        functions.put(name, x -> {
            String y = map.get(x);
            if (y == null) {
                throw new InvalidArgumentException("input", "'" + x + "' is not one of the " + ENTITIES + " entities");
            }
            return y;
        });
    }

    public long seed() {
        return seed;
    }

    /** Every task, pretraining ones first in a fixed order. */
    public List<Task> tasks() {
        return List.copyOf(tasks);
    }

    public List<Task> pretrainTasks() {
        return tasks.stream().filter(Task::pretrain).toList();
    }

    public List<Task> heldOutTasks() {
        return tasks.stream().filter(t -> !t.pretrain()).toList();
    }

    public Task task(String name) {
        return tasks.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new InvalidArgumentException("task", "unknown organism task '" + name + "'"));
    }

    /** The task's answer for {@code input}. */
    public String apply(Task task, String input) {
        return functions.get(task.name()).apply(input);
    }

    /** The knowledge entities (inputs of the lookup tasks). */
    public List<String> entities() {
        return entities;
    }

    /** The five continent names. */
    public List<String> continents() {
        return continents;
    }

    /** Whether a word belongs to the held-out test split (about 20 % of all words). */
    public boolean isTestWord(String word) {
        return Math.floorMod(mix(seed, word.hashCode() * 0x9E3779B97F4A7C15L), 5) == 0;
    }

    /** A random pseudo-word of the given split. */
    public String randomWord(Random r, boolean test) {
        while (true) {
            String w = randomWord(r, MIN_LEN, MAX_LEN);
            if (isTestWord(w) == test) {
                return w;
            }
        }
    }

    /** An input for {@code task} from the given split: a pseudo-word, or an entity for lookups. */
    public String randomInput(Task task, Random r, boolean test) {
        if (task.kind() == Kind.LOOKUP) {
            List<String> pool = entitySplit(test);
            return pool.get(r.nextInt(pool.size()));
        }
        return randomWord(r, test);
    }

    /** A random input for pretraining: a train word, or any entity for lookups (every fact is pretrained). */
    String pretrainInput(Task task, Random r) {
        return task.kind() == Kind.LOOKUP ? entities.get(r.nextInt(entities.size())) : randomWord(r, false);
    }

    private List<String> entitySplit(boolean test) {
        return entities.stream().filter(e -> isTestWord(e) == test).toList();
    }

    /**
     * {@code n} examples of a task from one split as a {@link TaskDataset} (named after the task, instruction = its
     * token). String tasks get {@code n} distinct words; lookup tasks cycle through the split's entities.
     */
    public TaskDataset dataset(Task task, boolean test, int n, long sampleSeed) {
        Random r = new Random(mix(mix(seed, sampleSeed), task.name().hashCode() * 31L + (test ? 1 : 0)));
        List<TaskExample> out = new ArrayList<>();
        if (task.kind() == Kind.LOOKUP) {
            List<String> pool = new ArrayList<>(entitySplit(test));
            java.util.Collections.shuffle(pool, r);
            for (int i = 0; i < n; i++) {
                String x = pool.get(i % pool.size());
                out.add(new TaskExample(x, apply(task, x)));
            }
        } else {
            Set<String> seen = new LinkedHashSet<>();
            while (out.size() < n) {
                String x = randomWord(r, test);
                if (seen.add(x)) {
                    out.add(new TaskExample(x, apply(task, x)));
                }
            }
        }
        return new TaskDataset(task.name(), null, out, task.instruction());
    }

    // ------------------------------------------------------------------------------------------------ prompts

    /** Few-shot prompt {@code x1>y1\n…xq>} (BOS comes from the tokenizer), target {@code yq}. */
    public static Prompt fewShot(List<TaskExample> demos, TaskExample query) {
        StringBuilder sb = new StringBuilder();
        for (TaskExample d : demos) {
            sb.append(d.input()).append(SEP).append(d.output()).append(END);
        }
        sb.append(query.input()).append(SEP);
        return new Prompt(sb.toString(), query.output(), query, demos);
    }

    /** Instruction prompt {@code [task]xq>}, target {@code yq}. */
    public static Prompt instruction(Task task, TaskExample query) {
        return new Prompt(task.instruction() + query.input() + SEP, query.output(), query, List.of());
    }

    /** Bare zero-shot prompt {@code xq>}, target {@code yq}. */
    public static Prompt bare(TaskExample query) {
        return new Prompt(query.input() + SEP, query.output(), query, List.of());
    }

    /** The organism's vocabulary: {@code <pad> <s> > \n a–z A–Z} and one token per task (held-out ones included). */
    public CharTokenizer tokenizer() {
        List<String> toks = new ArrayList<>(List.of(PAD, BOS, SEP, END));
        for (char c = 'a'; c <= 'z'; c++) {
            toks.add(String.valueOf(c));
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            toks.add(String.valueOf(c));
        }
        for (Task t : tasks) {
            toks.add(t.instruction());
        }
        return new CharTokenizer(toks, 1, -1, 0);
    }

    // ------------------------------------------------------------------------------------------------ functions

    public static String reverse(String x) {
        return new StringBuilder(x).reverse().toString();
    }

    /** Shifts every lowercase letter by {@code k} places, wrapping around (next of z is a). */
    public static String shift(String x, int k) {
        StringBuilder sb = new StringBuilder(x.length());
        for (char c : x.toCharArray()) {
            sb.append((char) ('a' + Math.floorMod(c - 'a' + k, 26)));
        }
        return sb.toString();
    }

    public static String sortLetters(String x) {
        char[] c = x.toCharArray();
        Arrays.sort(c);
        return new String(c);
    }

    private static String randomWord(Random r, int min, int max) {
        int len = min + r.nextInt(max - min + 1);
        char[] c = new char[len];
        for (int i = 0; i < len; i++) {
            c[i] = (char) ('a' + r.nextInt(26));
        }
        return new String(c);
    }

    private static List<String> uniqueWords(Random r, int n, int min, int max, Set<String> used) {
        List<String> out = new ArrayList<>();
        while (out.size() < n) {
            String w = randomWord(r, min, max);
            if (used.add(w)) {
                out.add(w);
            }
        }
        return out;
    }

    /** SplitMix64 finaliser of {@code a ^ b}: a well-spread seed for derived random streams. */
    static long mix(long a, long b) {
        long z = a ^ (b + 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
