// Splits the rows of a row-wise CPU op over std::threads: the calling thread runs the first share, up to `threads - 1`
// more run the others, and small problems (fewer than 2^16 elements per thread) stay on one thread. Each row is
// computed by the same code whichever thread runs it, so results do not depend on `threads`.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ivkit {

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

}  // namespace ivkit
