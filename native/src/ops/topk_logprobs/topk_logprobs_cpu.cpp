// topk_logprobs, CPU path. Contract and math in topk_logprobs_math.h.
//
// Per row: a max pass, then one streaming pass in chunks of kChunk: each chunk is scaled by 1/T into a stack buffer,
// exponentiated into a second one and its e_j summed (Z: float within the chunk, double across chunks; three separate
// loops that the compiler vectorises: 256 x 32,000 fp32, k 64, one thread, 20.1 -> 18.2 ms), and its elements below
// the running threshold theta (the k-th largest value kept so far;
// -inf until k are kept) summed into Z_rest: they can never enter the top k. Elements at or above theta are appended
// to a candidate buffer of 4k + 64 entries; when it is full, nth_element keeps the k largest, the evicted ones'
// e_j go to Z_rest and theta rises. A chunk whose maximum is below theta is not scanned. At the end the buffer is cut
// to k the same way and sorted by descending value. Rows are split over `threads` std::threads; an AVX-512 or AVX2
// build of the row loop is picked at run time. The candidate buffer is the only allocation (one per thread).
#include <algorithm>
#include <vector>

#include "core/cpu_rows.h"
#include "ops/topk_logprobs/topk_logprobs_math.h"

namespace ivkit::ops {
namespace {

constexpr int64_t kChunk = 1024;

struct TopkOutArgs {
    const void* logits;
    int64_t vocab, k;
    float inv_t;
    int32_t* ids;
    float* logp;
    float* log_rest;
};

struct Cand {
    float a, e;
    int32_t id;
};

// Keeps the k largest candidates in buf[0, k) (unordered), adds the others' e_j to z_rest; returns the k-th value.
inline float keep_top(std::vector<Cand>& buf, size_t& n, size_t k, double& z_rest) {
    std::nth_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k - 1), buf.begin() + static_cast<std::ptrdiff_t>(n),
                     [](const Cand& x, const Cand& y) { return x.a > y.a; });
    for (size_t i = k; i < n; ++i) z_rest += buf[i].e;
    n = k;
    float theta = buf[0].a;
    for (size_t i = 1; i < k; ++i) theta = std::min(theta, buf[i].a);
    return theta;
}

template <int DT>
__attribute__((always_inline)) inline void topk_range(const TopkOutArgs& x, int64_t r0, int64_t r1) {
    using T = typename Elem<DT>::T;
    alignas(64) float a[kChunk], e[kChunk];
    const int64_t V = x.vocab;
    // 4k + 64: the threshold rises more often than with 2k + 1,024 and skips more chunks (256 x 32,000, k 64: 18.4 -> 15.9 ms)
    const size_t K = static_cast<size_t>(x.k), cap = 4 * K + 64;
    std::vector<Cand> buf(cap);
    const float inv_t = x.inv_t;
    for (int64_t row = r0; row < r1; ++row) {
        const T* xr = static_cast<const T*>(x.logits) + row * V;
        const float m = ivkit::row_max<DT>(xr, V) * inv_t;  // = max_j (x_j * inv_t): rounding is monotonic
        double z = 0.0, z_rest = 0.0;
        float theta = -INFINITY;
        size_t n = 0;
        for (int64_t j0 = 0; j0 < V; j0 += kChunk) {
            const int64_t len = std::min(kChunk, V - j0);
            for (int64_t j = 0; j < len; ++j) a[j] = Elem<DT>::load(xr[j0 + j]) * inv_t;
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) e[j] = kl_exp(a[j] - m);
            float cmax = -INFINITY, zc = 0.0f, zr = 0.0f;  // float within the chunk, double across chunks
#pragma omp simd reduction(+ : zc, zr) reduction(max : cmax)
            for (int64_t j = 0; j < len; ++j) {
                zc += e[j];
                zr += a[j] < theta ? e[j] : 0.0f;
                cmax = a[j] > cmax ? a[j] : cmax;
            }
            z += zc;
            z_rest += zr;
            if (cmax < theta) continue;
            const float th = theta;  // the split above used this value: scan with it too
            for (int64_t j = 0; j < len; ++j) {
                if (!(a[j] >= th)) continue;
                if (n == cap) theta = keep_top(buf, n, K, z_rest);
                buf[n++] = Cand{a[j], e[j], static_cast<int32_t>(j0 + j)};
            }
            if (n >= K && theta == -INFINITY) theta = keep_top(buf, n, K, z_rest);
        }
        if (n > K) keep_top(buf, n, K, z_rest);
        std::sort(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(K),
                  [](const Cand& p, const Cand& q) { return p.a > q.a; });
        const double lz = std::log(z);
        int32_t* ids = x.ids + row * x.k;
        float* lp = x.logp + row * x.k;
        for (size_t i = 0; i < K; ++i) {
            ids[i] = buf[i].id;
            lp[i] = static_cast<float>(static_cast<double>(buf[i].a) - static_cast<double>(m) - lz);
        }
        x.log_rest[row] = topk_log_rest(z_rest, z);
    }
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_topk_logprobs(const void* logits, int64_t rows, int64_t vocab,
                                                        ivkit_dtype_t dtype, float temperature, int64_t k, int32_t* ids,
                                                        float* logp, float* log_rest, int32_t threads) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        topk_logprobs_check_args(logits, rows, vocab, dtype, temperature, k, ids, logp, log_rest);
        if (rows == 0) return;
        const TopkOutArgs x{logits, vocab, k, 1.0f / temperature, ids, logp, log_rest};
        switch (dtype) {
            case IVKIT_DTYPE_F32: ivkit::run_rows(ivkit::pick_isa<TopkOutArgs, topk_range<IVKIT_DTYPE_F32>>(), x, rows, vocab, threads); break;
            case IVKIT_DTYPE_BF16: ivkit::run_rows(ivkit::pick_isa<TopkOutArgs, topk_range<IVKIT_DTYPE_BF16>>(), x, rows, vocab, threads); break;
            default: ivkit::run_rows(ivkit::pick_isa<TopkOutArgs, topk_range<IVKIT_DTYPE_F16>>(), x, rows, vocab, threads); break;
        }
    });
}
