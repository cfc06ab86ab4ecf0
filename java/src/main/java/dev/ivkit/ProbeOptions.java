package dev.ivkit;

import java.nio.file.Path;

/**
 * Settings of {@link IvkitModel#probe}: which task, how many held-out examples, how many demonstrations in the
 * instructed prompt. Built with {@link #builder(Path)}; the defaults are {@code ivkit probe}'s, so the same settings
 * give the same numbers. Immutable.
 */
public final class ProbeOptions extends HeldOutOptions {
    private ProbeOptions(Builder b) {
        super(b);
    }

    /**
     * @param task function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder
     * @return a builder with every other setting at its default
     */
    public static Builder builder(Path task) {
        return new Builder(task);
    }

    /**
     * Builder of {@link ProbeOptions}; each setter documents its default. The task setters ({@code split},
     * {@code instructions}, {@code format}, {@code seed}) come from {@link TaskSpec.Builder}; {@code prompts} (held-out
     * examples probed, default 50) and {@code shots} (demonstrations from train in the instructed prompt, 0 uses the
     * task's instruction where it has one, default 5) are shared with {@link EvaluateOptions.Builder}.
     */
    public static final class Builder extends HeldOutOptions.Builder<Builder> {
        private Builder(Path task) {
            super(task, 5);
        }

        /**
         * Checks the settings that do not need the model or the task.
         *
         * @return the options
         */
        public ProbeOptions build() {
            checkHeldOut();
            return new ProbeOptions(this);
        }
    }
}
