// Helpers of the row-wise CPU ops (kl_rows, kl_topk_rows, topk_logprobs): the split of rows over threads, the run-time
// choice of an AVX-512 or AVX2+FMA build of a row loop, and the max pass over a row.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "core/dtype.h"

namespace ivkit {

// Splits the rows over std::threads: the calling thread runs the first share, up to `threads - 1` more run the others,
// and small problems (fewer than 2^16 elements per thread) stay on one thread. Each row is computed by the same code
// whichever thread runs it, so results do not depend on `threads`.
template <class A>
void run_rows(void (*fn)(const A&, int64_t, int64_t), const A& x, int64_t rows, int64_t row_elems, int32_t threads) {
    const int64_t min_elems_per_thread = int64_t{1} << 16;
    int64_t nt = std::max<int64_t>(1, std::min<int64_t>(threads, rows));
    nt = std::max<int64_t>(1, std::min<int64_t>(nt, rows * row_elems / min_elems_per_thread));
    if (nt == 1) {
        fn(x, 0, rows);
        return;
    }
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(nt - 1));
    for (int64_t t = 1; t < nt; ++t) pool.emplace_back(fn, std::cref(x), rows * t / nt, rows * (t + 1) / nt);
    fn(x, 0, rows / nt);
    for (auto& th : pool) th.join();
}

// A row-range function F (always_inline) built three times: for AVX-512 (F/DQ/VL/BW), for AVX2+FMA and for the
// baseline ISA; pick_isa returns the widest build the CPU can run (checked once).
template <class A>
using RangeFn = void (*)(const A&, int64_t, int64_t);

template <class A, RangeFn<A> F>
__attribute__((target("avx2,fma"))) void range_avx2(const A& x, int64_t r0, int64_t r1) {
    F(x, r0, r1);
}

template <class A, RangeFn<A> F>
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"))) void range_avx512(const A& x, int64_t r0, int64_t r1) {
    F(x, r0, r1);
}

template <class A, RangeFn<A> F>
void range_generic(const A& x, int64_t r0, int64_t r1) {
    F(x, r0, r1);
}

template <class A, RangeFn<A> F>
RangeFn<A> pick_isa() {
    static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return avx512 ? range_avx512<A, F> : avx2 ? range_avx2<A, F> : range_generic<A, F>;
}

// max_j row[j] of n elements of dtype DT, as float (an OpenMP-SIMD reduction).
template <int DT>
__attribute__((always_inline)) inline float row_max(const typename Elem<DT>::T* row, int64_t n) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; ++j) {
        const float v = Elem<DT>::load(row[j]);
        mx = v > mx ? v : mx;
    }
    return mx;
}

}  // namespace ivkit
