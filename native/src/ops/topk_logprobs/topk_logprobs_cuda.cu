// topk_logprobs, CUDA kernel. Contract and math in topk_logprobs_math.h.
// One block per row: a max and an exp-sum pass (block reductions), a radix select of the k-th largest a_j (four
// passes of 8-bit digits over order-preserving integer keys of the floats, 256-bin histograms in shared memory), a
// selection pass that gathers the k kept (value, id) pairs into shared memory (the keys above the k-th, then as many
// equal to it as needed) and sums the e_j of the others (Z_rest), and a ranking of the kept by (value desc, id asc)
// that writes them in order. k is limited to kMaxK (the kept pairs live in shared memory; the ranking is O(k^2)).
#include "cuda/cuda_common.cuh"
#include "cuda/rows.cuh"
#include "ops/topk_logprobs/topk_logprobs_math.h"

namespace ivkit::ops {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxK = 4096;

// Order-preserving key of a float: a > b exactly when key(a) > key(b) (as unsigned; -0 sorts just below +0).
__device__ __forceinline__ uint32_t float_key(float f) {
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

template <int DT>
__global__ void __launch_bounds__(kThreads)
topk_logprobs_kernel(const typename Elem<DT>::T* __restrict__ logits, int64_t vocab, float inv_t, int64_t k,
                     int32_t* __restrict__ ids, float* __restrict__ logp, float* __restrict__ log_rest) {
    extern __shared__ unsigned char smem[];
    float* kept_a = reinterpret_cast<float*>(smem);                 // [k]
    int32_t* kept_id = reinterpret_cast<int32_t*>(smem) + k;        // [k]
    __shared__ uint32_t hist[256];
    __shared__ uint32_t prefix, need;  // the k-th key's digits found so far; how many of the remaining rank to take
    __shared__ uint32_t n_gt, n_eq;
    const int64_t row = blockIdx.x;
    const auto* xr = logits + row * vocab;
    auto a_of = [&](int64_t j) { return Elem<DT>::load(xr[j]) * inv_t; };

    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) mx = fmaxf(mx, a_of(j));
    const float m = block_reduce<kThreads>(mx, -INFINITY, MaxOp{});
    double zs = 0.0;
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) zs += kl_exp(a_of(j) - m);
    const double z = block_reduce<kThreads>(zs, 0.0, SumOp{});

    if (threadIdx.x == 0) prefix = 0u, need = static_cast<uint32_t>(k);
    uint32_t mask = 0u;
    for (int shift = 24; shift >= 0; shift -= 8) {
        hist[threadIdx.x] = 0u;  // kThreads == 256 bins
        __syncthreads();
        const uint32_t pre = prefix;
        for (int64_t j = threadIdx.x; j < vocab; j += kThreads) {
            const uint32_t key = float_key(a_of(j));
            if ((key & mask) == pre) atomicAdd(&hist[(key >> shift) & 0xffu], 1u);
        }
        __syncthreads();
        if (threadIdx.x == 0) {  // the digit of the need-th largest key among those matching the prefix
            uint32_t left = need;
            int b = 255;
            for (; b > 0 && hist[b] < left; --b) left -= hist[b];
            prefix = pre | (static_cast<uint32_t>(b) << shift);
            need = left;
        }
        mask |= 0xffu << shift;
        __syncthreads();
    }
    const uint32_t theta = prefix, take_eq = need;  // keep every key > theta and take_eq of those == theta
    if (threadIdx.x == 0) n_gt = 0u, n_eq = 0u;
    __syncthreads();
    const uint32_t n_above = static_cast<uint32_t>(k) - take_eq;
    double zr = 0.0;
    for (int64_t j = threadIdx.x; j < vocab; j += kThreads) {
        const float a = a_of(j);
        const uint32_t key = float_key(a);
        int64_t slot = -1;
        if (key > theta) {
            slot = atomicAdd(&n_gt, 1u);
        } else if (key == theta) {
            const uint32_t e = atomicAdd(&n_eq, 1u);
            if (e < take_eq) slot = n_above + e;
        }
        if (slot >= 0) {
            kept_a[slot] = a;
            kept_id[slot] = static_cast<int32_t>(j);
        } else {
            zr += kl_exp(a - m);
        }
    }
    const double z_rest = block_reduce<kThreads>(zr, 0.0, SumOp{});  // its barriers also publish the kept pairs
    const double lz = log(z);
    for (int64_t i = threadIdx.x; i < k; i += kThreads) {
        const float ai = kept_a[i];
        const int32_t ii = kept_id[i];
        int64_t rank = 0;
        for (int64_t q = 0; q < k; ++q)
            rank += (kept_a[q] > ai || (kept_a[q] == ai && kept_id[q] < ii)) ? 1 : 0;
        ids[row * k + rank] = ii;
        logp[row * k + rank] = static_cast<float>(static_cast<double>(ai) - static_cast<double>(m) - lz);
    }
    if (threadIdx.x == 0) log_rest[row] = topk_log_rest(z_rest, z);
}

template <int DT>
void topk_logprobs_cuda(const void* logits, int64_t rows, int64_t vocab, float inv_t, int64_t k, int32_t* ids,
                        float* logp, float* log_rest, cudaStream_t stream) {
    using T = typename Elem<DT>::T;
    const size_t smem = static_cast<size_t>(k) * (sizeof(float) + sizeof(int32_t));
    topk_logprobs_kernel<DT><<<static_cast<unsigned>(rows), kThreads, smem, stream>>>(static_cast<const T*>(logits), vocab,
                                                                                     inv_t, k, ids, logp, log_rest);
    IVKIT_CUDA_CHECK_LAUNCH(topk_logprobs);
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_cuda_topk_logprobs(const void* logits, int64_t rows, int64_t vocab,
                                                             ivkit_dtype_t dtype, float temperature, int64_t k,
                                                             int32_t* ids, float* logp, float* log_rest, void* stream) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        topk_logprobs_check_args(logits, rows, vocab, dtype, temperature, k, ids, logp, log_rest);
        IVKIT_CHECK(rows <= 2147483647LL, "topk_logprobs (cuda): rows=%lld exceeds 2^31-1", static_cast<long long>(rows));
        if (rows == 0) return;
        if (k > kMaxK) {
            throw ivkit::Unsupported(ivkit::format("topk_logprobs (cuda): k=%lld exceeds %lld", static_cast<long long>(k),
                                                   static_cast<long long>(kMaxK)));
        }
        auto s = static_cast<cudaStream_t>(stream);
        const float inv_t = 1.0f / temperature;
        switch (dtype) {
            case IVKIT_DTYPE_F32: topk_logprobs_cuda<IVKIT_DTYPE_F32>(logits, rows, vocab, inv_t, k, ids, logp, log_rest, s); break;
            case IVKIT_DTYPE_BF16: topk_logprobs_cuda<IVKIT_DTYPE_BF16>(logits, rows, vocab, inv_t, k, ids, logp, log_rest, s); break;
            default: topk_logprobs_cuda<IVKIT_DTYPE_F16>(logits, rows, vocab, inv_t, k, ids, logp, log_rest, s); break;
        }
    });
}
