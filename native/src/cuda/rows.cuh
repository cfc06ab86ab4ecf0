// Device helpers of the one-block-per-row CUDA kernels (kl_rows, kl_topk_rows, topk_logprobs).
#pragma once
#include "core/dtype.h"
#include "ops/kl_rows/kl_rows_math.h"

namespace ivkit::ops {

// A masked row (weight 0): loss 0 and, when a gradient is written, a zero gradient row; nothing is read. Strided over
// the block's nthreads threads. Returns true (the row is done).
template <int DT>
__device__ bool masked_row(float* loss, int64_t row, const GradRow<typename Elem<DT>::T>& g, int64_t vocab, int nthreads) {
    if (threadIdx.x == 0) loss[row] = 0.0f;
    for (int64_t j = threadIdx.x; j < vocab; j += nthreads) {
        if (g.g32) g.g32[j] = 0.0f;
        if (g.gt) g.gt[j] = Elem<DT>::store(0.0f);
    }
    return true;
}

// Two doubles summed together (Z and Z_rest).
struct Pair {
    double a, b;
};
__device__ __forceinline__ Pair operator+(const Pair& x, const Pair& y) { return Pair{x.a + y.a, x.b + y.b}; }

struct MaxOp {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
    template <class V>
    __device__ V operator()(const V& x, const V& y) const { return x + y; }
};

__device__ __forceinline__ float shfl_down(float v, int off) { return __shfl_down_sync(0xffffffffu, v, off); }
__device__ __forceinline__ double shfl_down(double v, int off) { return __shfl_down_sync(0xffffffffu, v, off); }
__device__ __forceinline__ Pair shfl_down(const Pair& v, int off) { return Pair{shfl_down(v.a, off), shfl_down(v.b, off)}; }

// Block-wide reduction of v with op over a block of NTHREADS threads (identity: the value of an idle lane), valid in
// every thread. Warp shuffles, then one shared-memory step; ends with a barrier, so the shared slots are free for the
// next call of the same instantiation.
template <int NTHREADS, class V, class Op>
__device__ V block_reduce(V v, V identity, Op op) {
    constexpr int kWarps = NTHREADS / 32;
    __shared__ V part[kWarps];
    __shared__ V result;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int off = 16; off > 0; off /= 2) v = op(v, shfl_down(v, off));
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < kWarps ? part[lane] : identity;
        for (int off = 16; off > 0; off /= 2) v = op(v, shfl_down(v, off));
        if (lane == 0) result = v;
    }
    __syncthreads();
    return result;
}

}  // namespace ivkit::ops
