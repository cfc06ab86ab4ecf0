package dev.ivkit.kernels;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The output of the KL kernels' gradient ([rows, V], as large as the logits) from one reusable buffer per thread
 * instead of a fresh tensor per call: glibc serves a fresh one with a new mapping whose first-touch page faults cost
 * a few ms per 33 MB. A call gets the buffer only when nothing else still holds its storage (the previous call's
 * gradient released: after {@code backward()} has freed the graph that saved it, or the caller dropped it); otherwise,
 * on CUDA, on meta tensors or above {@link #MAX_BYTES}, it gets a fresh tensor, so a gradient a caller still holds is
 * never overwritten. The buffer is held outside any {@code PointerScope} and lives as long as its thread.
 */
final class GradBuffer {
    /** The largest buffer a thread keeps (256 MiB). */
    static final long MAX_BYTES = 256L << 20;

    private static final ThreadLocal<Tensor> BUFFER = new ThreadLocal<>();

    private GradBuffer() {}

    /** An uninitialised tensor of {@code current}'s shape in {@code dtype} on its device (the kernel writes every element). */
    static Tensor take(Tensor current, torch.ScalarType dtype) {
        long[] shape = Torch.sizes(current);
        long n = current.numel();
        long bytes = n * (dtype == torch.ScalarType.Float ? 4 : 2);
        if (current.is_meta() || current.is_cuda() || bytes > MAX_BYTES || n == 0) {
            return current.new_empty(shape, Torch.options(dtype));
        }
        Tensor buf = BUFFER.get();
        if (buf == null || buf.storage().use_count() > 1 || Torch.dtype(buf) != dtype || buf.numel() < n) {
            if (buf != null && buf.storage().use_count() > 1) {
                return current.new_empty(shape, Torch.options(dtype));   // still held: leave it to its holder
            }
            Tensor fresh = current.new_empty(new long[] {n}, Torch.options(dtype));
            fresh.retainReference();   // outlives the caller's scope
            if (buf != null) {
                buf.releaseReference();
            }
            BUFFER.set(fresh);
            buf = fresh;
        }
        return buf.narrow(0, 0, n).view(shape);
    }
}
