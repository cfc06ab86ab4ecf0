package dev.ivkit.dist;

import dev.ivkit.train.DataShard;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.hooks.HookSite;
import dev.ivkit.hooks.Positions;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.MeanActivations;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.kernels.Kernels;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.RunResult;
import java.util.List;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Data-parallel {@link MeanActivations} and {@link CieScan}: the work is sharded across the ranks of a
 * {@link ProcessGroup} and every rank ends with the result one process computes, bit for bit.
 *
 * <p>Mean activations: the prompts are cut into the batches one process would run; batch b goes to rank b mod N, so
 * each batch has the same padding and gives the same activations. Each rank gathers its prompts' z rows at the last
 * prompt token, the rows are exchanged ({@link ProcessGroup#allGatherRows}, no arithmetic), and every rank sums all
 * rows in prompt order with the same float32 kernel that {@code captureMean} uses. Summing per-rank partial sums
 * instead would differ from one process in the last bits. Memory: n × layers × heads × d_head floats.
 *
 * <p>Scan: prompt i goes to rank i mod N; every prompt is scored independently, the per-prompt scores are exchanged
 * as float64 and reassembled in prompt order.
 */
public final class DistributedIv {
    private DistributedIv() {}

    /** Like {@link MeanActivations#compute}, sharded over {@code pg}: [layer, head, d_head] float32 on every rank. */
    public static Tensor meanActivations(ProcessGroup pg, LlamaModel model, List<TokenizedPrompt> prompts, int batchSize) {
        if (prompts.isEmpty()) {
            throw new InvalidArgumentException("prompts", "no prompts to average over");
        }
        if (batchSize <= 0) {
            throw new InvalidArgumentException("batchSize", "must be positive, got " + batchSize);
        }
        int n = prompts.size(), layers = model.config().nLayers(), world = pg.worldSize();
        int batches = (n + batchSize - 1) / batchSize;
        long[] rows = new long[world];
        for (int b = 0; b < batches; b++) {
            rows[b % world] += Math.min(n, (b + 1) * batchSize) - b * batchSize;
        }
        try (NoGradGuard g = new NoGradGuard()) {
            TensorVector mine = new TensorVector();   // [batch, layer, head, d_head] per own batch
            for (int b = pg.rank(); b < batches; b += world) {
                List<TokenizedPrompt> chunk = prompts.subList(b * batchSize, Math.min(n, (b + 1) * batchSize));
                Tensor[] t = MeanActivations.leftPadded(chunk);
                HookPlan.Builder plan = HookPlan.builder();
                for (int l = 0; l < layers; l++) {
                    plan.capture(HookSite.attnZ(l), Positions.last());
                }
                RunResult r = model.forward(t[0], t[1], plan.build(), null, LogitsMode.NONE);
                TensorVector perLayer = new TensorVector();
                for (int l = 0; l < layers; l++) {
                    perLayer.push_back(r.capture(HookSite.attnZ(l)).to(torch.ScalarType.Float));
                }
                mine.push_back(torch.stack(perLayer, 1));
            }
            long heads = model.config().nHeads(), dHead = model.config().headDim();
            Tensor local = mine.empty() ? torch.empty(new long[] {0, layers, heads, dHead}) : torch.cat(mine, 0);
            Tensor gathered = pg.allGatherRows(local, rows);   // rank-major: rank 0's batches, then rank 1's, ...
            Tensor ordered = torch.empty(new long[] {n, layers, heads, dHead});
            long off = 0;
            for (int r = 0; r < world; r++) {
                for (int b = r; b < batches; b += world) {
                    long len = Math.min(n, (b + 1) * batchSize) - (long) b * batchSize;
                    ordered.narrow(0, (long) b * batchSize, len).copy_(gathered.narrow(0, off, len));
                    off += len;
                }
            }
            TensorVector means = new TensorVector();
            Tensor zeros = torch.zeros(new long[] {n}, dev.ivkit.util.Torch.options(torch.ScalarType.Long));
            for (int l = 0; l < layers; l++) {
                Tensor acc = torch.zeros(new long[] {heads, dHead});
                // rows as [n, seq 1, head, d_head] at position 0: the kernel adds them one by one, in order
                Kernels.gatherHeadsAccumulate(ordered.select(1, l).unsqueeze(1).contiguous(), zeros, acc);
                means.push_back(acc.div(new Scalar((double) n)));
            }
            return torch.stack(means, 0);
        }
    }

    /** Like {@link CieScan#scan}, sharded over {@code pg}: the same scores on every rank. */
    public static ScanScores scan(ProcessGroup pg, CieScan scan, List<TokenizedPrompt> prompts, ScanMethod method,
            IntConsumer onPrompt) {
        if (prompts.isEmpty()) {
            throw new InvalidArgumentException("prompts", "no prompts to scan");
        }
        int n = prompts.size(), world = pg.worldSize();
        List<Integer> own = DataShard.roundRobin(n, pg.rank(), world);
        double[] local = null;
        int width = 0, L = 0, H = 0;
        for (int k = 0; k < own.size(); k++) {
            double[][][] r = scan.scorePrompt(prompts.get(own.get(k)), method);
            if (local == null) {
                L = r[0].length;
                H = r[0][0].length;
                width = 2 * L * H + 2;
                local = new double[own.size() * width];
            }
            int o = k * width;
            for (int l = 0; l < L; l++) {
                for (int h = 0; h < H; h++) {
                    local[o + l * H + h] = r[0][l][h];
                    local[o + L * H + l * H + h] = r[1][l][h];
                }
            }
            local[o + 2 * L * H] = r[2][0][0];
            local[o + 2 * L * H + 1] = r[2][0][1];
            if (onPrompt != null) {
                onPrompt.accept(own.get(k));
            }
        }
        // every rank owns prompt (rank) at least when n >= world; shapes come from the model otherwise
        L = scan.layers();
        H = scan.heads();
        width = 2 * L * H + 2;
        long[] rows = new long[world];
        for (int r = 0; r < world; r++) {
            rows[r] = DataShard.roundRobin(n, r, world).size();
        }
        double[] all = new double[n * width];
        try (PointerScope scope = new PointerScope()) {
            Tensor mine = dev.ivkit.util.Torch.fromDoubles(local == null ? new double[0] : local).reshape(own.size(), width);
            Tensor g = pg.allGatherRows(mine, rows).contiguous();
            double[] flat = new double[(int) g.numel()];
            g.data_ptr_double().get(flat);
            int src = 0;
            for (int r = 0; r < world; r++) {
                for (int i : DataShard.roundRobin(n, r, world)) {
                    System.arraycopy(flat, src * width, all, i * width, width);
                    src++;
                }
            }
        }
        double[][][] dp = new double[n][L][H], dn = new double[n][L][H];
        double[] cp = new double[n], cn = new double[n];
        for (int i = 0; i < n; i++) {
            int o = i * width;
            for (int l = 0; l < L; l++) {
                for (int h = 0; h < H; h++) {
                    dp[i][l][h] = all[o + l * H + h];
                    dn[i][l][h] = all[o + L * H + l * H + h];
                }
            }
            cp[i] = all[o + 2 * L * H];
            cn[i] = all[o + 2 * L * H + 1];
        }
        return new ScanScores(dp, dn, cp, cn);
    }
}
