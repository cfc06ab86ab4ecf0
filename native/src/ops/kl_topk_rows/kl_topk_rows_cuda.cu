// kl_topk_rows, CUDA kernel. Contract and math in kl_topk_rows_math.h.
// One block per row: the row's ids are marked in a shared-memory bitmap of the vocabulary, a strided max pass and an
// exp-sum pass (Z and Z_rest, double) reduce over the block, threads over the k ids sum the ids' share of the KL,
// thread 0 finishes the row, and the gradient is written by a strided pass (e_j * c_rest) followed, after a barrier,
// by the k ids' own values. A read row with an id out of range gets loss NaN; such ids are never dereferenced.
#include "cuda/cuda_common.cuh"
#include "cuda/rows.cuh"
#include "ops/kl_topk_rows/kl_topk_rows_math.h"

namespace ivkit::ops {
namespace {

constexpr int kThreads = 256;
// One bit per token in the default 48 KB of shared memory per block, less 1 KB for the static shared variables.
constexpr int64_t kMaxVocab = int64_t{47} * 1024 * 8;

template <int DT>
__global__ void __launch_bounds__(kThreads)
kl_topk_rows_kernel(const typename Elem<DT>::T* __restrict__ current, int64_t vocab, const int32_t* __restrict__ ids,
                    const float* __restrict__ logq, const float* __restrict__ log_rest, int64_t k,
                    const void* __restrict__ mask, int32_t mask_kind, float inv_t, bool reverse,
                    float* __restrict__ loss, void* __restrict__ grad, bool grad_f32) {
    using T = typename Elem<DT>::T;
    extern __shared__ uint32_t top_bits[];
    __shared__ TopkRow row_result;
    __shared__ int bad_id;
    const int64_t row = blockIdx.x;
    const T* cr = current + row * vocab;
    const auto [g32, gt] = grad_row<T>(grad, grad_f32, row, vocab);
    const float weight = kl_row_weight(mask, mask_kind, row);
    // masked: loss 0, grad 0, nothing read (uniform per block: no divergence at barriers)
    if (weight == 0.0f && masked_row<DT>(loss, row, {g32, gt}, vocab, kThreads)) return;
    const int64_t words = (vocab + 31) / 32;
    for (int64_t w = threadIdx.x; w < words; w += kThreads) top_bits[w] = 0u;
    if (threadIdx.x == 0) bad_id = 0;
    __syncthreads();
    const int32_t* id = ids + row * k;
    const float* lq = logq + row * k;
    for (int64_t i = threadIdx.x; i < k; i += kThreads) {
        const int32_t t = id[i];
        if (t < 0 || t >= vocab) bad_id = 1;
        else atomicOr(&top_bits[t / 32], 1u << (t % 32));
    }
    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) mx = fmaxf(mx, Elem<DT>::load(cr[j]));
    const float m = block_reduce<kThreads>(mx, -INFINITY, MaxOp{}) * inv_t;  // its barriers also publish the bitmap
    Pair zs{0.0, 0.0};
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) {
        const float e = topk_e(Elem<DT>::load(cr[j]), inv_t, m);
        zs.a += e;
        if (!((top_bits[j / 32] >> (j % 32)) & 1u)) zs.b += e;
    }
    zs = block_reduce<kThreads>(zs, Pair{0.0, 0.0}, SumOp{});
    const double z = zs.a, lz = log(z);
    TopkSums s{0.0};
    for (int64_t i = threadIdx.x; i < k; i += kThreads)
        if (id[i] >= 0 && id[i] < vocab) topk_add(s, Elem<DT>::load(cr[id[i]]), lq[i], inv_t, m, z, lz, reverse);
    const double acc = block_reduce<kThreads>(s.acc, 0.0, SumOp{});
    const float scale = weight * inv_t;
    if (threadIdx.x == 0) {
        row_result = topk_finish(TopkSums{acc}, z, zs.b, log_rest[row], scale, reverse);
        loss[row] = bad_id ? NAN : static_cast<float>(weight * row_result.kl);
    }
    if (grad == nullptr) return;
    __syncthreads();
    const TopkRow fin = row_result;
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) {
        const float g = topk_e(Elem<DT>::load(cr[j]), inv_t, m) * fin.c_rest;
        if (g32) g32[j] = g;
        else gt[j] = Elem<DT>::store(g);
    }
    __syncthreads();  // the ids' values overwrite the rest's: after every thread's write pass
    for (int64_t i = threadIdx.x; i < k; i += kThreads) {
        const int32_t t = id[i];
        if (t < 0 || t >= vocab) continue;
        const float g = topk_grad_id(Elem<DT>::load(cr[t]), lq[i], inv_t, m, z, lz, fin, scale, reverse);
        if (g32) g32[t] = g;
        else gt[t] = Elem<DT>::store(g);
    }
}

template <int DT>
void kl_topk_rows_cuda(const void* current, int64_t rows, int64_t vocab, const int32_t* ids, const float* logq,
                       const float* log_rest, int64_t k, const void* mask, int32_t mask_kind, float inv_t, bool reverse,
                       float* loss, void* grad, bool grad_f32, cudaStream_t stream) {
    using T = typename Elem<DT>::T;
    const size_t smem = static_cast<size_t>((vocab + 31) / 32) * sizeof(uint32_t);
    kl_topk_rows_kernel<DT><<<static_cast<unsigned>(rows), kThreads, smem, stream>>>(
        static_cast<const T*>(current), vocab, ids, logq, log_rest, k, mask, mask_kind, inv_t, reverse, loss, grad,
        grad_f32);
    IVKIT_CUDA_CHECK_LAUNCH(kl_topk_rows);
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_cuda_kl_topk_rows(const void* current, int64_t rows, int64_t vocab,
                                                            ivkit_dtype_t dtype, const int32_t* ids, const float* logq,
                                                            const float* log_rest, int64_t k, const void* mask,
                                                            int32_t mask_kind, float temperature, int32_t direction,
                                                            float* loss, void* grad, ivkit_dtype_t grad_dtype,
                                                            void* stream) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        kl_topk_rows_check_args(current, rows, vocab, dtype, ids, logq, log_rest, k, mask, mask_kind, temperature,
                                direction, loss, grad, grad_dtype);
        IVKIT_CHECK(rows <= 2147483647LL, "kl_topk_rows (cuda): rows=%lld exceeds 2^31-1", static_cast<long long>(rows));
        if (rows == 0) return;
        if (vocab > kMaxVocab) {
            throw ivkit::Unsupported(ivkit::format("kl_topk_rows (cuda): vocab=%lld exceeds %lld (the shared-memory id map)",
                                                   static_cast<long long>(vocab), static_cast<long long>(kMaxVocab)));
        }
        auto s = static_cast<cudaStream_t>(stream);
        const float inv_t = 1.0f / temperature;
        const bool reverse = direction == IVKIT_KL_REVERSE;
        const bool grad_f32 = grad != nullptr && grad_dtype == IVKIT_DTYPE_F32;
        switch (dtype) {
            case IVKIT_DTYPE_F32: kl_topk_rows_cuda<IVKIT_DTYPE_F32>(current, rows, vocab, ids, logq, log_rest, k, mask, mask_kind, inv_t, reverse, loss, grad, grad_f32, s); break;
            case IVKIT_DTYPE_BF16: kl_topk_rows_cuda<IVKIT_DTYPE_BF16>(current, rows, vocab, ids, logq, log_rest, k, mask, mask_kind, inv_t, reverse, loss, grad, grad_f32, s); break;
            default: kl_topk_rows_cuda<IVKIT_DTYPE_F16>(current, rows, vocab, ids, logq, log_rest, k, mask, mask_kind, inv_t, reverse, loss, grad, grad_f32, s); break;
        }
    });
}
