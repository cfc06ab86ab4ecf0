// patch_heads, CUDA kernel: grid (column block, patch). Targets are distinct (checked by the caller), so no two
// threads write one element.
#include "cuda/cuda_common.cuh"
#include "ops/patch_heads/patch_heads_math.h"

namespace ivkit::ops {
namespace {

template <int DT>
__global__ void patch_heads_forward_kernel(typename Elem<DT>::T* __restrict__ z, int64_t batch, int64_t seq, int64_t heads,
                                           int64_t d_head, const int64_t* __restrict__ rows,
                                           const int64_t* __restrict__ positions, const int64_t* __restrict__ head_idx,
                                           const typename Elem<DT>::T* __restrict__ values, int64_t stride, int mode) {
    const int64_t i = blockIdx.y;
    const int64_t b = rows[i], p = positions[i], h = head_idx[i];
    if (b < 0 || b >= batch || p < 0 || p >= seq || h < 0 || h >= heads) return;  // validated by the caller
    auto* dst = z + head_offset(b, p, h, seq, heads, d_head);
    const auto* v = values + i * stride * d_head;
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < d_head;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x)
        dst[j] = patch_heads_elem<DT>(dst[j], v[j], mode);
}

template <int DT>
void patch_heads_forward_cuda(void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head, const int64_t* rows,
                              const int64_t* positions, const int64_t* head_idx, const void* values, int64_t stride,
                              int64_t n, int mode, cudaStream_t stream) {
    using T = typename Elem<DT>::T;
    constexpr int threads = 128;
    IVKIT_CHECK(n <= 65535, "patch_heads (cuda): n=%lld exceeds 65535 patches per call", static_cast<long long>(n));
    const int64_t cols = (d_head + threads - 1) / threads;
    dim3 grid(static_cast<unsigned>(cols < 1024 ? cols : 1024), static_cast<unsigned>(n));
    patch_heads_forward_kernel<DT><<<grid, threads, 0, stream>>>(static_cast<T*>(z), batch, seq, heads, d_head, rows, positions,
                                                                 head_idx, static_cast<const T*>(values), stride, mode);
    IVKIT_CUDA_CHECK_LAUNCH(patch_heads);
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_cuda_patch_heads(void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                                           ivkit_dtype_t dtype, const int64_t* rows, const int64_t* positions,
                                                           const int64_t* head_idx, const void* values,
                                                           int64_t values_row_stride, int64_t n, int32_t mode, void* stream) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        patch_heads_check_args(z, batch, seq, heads, d_head, dtype, rows, positions, head_idx, values, values_row_stride, n, mode);
        if (n == 0) return;
        auto s = static_cast<cudaStream_t>(stream);
        switch (dtype) {
            case IVKIT_DTYPE_F32: patch_heads_forward_cuda<IVKIT_DTYPE_F32>(z, batch, seq, heads, d_head, rows, positions, head_idx, values, values_row_stride, n, mode, s); break;
            case IVKIT_DTYPE_BF16: patch_heads_forward_cuda<IVKIT_DTYPE_BF16>(z, batch, seq, heads, d_head, rows, positions, head_idx, values, values_row_stride, n, mode, s); break;
            default: patch_heads_forward_cuda<IVKIT_DTYPE_F16>(z, batch, seq, heads, d_head, rows, positions, head_idx, values, values_row_stride, n, mode, s); break;
        }
    });
}
