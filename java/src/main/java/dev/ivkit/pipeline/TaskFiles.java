package dev.ivkit.pipeline;

import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.DataFormatException;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Loading a task, splitting it and sampling its prompts: the steps the {@code scan}, {@code evaluate}, {@code probe}
 * and {@code train} commands and the {@code dev.ivkit} facade share. Prints nothing.
 *
 * <p>A task is a function-vector JSON file ({@code [{"input","output"}]}), a file in SuperNI's original schema (an
 * object with {@code Instances}), or a SAPO SuperNI task folder ({@code <split>.json}; the instructions come from
 * {@code instructions}, default {@code instructions.json} in the folder's parent). Splits: train 70 %, then valid /
 * test from the held-out 30 % ({@link TaskDataset#split(double, long)}).
 */
public final class TaskFiles {
    private TaskFiles() {}

    /**
     * Loads a task; every format problem is a {@link DataFormatException} naming the file and record.
     *
     * @param split        SAPO folders only: train, dev or test
     * @param instructions SAPO folders only: instructions.json, or null for the one in the folder's parent
     */
    public static TaskDataset load(Path task, String split, Path instructions) {
        if (Files.isDirectory(task)) {
            Path inst = instructions != null ? instructions
                    : task.toAbsolutePath().getParent().resolve("instructions.json");
            return TaskDataset.loadSuperNiSapo(task, split, inst);
        }
        if (!Files.isRegularFile(task)) {
            throw new DataFormatException(task, -1, "task file not found (" + task + ")");
        }
        return isSuperNiOriginal(task) ? TaskDataset.loadSuperNiOriginal(task) : TaskDataset.loadFunctionVector(task);
    }

    /** A JSON object at the top level (SuperNI's original schema) rather than an array (function vectors). */
    private static boolean isSuperNiOriginal(Path file) {
        try {
            String s = Files.readString(file).stripLeading();
            return s.startsWith("{") && JsonParser.parseString(s).getAsJsonObject().has("Instances");
        } catch (IOException | RuntimeException e) {
            return false;  // the function-vector loader reports the problem with file and record
        }
    }

    /** The prompt style of a format name: qa (Q:/A:), none, io (Input:/Output:), question (Question:/Answer:). */
    public static PromptStyle style(String format) {
        return switch (format) {
            case "qa" -> PromptStyle.QA;
            case "none" -> PromptStyle.NONE;
            case "io" -> PromptStyle.INPUT_OUTPUT;
            case "question" -> PromptStyle.QUESTION_ANSWER;
            default -> throw new InvalidArgumentException("format", "must be qa, none, io or question, got " + format);
        };
    }

    /**
     * The seeded split, refusing clearly when the task is too small for {@code shots} demonstrations drawn from its
     * train part (a query plus {@code shots} other records).
     */
    public static Splits split(TaskDataset data, int shots, long seed) {
        if (shots < 0) {
            throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
        }
        String where = data.source() == null ? data.name() : String.valueOf(data.source().getFileName());
        if (data.size() < 3) {
            throw new InvalidArgumentException("task", where + " has " + data.size()
                    + " records; at least 3 are needed for a train / valid / test split");
        }
        Splits s = data.split(0.3, seed);
        if (shots > 0 && s.train().size() < shots + 1) {
            throw new InvalidArgumentException("shots", where + " has " + data.size() + " records, whose train split ("
                    + s.train().size() + ") is too small for " + shots + " demonstrations plus a query");
        }
        return s;
    }

    /** Held-out queries: test then valid, in split order, cycled when more are asked for. */
    public static List<TaskExample> heldOutQueries(Splits s, int count) {
        List<TaskExample> pool = new ArrayList<>(s.test());
        pool.addAll(s.valid());
        List<TaskExample> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(pool.get(i % pool.size()));
        }
        return out;
    }

    /**
     * Prompts for {@code queries}: zero-shot when {@code shots == 0}; else {@code shots} demonstrations drawn from
     * {@code demosPool} with {@code rng} (labels shuffled among the demos when asked).
     */
    public static List<Prompt> prompts(PromptBuilder b, List<TaskExample> queries, List<TaskExample> demosPool, int shots,
            boolean shuffledLabels, Random rng) {
        List<Prompt> out = new ArrayList<>(queries.size());
        for (TaskExample q : queries) {
            out.add(b.fewShot(demosPool, q, shots, rng, shuffledLabels));
        }
        return out;
    }

    /**
     * Training prompts: the SuperNI instruction template when {@code instruction} is asked for and the task has a
     * definition, else {@code b}'s zero-shot format.
     */
    public static List<Prompt> trainingPrompts(TaskDataset data, List<TaskExample> examples, PromptBuilder b,
            boolean instruction) {
        boolean useInstruction = instruction && data.instruction().isPresent();
        List<Prompt> prompts = new ArrayList<>();
        for (TaskExample e : examples) {
            prompts.add(useInstruction ? PromptBuilder.superNiInstruction(data.instruction().get(), e) : b.zeroShot(e));
        }
        return prompts;
    }

    /**
     * Indices of the prompts that fit a context of {@code ctx} tokens in every list (prompt + teacher-forced answer,
     * plus {@code extra} generated tokens); refuses when none fits. The caller reports how many were left out.
     */
    public static List<Integer> fitting(Tokenizer tok, int ctx, int extra, List<List<Prompt>> lists) {
        List<Integer> keep = new ArrayList<>();
        int n = lists.get(0).size();
        for (int i = 0; i < n; i++) {
            boolean fits = true;
            for (List<Prompt> l : lists) {
                TokenizedPrompt tp = TokenizedPrompt.of(tok, l.get(i));
                fits &= Math.max(tp.promptIds().length + tp.targetIds().length - 1, tp.promptIds().length + extra) <= ctx;
            }
            if (fits) {
                keep.add(i);
            }
        }
        if (keep.isEmpty()) {
            throw new InvalidArgumentException("prompts", "all " + n + " prompts are longer than the model's context of "
                    + ctx + " tokens");
        }
        return keep;
    }
}
