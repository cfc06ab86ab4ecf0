package dev.ivkit.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One {@link LlamaModel#replica()} per thread that asks, over the same weights, for jobs that read a model from several
 * threads at once (a model is confined to one); closing frees the replicas, never the weights.
 */
public final class ModelReplicas implements AutoCloseable {
    private final List<LlamaModel> made = Collections.synchronizedList(new ArrayList<>());
    private final ThreadLocal<LlamaModel> local;

    /**
     * Replicas of {@code model}, made on first use in each thread; {@link #close()} frees them.
     *
     * @param model the model whose weights the replicas share
     */
    public ModelReplicas(LlamaModel model) {
        this.local = ThreadLocal.withInitial(() -> {
            LlamaModel r = model.replica();
            made.add(r);
            return r;
        });
    }

    /**
     * The calling thread's replica.
     *
     * @return the replica, made on the thread's first call
     */
    public LlamaModel get() {
        return local.get();
    }

    @Override
    public void close() {
        made.forEach(LlamaModel::close);
        made.clear();
    }
}
