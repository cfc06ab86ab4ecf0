// Device helpers of the one-block-per-row CUDA kernels (kl_rows, kl_topk_rows).
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

}  // namespace ivkit::ops
