// gather_heads, CPU reference and production CPU path. Contract in ivkit.h / gather_heads_math.h.
#include "ops/gather_heads/gather_heads_math.h"

namespace ivkit::ops {
namespace {

template <int DT>
void gather_heads_forward_cpu(const void* z_, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                              const int64_t* positions, void* out_, bool accumulate) {
    using T = typename Elem<DT>::T;
    const T* z = static_cast<const T*>(z_);
    const int64_t width = heads * d_head;  // one position's [heads, d_head] is contiguous
    if (accumulate) {
        float* acc = static_cast<float*>(out_);                       // [heads, d_head]
        for (int64_t b = 0; b < batch; ++b) {
            const T* src = z + head_offset(b, positions[b], 0, seq, heads, d_head);
            for (int64_t j = 0; j < width; ++j) acc[j] += Elem<DT>::load(src[j]);
        }
    } else {
        T* out = static_cast<T*>(out_);                               // [batch, heads, d_head]
        for (int64_t b = 0; b < batch; ++b) {
            const T* src = z + head_offset(b, positions[b], 0, seq, heads, d_head);
            for (int64_t j = 0; j < width; ++j) out[b * width + j] = src[j];
        }
    }
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_gather_heads(const void* z, int64_t batch, int64_t seq, int64_t heads,
                                                       int64_t d_head, ivkit_dtype_t dtype, const int64_t* positions,
                                                       void* out, int32_t accumulate) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        gather_heads_check_args(z, batch, seq, heads, d_head, dtype, positions, out);
        for (int64_t b = 0; b < batch; ++b)
            IVKIT_CHECK(positions[b] >= 0 && positions[b] < seq, "gather_heads: positions[%lld]=%lld is out of range [0, %lld)",
                        static_cast<long long>(b), static_cast<long long>(positions[b]), static_cast<long long>(seq));
        switch (dtype) {
            case IVKIT_DTYPE_F32: gather_heads_forward_cpu<IVKIT_DTYPE_F32>(z, batch, seq, heads, d_head, positions, out, accumulate != 0); break;
            case IVKIT_DTYPE_BF16: gather_heads_forward_cpu<IVKIT_DTYPE_BF16>(z, batch, seq, heads, d_head, positions, out, accumulate != 0); break;
            default: gather_heads_forward_cpu<IVKIT_DTYPE_F16>(z, batch, seq, heads, d_head, positions, out, accumulate != 0); break;
        }
    });
}
