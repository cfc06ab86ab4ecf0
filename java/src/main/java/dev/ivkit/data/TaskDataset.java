package dev.ivkit.data;

import dev.ivkit.InvalidArgumentException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * The input/output examples of one task, with the task's instruction text when the source has one. Immutable.
 *
 * <p>Three loaders cover the data the IV/FV papers use:
 * <ul>
 *   <li>{@link #loadFunctionVector} — Todd et al.'s {@code dataset_files/*.json}: {@code [{"input", "output"}]};
 *       records named {@code instruction}/{@code output} (the IV authors' renamed files) are accepted as well;
 *   <li>{@link #loadSuperNiSapo} — the SAPO re-split of SuperNI tasks: {@code {train,dev,test}.json} arrays of
 *       {@code {"sentence", "label"}} plus {@code instructions.json} (definition, answer-format suffix, label set);
 *   <li>{@link #loadSuperNiOriginal} — a file in the original SuperNI schema ({@code Definition},
 *       {@code Positive Examples}, {@code Instances} whose {@code output} is a list: the first one is taken).
 * </ul>
 *
 * <p>Validation is strict: an empty file or array, a top-level value that is not an array (or, for SuperNI, not an
 * object), a record that is not an object, a missing, non-string or blank field, and malformed JSON each raise a
 * {@link DataFormatException} naming the file and the record index. Blank outputs can instead be skipped or kept with
 * the {@link BlankOutputs} overloads (real SuperNI files contain a few).
 */
public final class TaskDataset {
    private final String name;
    private final Path source;
    private final List<TaskExample> examples;
    private final String instruction;
    private final String answerFormat;
    private final List<String> labels;
    private final List<TaskExample> positiveExamples;

    /**
     * An in-memory dataset; {@code source} and {@code instruction} may be null.
     *
     * @param name the task name
     * @param source the file the examples came from, or null
     * @param examples the examples, in order
     * @param instruction the task's instruction text, or null
     */
    public TaskDataset(String name, Path source, List<TaskExample> examples, String instruction) {
        this(name, source, examples, instruction, null, List.of(), List.of());
    }

    /** The full constructor the readers use: SuperNI adds answer format, labels and positive examples. */
    TaskDataset(String name, Path source, List<TaskExample> examples, String instruction, String answerFormat,
            List<String> labels, List<TaskExample> positiveExamples) {
        if (name == null) {
            throw new InvalidArgumentException("name", "is null");
        }
        if (examples == null || examples.isEmpty()) {
            throw new InvalidArgumentException("examples", "a dataset needs at least one example");
        }
        this.name = name;
        this.source = source;
        this.examples = List.copyOf(examples);
        this.instruction = instruction;
        this.answerFormat = answerFormat;
        this.labels = List.copyOf(labels);
        this.positiveExamples = List.copyOf(positiveExamples);
    }

    // ---------------------------------------------------------------------------------------------------- loaders

    /**
     * {@link #loadFunctionVector(Path, BlankOutputs)} rejecting blank outputs.
     *
     * @param json the task file
     * @return the task's examples
     * @throws DataFormatException naming the file and record on any format error or blank output
     */
    public static TaskDataset loadFunctionVector(Path json) {
        return loadFunctionVector(json, BlankOutputs.REJECT);
    }

    /**
     * Todd et al.'s function-vector task file: a JSON array of {@code {"input": str, "output": str}}; a record without
     * {@code input} may carry the input as {@code instruction} (as [FVF]'s {@code ICLDataset} renames it). Other keys
     * are ignored. The name is the file name without {@code .json}; there is no instruction text.
     *
     * @param json the task file
     * @param blankOutputs whether a blank output is an error, skipped or kept
     * @return the task's examples
     * @throws DataFormatException naming the file and record on any format error
     */
    public static TaskDataset loadFunctionVector(Path json, BlankOutputs blankOutputs) {
        return FunctionVectorReader.read(json, blankOutputs);
    }

    /**
     * {@link #loadSuperNiSapo(Path, String, Path, BlankOutputs)} rejecting blank outputs.
     *
     * @param taskDir the task's folder, holding {@code <split>.json}
     * @param split {@code "train"}, {@code "dev"} or {@code "test"}
     * @param instructionsJson SAPO's {@code instructions.json}
     * @return the split's examples with the task's instruction, answer format and labels
     * @throws DataFormatException on a missing file or entry, any format error, or a blank output
     */
    public static TaskDataset loadSuperNiSapo(Path taskDir, String split, Path instructionsJson) {
        return loadSuperNiSapo(taskDir, split, instructionsJson, BlankOutputs.REJECT);
    }

    /**
     * One split of a SAPO SuperNI task: {@code taskDir/<split>.json}, a JSON array of {@code {"sentence", "label"}}
     * (input, output). The task name is the folder name; {@code instructionsJson} (SAPO's {@code instructions.json},
     * an object keyed by task name) supplies {@link #instruction()} (its {@code instruction}: the SuperNI
     * definition), {@link #answerFormat()} (its {@code suffix}, e.g. "Directly output only POS or NEG as your
     * answer.") and {@link #labels()}.
     *
     * @param taskDir the task's folder, holding {@code <split>.json}
     * @param split {@code "train"}, {@code "dev"} or {@code "test"}
     * @param instructionsJson SAPO's {@code instructions.json}
     * @param blankOutputs whether a blank output is an error, skipped or kept
     * @return the split's examples with the task's instruction, answer format and labels
     * @throws DataFormatException when the split file is absent (several SAPO train files are not in the shared
     *     snapshot), when {@code instructions.json} has no entry for the task, or on any format error
     */
    public static TaskDataset loadSuperNiSapo(Path taskDir, String split, Path instructionsJson,
            BlankOutputs blankOutputs) {
        return SuperNiReader.readSapo(taskDir, split, instructionsJson, blankOutputs);
    }

    /**
     * {@link #loadSuperNiOriginal(Path, BlankOutputs)} rejecting blank outputs.
     *
     * @param file the task file
     * @return the instances, with the definition as instruction and the positive examples
     * @throws DataFormatException naming the file and record on any format error or blank output
     */
    public static TaskDataset loadSuperNiOriginal(Path file) {
        return loadSuperNiOriginal(file, BlankOutputs.REJECT);
    }

    /**
     * A task file in the original SuperNI schema: {@code Definition} (a string or a list whose first string is
     * used), optional {@code Positive Examples} ({@code {"input", "output"}}, exposed by {@link
     * #positiveExamples()}), and {@code Instances} ({@code {"input", "output": [str, ...]}}: the first output is
     * taken; a plain string is accepted too). Record indices in errors are indices into {@code Instances}; problems in
     * {@code Positive Examples} are reported with record -1 and the example's index in the message. The name is the
     * file name without {@code .json} / {@code .partial.json} when it starts with {@code task}, otherwise (e.g.
     * {@code train.json}) the parent folder's name.
     *
     * @param file the task file
     * @param blankOutputs whether a blank output is an error, skipped or kept
     * @return the instances, with the definition as instruction and the positive examples
     * @throws DataFormatException naming the file and record on any format error
     */
    public static TaskDataset loadSuperNiOriginal(Path file, BlankOutputs blankOutputs) {
        return SuperNiReader.readOriginal(file, blankOutputs);
    }

    // ---------------------------------------------------------------------------------------------------- access

    /**
     * Task name (file or folder name).
     *
     * @return the task name
     */
    public String name() {
        return name;
    }

    /**
     * The file the examples were read from, or null for an in-memory dataset.
     *
     * @return the source file, or null
     */
    public Path source() {
        return source;
    }

    /**
     * All examples, in file order.
     *
     * @return the examples (unmodifiable)
     */
    public List<TaskExample> examples() {
        return examples;
    }

    /**
     * The number of examples.
     *
     * @return the number of examples
     */
    public int size() {
        return examples.size();
    }

    /**
     * The example at index {@code i} in file order.
     *
     * @param i an index in [0, size())
     * @return the example
     */
    public TaskExample get(int i) {
        return examples.get(i);
    }

    /**
     * The task's instruction (SuperNI definition), when the source has one; empty for function-vector files.
     *
     * @return the instruction, or empty
     */
    public Optional<String> instruction() {
        return Optional.ofNullable(instruction);
    }

    /**
     * SAPO's answer-format suffix ({@code instructions.json} {@code suffix}), when present.
     *
     * @return the answer-format suffix, or empty
     */
    public Optional<String> answerFormat() {
        return Optional.ofNullable(answerFormat);
    }

    /**
     * SAPO's label set for classification tasks; empty for generation tasks and other sources.
     *
     * @return the labels (unmodifiable), or an empty list
     */
    public List<String> labels() {
        return labels;
    }

    /**
     * SuperNI's {@code Positive Examples} (original schema only; first output of each); empty otherwise.
     *
     * @return the positive examples (unmodifiable), or an empty list
     */
    public List<TaskExample> positiveExamples() {
        return positiveExamples;
    }

    // ---------------------------------------------------------------------------------------------------- splits

    /**
     * {@link #split(double, double, long)} with Todd's valid fraction 0.3 of the held-out part.
     *
     * @param testSize the held-out fraction, in (0, 1)
     * @param seed the shuffle seed
     * @return disjoint train, valid and test parts
     */
    public Splits split(double testSize, long seed) {
        return split(testSize, 0.3, seed);
    }

    /**
     * Train / valid / test split in the manner of Todd et al.'s {@code split_icl_dataset}, which calls scikit-learn's
     * {@code train_test_split} twice: first {@code testSize} of the examples are held out (train = the rest), then
     * {@code validFraction} of the held-out part becomes valid and the remainder test. Sizes follow scikit-learn:
     * {@code held = ceil(testSize·n)}, {@code valid = ceil(validFraction·held)}. With Todd's defaults
     * ({@code testSize=0.3}, {@code validFraction=0.3}) that is train 70 %, test 21 %, valid 9 %; [FVF] uses
     * {@code validFraction=0.5}. (Neither the [FVF] truncation {@code valid[:200]}, {@code test[-100:]} nor the
     * {@code testSize==1} special case is applied here.)
     *
     * <p>Each step shuffles with {@code new java.util.Random(seed)} (Fisher–Yates via {@link
     * Collections#shuffle(List, Random)}) and, like scikit-learn, puts the first {@code held}/{@code valid} shuffled
     * items into the held-out/valid part. This is <b>not</b> NumPy's RNG: the sizes match Todd's split, the exact
     * membership does not. The result is deterministic for a given seed and dataset, and the three lists are
     * disjoint (by position in the dataset) and together hold every example once.
     *
     * @param testSize the held-out fraction, in (0, 1)
     * @param validFraction the fraction of the held-out part that becomes valid, in (0, 1)
     * @param seed the shuffle seed
     * @return disjoint train, valid and test parts
     * @throws InvalidArgumentException when a fraction is outside (0, 1) or a part would be empty
     */
    public Splits split(double testSize, double validFraction, long seed) {
        if (!(testSize > 0 && testSize < 1)) {
            throw new InvalidArgumentException("testSize", "must be in (0, 1), got " + testSize);
        }
        if (!(validFraction > 0 && validFraction < 1)) {
            throw new InvalidArgumentException("validFraction", "must be in (0, 1), got " + validFraction);
        }
        int n = examples.size();
        int held = (int) Math.ceil(testSize * n);
        int valid = (int) Math.ceil(validFraction * held);
        if (held >= n || valid >= held) {
            throw new InvalidArgumentException("testSize", "a " + n + "-example dataset split with testSize "
                    + testSize + " and validFraction " + validFraction + " leaves an empty part");
        }
        List<TaskExample> perm = new ArrayList<>(examples);
        Collections.shuffle(perm, new Random(seed));
        List<TaskExample> heldOut = new ArrayList<>(perm.subList(0, held));
        List<TaskExample> train = perm.subList(held, n);
        Collections.shuffle(heldOut, new Random(seed));
        return new Splits(train, heldOut.subList(0, valid), heldOut.subList(valid, held));
    }

    @Override
    public String toString() {
        return "TaskDataset[" + name + ", " + examples.size() + " examples" + (source == null ? "" : ", " + source)
                + "]";
    }
}
