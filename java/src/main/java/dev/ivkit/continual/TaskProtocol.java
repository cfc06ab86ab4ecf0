package dev.ivkit.continual;

import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.train.LrSchedule;
import dev.ivkit.train.Regulariser;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * The per-task step of a continual run, shared by {@code ivkit continual} ({@link SequenceRunner}) and
 * {@code ivkit demo}: task {@code k} of the run with seed {@code S} attaches a fresh LoRA adapter seeded with
 * {@link #taskSeed(long, int)}, trains it with a constant learning rate (seeded the same way) on the task's data with the
 * method's regulariser ({@link RegulariserFactory}), and merges it into the weights.
 */
public final class TaskProtocol {
    private TaskProtocol() {}

    /** The seed of task {@code taskIndex} (0-based) in the run with seed {@code runSeed}: of its LoRA init and data order. */
    public static long taskSeed(long runSeed, int taskIndex) {
        return runSeed * 1009L + taskIndex;
    }

    /**
     * The training configuration of one task: constant learning rate without warm-up or weight decay, no evaluation
     * and no intermediate checkpoints.
     *
     * @param seed     the task's seed ({@link #taskSeed(long, int)})
     * @param logEvery steps between log lines of the trainer
     */
    public static TrainConfig trainConfig(double lr, int epochs, int batch, int gradAccum, double clipNorm, long seed, int logEvery) {
        return new TrainConfig(lr, LrSchedule.Kind.CONSTANT, 0, epochs, batch, gradAccum, clipNorm, 0.0, seed, logEvery, 0,
                Integer.MAX_VALUE);
    }

    /**
     * Trains a fresh adapter (initialised with {@code cfg.seed()}) on {@code data} with {@code reg} and merges it into
     * {@code model}.
     *
     * @param reg        the method's regulariser, or null for none
     * @param dir        the trainer's folder for this task (its checkpoints)
     * @param quiet      no progress output from the trainer
     * @param afterMerge called with the adapter right after it is merged (what a method keeps of the task), or null
     * @return the last training loss
     */
    public static double trainAndMerge(LlamaModel model, LoraConfig lora, TrainConfig cfg, Regulariser reg, List<TokenizedPrompt> data,
            Path dir, boolean quiet, Consumer<LoraAdapter> afterMerge) {
        try (LoraAdapter a = LoraAdapter.create(model.config(), lora, cfg.seed())) {
            Trainer trainer = new Trainer(model, cfg, reg, dir);
            Trainer.Result r = (quiet ? trainer.quiet() : trainer).train(a, data, null, false);
            model.mergeAdapter();
            if (afterMerge != null) {
                afterMerge.accept(a);
            }
            return r.losses().get(r.losses().size() - 1);
        }
    }
}
