package dev.ivkit;

import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.PatchMode;
import java.nio.file.Path;

/**
 * Settings of {@link IvkitModel#extractIv}: which task, how its prompts are made, how heads are scanned and ranked,
 * and which layer the vector is meant for. Built with {@link #builder(Path)}; the defaults are the CLI's
 * ({@code ivkit scan} then {@code ivkit extract}), so the same settings give the same vector. Immutable.
 */
public final class ExtractOptions {
    /** How each head's causal indirect effect is computed (the CLI's {@code --method}). */
    public enum Method {
        /** prefix cached once, every head's patched copy of the suffix in one batch: the same numbers as NAIVE, faster */
        EXACT(ScanMethod.EXACT),
        /** one full forward per head: the reference */
        NAIVE(ScanMethod.NAIVE),
        /** attribution patching: a first-order estimate from 2 forwards and 1 backward per prompt */
        ATP(ScanMethod.ATP);

        final ScanMethod lib;

        Method(ScanMethod lib) {
            this.lib = lib;
        }
    }

    /** How a head is patched with its mean activation (the CLI's {@code --mode}). */
    public enum Mode {
        /** replace the head's output (Todd et al.); scanned prompts have shuffled-label demos by default */
        REPLACE(PatchMode.REPLACE),
        /** add to the head's output (the IV authors' code); scanned prompts are zero-shot by default */
        ADD(PatchMode.ADD);

        final PatchMode lib;

        Mode(PatchMode lib) {
            this.lib = lib;
        }
    }

    /** Which scan score ranks heads (the CLI's {@code extract --rank}). */
    public enum Rank {
        /** largest mean increase of the first answer token's probability (Todd et al.) */
        PROB(HeadRanking.By.PROB),
        /** largest mean decrease of the answer's NLL (the IV authors' ranking) */
        NLL(HeadRanking.By.NLL);

        final HeadRanking.By lib;

        Rank(HeadRanking.By lib) {
            this.lib = lib;
        }
    }

    final Path task;
    final String split;
    final Path instructions;
    final PromptFormat format;
    final long seed;
    final int shots;
    final Integer scanShots;
    final int prompts;
    final int meanPrompts;
    final Method method;
    final Mode mode;
    final Boolean shuffledLabels;
    final int batch;
    final int heads;
    final Rank rank;
    final Integer layer;
    final Path workDir;

    private ExtractOptions(Builder b) {
        TaskSpec spec = b.taskSpec();
        task = spec.task();
        split = spec.split();
        instructions = spec.instructions();
        format = spec.format();
        seed = spec.seed();
        shots = b.shots;
        scanShots = b.scanShots;
        prompts = b.prompts;
        meanPrompts = b.meanPrompts;
        method = b.method;
        mode = b.mode;
        shuffledLabels = b.shuffledLabels;
        batch = b.batch;
        heads = b.heads;
        rank = b.rank;
        layer = b.layer;
        workDir = b.workDir;
    }

    /**
     * @param task function-vector JSON file ({@code [{"input","output"}]}), SuperNI task file, or SAPO SuperNI task
     *             folder
     * @return a builder with every other setting at its default
     */
    public static Builder builder(Path task) {
        return new Builder(task);
    }

    /** @return the task file or folder */
    public Path task() {
        return task;
    }

    /** @return demonstrations per mean-activation prompt */
    public int shots() {
        return shots;
    }

    /** @return demonstrations per scanned prompt: as set, else {@link #shots()} for REPLACE and 0 for ADD */
    public int scanShots() {
        return scanShots != null ? scanShots : mode == Mode.REPLACE ? shots : 0;
    }

    /** @return whether the scanned prompts' demos have shuffled labels: as set, else true for REPLACE (with demos) */
    public boolean shuffledLabels() {
        boolean want = shuffledLabels != null ? shuffledLabels : mode == Mode.REPLACE;
        return want && scanShots() > 0;
    }

    /** @return the number of prompts scanned */
    public int prompts() {
        return prompts;
    }

    /** @return the number of prompts averaged for the mean activations */
    public int meanPrompts() {
        return meanPrompts;
    }

    /** @return the scan method */
    public Method method() {
        return method;
    }

    /** @return the patch mode */
    public Mode mode() {
        return mode;
    }

    /** @return the number of heads in the vector */
    public int heads() {
        return heads;
    }

    /** @return the head ranking */
    public Rank rank() {
        return rank;
    }

    /** @return the layer the vector is meant for, or null for layers / 3 */
    public Integer layer() {
        return layer;
    }

    /** @return the prompt format */
    public PromptFormat format() {
        return format;
    }

    /** @return the seed of the split and of the prompt sampling */
    public long seed() {
        return seed;
    }

    /** @return the work folder that makes the extraction resumable, or null (in memory) */
    public Path workDir() {
        return workDir;
    }

    /**
     * Builder of {@link ExtractOptions}; each setter documents its default. The task setters ({@code split},
     * {@code instructions}, {@code format}, {@code seed}) come from {@link TaskSpec.Builder}.
     */
    public static final class Builder extends TaskSpec.Builder<Builder> {
        private int shots = 10;
        private Integer scanShots;
        private int prompts = 25;
        private int meanPrompts = 100;
        private Method method = Method.EXACT;
        private Mode mode = Mode.REPLACE;
        private Boolean shuffledLabels;
        private int batch = 8;
        private int heads = 10;
        private Rank rank = Rank.PROB;
        private Integer layer;
        private Path workDir;

        private Builder(Path task) {
            super(task);
        }

        /**
         * @param shots demonstrations per mean-activation prompt (&ge; 0); default 10
         * @return this builder
         */
        public Builder shots(int shots) {
            this.shots = shots;
            return this;
        }

        /**
         * @param scanShots demonstrations per scanned prompt (&ge; 0); default {@code shots} for REPLACE, 0 for ADD
         * @return this builder
         */
        public Builder scanShots(int scanShots) {
            this.scanShots = scanShots;
            return this;
        }

        /**
         * @param prompts prompts scanned (held-out queries, cycled when more are asked for); default 25
         * @return this builder
         */
        public Builder prompts(int prompts) {
            this.prompts = prompts;
            return this;
        }

        /**
         * @param meanPrompts prompts averaged for the mean activations; default 100
         * @return this builder
         */
        public Builder meanPrompts(int meanPrompts) {
            this.meanPrompts = meanPrompts;
            return this;
        }

        /**
         * @param method scan method; default {@link Method#EXACT}
         * @return this builder
         */
        public Builder method(Method method) {
            this.method = java.util.Objects.requireNonNull(method, "method");
            return this;
        }

        /**
         * @param mode patch mode; default {@link Mode#REPLACE}
         * @return this builder
         */
        public Builder mode(Mode mode) {
            this.mode = java.util.Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * @param shuffledLabels shuffle the labels of the scanned prompts' demos; default true for REPLACE, false
         *                       for ADD
         * @return this builder
         */
        public Builder shuffledLabels(boolean shuffledLabels) {
            this.shuffledLabels = shuffledLabels;
            return this;
        }

        /**
         * @param batch prompts per forward for the mean activations; default 8
         * @return this builder
         */
        public Builder batch(int batch) {
            this.batch = batch;
            return this;
        }

        /**
         * @param heads k, the number of top-ranked heads summed into the vector; default 10
         * @return this builder
         */
        public Builder heads(int heads) {
            this.heads = heads;
            return this;
        }

        /**
         * @param rank head ranking; default {@link Rank#PROB}
         * @return this builder
         */
        public Builder rank(Rank rank) {
            this.rank = java.util.Objects.requireNonNull(rank, "rank");
            return this;
        }

        /**
         * @param layer the layer the vector is meant for (recorded in its metadata; IV-guided training adds it
         *              there); default layers / 3
         * @return this builder
         */
        public Builder layer(int layer) {
            this.layer = layer;
            return this;
        }

        /**
         * @param workDir folder for the scan's files ({@code scan.json}, {@code mean_z.safetensors} and, while it
         *                runs, {@code scan.partial.json}, as {@code ivkit scan --out} writes them): an extraction
         *                cancelled or killed midway continues from there when run again with the same options, and a
         *                finished scan is reused (other heads, rank or layer need no new scan); a folder holding a
         *                scan of other options is refused with a {@link dev.ivkit.pipeline.ScanMismatchException}
         *                naming the option. Default: none, the scan is held in memory.
         * @return this builder
         */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        /**
         * Checks the settings that do not need the model or the task.
         *
         * @return the options
         */
        public ExtractOptions build() {
            positive("prompts", prompts);
            positive("meanPrompts", meanPrompts);
            positive("batch", batch);
            positive("heads", heads);
            if (shots < 0) {
                throw new InvalidArgumentException("shots", "must be >= 0, got " + shots);
            }
            if (scanShots != null && scanShots < 0) {
                throw new InvalidArgumentException("scanShots", "must be >= 0, got " + scanShots);
            }
            return new ExtractOptions(this);
        }

        static void positive(String field, int v) {
            if (v <= 0) {
                throw new InvalidArgumentException(field, "must be positive, got " + v);
            }
        }
    }
}
