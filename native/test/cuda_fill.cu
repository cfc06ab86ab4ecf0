// See cuda_fill.h.
#include "cuda_fill.h"

namespace ivt {
namespace {

__device__ __forceinline__ uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__global__ void fill_normal_bf16_kernel(uint16_t* out, int64_t n, uint64_t seed, float scale) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const uint64_t h = mix64(seed * 0x9E3779B97F4A7C15ull + mix64(static_cast<uint64_t>(i)));
        const float u1 = (static_cast<float>(h >> 40) + 1.0f) * 0x1.0p-24f;  // (0, 1]
        const float u2 = static_cast<float>((h >> 16) & 0xffffffu) * 0x1.0p-24f;
        const float v = scale * sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
        out[i] = static_cast<uint16_t>(__float_as_uint(v) >> 16);
    }
}

}  // namespace

cudaError_t fill_normal_bf16(void* out, int64_t n, uint64_t seed, float scale, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    fill_normal_bf16_kernel<<<4096, 256, 0, stream>>>(static_cast<uint16_t*>(out), n, seed, scale);
    return cudaGetLastError();
}

}  // namespace ivt
