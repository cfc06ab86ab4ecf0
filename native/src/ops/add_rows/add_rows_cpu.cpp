// add_rows, CPU reference and production CPU path. See add_rows_math.h for the contract.
#include <vector>

#include "ops/add_rows/add_rows_math.h"

namespace ivkit::ops {
namespace {

template <int DT>
void add_rows_forward_cpu(void* x_, int64_t d, const void* v_, int64_t v_row_stride, const int64_t* rows,
                          const float* scales, int64_t n, float scale) {
    using T = typename Elem<DT>::T;
    T* x = static_cast<T*>(x_);
    const T* v = static_cast<const T*>(v_);
    for (int64_t i = 0; i < n; ++i) {                 // selected rows
        const float factor = scale * (scales ? scales[i] : 1.0f);
        T* xr = x + rows[i] * d;                       // [d]
        const T* vr = v + i * v_row_stride * d;        // [d]
        for (int64_t j = 0; j < d; ++j) xr[j] = add_rows_elem<DT>(xr[j], vr[j], factor);
    }
}

void check_rows(const int64_t* rows, int64_t n, int64_t n_rows) {
    std::vector<bool> seen(static_cast<size_t>(n_rows), false);
    for (int64_t i = 0; i < n; ++i) {
        IVKIT_CHECK(rows[i] >= 0 && rows[i] < n_rows, "add_rows: rows[%lld]=%lld is out of range [0, %lld)",
                    static_cast<long long>(i), static_cast<long long>(rows[i]), static_cast<long long>(n_rows));
        IVKIT_CHECK(!seen[static_cast<size_t>(rows[i])], "add_rows: rows[%lld]=%lld is selected twice",
                    static_cast<long long>(i), static_cast<long long>(rows[i]));
        seen[static_cast<size_t>(rows[i])] = true;
    }
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_add_rows(void* x, int64_t n_rows, int64_t d, ivkit_dtype_t dtype,
                                                   const void* v, int64_t v_row_stride, const int64_t* rows,
                                                   const float* scales, int64_t n, float scale) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        add_rows_check_args(x, n_rows, d, dtype, v, v_row_stride, rows, n);
        if (n == 0 || d == 0) return;
        check_rows(rows, n, n_rows);
        switch (dtype) {
            case IVKIT_DTYPE_F32: add_rows_forward_cpu<IVKIT_DTYPE_F32>(x, d, v, v_row_stride, rows, scales, n, scale); break;
            case IVKIT_DTYPE_BF16: add_rows_forward_cpu<IVKIT_DTYPE_BF16>(x, d, v, v_row_stride, rows, scales, n, scale); break;
            default: add_rows_forward_cpu<IVKIT_DTYPE_F16>(x, d, v, v_row_stride, rows, scales, n, scale); break;
        }
    });
}
