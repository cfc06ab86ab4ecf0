// gather_heads: z [batch, seq, heads, d_head] at positions [batch] -> out [batch, heads, d_head],
// or accumulated in fp32 into out [heads, d_head]. Shared by gather_heads_cpu.cpp and gather_heads_cuda.cu.
#pragma once
#include <cstdint>
#include "core/dtype.h"
#include "core/status.h"

namespace ivkit::ops {

// Offset of z[b, p, h, 0].
IVKIT_HD int64_t head_offset(int64_t b, int64_t p, int64_t h, int64_t seq, int64_t heads, int64_t d_head) {
    return ((b * seq + p) * heads + h) * d_head;
}

inline void gather_heads_check_args(const void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                    ivkit_dtype_t dtype, const int64_t* positions, const void* out) {
    IVKIT_CHECK(dtype == IVKIT_DTYPE_F32 || dtype == IVKIT_DTYPE_BF16 || dtype == IVKIT_DTYPE_F16,
                "gather_heads: unsupported dtype code %d", static_cast<int>(dtype));
    IVKIT_CHECK(batch >= 0 && seq > 0 && heads > 0 && d_head > 0,
                "gather_heads: bad sizes (batch=%lld, seq=%lld, heads=%lld, d_head=%lld)", static_cast<long long>(batch),
                static_cast<long long>(seq), static_cast<long long>(heads), static_cast<long long>(d_head));
    if (batch > 0) {
        IVKIT_CHECK(z != nullptr && positions != nullptr && out != nullptr, "gather_heads: null pointer argument");
    }
}

}  // namespace ivkit::ops
