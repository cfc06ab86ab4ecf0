package dev.ivkit.cli;

import dev.ivkit.ProgressListener;
import dev.ivkit.data.DataFormatException;
import dev.ivkit.data.Splits;
import dev.ivkit.data.TaskDataset;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.data.prompt.PromptBuilder;
import dev.ivkit.data.prompt.PromptStyle;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.pipeline.TaskFiles;
import dev.ivkit.pipeline.TaskInput;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --task}, {@code --split}, {@code --instructions}, {@code --format}, {@code --seed}: loading a task and
 * splitting it (train 70 %, then valid / test from the held-out 30 %, {@link TaskDataset#split(double, long)}).
 *
 * <p>{@code --task} is a function-vector JSON file ({@code [{"input","output"}]}), a file in SuperNI's original
 * schema (an object with {@code Instances}), or a SAPO SuperNI task folder ({@code <split>.json}; the instructions
 * come from {@code --instructions}, default {@code instructions.json} in the folder's parent).
 */
final class TaskOptions {
    @Option(names = "--task", required = true, description = "function-vector JSON file, SuperNI task file, "
            + "or SAPO SuperNI task folder")
    Path task;

    @Option(names = "--split", defaultValue = "train", description = "SAPO task folder only: which file to read "
            + "(train, dev, test; default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--instructions", description = "SAPO task folder only: instructions.json "
            + "(default: the one in the folder's parent)")
    Path instructions;

    @Option(names = "--format", defaultValue = "qa", description = "prompt format: qa (Q:/A:), none, io "
            + "(Input:/Output:), question (Question:/Answer:) (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the split and the prompt sampling "
            + "(default: ${DEFAULT-VALUE})")
    long seed;

    /** Loads the task; every format problem is a {@link DataFormatException} naming the file and record. */
    TaskDataset load() {
        return TaskFiles.load(task, split, instructions);
    }

    PromptStyle style() {
        return TaskFiles.style(format);
    }

    PromptBuilder builder() {
        return new PromptBuilder(style());
    }

    /**
     * The task loaded and split for prompts of {@code shots} demonstrations (the format is checked first), as the
     * library's {@link TaskInput}.
     */
    TaskInput input(int shots) {
        return TaskInput.load(task, split, instructions, format, seed, shots);
    }

    /** A listener that prints the library's messages to stderr as {@code command: message}. */
    static ProgressListener messages(String command) {
        return new ProgressListener() {
            @Override
            public void onMessage(String message) {
                System.err.println(command + ": " + message);
            }
        };
    }

    /**
     * The seeded split, refusing clearly when the task is too small for {@code shots} demonstrations drawn from its
     * train part (a query plus {@code shots} other records).
     */
    Splits split(TaskDataset data, int shots) {
        return TaskFiles.split(data, shots, seed);
    }

    /**
     * Indices of the prompts that fit a context of {@code ctx} tokens in every list (prompt + teacher-forced answer,
     * plus {@code extra} generated tokens); prints how many were left out to stderr.
     */
    static List<Integer> fitting(String command, Tokenizer tok, int ctx, int extra, List<List<Prompt>> lists) {
        return TaskInput.fitting(tok, ctx, extra, lists, messages(command));
    }
}
