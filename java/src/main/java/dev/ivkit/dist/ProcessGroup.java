package dev.ivkit.dist;

import dev.ivkit.train.DataShard;
import dev.ivkit.train.GradientSync;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.kernels.Cuda;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_gloo;

/**
 * A c10d process group over libtorch: rendezvous through a {@link TCPStore} that rank 0 hosts at
 * {@code masterAddr:masterPort}, then {@link ProcessGroupGloo} on CPU tensors, or ProcessGroupNCCL for CUDA tensors
 * ({@link Kind#NCCL}, only where {@link Cuda#available()}). Every collective blocks until done; a peer that died or
 * did not answer within the timeout, like a store that cannot be reached, ends in a {@link DistributedException}
 * naming the store's host:port, never in a hang beyond the timeout.
 *
 * <p>{@link #allreduceMean} concatenates the tensors into flat buckets of about {@link #DEFAULT_BUCKET_BYTES}, all-reduces
 * each (SUM), divides by the world size and copies the slices back. One group per process; not thread-safe.
 */
public final class ProcessGroup implements GradientSync, AutoCloseable {
    /** Bucket size for {@link #allreduceMean} and {@link #broadcast}: 25 MB, as torch DDP's default. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    /** Which c10d backend. */
    public enum Kind { GLOO, NCCL }

    private final DistConfig cfg;
    private final TCPStore store;
    private final Backend backend;
    private final long bucketBytes;
    private long allreduceNanos;

    private ProcessGroup(DistConfig cfg, TCPStore store, Backend backend, long bucketBytes) {
        this.cfg = cfg;
        this.store = store;
        this.backend = backend;
        this.bucketBytes = bucketBytes;
    }

    /** Joins the group with Gloo on CPU. */
    public static ProcessGroup init(DistConfig cfg) {
        return init(cfg, Kind.GLOO, DEFAULT_BUCKET_BYTES);
    }

    /**
     * Joins the group: rank 0 hosts the store, the others connect to it (retrying until the timeout), then every rank
     * rendezvouses with all the others (again within the timeout). A rank that cannot reach the store fails after
     * about twice the timeout (TCPStore's client tries once, waits about the timeout, tries once more; measured 6.1 s
     * for 3 s).
     *
     * @throws DistributedException when the store cannot be reached or hosted, or not every rank joins in time
     */
    public static ProcessGroup init(DistConfig cfg, Kind kind, long bucketBytes) {
        if (bucketBytes <= 0) {
            throw new InvalidArgumentException("bucketBytes", "must be positive, got " + bucketBytes);
        }
        if (kind == Kind.NCCL && !Cuda.available()) {
            throw new InvalidArgumentException("backend", "NCCL needs CUDA: " + Cuda.reason());
        }
        loadNatives();
        Milliseconds timeout = new Milliseconds(cfg.timeout().toMillis());
        TCPStore store;
        try {
            TCPStoreOptions so = new TCPStoreOptions();
            so.port((short) cfg.masterPort()).isServer(cfg.rank() == 0).waitWorkers(false).useLibUV(false).timeout(timeout);
            store = new TCPStore(cfg.masterAddr(), so);
        } catch (RuntimeException e) {
            String what = cfg.rank() == 0 ? "could not host the rendezvous store at " : "could not reach the rendezvous store at ";
            throw new DistributedException(cfg.endpoint(), "rank " + cfg.rank() + " of " + cfg.worldSize() + ": " + what
                    + cfg.endpoint() + " within " + seconds(cfg) + " s (" + firstLine(e) + ")", e);
        }
        Backend backend;
        try {
            if (kind == Kind.NCCL) {
                backend = Nccl.create(store, cfg, timeout);
            } else {
                ProcessGroupGloo.Options o = ProcessGroupGloo.Options.create(timeout);
                o.devices(new GlooDeviceVector(ProcessGroupGloo.createDeviceForHostname(gloobind(cfg))));
                backend = new ProcessGroupGloo(store, cfg.rank(), cfg.worldSize(), o);
            }
        } catch (RuntimeException e) {
            throw new DistributedException(cfg.endpoint(), "rank " + cfg.rank() + " of " + cfg.worldSize() + ": not every rank "
                    + "joined through the store at " + cfg.endpoint() + " within " + seconds(cfg) + " s (" + firstLine(e) + ")", e);
        }
        return new ProcessGroup(cfg, store, backend, bucketBytes);
    }

    /** Loads libtorch and its Gloo bindings (done by {@link #init}; separate so callers can time the rendezvous alone). */
    public static void loadNatives() {
        Torch.init();
        Loader.load(torch_gloo.class);
    }

    /** The address Gloo binds to: loopback when the master is loopback, else this host's name. */
    private static String gloobind(DistConfig cfg) {
        String a = cfg.masterAddr();
        if (a.equals("127.0.0.1") || a.equals("localhost") || a.equals("::1")) {
            return a;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            throw new DistributedException(cfg.endpoint(), "cannot resolve this host's name for Gloo: " + e.getMessage(), e);
        }
    }

    /** ProcessGroupNCCL, in its own class so that its natives load only when asked for. */
    private static final class Nccl {
        static Backend create(TCPStore store, DistConfig cfg, Milliseconds timeout) {
            org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options o = new org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options();
            o.timeout(timeout);
            return new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(store, cfg.rank(), cfg.worldSize(), o);
        }
    }

    @Override
    public int rank() {
        return cfg.rank();
    }

    @Override
    public int worldSize() {
        return cfg.worldSize();
    }

    public DistConfig config() {
        return cfg;
    }

    public DataShard shard() {
        return new DataShard(rank(), worldSize());
    }

    /** Total wall time spent inside {@link #allreduceMean} so far (benchmarks). */
    public long allreduceNanos() {
        return allreduceNanos;
    }

    @Override
    public void allreduceMean(List<Tensor> tensors) {
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (List<Tensor> bucket : buckets(tensors)) {
                Tensor flat = flatten(bucket);
                run("allreduce", () -> backend.allreduce(new TensorVector(flat)));
                flat.div_(new Scalar((double) worldSize()));
                unflatten(flat, bucket);
            }
        }
        allreduceNanos += System.nanoTime() - t0;
    }

    @Override
    public void allreduceSum(double[] values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Torch.fromDoubles(values);
            run("allreduce", () -> backend.allreduce(new TensorVector(t)));
            t.data_ptr_double().get(values);
        }
    }

    @Override
    public void broadcast(List<Tensor> tensors, int root) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (List<Tensor> bucket : buckets(tensors)) {
                Tensor flat = flatten(bucket);
                broadcastOne(flat, root);
                if (rank() != root) {
                    unflatten(flat, bucket);
                }
            }
        }
    }

    /**
     * Every rank's rows, concatenated in rank order: rank r contributes {@code local} with {@code rowsPerRank[r]} rows
     * (same trailing shape and dtype everywhere). Bit-exact: each block is broadcast from its owner, nothing is summed.
     */
    public Tensor allGatherRows(Tensor local, long[] rowsPerRank) {
        if (rowsPerRank.length != worldSize() || local.size(0) != rowsPerRank[rank()]) {
            throw new InvalidArgumentException("rowsPerRank", "expected " + worldSize() + " counts with this rank's = "
                    + local.size(0));
        }
        long[] shape = Torch.sizes(local);
        TensorVector parts = new TensorVector();
        for (int r = 0; r < worldSize(); r++) {
            shape[0] = rowsPerRank[r];
            Tensor part = r == rank() ? local.contiguous() : torch.zeros(shape, Torch.options(Torch.dtype(local)));
            if (rowsPerRank[r] > 0) {
                broadcastOne(part, r);
            }
            parts.push_back(part);
        }
        return torch.cat(parts, 0);
    }

    /** Waits until every rank got here. */
    public void barrier() {
        run("barrier", backend::barrier);
    }

    private void broadcastOne(Tensor t, int root) {
        BroadcastOptions o = new BroadcastOptions();
        o.rootRank(root);
        run("broadcast", () -> backend.broadcast(new TensorVector(t), o));
    }

    private List<List<Tensor>> buckets(List<Tensor> tensors) {
        List<List<Tensor>> out = new ArrayList<>();
        List<Tensor> cur = new ArrayList<>();
        long bytes = 0;
        torch.ScalarType dtype = null;
        for (Tensor t : tensors) {
            long b = t.numel() * t.element_size();
            torch.ScalarType d = Torch.dtype(t);
            if (!cur.isEmpty() && (bytes + b > bucketBytes || d != dtype)) {
                out.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
            }
            cur.add(t);
            bytes += b;
            dtype = d;
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    private static Tensor flatten(List<Tensor> bucket) {
        TensorVector v = new TensorVector();
        for (Tensor t : bucket) {
            v.push_back(t.reshape(-1));
        }
        return torch.cat(v, 0);
    }

    private static void unflatten(Tensor flat, List<Tensor> bucket) {
        long off = 0;
        for (Tensor t : bucket) {
            long n = t.numel();
            t.copy_(flat.narrow(0, off, n).view(Torch.sizes(t)));
            off += n;
        }
    }

    private void run(String op, Supplier<Work> collective) {
        try {
            collective.get()._wait();
        } catch (RuntimeException e) {
            throw new DistributedException(cfg.endpoint(), "rank " + rank() + " of " + worldSize() + ": " + op + " failed: a peer "
                    + "died or did not answer within " + seconds(cfg) + " s (group of the store at " + cfg.endpoint() + "; "
                    + firstLine(e) + ")", e);
        }
    }

    private static String seconds(DistConfig cfg) {
        return String.format(java.util.Locale.ROOT, "%.1f", cfg.timeout().toMillis() / 1000.0);
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Leaves the group (the natives are released when the process ends; libtorch keeps no per-group files). */
    @Override
    public void close() {
        // c10d offers no clean shutdown of a Gloo group short of process exit; nothing to do.
    }
}
