package dev.ivkit.kernels;

import dev.ivkit.util.Progress;

import dev.ivkit.IvkitException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Independent jobs on one thread per core, for work that is single-threaded inside (small-model forwards, LoRA runs):
 * on 2 cores two such jobs at once beat one job with two BLAS threads, whose worker spins while libtorch's element-wise
 * work runs on one thread. BLAS runs single-threaded while the jobs do (restored afterwards). Results come back in
 * item order, so they do not depend on the thread count as long as the jobs share no mutable state (a model is
 * confined to one thread: give each its own, e.g. {@link dev.ivkit.model.ModelReplicas}).
 */
public final class Parallel {
    private Parallel() {}

    /**
     * Threads for {@code items} jobs: the cores, at most one per job.
     *
     * @param items the number of jobs
     * @return between 1 and the number of cores
     */
    public static int workers(int items) {
        return Math.max(1, Math.min(items, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * {@code f} over the items; {@code progress} (nullable) advances as results complete in item order, labelled by
     * {@code label}. The first failure is rethrown (its RuntimeException as is).
     *
     * @param <T> item type
     * @param <R> result type
     * @param items the inputs, one job each
     * @param progress advanced once per completed item, or null
     * @param label the progress suffix of an item
     * @param f the job; must not share mutable state with the other jobs
     * @return f's results, in item order
     */
    public static <T, R> List<R> map(List<T> items, Progress progress, Function<T, String> label, Function<T, R> f) {
        int workers = workers(items.size());
        List<R> out = new ArrayList<>();
        if (workers == 1) {
            for (int i = 0; i < items.size(); i++) {
                out.add(f.apply(items.get(i)));
                if (progress != null) {
                    progress.update(i + 1, label.apply(items.get(i)));
                }
            }
            return out;
        }
        int blasBefore = Blas.setThreads(1);
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "ivkit-worker");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<R>> futures = new ArrayList<>();
            for (T item : items) {
                futures.add(pool.submit(() -> f.apply(item)));
            }
            for (int i = 0; i < items.size(); i++) {
                out.add(futures.get(i).get());
                if (progress != null) {
                    progress.update(i + 1, label.apply(items.get(i)));
                }
            }
            return out;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : new IvkitException("parallel job failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IvkitException("interrupted", e);
        } finally {
            pool.shutdownNow();
            if (blasBefore > 0) {
                Blas.setThreads(blasBefore);
            }
        }
    }
}
