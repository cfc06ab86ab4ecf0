package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * A running float32 sum of captured activations and their count, so a mean over any number of prompts needs memory
 * for one activation only. Filled by captures built with {@link HookPlan.Builder#captureMean}. Owns its tensor.
 */
public final class MeanAccumulator implements AutoCloseable {
    private Tensor sum;  // float32, the site's shape without batch and pos (e.g. [head, d_head] for hook_z)
    private long count;

    /**
     * Adds rows [n, ...] (any float dtype); called by the forward pass.
     *
     * @param rows [n, ...site dims] activations of n rows
     */
    public void addRows(Tensor rows) {
        Tensor s = rows.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).sum(new long[] {0}, false,
                new org.bytedeco.pytorch.ScalarTypeOptional());
        if (sum == null) {
            sum = s.clone();
            sum.retainReference();
        } else {
            sum.add_(s);
        }
        count += rows.size(0);
    }

    /**
     * The float32 sum tensor, allocated to {@code shape} on {@code like}'s device on first use; the caller adds
     * {@code n} rows into it.
     *
     * @param shape the sum's shape (the site's dims without batch and position)
     * @param like  a tensor on the device to allocate on (the activation)
     * @param n     how many rows the caller adds
     * @return the running sum, to add into in place
     */
    public Tensor sumFor(long[] shape, Tensor like, long n) {
        if (sum == null) {
            sum = org.bytedeco.pytorch.global.torch.zeros(shape, dev.ivkit.util.Torch.options(
                    org.bytedeco.pytorch.global.torch.ScalarType.Float).device(new org.bytedeco.pytorch.DeviceOptional(like.device())));
            sum.retainReference();
        }
        count += n;
        return sum;
    }

    /**
     * How many rows were added.
     *
     * @return the row count
     */
    public long count() {
        return count;
    }

    /**
     * The mean so far (a new tensor in the caller's scope); an error before anything was added.
     *
     * @return the mean over the rows added
     * @throws InvalidArgumentException when nothing was added
     */
    public Tensor mean() {
        if (count == 0) {
            throw new InvalidArgumentException("accumulator", "no activations were accumulated");
        }
        return sum.div(new Scalar((double) count));
    }

    /**
     * The running sum itself (read-only use).
     *
     * @return the sum, or null before anything was added
     */
    public Tensor sum() {
        return sum;
    }

    @Override
    public void close() {
        if (sum != null) {
            sum.releaseReference();
            sum = null;
        }
    }
}
