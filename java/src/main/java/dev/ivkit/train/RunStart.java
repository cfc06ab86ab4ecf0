package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Where a {@link Trainer} run starts: fresh (the given adapter, a new optimizer, an empty {@code metrics.jsonl}) or,
 * when resuming and a checkpoint exists, from the latest checkpoint (its adapter, its optimizer state, the metrics
 * lines it had logged). Rank 0 reads the checkpoint; in a data-parallel run every rank follows its reading and
 * receives its weights and optimizer state. A checkpoint of other arguments or another number of processes is refused.
 *
 * @param adapter the adapter to train
 * @param opt     its optimizer
 * @param state   step, epoch, cursor and metrics lines to continue from (all 0 when fresh)
 */
record RunStart(LoraAdapter adapter, AdamW opt, Checkpoints.State state) {
    /** The trainer's view needed to decide the start. */
    record Run(LlamaModel model, TrainConfig cfg, Checkpoints ckpts, MetricsLog metrics, String argsFingerprint,
            DataShard shard, GradientSync sync, Path out) {
        boolean leader() {
            return shard.rank() == 0;
        }

        int world() {
            return shard.worldSize();
        }
    }

    /**
     * @param run     the trainer's settings
     * @param adapter the fresh adapter (on ranks but 0 it receives rank 0's weights when resuming)
     * @param resume  continue from the latest checkpoint when there is one
     * @return the adapter, optimizer and state to train from
     */
    static RunStart of(Run run, LoraAdapter adapter, boolean resume) {
        Checkpoints.State state = new Checkpoints.State(0, 0, 0, 0, run.argsFingerprint(), run.world());
        Path ckptDir = null;
        int refusal = 0;
        if (run.leader() && resume && run.ckpts().exists()) {
            ckptDir = run.ckpts().latest();
            state = run.ckpts().readState(ckptDir);
            refusal = !run.argsFingerprint().equals(state.argsFingerprint()) ? 1
                    : state.processes() != run.world() ? 2 : 0;
        }
        boolean fromCheckpoint = ckptDir != null;
        if (run.sync() != null) {   // every rank follows rank 0's reading of the checkpoint
            double[] d = run.leader() ? new double[] {fromCheckpoint ? 1 : 0, state.step(), state.epoch(), state.cursor(),
                    state.metricsLines(), refusal, state.processes()} : new double[7];
            run.sync().allreduceSum(d);
            fromCheckpoint = d[0] != 0;
            refusal = (int) d[5];
            state = new Checkpoints.State((int) d[1], (int) d[2], (int) d[3], (int) d[4], run.argsFingerprint(),
                    (int) d[6]);
        }
        refuse(run, refusal, state);
        LoraAdapter active = adapter;
        AdamW opt;
        if (fromCheckpoint) {
            if (run.leader()) {
                active = run.ckpts().readAdapter(ckptDir, run.model().config());
            } else if (adapter == null) {
                throw new InvalidArgumentException("adapter", "a data-parallel resume needs, on every rank but 0, a fresh "
                        + "adapter of the run's LoRA configuration to receive rank 0's weights");
            }
            opt = new AdamW(active.parameters(), 0.9, 0.999, 1e-8, run.cfg().weightDecay());
            opt.load(run.leader() ? run.ckpts().readOptimizer(ckptDir) : opt.state(), state.step());
            if (run.leader()) {
                run.metrics().truncate(state.metricsLines());
            }
        } else {
            opt = new AdamW(adapter.parameters(), 0.9, 0.999, 1e-8, run.cfg().weightDecay());
            if (run.leader()) {
                run.metrics().reset();
            }
        }
        if (run.sync() != null) {   // identical starting weights (and optimizer state) on every rank
            List<Tensor> shared = new ArrayList<>(active.parameters());
            shared.addAll(opt.state().values());
            run.sync().broadcast(shared, 0);
        }
        return new RunStart(active, opt, state);
    }

    private static void refuse(Run run, int refusal, Checkpoints.State state) {
        if (refusal == 1) {
            throw new InvalidArgumentException("resume", "the checkpoint in " + run.out() + " was written with other "
                    + "arguments; rerun with the same arguments or start a fresh output directory");
        }
        if (refusal == 2) {
            throw new InvalidArgumentException("resume", "the checkpoint in " + run.out() + " was written by "
                    + state.processes() + " data-parallel process(es) and this run has " + run.world() + "; resume with "
                    + state.processes() + " (the data order and batches depend on it) or start a fresh output directory");
        }
    }
}
