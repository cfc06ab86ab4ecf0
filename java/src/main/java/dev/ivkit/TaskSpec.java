package dev.ivkit;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The task part of {@link ExtractOptions}, {@link TrainOptions}, {@link EvaluateOptions} and {@link ProbeOptions}:
 * which task file or folder is read, which split and instructions of a SAPO task folder, how its examples are written
 * into prompts, and the seed of the split (and of what each operation draws after it). Their builders extend
 * {@link Builder}, so the task is set the same way for extraction, training, evaluation and probing.
 *
 * @param task         function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder
 * @param split        SAPO task folders only: the file read (train, dev, test)
 * @param instructions SAPO task folders only: instructions.json, or null for the one in the folder's parent
 * @param format       prompt format of the examples
 * @param seed         seed of the split and of what the operation draws after it
 */
public record TaskSpec(Path task, String split, Path instructions, PromptFormat format, long seed) {
    /**
     * Checks that the task and the format are given.
     *
     * @param task         function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder
     * @param split        SAPO task folders only: the file read
     * @param instructions SAPO task folders only: instructions.json, or null for the one in the folder's parent
     * @param format       prompt format of the examples
     * @param seed         seed of the split and of what the operation draws after it
     * @throws InvalidArgumentException naming {@code task} or {@code format} when it is null
     */
    public TaskSpec {
        if (task == null) {
            throw new InvalidArgumentException("task", "no task path given");
        }
        if (format == null) {
            throw new InvalidArgumentException("format", "no prompt format given");
        }
    }

    /**
     * The task setters shared by {@link ExtractOptions.Builder}, {@link TrainOptions.Builder},
     * {@link EvaluateOptions.Builder} and {@link ProbeOptions.Builder}; each returns the concrete builder, so calls
     * chain as before. Only ivkit's option builders extend it.
     *
     * @param <B> the concrete builder
     */
    public abstract static class Builder<B extends Builder<B>> {
        private final Path task;
        private String split = "train";
        private Path instructions;
        private PromptFormat format = PromptFormat.QA;
        private long seed = 42;

        Builder(Path task) {
            if (task == null) {
                throw new InvalidArgumentException("task", "no task path given");
            }
            this.task = task;
        }

        /** @return this builder as its concrete type */
        @SuppressWarnings("unchecked")
        final B self() {
            return (B) this;
        }

        /**
         * @param split SAPO task folders only: the file read (train, dev, test); default train
         * @return this builder
         */
        public B split(String split) {
            this.split = split;
            return self();
        }

        /**
         * @param instructions SAPO task folders only: instructions.json; default the one in the folder's parent
         * @return this builder
         */
        public B instructions(Path instructions) {
            this.instructions = instructions;
            return self();
        }

        /**
         * @param format prompt format of the examples (extraction's, evaluation's and probing's prompts, training's
         *               examples); default {@link PromptFormat#QA}
         * @return this builder
         */
        public B format(PromptFormat format) {
            this.format = Objects.requireNonNull(format, "format");
            return self();
        }

        /**
         * @param seed seed of the split and of what the operation draws after it (extraction, evaluation, probing: the
         *             prompt sampling; training: the LoRA initialisation, the data order and dropout); default 42
         * @return this builder
         */
        public B seed(long seed) {
            this.seed = seed;
            return self();
        }

        /** @return the task part as set so far */
        TaskSpec taskSpec() {
            return new TaskSpec(task, split, instructions, format, seed);
        }
    }
}
