// gather_heads, CUDA kernels. Copy: one thread per output element. Accumulate: one thread per (head, j) summing the
// batch rows in order, so the fp32 sum is deterministic and equals the CPU reference's order.
#include "cuda/cuda_common.cuh"
#include "ops/gather_heads/gather_heads_math.h"

namespace ivkit::ops {
namespace {

template <int DT>
__global__ void gather_heads_copy_kernel(const typename Elem<DT>::T* __restrict__ z, int64_t batch, int64_t seq,
                                         int64_t heads, int64_t d_head, const int64_t* __restrict__ positions,
                                         typename Elem<DT>::T* __restrict__ out) {
    const int64_t width = heads * d_head;
    const int64_t total = batch * width;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t b = i / width, j = i % width;
        const int64_t p = positions[b];
        if (p < 0 || p >= seq) continue;  // validated by the caller
        out[i] = z[head_offset(b, p, 0, seq, heads, d_head) + j];
    }
}

template <int DT>
__global__ void gather_heads_accumulate_kernel(const typename Elem<DT>::T* __restrict__ z, int64_t batch, int64_t seq,
                                               int64_t heads, int64_t d_head, const int64_t* __restrict__ positions,
                                               float* __restrict__ acc) {
    const int64_t width = heads * d_head;
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < width;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        float s = acc[j];
        for (int64_t b = 0; b < batch; ++b) {
            const int64_t p = positions[b];
            if (p < 0 || p >= seq) continue;
            s += Elem<DT>::load(z[head_offset(b, p, 0, seq, heads, d_head) + j]);
        }
        acc[j] = s;
    }
}

template <int DT>
void gather_heads_forward_cuda(const void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                               const int64_t* positions, void* out, bool accumulate, cudaStream_t stream) {
    using T = typename Elem<DT>::T;
    constexpr int threads = 256;
    const int64_t work = accumulate ? heads * d_head : batch * heads * d_head;
    const int64_t blocks64 = (work + threads - 1) / threads;
    const unsigned blocks = static_cast<unsigned>(blocks64 < 65535 ? (blocks64 > 0 ? blocks64 : 1) : 65535);
    if (accumulate)
        gather_heads_accumulate_kernel<DT><<<blocks, threads, 0, stream>>>(static_cast<const T*>(z), batch, seq, heads, d_head,
                                                                           positions, static_cast<float*>(out));
    else
        gather_heads_copy_kernel<DT><<<blocks, threads, 0, stream>>>(static_cast<const T*>(z), batch, seq, heads, d_head,
                                                                     positions, static_cast<T*>(out));
    IVKIT_CUDA_CHECK_LAUNCH(gather_heads);
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_cuda_gather_heads(const void* z, int64_t batch, int64_t seq, int64_t heads,
                                                            int64_t d_head, ivkit_dtype_t dtype, const int64_t* positions,
                                                            void* out, int32_t accumulate, void* stream) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        gather_heads_check_args(z, batch, seq, heads, d_head, dtype, positions, out);
        if (batch == 0) return;
        auto s = static_cast<cudaStream_t>(stream);
        switch (dtype) {
            case IVKIT_DTYPE_F32: gather_heads_forward_cuda<IVKIT_DTYPE_F32>(z, batch, seq, heads, d_head, positions, out, accumulate != 0, s); break;
            case IVKIT_DTYPE_BF16: gather_heads_forward_cuda<IVKIT_DTYPE_BF16>(z, batch, seq, heads, d_head, positions, out, accumulate != 0, s); break;
            default: gather_heads_forward_cuda<IVKIT_DTYPE_F16>(z, batch, seq, heads, d_head, positions, out, accumulate != 0, s); break;
        }
    });
}
