package dev.ivkit;

import dev.ivkit.model.LoraConfig;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.LrSchedule;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Settings of {@link IvkitModel#train}: LoRA fine-tuning on a task, plain or IV-guided (when {@link Builder#iv} is
 * set). Built with {@link #builder(Path)}; the defaults are the CLI's ({@code ivkit train}), except that the facade
 * can run an exact number of optimizer steps ({@link Builder#steps}). Immutable.
 */
public final class TrainOptions {
    /** Where the IV enters the reference pass (the CLI's {@code --iv-site}). */
    public enum IvSite {
        /** the attention block's output, {@code hook_attn_out} (the IV authors' training site) */
        ATTN_OUT(IvGuidedRegulariser.Site.ATTN_OUT),
        /** the residual stream between attention and MLP */
        RESID_MID(IvGuidedRegulariser.Site.RESID_MID),
        /** the residual stream after the block */
        RESID_POST(IvGuidedRegulariser.Site.RESID_POST);

        final IvGuidedRegulariser.Site lib;

        IvSite(IvGuidedRegulariser.Site lib) {
            this.lib = lib;
        }
    }

    /** Strength of the IV in the reference pass over training (the CLI's {@code --iv-schedule}). */
    public enum IvScheduleKind {
        /** 0 to 1 linearly over the first 10 % of steps, then 1 */
        RAMP,
        /** 1 from the first step (the IV authors' code) */
        CONSTANT
    }

    /** Direction of the KL terms (the CLI's {@code --kl-direction}). */
    public enum Kl {
        /** KL(p_new ‖ p_ref), the IV authors' */
        REVERSE(KlDirection.REVERSE),
        /** KL(p_ref ‖ p_new) */
        FORWARD(KlDirection.FORWARD);

        final KlDirection lib;

        Kl(KlDirection lib) {
            this.lib = lib;
        }
    }

    /** Learning-rate schedule after the warm-up (the CLI's {@code --schedule}). */
    public enum Schedule {
        /** constant */
        CONSTANT(LrSchedule.Kind.CONSTANT),
        /** linear decay to 0 at the last step */
        LINEAR(LrSchedule.Kind.LINEAR),
        /** cosine decay to 0 at the last step */
        COSINE(LrSchedule.Kind.COSINE);

        final LrSchedule.Kind lib;

        Schedule(LrSchedule.Kind lib) {
            this.lib = lib;
        }
    }

    final TaskSpec spec;
    final boolean instructionTemplate;
    final IvGuidance guidance;
    final LoraConfig lora;
    final Integer steps;
    final int epochs;
    final int batch;
    final int gradAccum;
    final double lr;
    final Schedule schedule;
    final int warmup;
    final double clip;
    final double weightDecay;
    final Integer maxSamples;
    final int evalSamples;
    final int evalEvery;
    final int checkpointEvery;
    final Path outDir;
    final boolean resume;

    private TrainOptions(Builder b, TaskSpec spec, IvGuidance guidance) {
        this.spec = spec;
        this.guidance = guidance;
        instructionTemplate = b.instructionTemplate;
        lora = new LoraConfig(b.loraRank, b.loraAlpha, b.loraDropout, b.loraTargets);
        steps = b.steps;
        epochs = b.epochs;
        batch = b.batch;
        gradAccum = b.gradAccum;
        lr = b.lr;
        schedule = b.schedule;
        warmup = b.warmup;
        clip = b.clip;
        weightDecay = b.weightDecay;
        maxSamples = b.maxSamples;
        evalSamples = b.evalSamples;
        evalEvery = b.evalEvery;
        checkpointEvery = b.checkpointEvery;
        outDir = b.outDir;
        resume = b.resume;
    }

    /**
     * @param task function-vector JSON file, SuperNI task file, or SAPO SuperNI task folder (its train split, 70 %,
     *             is trained on; its test split gives the held-out loss)
     * @return a builder with every other setting at its default
     */
    public static Builder builder(Path task) {
        return new Builder(task);
    }

    /** @return whether training is IV-guided (an instruction vector was given) */
    public boolean ivGuided() {
        return guidance.guided();
    }

    /** @return the task part: task, split, instructions, prompt format and seed */
    public TaskSpec taskSpec() {
        return spec;
    }

    /** @return the IV-guidance part (its vector is null for plain LoRA) */
    public IvGuidance ivGuidance() {
        return guidance;
    }

    /** @return the output folder, or null for a temporary one removed after training */
    public Path outDir() {
        return outDir;
    }

    /** @return the exact number of optimizer steps, or null to train {@link #epochs()} epochs */
    public Integer steps() {
        return steps;
    }

    /** @return epochs over the training examples (when {@link #steps()} is null) */
    public int epochs() {
        return epochs;
    }

    /**
     * Builder of {@link TrainOptions}; each setter documents its default. The task setters come from
     * {@link TaskSpec.Builder}, the IV-guidance setters ({@code iv}, {@code alpha1}, ...) from
     * {@link IvGuidance.Builder}.
     */
    public static final class Builder extends IvGuidance.Builder<Builder> {
        private boolean instructionTemplate = true;
        private int loraRank = 8;
        private double loraAlpha = 16;
        private double loraDropout = 0.1;
        private List<String> loraTargets = List.of("q_proj", "v_proj");
        private Integer steps;
        private int epochs = 1;
        private int batch = 4;
        private int gradAccum = 2;
        private double lr = 1e-4;
        private Schedule schedule = Schedule.CONSTANT;
        private int warmup;
        private double clip = 1.0;
        private double weightDecay;
        private Integer maxSamples;
        private int evalSamples = 50;
        private int evalEvery;
        private int checkpointEvery = 50;
        private Path outDir;
        private boolean resume;

        private Builder(Path task) {
            super(task);
        }

        /**
         * @param instructionTemplate use the SuperNI instruction template when the task has a definition (else
         *                            {@link #format}); default true (the CLI's {@code --prompt instruction})
         * @return this builder
         */
        public Builder instructionTemplate(boolean instructionTemplate) {
            this.instructionTemplate = instructionTemplate;
            return this;
        }

        /**
         * @param loraRank LoRA rank; default 8
         * @return this builder
         */
        public Builder loraRank(int loraRank) {
            this.loraRank = loraRank;
            return this;
        }

        /**
         * @param loraAlpha LoRA alpha (the update is scaled by alpha / rank); default 16
         * @return this builder
         */
        public Builder loraAlpha(double loraAlpha) {
            this.loraAlpha = loraAlpha;
            return this;
        }

        /**
         * @param loraDropout LoRA dropout; default 0.1
         * @return this builder
         */
        public Builder loraDropout(double loraDropout) {
            this.loraDropout = loraDropout;
            return this;
        }

        /**
         * @param loraTargets modules adapted (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj);
         *                    default q_proj, v_proj
         * @return this builder
         */
        public Builder loraTargets(List<String> loraTargets) {
            this.loraTargets = List.copyOf(loraTargets);
            return this;
        }

        /**
         * @param steps exact number of optimizer steps: one pass over the first {@code steps × batch × gradAccum}
         *              training examples, cycled in split order when there are fewer (the trainer shuffles them per
         *              the seed); default unset ({@link #epochs} decides)
         * @return this builder
         */
        public Builder steps(int steps) {
            this.steps = steps;
            return this;
        }

        /**
         * @param epochs passes over the training examples when {@link #steps} is unset; default 1
         * @return this builder
         */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /**
         * @param batch examples per micro-batch; default 4
         * @return this builder
         */
        public Builder batch(int batch) {
            this.batch = batch;
            return this;
        }

        /**
         * @param gradAccum micro-batches per optimizer step; default 2
         * @return this builder
         */
        public Builder gradAccum(int gradAccum) {
            this.gradAccum = gradAccum;
            return this;
        }

        /**
         * @param lr peak learning rate of AdamW; default 1e-4
         * @return this builder
         */
        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        /**
         * @param schedule learning-rate schedule; default {@link Schedule#CONSTANT}
         * @return this builder
         */
        public Builder schedule(Schedule schedule) {
            this.schedule = Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /**
         * @param warmup linear warm-up steps; default 0
         * @return this builder
         */
        public Builder warmup(int warmup) {
            this.warmup = warmup;
            return this;
        }

        /**
         * @param clip global gradient-norm clipping (0: none); default 1.0
         * @return this builder
         */
        public Builder clip(double clip) {
            this.clip = clip;
            return this;
        }

        /**
         * @param weightDecay AdamW weight decay; default 0
         * @return this builder
         */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /**
         * @param maxSamples cap on the training examples (the first ones of the train split); default none
         * @return this builder
         */
        public Builder maxSamples(int maxSamples) {
            this.maxSamples = maxSamples;
            return this;
        }

        /**
         * @param evalSamples held-out examples (test split) for the loss before and after training (0: none);
         *                    default 50
         * @return this builder
         */
        public Builder evalSamples(int evalSamples) {
            this.evalSamples = evalSamples;
            return this;
        }

        /**
         * @param evalEvery steps between held-out-loss lines in {@code metrics.jsonl} (0: none); default 0
         * @return this builder
         */
        public Builder evalEvery(int evalEvery) {
            this.evalEvery = evalEvery;
            return this;
        }

        /**
         * @param checkpointEvery steps between checkpoints (and one after the last step); default 50
         * @return this builder
         */
        public Builder checkpointEvery(int checkpointEvery) {
            this.checkpointEvery = checkpointEvery;
            return this;
        }

        /**
         * @param outDir folder for {@code metrics.jsonl}, {@code checkpoints/} and {@code adapter/} (PEFT layout), as
         *               {@code ivkit train --out} writes them; default none: a temporary folder removed afterwards
         *               (and no resuming)
         * @return this builder
         */
        public Builder outDir(Path outDir) {
            this.outDir = outDir;
            return this;
        }

        /**
         * @param resume continue from the latest checkpoint in {@link #outDir} when there is one (the same
         *               settings are required); default false
         * @return this builder
         */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /**
         * Checks the settings that do not need the model or the task (LoRA's as {@link LoraConfig} does).
         *
         * @return the options
         */
        public TrainOptions build() {
            IvGuidance guidance = ivGuidance();
            if (steps != null) {
                ExtractOptions.Builder.positive("steps", steps);
            }
            ExtractOptions.Builder.positive("epochs", epochs);
            ExtractOptions.Builder.positive("batch", batch);
            ExtractOptions.Builder.positive("gradAccum", gradAccum);
            ExtractOptions.Builder.positive("checkpointEvery", checkpointEvery);
            if (maxSamples != null) {
                ExtractOptions.Builder.positive("maxSamples", maxSamples);
            }
            if (evalSamples < 0 || evalEvery < 0) {
                throw new InvalidArgumentException("evalSamples", "evalSamples and evalEvery must be >= 0");
            }
            if (resume && outDir == null) {
                throw new InvalidArgumentException("resume", "resuming needs the outDir of the run to continue");
            }
            return new TrainOptions(this, taskSpec(), guidance);
        }
    }
}
