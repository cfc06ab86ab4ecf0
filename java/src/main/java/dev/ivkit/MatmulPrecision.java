package dev.ivkit;

/**
 * Precision of the float32 matrix products of a frozen pass (the IV-guided regulariser's reference pass). Float32
 * tensors stay float32; only the multiplications inside GEMMs change.
 */
public enum MatmulPrecision {
    /** IEEE float32 products (the default): the same numbers as the training pass's own arithmetic. */
    FULL,
    /**
     * Products of bfloat16-rounded inputs accumulated in float32, on CPUs whose oneDNN has bfloat16 GEMMs (AVX512-BF16
     * or AMX; elsewhere the products stay IEEE), and TF32 products on CUDA: 3–4× faster GEMMs on such CPUs at a
     * relative rounding of 2⁻⁸ per factor. libtorch keeps this setting process-wide, so float32 GEMMs on other threads
     * running at the same time also use it ({@link dev.ivkit.util.ReducedMatmul}).
     */
    REDUCED
}
