// kl_rows, CUDA kernel. Contract and math in kl_rows_math.h.
// One block per row. Each thread folds its strided elements into KlStats online (kl_push), the block merges the
// per-thread statistics with warp shuffles and one shared-memory step (kl_merge), and thread 0 finishes the row;
// a second strided loop writes the gradient. Nothing of size vocab is stored apart from the gradient itself.
#include "cuda/cuda_common.cuh"
#include "cuda/rows.cuh"
#include "ops/kl_rows/kl_rows_math.h"

namespace ivkit::ops {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__device__ __forceinline__ KlStats shfl_down(const KlStats& s, int offset) {
    return KlStats{__shfl_down_sync(0xffffffffu, s.ma, offset), __shfl_down_sync(0xffffffffu, s.za, offset),
                   __shfl_down_sync(0xffffffffu, s.mb, offset), __shfl_down_sync(0xffffffffu, s.zb, offset),
                   __shfl_down_sync(0xffffffffu, s.w, offset)};
}

// Merge of all threads' statistics; the result is valid in thread 0.
__device__ KlStats block_merge(KlStats s, bool reverse) {
    __shared__ KlStats warp_stats[kWarps];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int off = 16; off > 0; off /= 2) s = kl_merge(s, shfl_down(s, off), reverse);
    if (lane == 0) warp_stats[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < kWarps ? warp_stats[lane] : kl_empty();
        for (int off = 16; off > 0; off /= 2) s = kl_merge(s, shfl_down(s, off), reverse);
    }
    return s;
}

template <int DT>
__global__ void __launch_bounds__(kThreads)
kl_rows_kernel(const typename Elem<DT>::T* __restrict__ current, const typename Elem<DT>::T* __restrict__ reference,
               int64_t vocab, const void* __restrict__ mask, int32_t mask_kind, float inv_t, bool reverse,
               float* __restrict__ loss, void* __restrict__ grad, bool grad_f32) {
    using T = typename Elem<DT>::T;
    __shared__ KlRow row_result;
    const int64_t row = blockIdx.x;
    const T* cr = current + row * vocab;
    const T* rr = reference + row * vocab;
    const auto [g32, gt] = grad_row<T>(grad, grad_f32, row, vocab);
    const float weight = kl_row_weight(mask, mask_kind, row);
    // masked: loss 0, grad 0, nothing read (uniform per block: no divergence at barriers)
    if (weight == 0.0f && masked_row<DT>(loss, row, {g32, gt}, vocab, kThreads)) return;
    KlStats s = kl_empty();
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads)
        kl_push(s, Elem<DT>::load(cr[j]) * inv_t, Elem<DT>::load(rr[j]) * inv_t, reverse);
    s = block_merge(s, reverse);
    if (threadIdx.x == 0) {
        row_result = kl_finish(s, reverse);
        loss[row] = weight * row_result.kl;
    }
    if (grad == nullptr) return;
    __syncthreads();
    const KlRow fin = row_result;
    const float scale = weight * inv_t;
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) {
        const float g = kl_grad_elem(Elem<DT>::load(cr[j]) * inv_t, Elem<DT>::load(rr[j]) * inv_t, fin, scale, reverse);
        if (g32) g32[j] = g;
        else gt[j] = Elem<DT>::store(g);
    }
}

template <int DT>
void kl_rows_forward_cuda(const void* current, const void* reference, int64_t rows, int64_t vocab, const void* mask,
                          int32_t mask_kind, float inv_t, bool reverse, float* loss, void* grad, bool grad_f32,
                          cudaStream_t stream) {
    using T = typename Elem<DT>::T;
    IVKIT_CHECK(rows <= 2147483647LL, "kl_rows (cuda): rows=%lld exceeds 2^31-1", static_cast<long long>(rows));
    kl_rows_kernel<DT><<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(
        static_cast<const T*>(current), static_cast<const T*>(reference), vocab, mask, mask_kind, inv_t, reverse, loss,
        grad, grad_f32);
    IVKIT_CUDA_CHECK_LAUNCH(kl_rows);
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_cuda_kl_rows(const void* current, const void* reference, int64_t rows,
                                                       int64_t vocab, ivkit_dtype_t dtype, const void* mask,
                                                       int32_t mask_kind, float temperature, int32_t direction,
                                                       float* loss, void* grad, ivkit_dtype_t grad_dtype, void* stream) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        kl_rows_check_args(current, reference, rows, vocab, dtype, mask, mask_kind, temperature, direction, loss, grad,
                           grad_dtype);
        if (rows == 0) return;
        auto s = static_cast<cudaStream_t>(stream);
        const float inv_t = 1.0f / temperature;
        const bool reverse = direction == IVKIT_KL_REVERSE;
        const bool grad_f32 = grad != nullptr && grad_dtype == IVKIT_DTYPE_F32;
        switch (dtype) {
            case IVKIT_DTYPE_F32: kl_rows_forward_cuda<IVKIT_DTYPE_F32>(current, reference, rows, vocab, mask, mask_kind, inv_t, reverse, loss, grad, grad_f32, s); break;
            case IVKIT_DTYPE_BF16: kl_rows_forward_cuda<IVKIT_DTYPE_BF16>(current, reference, rows, vocab, mask, mask_kind, inv_t, reverse, loss, grad, grad_f32, s); break;
            default: kl_rows_forward_cuda<IVKIT_DTYPE_F16>(current, reference, rows, vocab, mask, mask_kind, inv_t, reverse, loss, grad, grad_f32, s); break;
        }
    });
}
