package dev.ivkit;

import dev.ivkit.iv.InstructionVector;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of {@link IvkitModel#evaluate}: which task and vector, how many held-out queries, which settings and
 * layers. Built with {@link #builder(Path)}; the defaults are {@code ivkit evaluate}'s, so the same settings give the
 * same numbers. Immutable.
 */
public final class EvaluateOptions {
    final Path task;
    final String split;
    final Path instructions;
    final PromptFormat format;
    final long seed;
    final InstructionVector iv;
    final Path ivDir;
    final Integer layer;
    final boolean sweep;
    final int prompts;
    final int shots;
    final int maxNewTokens;
    final float scale;

    private EvaluateOptions(Builder b) {
        task = b.task;
        split = b.split;
        instructions = b.instructions;
        format = b.format;
        seed = b.seed;
        iv = b.iv;
        ivDir = b.ivDir;
        layer = b.layer;
        sweep = b.sweep;
        prompts = b.prompts;
        shots = b.shots;
        maxNewTokens = b.maxNewTokens;
        scale = b.scale;
    }

    /**
     * @param task function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder
     * @return a builder with every other setting at its default; set the vector with {@link Builder#iv} or
     *         {@link Builder#ivDir}
     */
    public static Builder builder(Path task) {
        return new Builder(task);
    }

    /** @return the task file or folder */
    public Path task() {
        return task;
    }

    /** @return the vector given in memory, or null when it is read from {@link #ivDir()} */
    public InstructionVector iv() {
        return iv;
    }

    /** @return the folder the vector is read from ({@code ivkit extract}'s output), or null for one in memory */
    public Path ivDir() {
        return ivDir;
    }

    /** @return the layer the vector is added at, or null for the vector's own (or a sweep) */
    public Integer layer() {
        return layer;
    }

    /** @return whether the vector is evaluated at every layer */
    public boolean sweep() {
        return sweep;
    }

    /** @return held-out queries evaluated */
    public int prompts() {
        return prompts;
    }

    /** @return demonstrations of the shuffled-label setting (0: zero-shot only) */
    public int shots() {
        return shots;
    }

    /** @return greedy answer length (0: teacher-forced scores only) */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** @return multiplier of the vector */
    public float scale() {
        return scale;
    }

    /** @return the prompt format */
    public PromptFormat format() {
        return format;
    }

    /** @return the seed of the split and of the prompt sampling */
    public long seed() {
        return seed;
    }

    /** Builder of {@link EvaluateOptions}; each setter documents its default. */
    public static final class Builder {
        private final Path task;
        private String split = "train";
        private Path instructions;
        private PromptFormat format = PromptFormat.QA;
        private long seed = 42;
        private InstructionVector iv;
        private Path ivDir;
        private Integer layer;
        private boolean sweep;
        private int prompts = 50;
        private int shots = 0;
        private int maxNewTokens = 8;
        private float scale = 1;

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
         * @param iv the vector, in memory (from {@link IvkitModel#extractIv} or {@code InstructionVector.load});
         *           it stays the caller's to close. Exclusive with {@link #ivDir}
         * @return this builder
         */
        public Builder iv(InstructionVector iv) {
            this.iv = Objects.requireNonNull(iv, "iv");
            return this;
        }

        /**
         * @param ivDir a folder written by {@code ivkit extract} or {@link ExtractResult#save}, read for the call and
         *              recorded in the result (as {@code ivkit evaluate --iv} does). Exclusive with {@link #iv}
         * @return this builder
         */
        public Builder ivDir(Path ivDir) {
            this.ivDir = Objects.requireNonNull(ivDir, "ivDir");
            return this;
        }

        /**
         * @param layer the layer the vector is added at; default the layer in the vector's metadata, else
         *              layers / 3. Exclusive with {@link #sweep}
         * @return this builder
         */
        public Builder layer(int layer) {
            this.layer = layer;
            return this;
        }

        /**
         * @param sweep evaluate the vector at every layer (after the baseline); default false
         * @return this builder
         */
        public Builder sweep(boolean sweep) {
            this.sweep = sweep;
            return this;
        }

        /**
         * @param prompts held-out queries evaluated (test, then valid; at most as many as there are); default 50
         * @return this builder
         */
        public Builder prompts(int prompts) {
            this.prompts = prompts;
            return this;
        }

        /**
         * @param shots &gt; 0 adds the N-shot setting with shuffled demo labels; default 0
         * @return this builder
         */
        public Builder shots(int shots) {
            this.shots = shots;
            return this;
        }

        /**
         * @param maxNewTokens greedy answer length scored by exact match, F1 and ROUGE-L; 0 = teacher-forced scores
         *                     only; default 8
         * @return this builder
         */
        public Builder maxNewTokens(int maxNewTokens) {
            this.maxNewTokens = maxNewTokens;
            return this;
        }

        /**
         * @param scale multiplier of the vector; default 1
         * @return this builder
         */
        public Builder scale(float scale) {
            this.scale = scale;
            return this;
        }

        /**
         * Checks the settings that do not need the model or the task.
         *
         * @return the options
         */
        public EvaluateOptions build() {
            if ((iv == null) == (ivDir == null)) {
                throw new InvalidArgumentException("iv", iv == null ? "no instruction vector given: set iv or ivDir"
                        : "set iv or ivDir, not both");
            }
            if (sweep && layer != null) {
                throw new InvalidArgumentException("layer", "a layer and a sweep over every layer exclude each other");
            }
            ExtractOptions.Builder.positive("prompts", prompts);
            if (shots < 0) {
                throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
            }
            if (maxNewTokens < 0) {
                throw new InvalidArgumentException("maxNewTokens", "must be >= 0, got " + maxNewTokens);
            }
            return new EvaluateOptions(this);
        }
    }
}
