package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;

/**
 * Trainer settings. Defaults follow the IV authors' scripts where they make sense on one machine: lr 1e-4 constant,
 * AdamW (0.9, 0.999, 1e-8, wd 0), clipping at 1.0, micro-batch 4 × accumulation 2.
 *
 * @param lr              peak learning rate; &gt; 0
 * @param schedule        the learning-rate schedule after warm-up
 * @param warmupSteps     optimizer steps of linear warm-up; ≥ 0
 * @param epochs          passes over the training data; &gt; 0
 * @param batchSize       examples per micro-batch (per rank when data-parallel); &gt; 0
 * @param gradAccum       micro-batches per optimizer step; &gt; 0
 * @param clipNorm        the largest global gradient L2 norm; 0: no clipping
 * @param weightDecay     AdamW's decoupled weight decay; ≥ 0
 * @param seed            seeds the per-epoch data order and the per-step random state
 * @param logEvery        a metrics line every this many optimizer steps; &gt; 0
 * @param evalEvery       an evaluation loss every this many optimizer steps; 0: never
 * @param checkpointEvery a checkpoint every this many optimizer steps (and at the end); &gt; 0
 */
public record TrainConfig(double lr, LrSchedule.Kind schedule, int warmupSteps, int epochs, int batchSize, int gradAccum,
        double clipNorm, double weightDecay, long seed, int logEvery, int evalEvery, int checkpointEvery) {
    /**
     * Checks the settings.
     *
     * @param lr              peak learning rate
     * @param schedule        the learning-rate schedule after warm-up
     * @param warmupSteps     optimizer steps of linear warm-up
     * @param epochs          passes over the training data
     * @param batchSize       examples per micro-batch
     * @param gradAccum       micro-batches per optimizer step
     * @param clipNorm        the largest global gradient L2 norm; 0: no clipping
     * @param weightDecay     AdamW's decoupled weight decay
     * @param seed            seeds the data order and the random state
     * @param logEvery        a metrics line every this many optimizer steps
     * @param evalEvery       an evaluation loss every this many optimizer steps; 0: never
     * @param checkpointEvery a checkpoint every this many optimizer steps
     * @throws InvalidArgumentException when a value is out of the range given on the record
     */
    public TrainConfig {
        if (!(lr > 0)) {
            throw new InvalidArgumentException("lr", "must be positive, got " + lr);
        }
        if (epochs <= 0 || batchSize <= 0 || gradAccum <= 0) {
            throw new InvalidArgumentException("epochs/batchSize/gradAccum", "must be positive");
        }
        if (logEvery <= 0 || checkpointEvery <= 0 || evalEvery < 0 || warmupSteps < 0 || clipNorm < 0 || weightDecay < 0) {
            throw new InvalidArgumentException("trainConfig", "logEvery, checkpointEvery > 0; evalEvery, warmupSteps, clipNorm, weightDecay >= 0");
        }
    }

    /**
     * The defaults described above.
     *
     * @return lr 1e-4 constant, no warm-up, 1 epoch, micro-batch 4 × accumulation 2, clipping at 1.0, no weight decay,
     *         seed 42, a metrics line every step, no evaluation, a checkpoint every 50 steps
     */
    public static TrainConfig defaults() {
        return new TrainConfig(1e-4, LrSchedule.Kind.CONSTANT, 0, 1, 4, 2, 1.0, 0.0, 42, 1, 0, 50);
    }

    /**
     * A copy with another learning rate.
     *
     * @param v the peak learning rate
     * @return the copy
     * @throws InvalidArgumentException when {@code v} is not positive
     */
    public TrainConfig withLr(double v) {
        return new TrainConfig(v, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    /**
     * A copy with another number of epochs.
     *
     * @param v passes over the training data
     * @return the copy
     * @throws InvalidArgumentException when {@code v} is not positive
     */
    public TrainConfig withEpochs(int v) {
        return new TrainConfig(lr, schedule, warmupSteps, v, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    /**
     * A copy with another micro-batch size and accumulation.
     *
     * @param batch examples per micro-batch
     * @param accum micro-batches per optimizer step
     * @return the copy
     * @throws InvalidArgumentException when either is not positive
     */
    public TrainConfig withBatch(int batch, int accum) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batch, accum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    /**
     * A copy with another learning-rate schedule.
     *
     * @param kind   the schedule after warm-up
     * @param warmup optimizer steps of warm-up
     * @return the copy
     * @throws InvalidArgumentException when {@code warmup} is negative
     */
    public TrainConfig withSchedule(LrSchedule.Kind kind, int warmup) {
        return new TrainConfig(lr, kind, warmup, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    /**
     * A copy with another checkpoint interval.
     *
     * @param v optimizer steps between checkpoints
     * @return the copy
     * @throws InvalidArgumentException when {@code v} is not positive
     */
    public TrainConfig withCheckpointEvery(int v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, v);
    }

    /**
     * A copy with another evaluation interval.
     *
     * @param v optimizer steps between evaluation losses; 0: never
     * @return the copy
     * @throws InvalidArgumentException when {@code v} is negative
     */
    public TrainConfig withEvalEvery(int v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, v, checkpointEvery);
    }

    /**
     * A copy with another clipping norm.
     *
     * @param v the largest global gradient L2 norm; 0: no clipping
     * @return the copy
     * @throws InvalidArgumentException when {@code v} is negative
     */
    public TrainConfig withClip(double v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, v, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    /**
     * A copy with another seed.
     *
     * @param v the seed
     * @return the copy
     */
    public TrainConfig withSeed(long v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, v, logEvery, evalEvery, checkpointEvery);
    }
}
