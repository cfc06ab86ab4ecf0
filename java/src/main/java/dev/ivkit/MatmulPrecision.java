package dev.ivkit;

/**
 * Precision of the float32 matrix products of a frozen pass (the IV-guided regulariser's reference pass). Float32
 * tensors stay float32; only the multiplications inside GEMMs change.
 */
public enum MatmulPrecision {
    /** IEEE float32 products (the default): the same numbers as the training pass's own arithmetic. */
    FULL,
    /**
     * The model's projections and lm_head multiply bfloat16 copies of activations and weights with float32 sums and
     * widen the result to float32 (relative rounding 2⁻⁸ per factor and 2⁻⁹ of the result), on CUDA and on CPUs with
     * bfloat16 GEMMs (AVX512-BF16 or AMX: 3× faster GEMMs measured); elsewhere the products stay IEEE. Attention
     * itself, norms and softmax stay float32. The weights' bfloat16 copies (half their float32 size) are kept by the
     * model until a weight changes. Per thread: other threads' GEMMs are untouched ({@link dev.ivkit.util.ReducedMatmul}).
     */
    REDUCED
}
