package dev.ivkit.organism;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeStyle;

/**
 * Architecture and pretraining recipe of the model organism (defaults: the measured recipe in the project notes —
 * d=128, 4 layers, 4 heads, SwiGLU F=3d, untied head; AdamW β 0.9/0.95, wd 0.05, peak lr 2e-3, 50 warm-up steps,
 * cosine to 10 %, clip 1, batch 64 sequences of ≤ 96 tokens).
 *
 * @param steps           optimizer steps (the LR schedule's length)
 * @param seed            weight initialisation and data order
 * @param taskSeed        the task suite ({@link SyntheticTasks}): words, splits, entity facts
 * @param checkpointEvery save a resumable training state every this many steps
 * @param heldOutInContext pretrain the held-out (fine-tuning) tasks as few-shot sequences only, never with their task
 *                        token, so that the organism can do them in context (and their IVs carry the ability) while
 *                        their instruction format stays new for fine-tuning — the paper's setting
 * @param shards          every batch is split into this many row shards whose gradients are computed in parallel (one
 *                        thread each, single-threaded BLAS) and summed in shard order: part of the recipe, because the
 *                        split changes float rounding; the same count reproduces the same weights on the same machine (OpenBLAS
 *                        picks its kernels per CPU, so other CPUs round differently)
 *                        (files written before it existed read as 1)
 */
public record OrganismConfig(int dModel, int nLayers, int nHeads, int nKvHeads, int hiddenDim, int maxSeqLen, int trainLen,
        int batch, int steps, double lr, int warmupSteps, double minLrFraction, double weightDecay, double clipNorm,
        double initStd, long seed, long taskSeed, int checkpointEvery, boolean heldOutInContext, int shards) {

    /**
     * Steps of the default organism (organism-v3): 1,200 steps of two shards, ≈ 0.47 s/step on 2 cores (docs/organism.md);
     * v2's 1,300 single-shard steps took 17.5 minutes and 900 steps fell below 0.9 5-shot.
     */
    public static final int DEFAULT_STEPS = 1200;

    public OrganismConfig {
        if (dModel <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || hiddenDim <= 0 || dModel % nHeads != 0
                || nHeads % nKvHeads != 0 || (dModel / nHeads) % 2 != 0) {
            throw new InvalidArgumentException("organism", "bad architecture: d " + dModel + ", heads " + nHeads + "/" + nKvHeads);
        }
        if (trainLen < 2 * (SyntheticTasks.MAX_LEN + SyntheticTasks.MAX_ANSWER + 2) || trainLen > maxSeqLen) {
            throw new InvalidArgumentException("trainLen", trainLen + " must hold two pairs and fit the context " + maxSeqLen);
        }
        if (batch <= 0 || steps <= 0 || checkpointEvery <= 0) {
            throw new InvalidArgumentException("organism", "batch, steps and checkpointEvery must be positive");
        }
        shards = shards <= 0 ? 1 : shards;
        if (shards > batch) {
            throw new InvalidArgumentException("shards", shards + " shards cannot split a batch of " + batch);
        }
    }

    public static OrganismConfig defaults() {
        return new OrganismConfig(128, 4, 4, 4, 384, 128, 96, 64, DEFAULT_STEPS, 2e-3, 50, 0.1, 0.05, 1.0, 0.02, 1234, 7, 100, true, 2);
    }

    /** The same recipe with the held-out tasks pretrained in context or not at all. */
    public OrganismConfig withHeldOutInContext(boolean v) {
        return new OrganismConfig(dModel, nLayers, nHeads, nKvHeads, hiddenDim, maxSeqLen, trainLen, batch, steps, lr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, seed, taskSeed, checkpointEvery, v, shards);
    }

    public OrganismConfig withSteps(int s) {
        return new OrganismConfig(dModel, nLayers, nHeads, nKvHeads, hiddenDim, maxSeqLen, trainLen, batch, s, lr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, seed, taskSeed, checkpointEvery, heldOutInContext, shards);
    }

    /** The same recipe with another batch size (sequences per step) and peak learning rate. */
    public OrganismConfig withBatchAndLr(int batchSize, double peakLr) {
        if (!(peakLr > 0) || !Double.isFinite(peakLr)) {
            throw new InvalidArgumentException("lr", "must be a positive finite number, got " + peakLr);
        }
        return new OrganismConfig(dModel, nLayers, nHeads, nKvHeads, hiddenDim, maxSeqLen, trainLen, batchSize, steps, peakLr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, seed, taskSeed, checkpointEvery, heldOutInContext, shards);
    }

    public OrganismConfig withShards(int n) {
        return new OrganismConfig(dModel, nLayers, nHeads, nKvHeads, hiddenDim, maxSeqLen, trainLen, batch, steps, lr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, seed, taskSeed, checkpointEvery, heldOutInContext, n);
    }

    public OrganismConfig withSeed(long s) {
        return new OrganismConfig(dModel, nLayers, nHeads, nKvHeads, hiddenDim, maxSeqLen, trainLen, batch, steps, lr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, s, taskSeed, checkpointEvery, heldOutInContext, shards);
    }

    /** The same recipe at another size (tests use a tiny one). */
    public OrganismConfig withModel(int d, int layers, int heads, int batchSize, int ckptEvery) {
        return new OrganismConfig(d, layers, heads, heads, 3 * d, maxSeqLen, trainLen, batchSize, steps, lr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, seed, taskSeed, ckptEvery, heldOutInContext, shards);
    }

    /** The Llama configuration for a vocabulary of {@code vocabSize} tokens with BOS id {@code bosId}. */
    public ModelConfig modelConfig(int vocabSize, int bosId) {
        return new ModelConfig("llama", dModel, hiddenDim, nLayers, nHeads, nKvHeads, dModel / nHeads, vocabSize, maxSeqLen,
                1e-5, 10000.0, RopeStyle.HALF, null, false, false, bosId, -1);
    }

    /** Everything that determines the trained weights except {@code steps} (a resumed run must match it). */
    String fingerprint() {
        return withSteps(1).withCheckpointEvery(1).toString();
    }

    private OrganismConfig withCheckpointEvery(int c) {
        return new OrganismConfig(dModel, nLayers, nHeads, nKvHeads, hiddenDim, maxSeqLen, trainLen, batch, steps, lr, warmupSteps,
                minLrFraction, weightDecay, clipNorm, initStd, seed, taskSeed, c, heldOutInContext, shards);
    }
}
