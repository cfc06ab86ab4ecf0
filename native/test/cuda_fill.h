// The CUDA test's one kernel: bf16 logits ~ scale * N(0, 1) made on the device (the timing shapes hold 10^9 elements).
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace ivt {
// Fills n bf16 elements at out (a device pointer) with scale * N(0, 1) from a counter-based hash of (seed, index),
// each truncated to bf16 (a bf16 value; the distribution does not matter, only that the inputs are known values).
cudaError_t fill_normal_bf16(void* out, int64_t n, uint64_t seed, float scale, cudaStream_t stream);
}  // namespace ivt
