package dev.ivkit.kernels;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP peer of the CUDA part of native/include/ivkit/ivkit.h; its glue exists only in {@code -Pcuda} builds.
 * Internal: use {@link Kernels}, which loads it lazily and reports why CUDA is unavailable.
 */
@Platform(include = "ivkit/ivkit.h", link = "ivkit_cuda")
final class IvkitCudaNative {
    static {
        Loader.load();
    }

    private IvkitCudaNative() {}

    static native @Cast("const char*") String ivkit_cuda_version();

    static native @Cast("const char*") String ivkit_cuda_last_error();

    static native int ivkit_cuda_device_count();

    static native int ivkit_cuda_add_rows(@Cast("void*") long x, @Cast("int64_t") long nRows,
            @Cast("int64_t") long d, int dtype, @Cast("const void*") long v, @Cast("int64_t") long vRowStride,
            @Cast("const int64_t*") long rows, @Cast("const float*") long scales, @Cast("int64_t") long n, float scale,
            @Cast("void*") long stream);

    static native int ivkit_cuda_gather_heads(@Cast("const void*") long z, @Cast("int64_t") long batch,
            @Cast("int64_t") long seq, @Cast("int64_t") long heads, @Cast("int64_t") long dHead, int dtype,
            @Cast("const int64_t*") long positions, @Cast("void*") long out, int accumulate, @Cast("void*") long stream);

    static native int ivkit_cuda_patch_heads(@Cast("void*") long z, @Cast("int64_t") long batch,
            @Cast("int64_t") long seq, @Cast("int64_t") long heads, @Cast("int64_t") long dHead, int dtype,
            @Cast("const int64_t*") long rows, @Cast("const int64_t*") long positions, @Cast("const int64_t*") long headIdx,
            @Cast("const void*") long values, @Cast("int64_t") long valuesRowStride, @Cast("int64_t") long n, int mode,
            @Cast("void*") long stream);

    static native int ivkit_cuda_kl_rows(@Cast("const void*") long current, @Cast("const void*") long reference,
            @Cast("int64_t") long rows, @Cast("int64_t") long vocab, int dtype, @Cast("const void*") long mask, int maskKind,
            float temperature, int direction, @Cast("float*") long loss, @Cast("void*") long grad, int gradDtype,
            @Cast("void*") long stream);

    static native int ivkit_cuda_kl_topk_rows(@Cast("const void*") long current, @Cast("int64_t") long rows,
            @Cast("int64_t") long vocab, int dtype, @Cast("const int32_t*") long ids, @Cast("const float*") long logq,
            @Cast("const float*") long logRest, @Cast("int64_t") long k, @Cast("const void*") long mask, int maskKind,
            float temperature, int direction, @Cast("float*") long loss, @Cast("void*") long grad, int gradDtype,
            @Cast("void*") long stream);

    static native int ivkit_cuda_topk_logprobs(@Cast("const void*") long logits, @Cast("int64_t") long rows,
            @Cast("int64_t") long vocab, int dtype, float temperature, @Cast("int64_t") long k, @Cast("int32_t*") long ids,
            @Cast("float*") long logp, @Cast("float*") long logRest, @Cast("void*") long stream);
}
