// patch_heads, CPU reference and production CPU path. Contract in ivkit.h / patch_heads_math.h.
#include <unordered_set>

#include "ops/patch_heads/patch_heads_math.h"

namespace ivkit::ops {
namespace {

template <int DT>
void patch_heads_forward_cpu(void* z_, int64_t seq, int64_t heads, int64_t d_head, const int64_t* rows,
                             const int64_t* positions, const int64_t* head_idx, const void* values_, int64_t stride,
                             int64_t n, int mode) {
    using T = typename Elem<DT>::T;
    T* z = static_cast<T*>(z_);
    const T* values = static_cast<const T*>(values_);
    for (int64_t i = 0; i < n; ++i) {                                            // patches
        T* dst = z + head_offset(rows[i], positions[i], head_idx[i], seq, heads, d_head);  // [d_head]
        const T* v = values + i * stride * d_head;                                // [d_head]
        for (int64_t j = 0; j < d_head; ++j) dst[j] = patch_heads_elem<DT>(dst[j], v[j], mode);
    }
}

void check_targets(int64_t batch, int64_t seq, int64_t heads, const int64_t* rows, const int64_t* positions,
                   const int64_t* head_idx, int64_t n) {
    std::unordered_set<int64_t> seen;
    for (int64_t i = 0; i < n; ++i) {
        IVKIT_CHECK(rows[i] >= 0 && rows[i] < batch, "patch_heads: rows[%lld]=%lld is out of range [0, %lld)",
                    static_cast<long long>(i), static_cast<long long>(rows[i]), static_cast<long long>(batch));
        IVKIT_CHECK(positions[i] >= 0 && positions[i] < seq, "patch_heads: positions[%lld]=%lld is out of range [0, %lld)",
                    static_cast<long long>(i), static_cast<long long>(positions[i]), static_cast<long long>(seq));
        IVKIT_CHECK(head_idx[i] >= 0 && head_idx[i] < heads, "patch_heads: heads[%lld]=%lld is out of range [0, %lld)",
                    static_cast<long long>(i), static_cast<long long>(head_idx[i]), static_cast<long long>(heads));
        const int64_t key = (rows[i] * seq + positions[i]) * heads + head_idx[i];
        IVKIT_CHECK(seen.insert(key).second, "patch_heads: heads[%lld]: patch targets (row %lld, position %lld, head %lld) twice",
                    static_cast<long long>(i), static_cast<long long>(rows[i]), static_cast<long long>(positions[i]),
                    static_cast<long long>(head_idx[i]));
    }
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_patch_heads(void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                                      ivkit_dtype_t dtype, const int64_t* rows, const int64_t* positions,
                                                      const int64_t* head_idx, const void* values,
                                                      int64_t values_row_stride, int64_t n, int32_t mode) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        patch_heads_check_args(z, batch, seq, heads, d_head, dtype, rows, positions, head_idx, values, values_row_stride, n, mode);
        check_targets(batch, seq, heads, rows, positions, head_idx, n);
        switch (dtype) {
            case IVKIT_DTYPE_F32: patch_heads_forward_cpu<IVKIT_DTYPE_F32>(z, seq, heads, d_head, rows, positions, head_idx, values, values_row_stride, n, mode); break;
            case IVKIT_DTYPE_BF16: patch_heads_forward_cpu<IVKIT_DTYPE_BF16>(z, seq, heads, d_head, rows, positions, head_idx, values, values_row_stride, n, mode); break;
            default: patch_heads_forward_cpu<IVKIT_DTYPE_F16>(z, seq, heads, d_head, rows, positions, head_idx, values, values_row_stride, n, mode); break;
        }
    });
}
