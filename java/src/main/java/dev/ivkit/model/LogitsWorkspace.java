package dev.ivkit.model;

import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One model's reusable output buffer for the language-model head ({@link LogitsBuffer#WORKSPACE}): a flat tensor of at
 * least rows × vocab elements, grown only when a larger call comes, never beyond {@link #MAX_BYTES}, freed by
 * {@link #close()}. The lm_head GEMM's output is the forward's only large per-call allocation (512 × 32,000 fp32 =
 * 65.5 MB at 4×128 tokens; the next largest, the MLP's [tokens, hidden], is 2.4 MB): glibc serves it with a fresh
 * {@code mmap} every call, whose first-touch page faults cost the GEMM about half its rate. Writing into this buffer
 * pays those faults once.
 *
 * <p>Not thread-safe: it belongs to one {@link DecoderBlocks}, which the model confines to one thread. The buffer is
 * held outside any {@code PointerScope} (retained reference), so a caller's scope closing does not free it; the views
 * it hands out keep its storage alive on their own, so a view outliving a growth or {@link #close()} reads stale but
 * valid memory, never freed memory.
 */
final class LogitsWorkspace {
    /** The largest buffer a model keeps (256 MiB); a call that needs more gets a fresh tensor. */
    static final long MAX_BYTES = 256L << 20;

    private final long maxBytes;
    private Tensor buf;          // flat, retained outside any scope; null before the first use and after close
    private long capacity;       // elements of buf

    LogitsWorkspace(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * A [rows, cols] view of the buffer's start (contiguous, dtype and device of {@code like}), growing the buffer when
     * it is too small, different in dtype or on another device; null when rows × cols elements exceed the cap.
     */
    Tensor view(long rows, long cols, Tensor like) {
        long n = rows * cols;
        torch.ScalarType dtype = Torch.dtype(like);
        if (n <= 0 || n * like.element_size() > maxBytes) {
            return null;
        }
        if (buf == null || n > capacity || Torch.dtype(buf) != dtype || !Torch.sameDevice(buf, like)) {
            close();
            Tensor t = torch.empty(new long[] {n}, Torch.options(dtype).device(new DeviceOptional(like.device())),
                    new MemoryFormatOptional());
            t.retainReference();  // survives the caller's PointerScope; released by close()
            buf = t;
            capacity = n;
        }
        return buf.narrow(0, 0, n).view(rows, cols);
    }

    /** Bytes the buffer holds now (0 before the first use and after {@link #close()}). */
    long bytes() {
        return buf == null ? 0 : capacity * buf.element_size();
    }

    /** Drops the buffer (its memory is freed once no view of it is left). */
    void close() {
        if (buf != null) {
            buf.releaseReference();
            buf = null;
            capacity = 0;
        }
    }
}
