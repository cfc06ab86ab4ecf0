package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of the positions already processed, per layer, preallocated to a capacity:
 * k, v [batch, n_kv_heads, capacity, d_head]; plus the attention mask of every filled slot [batch, capacity] and the
 * number of real (non-padding) tokens per row, from which the next positions' rotary indices follow.
 * Owned by the caller; {@link #close()} frees it. Confined to one thread, like the model.
 */
public final class KvCache implements AutoCloseable {
    final Tensor[] k;
    final Tensor[] v;
    final Tensor mask;       // [batch, capacity] bool, true = real token
    final Tensor realCount;  // [batch] int64
    private final int batch;
    private final int capacity;
    private int length;

    KvCache(ModelConfig cfg, int batch, int capacity, torch.ScalarType dtype, Device device) {
        this.batch = batch;
        this.capacity = capacity;
        this.k = new Tensor[cfg.nLayers()];
        this.v = new Tensor[cfg.nLayers()];
        org.bytedeco.pytorch.DeviceOptional where = new org.bytedeco.pytorch.DeviceOptional(device.torch());
        org.bytedeco.pytorch.TensorOptions opt = dev.ivkit.util.Torch.options(dtype).device(where);
        for (int l = 0; l < cfg.nLayers(); l++) {
            k[l] = torch.zeros(new long[] {batch, cfg.nKvHeads(), capacity, cfg.headDim()}, opt);
            v[l] = torch.zeros(new long[] {batch, cfg.nKvHeads(), capacity, cfg.headDim()}, opt);
        }
        this.mask = torch.zeros(new long[] {batch, capacity}, dev.ivkit.util.Torch.options(torch.ScalarType.Bool).device(where));
        this.realCount = torch.zeros(new long[] {batch}, dev.ivkit.util.Torch.options(torch.ScalarType.Long).device(where));
    }

    /**
     * Number of batch rows.
     *
     * @return the rows the cache holds
     */
    public int batch() {
        return batch;
    }

    /**
     * Number of positions the cache can hold.
     *
     * @return the capacity
     */
    public int capacity() {
        return capacity;
    }

    /**
     * Number of filled slots (prompt + generated, padding included).
     *
     * @return the filled slots
     */
    public int length() {
        return length;
    }

    void advance(int n) {
        length += n;
    }

    /**
     * Forgets the slots from {@code newLength} on, so that the next forward writes its positions there: a suffix can be
     * run again (e.g. with an intervention) on the prefix the cache held before. The real-token counts that give the
     * next positions' rotary indices are recounted from the kept slots.
     *
     * @param newLength the slots to keep, in [0, {@link #length()}]
     * @throws InvalidArgumentException when {@code newLength} is out of that range
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new InvalidArgumentException("newLength", newLength + " is out of range [0, " + length + "]");
        }
        realCount.copy_(mask.narrow(1, 0, newLength).to(torch.ScalarType.Long)
                .sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
        length = newLength;
    }

    @Override
    public void close() {
        for (int l = 0; l < k.length; l++) {
            k[l].close();
            v[l].close();
        }
        mask.close();
        realCount.close();
    }
}
