// patch_heads: z[rows[i], positions[i], head_idx[i], :] = values[i]  (REPLACE)  or  += values[i]  (ADD).
// z [batch, seq, heads, d_head]; values [n, d_head] (row stride 1) or [d_head] (row stride 0).
// Shared by patch_heads_cpu.cpp and patch_heads_cuda.cu: per-element math and argument checks.
#pragma once
#include <cstdint>
#include "core/dtype.h"
#include "core/status.h"
#include "ops/gather_heads/gather_heads_math.h"

namespace ivkit::ops {

template <int DT>
IVKIT_HD typename Elem<DT>::T patch_heads_elem(typename Elem<DT>::T z, typename Elem<DT>::T v, int mode) {
    // REPLACE stores the value's bits unchanged; ADD computes in fp32 and rounds once.
    return mode == IVKIT_PATCH_REPLACE ? v : Elem<DT>::store(Elem<DT>::load(z) + Elem<DT>::load(v));
}

inline void patch_heads_check_args(const void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                   ivkit_dtype_t dtype, const int64_t* rows, const int64_t* positions,
                                   const int64_t* head_idx, const void* values, int64_t values_row_stride, int64_t n,
                                   int32_t mode) {
    IVKIT_CHECK(dtype == IVKIT_DTYPE_F32 || dtype == IVKIT_DTYPE_BF16 || dtype == IVKIT_DTYPE_F16,
                "patch_heads: unsupported dtype code %d", static_cast<int>(dtype));
    IVKIT_CHECK(mode == IVKIT_PATCH_REPLACE || mode == IVKIT_PATCH_ADD, "patch_heads: unknown mode %d", static_cast<int>(mode));
    IVKIT_CHECK(batch > 0 && seq > 0 && heads > 0 && d_head > 0 && n >= 0,
                "patch_heads: bad sizes (batch=%lld, seq=%lld, heads=%lld, d_head=%lld, n=%lld)", static_cast<long long>(batch),
                static_cast<long long>(seq), static_cast<long long>(heads), static_cast<long long>(d_head),
                static_cast<long long>(n));
    IVKIT_CHECK(values_row_stride == 0 || values_row_stride == 1, "patch_heads: values_row_stride must be 0 or 1");
    if (n > 0) {
        IVKIT_CHECK(z && rows && positions && head_idx && values, "patch_heads: null pointer argument");
    }
}

}  // namespace ivkit::ops
