package dev.ivkit;

import dev.ivkit.iv.InstructionVector;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of {@link IvkitModel#evaluate}: which task and vector, how many held-out queries, which settings and
 * layers. Built with {@link #builder(Path)}; the defaults are {@code ivkit evaluate}'s, so the same settings give the
 * same numbers. Immutable.
 */
public final class EvaluateOptions extends HeldOutOptions {
    final InstructionVector iv;
    final Path ivDir;
    final Integer layer;
    final boolean sweep;
    final int maxNewTokens;
    final float scale;

    private EvaluateOptions(Builder b) {
        super(b);
        iv = b.iv;
        ivDir = b.ivDir;
        layer = b.layer;
        sweep = b.sweep;
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

    /** @return greedy answer length (0: teacher-forced scores only) */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** @return multiplier of the vector */
    public float scale() {
        return scale;
    }

    /**
     * Builder of {@link EvaluateOptions}; each setter documents its default. The task setters ({@code split},
     * {@code instructions}, {@code format}, {@code seed}) come from {@link TaskSpec.Builder}; {@code prompts} (held-out
     * queries evaluated, default 50) and {@code shots} (&gt; 0 adds the N-shot setting with shuffled demo labels,
     * default 0) are shared with {@link ProbeOptions.Builder}.
     */
    public static final class Builder extends HeldOutOptions.Builder<Builder> {
        private InstructionVector iv;
        private Path ivDir;
        private Integer layer;
        private boolean sweep;
        private int maxNewTokens = 8;
        private float scale = 1;

        private Builder(Path task) {
            super(task, 0);
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
            checkHeldOut();
            if (maxNewTokens < 0) {
                throw new InvalidArgumentException("maxNewTokens", "must be >= 0, got " + maxNewTokens);
            }
            return new EvaluateOptions(this);
        }
    }
}
