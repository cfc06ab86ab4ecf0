// add_rows: x[rows[i], :] += scale * scales[i] * v[i * v_row_stride, :]
//   x [n_rows, d], v [n_v, d], rows [n] (distinct), scales [n] or null.
// Shared by the CPU reference (add_rows_cpu.cpp) and the CUDA kernel (add_rows_cuda.cu):
// the per-element math and the argument checks, so both backends compute and reject identically.
#pragma once
#include <cstdint>
#include "core/dtype.h"
#include "core/status.h"

namespace ivkit::ops {

// One element: fp32 math, one rounding to the storage type.
template <int DT>
IVKIT_HD typename Elem<DT>::T add_rows_elem(typename Elem<DT>::T x, typename Elem<DT>::T v, float factor) {
    return Elem<DT>::store(Elem<DT>::load(x) + factor * Elem<DT>::load(v));
}

// Host-side checks on sizes and pointers (both backends; row values are checked by the CPU path and
// by the Java caller, since device memory cannot be read here).
inline void add_rows_check_args(const void* x, int64_t n_rows, int64_t d, ivkit_dtype_t dtype, const void* v,
                                int64_t v_row_stride, const int64_t* rows, int64_t n) {
    IVKIT_CHECK(dtype == IVKIT_DTYPE_F32 || dtype == IVKIT_DTYPE_BF16 || dtype == IVKIT_DTYPE_F16,
                "add_rows: unsupported dtype code %d", static_cast<int>(dtype));
    IVKIT_CHECK(n_rows >= 0 && d >= 0 && n >= 0, "add_rows: negative size (n_rows=%lld, d=%lld, n=%lld)",
                static_cast<long long>(n_rows), static_cast<long long>(d), static_cast<long long>(n));
    IVKIT_CHECK(n <= n_rows, "add_rows: n=%lld selected rows but x has only %lld rows (rows must be distinct)",
                static_cast<long long>(n), static_cast<long long>(n_rows));
    IVKIT_CHECK(v_row_stride == 0 || v_row_stride == 1, "add_rows: v_row_stride must be 0 or 1, got %lld",
                static_cast<long long>(v_row_stride));
    if (n > 0 && d > 0) {
        IVKIT_CHECK(x != nullptr, "add_rows: x is null");
        IVKIT_CHECK(v != nullptr, "add_rows: v is null");
        IVKIT_CHECK(rows != nullptr, "add_rows: rows is null");
    }
}

}  // namespace ivkit::ops
