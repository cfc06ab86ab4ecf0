package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsBuffer;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.RunResult;
import dev.ivkit.util.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * LoRA fine-tuning with optional regularisers. Loss on answer tokens only, left-padded micro-batches, gradient
 * accumulation, global-norm clipping, AdamW with a warm-up schedule, seeded shuffling per epoch, dropout reseeded per
 * micro-step from (seed, step) so a resumed run repeats the same randomness. Writes {@code OUT/metrics.jsonl} through
 * {@link MetricsLog} (one JSON object per logged step: step, epoch, loss, ce, kl, kl1, kl2, pr, lr; eval lines carry
 * eval_loss) — no timings, so an interrupted-and-resumed run writes the same file as an uninterrupted one — and
 * checkpoints through {@link Checkpoints}; {@code RunStart} decides where a run starts (fresh, or from the latest
 * checkpoint with the metrics lines it had logged). A NaN/Inf loss or gradient stops training with
 * {@link TrainingDivergedException} before the optimizer step, leaving the last checkpoint intact. The model must not
 * be used elsewhere while training.
 *
 * <p>Data-parallel ({@link #distributed}): with N ranks, {@code cfg.batchSize()} is the per-rank micro-batch; each
 * global micro-batch of N·B examples is sliced by {@link DataShard}, every rank weights its loss by its share of the
 * global answer tokens (regulariser terms: of the examples), and the gradients are averaged over ranks after the
 * backward passes of all micro-batches and before clipping. So N ranks compute the gradient one process with
 * micro-batch N·B computes, up to fp32 rounding (the per-rank micro-batches are padded to their own lengths). Rank 0
 * alone writes metrics, checkpoints (which record N) and the adapter; the other ranks write nothing, and on resume
 * receive rank 0's adapter and optimizer state. Resuming with another N is refused. Dropout masks depend on the
 * split, so only dropout-free runs match one process.
 */
public final class Trainer {
    private final LlamaModel model;
    private final TrainConfig cfg;
    private final Regulariser reg;
    private final Path out;
    private final Checkpoints ckpts;
    private final MetricsLog metrics;
    private String argsFingerprint = "";
    private StepHook stepHook;
    private GradientSync sync;
    private DataShard shard = DataShard.SINGLE;

    /** Called after every optimizer step (tests use it to inject failures). */
    public interface StepHook {
        /**
         * @param step optimizer steps done (its metrics line and any checkpoint due are written)
         * @param loss the step's mean loss (the value its metrics line holds)
         */
        void afterStep(int step, double loss);
    }

    /**
     * What a finished run reports.
     *
     * @param steps      optimizer steps done in all (a resumed run counts the checkpoint's too)
     * @param losses     the loss of each step this call ran
     * @param adapterDir where rank 0 saved the trained adapter
     */
    public record Result(int steps, List<Double> losses, Path adapterDir) {}

    private boolean quiet;

    /**
     * @param model  the model to adapt (its adapter is replaced during training)
     * @param cfg    optimizer, batch and logging settings
     * @param reg    regulariser added to the loss, or null for plain LoRA
     * @param outDir folder of {@code metrics.jsonl}, {@code checkpoints/} and {@code adapter/}
     */
    public Trainer(LlamaModel model, TrainConfig cfg, Regulariser reg, Path outDir) {
        this.model = model;
        this.cfg = cfg;
        this.reg = reg;
        this.out = outDir;
        this.ckpts = new Checkpoints(outDir);
        this.metrics = MetricsLog.in(outDir);
    }

    /**
     * @param fp a string identifying the run's arguments; resuming with different arguments is refused
     * @return this trainer
     */
    public Trainer argsFingerprint(String fp) {
        this.argsFingerprint = fp;
        return this;
    }

    /**
     * No progress bar (a caller that runs several trainings at once reports its own progress).
     *
     * @return this trainer
     */
    public Trainer quiet() {
        this.quiet = true;
        return this;
    }

    /**
     * @param h called after every optimizer step (its exception stops training, the checkpoints kept)
     * @return this trainer
     */
    public Trainer stepHook(StepHook h) {
        this.stepHook = h;
        return this;
    }

    /**
     * Trains data-parallel with the other ranks of {@code sync} (see the class comment).
     *
     * @param sync the ranks' collective operations, or null for one process
     * @return this trainer
     */
    public Trainer distributed(GradientSync sync) {
        this.sync = sync;
        this.shard = sync == null ? DataShard.SINGLE : new DataShard(sync.rank(), sync.worldSize());
        return this;
    }

    private int world() {
        return shard.worldSize();
    }

    private boolean leader() {
        return shard.rank() == 0;
    }

    /**
     * @param examples training examples
     * @return optimizer steps per epoch over them (all ranks together)
     */
    public int stepsPerEpoch(int examples) {
        int per = cfg.batchSize() * world() * cfg.gradAccum();
        return (examples + per - 1) / per;
    }

    /**
     * Trains {@code adapter} (attached to the model for the run) on {@code data}.
     *
     * @param adapter  a fresh adapter (when resuming, the checkpoint's replaces it on rank 0)
     * @param data     training examples
     * @param evalData held-out examples for the {@code eval_loss} lines, or null
     * @param resume   continue from OUT/checkpoints when present (the adapter's weights and the optimizer come from it)
     * @return steps, losses and the adapter's folder
     */
    public Result train(LoraAdapter adapter, List<TokenizedPrompt> data, List<TokenizedPrompt> evalData, boolean resume) {
        if (data.isEmpty()) {
            throw new InvalidArgumentException("data", "no training examples");
        }
        if (leader()) {
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new InvalidArgumentException("out", "cannot create " + out + ": " + e.getMessage());
            }
        }
        int total = cfg.epochs() * stepsPerEpoch(data.size());
        LrSchedule schedule = new LrSchedule(cfg.schedule(), cfg.lr(), cfg.warmupSteps(), total);
        RunStart start = RunStart.of(new RunStart.Run(model, cfg, ckpts, metrics, argsFingerprint, shard, sync, out),
                adapter, resume);
        LoraAdapter active = start.adapter();
        AdamW opt = start.opt();
        Checkpoints.State state = start.state();
        model.attachAdapter(active);
        model.setAdapterEnabled(true);
        List<Double> losses = new ArrayList<>();
        int step = state.step(), metricsLines = state.metricsLines();
        Progress progress = leader() && !quiet ? new Progress("train", total) : null;
        try {
            for (int epoch = state.epoch(); epoch < cfg.epochs(); epoch++) {
                List<Integer> order = order(data.size(), epoch);
                int cursor = epoch == state.epoch() ? state.cursor() : 0;
                while (cursor < order.size()) {
                    long t0 = System.nanoTime();
                    int perStep = cfg.batchSize() * world() * cfg.gradAccum();
                    List<Integer> chunk = order.subList(cursor, Math.min(order.size(), cursor + perStep));
                    double[] stats = optimizerStep(data, chunk, opt, schedule.at(step), step, total);
                    cursor += chunk.size();
                    step++;
                    losses.add(stats[0]);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    if (leader() && (step % cfg.logEvery() == 0 || step == total)) {
                        metrics.append(MetricsLog.Line.training(step, epoch, stats[0], stats[1], stats[2], stats[3],
                                stats[4], schedule.at(step - 1)));
                        metricsLines++;
                    }
                    if (leader() && cfg.evalEvery() > 0 && evalData != null && !evalData.isEmpty() && step % cfg.evalEvery() == 0) {
                        metrics.append(MetricsLog.Line.evaluation(step, evalLoss(evalData)));
                        metricsLines++;
                    }
                    boolean epochDone = cursor >= order.size();
                    if (leader() && (step % cfg.checkpointEvery() == 0 || step == total)) {
                        int nextEpoch = epochDone ? epoch + 1 : epoch, nextCursor = epochDone ? 0 : cursor;
                        ckpts.save(active, opt, new Checkpoints.State(step, nextEpoch, nextCursor, metricsLines, argsFingerprint, world()));
                    }
                    if (progress != null) {
                        progress.update(step, String.format("loss %.4f  %.0f tok/s", stats[0], stats[5] / secs));
                    }
                    if (stepHook != null) {
                        stepHook.afterStep(step, stats[0]);
                    }
                }
            }
        } finally {
            model.setTraining(false);
        }
        Path adapterDir = out.resolve("adapter");
        if (leader()) {
            active.save(adapterDir);
        }
        return new Result(step, losses, adapterDir);
    }

    private List<Integer> order(int n, int epoch) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(cfg.seed() * 7919 + epoch));
        return idx;
    }

    /** One optimizer step over up to gradAccum micro-batches; returns {loss, ce, kl1, kl2, pr, tokens}. */
    private double[] optimizerStep(List<TokenizedPrompt> data, List<Integer> chunk, AdamW opt, double lr, int step, int total) {
        double[] sums = new double[6];
        int world = world(), globalMicro = cfg.batchSize() * world;
        int micro = (chunk.size() + globalMicro - 1) / globalMicro;
        model.setTraining(true);
        for (int m = 0; m < micro; m++) {
            List<Integer> global = chunk.subList(m * globalMicro, Math.min(chunk.size(), (m + 1) * globalMicro));
            List<TokenizedPrompt> ex = new ArrayList<>();
            for (int i : shard.slice(global)) {
                ex.add(data.get(i));
            }
            // this rank's share of the global micro-batch: of its answer tokens (CE is a mean over them) and examples
            double tokShare = 1, exShare = 1;
            if (world > 1) {
                long all = 0, mine = 0;
                for (int i : global) {
                    all += data.get(i).targetIds().length;
                }
                for (TokenizedPrompt e : ex) {
                    mine += e.targetIds().length;
                }
                tokShare = (double) mine / all;
                exShare = (double) ex.size() / global.size();
            }
            if (ex.isEmpty()) {
                continue;
            }
            try (PointerScope scope = new PointerScope()) {
                torch.manual_seed(cfg.seed() * 1_000_003L + step * 131L + m + shard.rank() * 1_000_000_007L);
                TrainBatch b = TrainBatch.of(ex);
                Regulariser.Prepared prep = reg == null ? null : reg.prepare(model, b, step, total);
                RunResult r = model.forward(b.tokens, b.mask, prep == null ? HookPlan.empty() : prep.trainingPlan(), null, LogitsMode.ALL);
                // with N ranks the loss is weighted by the rank's shares: the mean over ranks is the global micro-batch's
                double ceScale = world > 1 ? tokShare * world : 1, termsScale = world > 1 ? exShare * world : 1;
                Tensor loss;
                double ce;
                Regulariser.Terms terms = null;
                if (prep == null) {
                    Tensor c = b.crossEntropy(r.logits());
                    loss = world > 1 ? c.mul(new Scalar(ceScale)) : c;
                    ce = c.item_double();
                } else {
                    Regulariser.Loss l = prep.loss(r, b, ceScale, termsScale);
                    loss = l.total();
                    ce = l.ce();
                    terms = l.terms();
                }
                double lv = world == 1 ? loss.item_double()
                        : ce * tokShare + (terms == null ? 0 : terms.total().item_double() * exShare);
                if (!Double.isFinite(lv)) {
                    throw new TrainingDivergedException("loss is " + lv + " at step " + step + " (micro-batch " + m
                            + "); stopped before the update, the last checkpoint in " + out + " is intact");
                }
                loss.div(new Scalar(micro)).backward();
                sums[0] += lv / micro;
                sums[1] += ce * tokShare / micro;
                if (terms != null) {
                    sums[2] += terms.kl1() * exShare / micro;
                    sums[3] += terms.kl2() * exShare / micro;
                    sums[4] += terms.pr() * exShare / micro;
                }
                sums[5] += b.realTokens;
            }
        }
        if (sync != null) {
            syncGradients(sums);
        }
        double norm = AdamW.clipGradNorm(model.adapter().parameters(), cfg.clipNorm());
        if (!Double.isFinite(norm)) {
            opt.zeroGrad();
            throw new TrainingDivergedException("gradient is not finite at step " + step + "; stopped before the update, "
                    + "the last checkpoint in " + out + " is intact");
        }
        opt.step(lr);
        opt.zeroGrad();
        return sums;
    }

    /**
     * @param evalData held-out examples
     * @return mean answer CE on them without any adapter (the starting point)
     */
    public double evalLossWithout(List<TokenizedPrompt> evalData) {
        var saved = model.detachAdapter();
        try {
            return evalLoss(evalData);
        } finally {
            if (saved != null) {
                model.attachAdapter(saved);
            }
        }
    }

    /** Averages the gradients over ranks (a rank without examples this step contributes zeros) and sums the stats. */
    private void syncGradients(double[] sums) {
        try (PointerScope scope = new PointerScope()) {
            Tensor zero = null;
            for (Tensor p : model.adapter().parameters()) {
                Tensor gr = p.grad();
                if (gr == null || !gr.defined()) {
                    Tensor z = p.sum().mul(new Scalar(0));
                    zero = zero == null ? z : zero.add(z);
                }
            }
            if (zero != null) {
                zero.backward();
            }
            List<Tensor> grads = new ArrayList<>();
            for (Tensor p : model.adapter().parameters()) {
                grads.add(p.grad());
            }
            sync.allreduceMean(grads);
        }
        sync.allreduceSum(sums);
    }

    /**
     * @param evalData held-out examples
     * @return mean answer CE on them, adapter on, no dropout
     */
    public double evalLoss(List<TokenizedPrompt> evalData) {
        boolean was = model.training();
        model.setTraining(false);
        double sum = 0;
        int n = 0;
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < evalData.size(); i += cfg.batchSize()) {
                try (PointerScope s = new PointerScope()) {
                    TrainBatch b = TrainBatch.of(evalData.subList(i, Math.min(evalData.size(), i + cfg.batchSize())));
                    RunResult r = model.forward(b.tokens, b.mask, HookPlan.empty(), null, LogitsMode.ALL, LogitsBuffer.WORKSPACE);
                    sum += b.crossEntropy(r.logits()).item_double() * b.answerTokens;
                    n += b.answerTokens;
                }
            }
        } finally {
            model.setTraining(was);
        }
        return sum / n;
    }
}
