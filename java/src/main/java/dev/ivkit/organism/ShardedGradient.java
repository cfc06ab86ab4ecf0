package dev.ivkit.organism;

import dev.ivkit.IvkitException;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.kernels.Blas;
import dev.ivkit.model.LlamaModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The gradient of a batch's mean answer loss, computed over row shards in parallel: shard s runs the forward and
 * backward of its rows on its own thread and model replica (shared weights), with single-threaded BLAS, and the shard
 * gradients are summed in shard order into the parameters' {@code .grad} (BLAS is set to cores / shards threads for
 * the duration of each call and restored after it). Each shard divides by the whole batch's
 * target count, so the sum is the full-batch gradient; the fixed order keeps runs bit-reproducible for a given shard
 * count. On 2 cores two shards took 534 ms per organism step against 673–823 ms for one shard with two BLAS threads
 * (the BLAS worker spins while libtorch's element-wise work runs on one thread).
 */
public final class ShardedGradient implements AutoCloseable {
    private final LlamaModel[] replicas;
    private final List<Tensor> params;
    private final ExecutorService pool;
    private final int blasThreads;   // BLAS threads while the shards run (-1: one shard, left as it is)

    /** What one shard returns: its part of the loss and its gradients (retained; released after summing). */
    private record Part(double loss, TensorVector grads) {}

    /**
     * @param model  the model whose weights are {@code params} (shard 0 runs on it, the others on replicas)
     * @param params the trainable weights, each requiring grad; their {@code .grad} is created (zeros) when absent
     * @param shards row shards per batch (≥ 1), one thread each
     */
    public ShardedGradient(LlamaModel model, List<Tensor> params, int shards) {
        if (shards < 1) {
            throw new dev.ivkit.InvalidArgumentException("shards", "must be >= 1, got " + shards);
        }
        this.params = params;
        this.replicas = new LlamaModel[shards];
        replicas[0] = model;
        for (int s = 1; s < shards; s++) {
            replicas[s] = model.replica();
        }
        if (shards > 1) {
            int[] n = {0};
            pool = Executors.newFixedThreadPool(shards, r -> {
                Thread t = new Thread(r, "organism-shard-" + n[0]++);
                t.setDaemon(true);
                return t;
            });
            blasThreads = Math.max(1, Runtime.getRuntime().availableProcessors() / shards);
        } else {
            pool = null;
            blasThreads = -1;
        }
        try (PointerScope sc = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : params) {
                Tensor gr = p.grad();
                if (gr == null || !gr.defined()) {
                    p.mutable_grad().put(torch.zeros_like(p));
                }
            }
        }
    }

    /** Sets every parameter's gradient to that of the batch's mean answer cross-entropy; returns that loss. */
    public double compute(OrganismTrainer.Batch b) {
        double denom = 0;
        for (float m : b.mask()) {
            denom += m;
        }
        if (denom == 0) {
            throw new IvkitException("organism batch has no answer token");
        }
        int shards = replicas.length;
        List<Callable<Part>> jobs = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            int lo = s * b.rows() / shards, hi = (s + 1) * b.rows() / shards, shard = s;
            double d = denom;
            jobs.add(() -> part(replicas[shard], b, lo, hi, d));
        }
        List<Part> parts = new ArrayList<>();
        int blasBefore = blasThreads > 0 ? Blas.setThreads(blasThreads) : -1;
        try {
            if (pool == null) {
                parts.add(jobs.get(0).call());
            } else {
                for (Future<Part> f : pool.invokeAll(jobs)) {
                    parts.add(f.get());
                }
            }
            double loss = 0;
            try (PointerScope sc = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                for (int i = 0; i < params.size(); i++) {
                    Tensor gr = params.get(i).grad();
                    gr.copy_(parts.get(0).grads().get(i));
                    for (int s = 1; s < parts.size(); s++) {
                        gr.add_(parts.get(s).grads().get(i));
                    }
                }
            }
            for (Part p : parts) {
                loss += p.loss();
            }
            return loss;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : new IvkitException("organism shard failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IvkitException("organism training interrupted", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IvkitException("organism shard failed: " + e, e);
        } finally {
            if (blasBefore > 0) {
                Blas.setThreads(blasBefore);
            }
            for (Part p : parts) {
                p.grads().releaseReference();
            }
        }
    }

    /** Forward and backward of rows [lo, hi): loss = Σ answer NLL / denom and its gradients w.r.t. the parameters. */
    private Part part(LlamaModel model, OrganismTrainer.Batch b, int lo, int hi, double denom) {
        int len = b.len(), rows = hi - lo;
        try (PointerScope sc = new PointerScope()) {
            Tensor ids = torch.tensor(Arrays.copyOfRange(b.ids(), lo * len, hi * len)).reshape(rows, len);
            Tensor mask = torch.tensor(Arrays.copyOfRange(b.mask(), lo * (len - 1), hi * (len - 1))).reshape(rows, len - 1);
            Tensor logits = model.forward(ids.narrow(1, 0, len - 1), HookPlan.empty()).logits();   // [rows, len-1, vocab]
            Tensor nll = logits.log_softmax(2).gather(2, ids.narrow(1, 1, len - 1).unsqueeze(2)).squeeze(2).neg();
            Tensor loss = nll.mul(mask).sum().div(new Scalar(denom));
            double lv = loss.item_double();
            TensorVector grads = torch.grad(new TensorVector(loss), new TensorVector(params.toArray(new Tensor[0])));
            grads.retainReference();
            return new Part(lv, grads);
        }
    }

    @Override
    public void close() {
        for (int s = 1; s < replicas.length; s++) {
            replicas[s].close();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
