package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;

/**
 * Trainer settings. Defaults follow the IV authors' scripts where they make sense on one machine: lr 1e-4 constant,
 * AdamW (0.9, 0.999, 1e-8, wd 0), clipping at 1.0, micro-batch 4 × accumulation 2.
 */
public record TrainConfig(double lr, LrSchedule.Kind schedule, int warmupSteps, int epochs, int batchSize, int gradAccum,
        double clipNorm, double weightDecay, long seed, int logEvery, int evalEvery, int checkpointEvery) {
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

    public static TrainConfig defaults() {
        return new TrainConfig(1e-4, LrSchedule.Kind.CONSTANT, 0, 1, 4, 2, 1.0, 0.0, 42, 1, 0, 50);
    }

    public TrainConfig withLr(double v) {
        return new TrainConfig(v, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    public TrainConfig withEpochs(int v) {
        return new TrainConfig(lr, schedule, warmupSteps, v, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    public TrainConfig withBatch(int batch, int accum) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batch, accum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    public TrainConfig withSchedule(LrSchedule.Kind kind, int warmup) {
        return new TrainConfig(lr, kind, warmup, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    public TrainConfig withCheckpointEvery(int v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, evalEvery, v);
    }

    public TrainConfig withEvalEvery(int v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, seed, logEvery, v, checkpointEvery);
    }

    public TrainConfig withClip(double v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, v, weightDecay, seed, logEvery, evalEvery, checkpointEvery);
    }

    public TrainConfig withSeed(long v) {
        return new TrainConfig(lr, schedule, warmupSteps, epochs, batchSize, gradAccum, clipNorm, weightDecay, v, logEvery, evalEvery, checkpointEvery);
    }
}
