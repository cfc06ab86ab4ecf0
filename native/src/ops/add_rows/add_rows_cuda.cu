// add_rows, CUDA kernel. Contract in add_rows_math.h. Rows are distinct (one position per batch row),
// so the 2-D grid (selected row, column block) has no write conflicts and needs no atomics.
#include "cuda/cuda_common.cuh"
#include "ops/add_rows/add_rows_math.h"

namespace ivkit::ops {
namespace {

template <int DT>
__global__ void add_rows_forward_kernel(typename Elem<DT>::T* __restrict__ x, int64_t n_rows, int64_t d,
                                        const typename Elem<DT>::T* __restrict__ v, int64_t v_row_stride,
                                        const int64_t* __restrict__ rows, const float* __restrict__ scales,
                                        float scale) {
    const int64_t i = blockIdx.y;  // selected row
    const int64_t row = rows[i];
    if (row < 0 || row >= n_rows) return;  // validated by the caller; never write out of bounds
    const float factor = scale * (scales ? scales[i] : 1.0f);
    auto* xr = x + row * d;
    const auto* vr = v + i * v_row_stride * d;
    for (int64_t j = blockIdx.x * blockDim.x + threadIdx.x; j < d; j += static_cast<int64_t>(gridDim.x) * blockDim.x)
        xr[j] = add_rows_elem<DT>(xr[j], vr[j], factor);
}

template <int DT>
void add_rows_forward_cuda(void* x, int64_t n_rows, int64_t d, const void* v, int64_t v_row_stride,
                           const int64_t* rows, const float* scales, int64_t n, float scale, cudaStream_t stream) {
    using T = typename Elem<DT>::T;
    constexpr int threads = 256;
    const int64_t col_blocks = (d + threads - 1) / threads;
    IVKIT_CHECK(n <= 65535, "add_rows (cuda): n=%lld exceeds 65535 selected rows per call", static_cast<long long>(n));
    dim3 grid(static_cast<unsigned>(col_blocks < 1024 ? col_blocks : 1024), static_cast<unsigned>(n));
    add_rows_forward_kernel<DT><<<grid, threads, 0, stream>>>(static_cast<T*>(x), n_rows, d, static_cast<const T*>(v),
                                                              v_row_stride, rows, scales, scale);
    IVKIT_CUDA_CHECK_LAUNCH(add_rows);
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_cuda_add_rows(void* x, int64_t n_rows, int64_t d, ivkit_dtype_t dtype,
                                                        const void* v, int64_t v_row_stride, const int64_t* rows,
                                                        const float* scales, int64_t n, float scale, void* stream) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        add_rows_check_args(x, n_rows, d, dtype, v, v_row_stride, rows, n);
        if (n == 0 || d == 0) return;
        auto s = static_cast<cudaStream_t>(stream);
        switch (dtype) {
            case IVKIT_DTYPE_F32: add_rows_forward_cuda<IVKIT_DTYPE_F32>(x, n_rows, d, v, v_row_stride, rows, scales, n, scale, s); break;
            case IVKIT_DTYPE_BF16: add_rows_forward_cuda<IVKIT_DTYPE_BF16>(x, n_rows, d, v, v_row_stride, rows, scales, n, scale, s); break;
            default: add_rows_forward_cuda<IVKIT_DTYPE_F16>(x, n_rows, d, v, v_row_stride, rows, scales, n, scale, s); break;
        }
    });
}
