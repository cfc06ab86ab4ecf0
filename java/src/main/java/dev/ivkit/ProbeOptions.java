package dev.ivkit;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of {@link IvkitModel#probe}: which task, how many held-out examples, how many demonstrations in the
 * instructed prompt. Built with {@link #builder(Path)}; the defaults are {@code ivkit probe}'s, so the same settings
 * give the same numbers. Immutable.
 */
public final class ProbeOptions {
    final Path task;
    final String split;
    final Path instructions;
    final PromptFormat format;
    final long seed;
    final int prompts;
    final int shots;

    private ProbeOptions(Builder b) {
        task = b.task;
        split = b.split;
        instructions = b.instructions;
        format = b.format;
        seed = b.seed;
        prompts = b.prompts;
        shots = b.shots;
    }

    /**
     * @param task function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder
     * @return a builder with every other setting at its default
     */
    public static Builder builder(Path task) {
        return new Builder(task);
    }

    /** @return the task file or folder */
    public Path task() {
        return task;
    }

    /** @return held-out examples probed */
    public int prompts() {
        return prompts;
    }

    /** @return demonstrations in the instructed prompt (0: the task's instruction, where it has one) */
    public int shots() {
        return shots;
    }

    /** @return the prompt format */
    public PromptFormat format() {
        return format;
    }

    /** @return the seed of the split and of the prompt sampling */
    public long seed() {
        return seed;
    }

    /** Builder of {@link ProbeOptions}; each setter documents its default. */
    public static final class Builder {
        private final Path task;
        private String split = "train";
        private Path instructions;
        private PromptFormat format = PromptFormat.QA;
        private long seed = 42;
        private int prompts = 50;
        private int shots = 5;

        private Builder(Path task) {
            if (task == null) {
                throw new InvalidArgumentException("task", "no task path given");
            }
            this.task = task;
        }

        /**
         * @param split SAPO task folders only: the file read (train, dev, test); default train
         * @return this builder
         */
        public Builder split(String split) {
            this.split = split;
            return this;
        }

        /**
         * @param instructions SAPO task folders only: instructions.json; default the one in the folder's parent
         * @return this builder
         */
        public Builder instructions(Path instructions) {
            this.instructions = instructions;
            return this;
        }

        /**
         * @param format prompt format; default {@link PromptFormat#QA}
         * @return this builder
         */
        public Builder format(PromptFormat format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        /**
         * @param seed seed of the split and of the prompt sampling; default 42
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param prompts held-out examples probed (test, then valid; at most as many as there are); default 50
         * @return this builder
         */
        public Builder prompts(int prompts) {
            this.prompts = prompts;
            return this;
        }

        /**
         * @param shots demonstrations from train in the instructed prompt; 0 uses the task's instruction (SuperNI)
         *              where it has one; default 5
         * @return this builder
         */
        public Builder shots(int shots) {
            this.shots = shots;
            return this;
        }

        /**
         * Checks the settings that do not need the model or the task.
         *
         * @return the options
         */
        public ProbeOptions build() {
            ExtractOptions.Builder.positive("prompts", prompts);
            if (shots < 0) {
                throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
            }
            return new ProbeOptions(this);
        }
    }
}
