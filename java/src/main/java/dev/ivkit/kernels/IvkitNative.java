package dev.ivkit.kernels;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP peer of the CPU part of native/include/ivkit/ivkit.h. Pointers travel as raw addresses
 * ({@code tensor.data_ptr().address()}) so a call allocates no Java objects. Internal: use {@link Kernels}.
 */
@Platform(include = "ivkit/ivkit.h", link = "ivkit")
final class IvkitNative {
    static {
        Loader.load();
    }

    private IvkitNative() {}

    static native @Cast("const char*") String ivkit_version();

    static native @Cast("const char*") String ivkit_last_error();

    static native int ivkit_noop();

    static native int ivkit_blas_get_threads();

    static native int ivkit_blas_set_threads(int n);

    static native int ivkit_add_rows(@Cast("void*") long x, @Cast("int64_t") long nRows, @Cast("int64_t") long d,
            int dtype, @Cast("const void*") long v, @Cast("int64_t") long vRowStride, @Cast("const int64_t*") long rows,
            @Cast("const float*") long scales, @Cast("int64_t") long n, float scale);

    static native int ivkit_gather_heads(@Cast("const void*") long z, @Cast("int64_t") long batch,
            @Cast("int64_t") long seq, @Cast("int64_t") long heads, @Cast("int64_t") long dHead, int dtype,
            @Cast("const int64_t*") long positions, @Cast("void*") long out, int accumulate);

    static native int ivkit_patch_heads(@Cast("void*") long z, @Cast("int64_t") long batch, @Cast("int64_t") long seq,
            @Cast("int64_t") long heads, @Cast("int64_t") long dHead, int dtype, @Cast("const int64_t*") long rows,
            @Cast("const int64_t*") long positions, @Cast("const int64_t*") long headIdx, @Cast("const void*") long values,
            @Cast("int64_t") long valuesRowStride, @Cast("int64_t") long n, int mode);

    static native int ivkit_kl_rows(@Cast("const void*") long current, @Cast("const void*") long reference,
            @Cast("int64_t") long rows, @Cast("int64_t") long vocab, int dtype, @Cast("const void*") long mask, int maskKind,
            float temperature, int direction, @Cast("float*") long loss, @Cast("void*") long grad, int gradDtype, int threads);

    static native int ivkit_kl_topk_rows(@Cast("const void*") long current, @Cast("int64_t") long rows,
            @Cast("int64_t") long vocab, int dtype, @Cast("const int32_t*") long ids, @Cast("const float*") long logq,
            @Cast("const float*") long logRest, @Cast("int64_t") long k, @Cast("const void*") long mask, int maskKind,
            float temperature, int direction, @Cast("float*") long loss, @Cast("void*") long grad, int gradDtype, int threads);

    static native int ivkit_topk_logprobs(@Cast("const void*") long logits, @Cast("int64_t") long rows,
            @Cast("int64_t") long vocab, int dtype, float temperature, @Cast("int64_t") long k, @Cast("int32_t*") long ids,
            @Cast("float*") long logp, @Cast("float*") long logRest, int threads);
}
