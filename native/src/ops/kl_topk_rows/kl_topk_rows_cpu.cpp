// kl_topk_rows, CPU path. Contract and math in kl_topk_rows_math.h.
//
// First the cached ids of every row that will be read are checked (in range, distinct in the row), so a rejected call
// writes nothing. Then per row: a max pass over the logits, an exp-sum pass (in blocks of 1,024: scaled into a float
// buffer, exponentiated, summed in float within the block and in double across blocks; with a float32 gradient the e_j
// are kept in the gradient row, so the write pass is a scaling), k fix-ups over the cached ids, and for the
// gradient one write pass (e_j * c_rest) followed by the k ids' own values. The rest sum skips the ids through a byte
// map of the vocabulary (one per thread, the only allocation; the ids are marked before the pass and cleared after).
// Rows are split over `threads` std::threads; an AVX-512 or AVX2 build of the row loop is picked at run time
// (core/cpu_rows.h). 256 x 32,000 fp32, k 64, one thread, with gradient: 33 ms with a per-element double loop (not
// vectorised), 10 ms with the blocks (a C++ harness over ivkit_kl_topk_rows).
#include <algorithm>
#include <vector>

#include "core/cpu_rows.h"
#include "ops/kl_topk_rows/kl_topk_rows_math.h"

namespace ivkit::ops {
namespace {

constexpr int64_t kBlock = 1024;  // elements per block of the exp-sum pass (stack buffers; float sums within a block)

struct TopkArgs {
    const void* current;
    int64_t vocab, k;
    const int32_t* ids;
    const float* logq;
    const float* log_rest;
    const void* mask;
    int32_t mask_kind;
    float inv_t;
    float* loss;
    void* grad;
    bool grad_f32;
};

template <int DT, bool REV>
__attribute__((always_inline)) inline void topk_rows_range(const TopkArgs& x, int64_t r0, int64_t r1) {
    using T = typename Elem<DT>::T;
    const int64_t V = x.vocab, K = x.k;
    const float inv_t = x.inv_t;
    std::vector<uint8_t> in_top(static_cast<size_t>(V), 0);
    uint8_t* top = in_top.data();
    alignas(64) float xb[kBlock], eb[kBlock];
    for (int64_t row = r0; row < r1; ++row) {
        const T* cr = static_cast<const T*>(x.current) + row * V;
        const auto [g32, gt] = grad_row<T>(x.grad, x.grad_f32, row, V);
        const float weight = kl_row_weight(x.mask, x.mask_kind, row);
        if (weight == 0.0f && masked_row_host<DT>(x.loss, row, {g32, gt}, V)) continue;  // loss 0, grad 0, nothing read
        const float m = ivkit::row_max<DT>(cr, V) * inv_t;  // = max_j (x_j * inv_t): rounding is monotonic
        const int32_t* id = x.ids + row * K;
        const float* lq = x.logq + row * K;
        for (int64_t i = 0; i < K; ++i) top[id[i]] = 1;
        double z = 0.0, z_rest = 0.0;
        for (int64_t j0 = 0; j0 < V; j0 += kBlock) {  // blocks: vectorised loops over float buffers, float block sums
            const int64_t n = std::min(kBlock, V - j0);
            float* e = g32 ? g32 + j0 : eb;
            for (int64_t j = 0; j < n; ++j) xb[j] = Elem<DT>::load(cr[j0 + j]) * inv_t - m;
#pragma omp simd
            for (int64_t j = 0; j < n; ++j) e[j] = kl_exp(xb[j]);
            float zb = 0.0f, zr = 0.0f;
            const uint8_t* tb = top + j0;
#pragma omp simd reduction(+ : zb, zr)
            for (int64_t j = 0; j < n; ++j) {
                zb += e[j];
                zr += tb[j] ? 0.0f : e[j];
            }
            z += zb;
            z_rest += zr;
        }
        for (int64_t i = 0; i < K; ++i) top[id[i]] = 0;
        const double lz = std::log(z);
        TopkSums s{0.0};
        for (int64_t i = 0; i < K; ++i) topk_add(s, Elem<DT>::load(cr[id[i]]), lq[i], inv_t, m, z, lz, REV);
        const float scale = weight * inv_t;
        const TopkRow fin = topk_finish(s, z, z_rest, x.log_rest[row], scale, REV);
        x.loss[row] = static_cast<float>(weight * fin.kl);
        if (x.grad == nullptr) continue;
        const float c = fin.c_rest;
        if (g32) {
#pragma omp simd
            for (int64_t j = 0; j < V; ++j) g32[j] *= c;
            for (int64_t i = 0; i < K; ++i)
                g32[id[i]] = topk_grad_id(Elem<DT>::load(cr[id[i]]), lq[i], inv_t, m, z, lz, fin, scale, REV);
        } else {
            for (int64_t j = 0; j < V; ++j) gt[j] = Elem<DT>::store(topk_e(Elem<DT>::load(cr[j]), inv_t, m) * c);
            for (int64_t i = 0; i < K; ++i)
                gt[id[i]] = Elem<DT>::store(topk_grad_id(Elem<DT>::load(cr[id[i]]), lq[i], inv_t, m, z, lz, fin, scale, REV));
        }
    }
}

template <int DT>
ivkit::RangeFn<TopkArgs> pick(bool reverse) {
    return reverse ? ivkit::pick_isa<TopkArgs, topk_rows_range<DT, true>>()
                   : ivkit::pick_isa<TopkArgs, topk_rows_range<DT, false>>();
}

// The ids of every row that will be read: each in [0, vocab), none twice in a row (a repeat would count its mass twice).
void check_ids(const TopkArgs& x, int64_t rows) {
    std::vector<int32_t> sorted(static_cast<size_t>(x.k));
    for (int64_t row = 0; row < rows; ++row) {
        if (kl_row_weight(x.mask, x.mask_kind, row) == 0.0f) continue;
        const int32_t* id = x.ids + row * x.k;
        for (int64_t i = 0; i < x.k; ++i) {
            IVKIT_CHECK(id[i] >= 0 && id[i] < x.vocab, "kl_topk_rows: ids[%lld, %lld]=%d is out of range [0, %lld)",
                        static_cast<long long>(row), static_cast<long long>(i), static_cast<int>(id[i]),
                        static_cast<long long>(x.vocab));
        }
        std::copy(id, id + x.k, sorted.begin());
        std::sort(sorted.begin(), sorted.end());
        const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
        IVKIT_CHECK(dup == sorted.end(), "kl_topk_rows: ids[%lld, :] holds %d twice", static_cast<long long>(row),
                    dup == sorted.end() ? 0 : static_cast<int>(*dup));
    }
}

}  // namespace
}  // namespace ivkit::ops

extern "C" IVKIT_API ivkit_status_t ivkit_kl_topk_rows(const void* current, int64_t rows, int64_t vocab,
                                                       ivkit_dtype_t dtype, const int32_t* ids, const float* logq,
                                                       const float* log_rest, int64_t k, const void* mask,
                                                       int32_t mask_kind, float temperature, int32_t direction,
                                                       float* loss, void* grad, ivkit_dtype_t grad_dtype,
                                                       int32_t threads) {
    using namespace ivkit::ops;
    return ivkit::guarded([&] {
        kl_topk_rows_check_args(current, rows, vocab, dtype, ids, logq, log_rest, k, mask, mask_kind, temperature,
                                direction, loss, grad, grad_dtype);
        if (rows == 0) return;
        const TopkArgs x{current, vocab, k, ids, logq, log_rest, mask, mask_kind, 1.0f / temperature, loss, grad,
                         grad != nullptr && grad_dtype == IVKIT_DTYPE_F32};
        check_ids(x, rows);
        const bool reverse = direction == IVKIT_KL_REVERSE;
        switch (dtype) {
            case IVKIT_DTYPE_F32: ivkit::run_rows(pick<IVKIT_DTYPE_F32>(reverse), x, rows, vocab, threads); break;
            case IVKIT_DTYPE_BF16: ivkit::run_rows(pick<IVKIT_DTYPE_BF16>(reverse), x, rows, vocab, threads); break;
            default: ivkit::run_rows(pick<IVKIT_DTYPE_F16>(reverse), x, rows, vocab, threads); break;
        }
    });
}
