package dev.ivkit;

import java.nio.file.Path;

/**
 * The part {@link EvaluateOptions} and {@link ProbeOptions} share: the task ({@link TaskSpec}), how many held-out
 * examples are run and how many demonstrations a prompt has. Their builders extend {@link Builder}, so these are set
 * and checked the same way for evaluation and probing.
 */
abstract class HeldOutOptions {
    final TaskSpec spec;
    final int prompts;
    final int shots;

    HeldOutOptions(Builder<?> b) {
        spec = b.taskSpec();
        prompts = b.prompts;
        shots = b.shots;
    }

    /** @return the task file or folder */
    public Path task() {
        return spec.task();
    }

    /** @return held-out examples run (test, then valid; at most as many as there are) */
    public int prompts() {
        return prompts;
    }

    /**
     * @return demonstrations per prompt: evaluation's shuffled-label setting (0: zero-shot only), probing's
     *         instructed prompt (0: the task's instruction, where it has one)
     */
    public int shots() {
        return shots;
    }

    /** @return the prompt format */
    public PromptFormat format() {
        return spec.format();
    }

    /** @return the seed of the split and of the prompt sampling */
    public long seed() {
        return spec.seed();
    }

    /**
     * The task setters of {@link TaskSpec.Builder} plus {@code prompts} and {@code shots}; each returns the concrete
     * builder.
     *
     * @param <B> the concrete builder
     */
    abstract static class Builder<B extends Builder<B>> extends TaskSpec.Builder<B> {
        private int prompts = 50;
        private int shots;

        Builder(Path task, int shots) {
            super(task);
            this.shots = shots;
        }

        /**
         * @param prompts held-out examples run (test, then valid; at most as many as there are); default 50
         * @return this builder
         */
        public B prompts(int prompts) {
            this.prompts = prompts;
            return self();
        }

        /**
         * @param shots evaluation: &gt; 0 adds the N-shot setting with shuffled demo labels, default 0; probing:
         *              demonstrations from train in the instructed prompt, 0 uses the task's instruction (SuperNI)
         *              where it has one, default 5
         * @return this builder
         */
        public B shots(int shots) {
            this.shots = shots;
            return self();
        }

        /** Refuses {@code prompts} &lt;= 0 and {@code shots} &lt; 0, naming the field. */
        void checkHeldOut() {
            ExtractOptions.Builder.positive("prompts", prompts);
            if (shots < 0) {
                throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
            }
        }
    }
}
