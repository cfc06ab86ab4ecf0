// kl_rows: per-row temperature-scaled KL divergence and its gradient w.r.t. the current logits.
// Shared by kl_rows_cpu.cpp and kl_rows_cuda.cu: the streaming statistics, their merge, the per-row finish, the
// per-element gradient and the argument checks, so both backends compute and reject identically.
//
// Math (a = current / T, b = reference / T, p = softmax(a), q = softmax(b), lse = log-sum-exp):
//   log p_j = a_j - lse_a,   log q_j = b_j - lse_b
//   REVERSE  KL(p || q) = sum_j p_j (a_j - b_j) - (lse_a - lse_b)
//            d/da_k     = p_k (log p_k - log q_k - KL)      (softmax Jacobian: dp_j/da_k = p_j (delta_jk - p_k))
//   FORWARD  KL(q || p) = (lse_a - lse_b) - sum_j q_j (a_j - b_j)
//            d/da_k     = p_k - q_k
//   and d/dcurrent = (1/T) d/da. The weighted sums sum_j p_j (a_j - b_j) and sum_j q_j (a_j - b_j) are carried in
//   the same online (max, scaled sum) form as the normalisers (see KlStats), so the loss needs one pass over the row
//   and no softmax is ever stored.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include "core/dtype.h"
#include "core/status.h"

namespace ivkit::ops {

// exp for x <= 0 (the callers subtract a running max). Device: the CUDA library's expf. Host: a branch-free
// Cephes-style expf (range reduction by ln 2, degree-5 minimax polynomial, about 1 ulp) that the compiler vectorises;
// returns exactly 0 below -87.3 instead of a subnormal.
IVKIT_HD float kl_exp(float x) {
#if defined(__CUDA_ARCH__)
    return expf(x);
#else
    const float xc = x < -87.3f ? -87.3f : (x > 88.0f ? 88.0f : x);
    const float shifter = 12582912.0f;                     // 1.5 * 2^23: adding it rounds to an integer
    const float t = xc * 1.44269504088896341f + shifter;
    const float n = t - shifter;                           // round(x / ln 2)
    const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;  // x - n ln 2, ln 2 split hi/lo
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t ni = static_cast<int32_t>(float_to_bits(t) - float_to_bits(shifter));  // n as an integer
    const float scale = bits_to_float(static_cast<uint32_t>(ni + 127) << 23);
    return x < -87.3f ? 0.0f : p * scale;
#endif
}

// Streaming statistics of one row, or of a slice of it: running maxima and scaled sums
//   za = sum e^{a_j - ma},  zb = sum e^{b_j - mb},  w = sum e^{x_j - mx} ((a_j - ma) - (b_j - mb))
// where x = a (weights p) for REVERSE and x = b (weights q) for FORWARD. The differences are taken relative to the
// maxima so that ma - mb cancels analytically in the loss (KL of ~10 from logits of ~100 keeps its digits):
//   REVERSE KL = w / za - log za + log zb,    FORWARD KL = log za - log zb - w / zb.
// The sums are double: with fp32 sums the loss drifted by up to 7e-5 at KL ~ 10 (V = 1000); in double it stays
// within 1e-6 of an fp64 reference, and the cost is a few extra instructions on already memory-bound loops.
// The empty state has maxima -inf and sums 0.
struct KlStats {
    float ma;
    double za;
    float mb;
    double zb, w;
};

IVKIT_HD KlStats kl_empty() { return KlStats{-INFINITY, 0.0, -INFINITY, 0.0, 0.0}; }

// e^{m_old - m_new} with the empty state's -inf handled (0 instead of NaN).
IVKIT_HD float kl_rescale(float m_old, float m_new) { return m_old == -INFINITY ? 0.0f : kl_exp(m_old - m_new); }

// One side's w moved to new maxima: every difference shifts by delta = (ma - ma') - (mb - mb'), weights by c.
IVKIT_HD double kl_shift_w(double w, double z, float c, float delta) { return z == 0.0 ? 0.0 : c * (w + z * delta); }

// The statistics of the union of two disjoint slices (associative and commutative up to rounding).
IVKIT_HD KlStats kl_merge(const KlStats& x, const KlStats& y, bool reverse) {
    KlStats o;
    o.ma = x.ma > y.ma ? x.ma : y.ma;
    o.mb = x.mb > y.mb ? x.mb : y.mb;
    const float xa = kl_rescale(x.ma, o.ma), ya = kl_rescale(y.ma, o.ma);
    const float xb = kl_rescale(x.mb, o.mb), yb = kl_rescale(y.mb, o.mb);
    o.za = x.za * xa + y.za * ya;
    o.zb = x.zb * xb + y.zb * yb;
    const float dx = (x.ma - o.ma) - (x.mb - o.mb), dy = (y.ma - o.ma) - (y.mb - o.mb);
    o.w = reverse ? kl_shift_w(x.w, x.za, xa, dx) + kl_shift_w(y.w, y.za, ya, dy)
                  : kl_shift_w(x.w, x.zb, xb, dx) + kl_shift_w(y.w, y.zb, yb, dy);
    return o;
}

// Adds one element (a_j, b_j): the merge with a one-element slice.
IVKIT_HD void kl_push(KlStats& s, float a, float b, bool reverse) { s = kl_merge(s, KlStats{a, 1.0, b, 1.0, 0.0}, reverse); }

// What the gradient pass needs of a finished row.
struct KlRow {
    float lse_a, lse_b, kl;
};

// Logs and the final combination in double: one per row, and it keeps the last digits of the loss.
IVKIT_HD KlRow kl_finish(const KlStats& s, bool reverse) {
    const double la = log(s.za), lb = log(s.zb);
    KlRow r;
    r.lse_a = static_cast<float>(s.ma + la);
    r.lse_b = static_cast<float>(s.mb + lb);
    r.kl = static_cast<float>(reverse ? s.w / s.za - la + lb : la - lb - s.w / s.zb);
    return r;
}

// d (weight * KL) / d current_j for a = current_j / T, b = reference_j / T; scale = weight / T.
IVKIT_HD float kl_grad_elem(float a, float b, const KlRow& r, float scale, bool reverse) {
    const float lp = a - r.lse_a;
    if (reverse) {
        const float lq = b - r.lse_b;
        return scale * kl_exp(lp) * (lp - lq - r.kl);
    }
    return scale * (kl_exp(lp) - kl_exp(b - r.lse_b));
}

// Weight of row i: 1 without a mask, 0/1 for a uint8 mask, the value for a float32 mask.
IVKIT_HD float kl_row_weight(const void* mask, int32_t mask_kind, int64_t i) {
    if (mask_kind == IVKIT_MASK_U8) return static_cast<const uint8_t*>(mask)[i] != 0 ? 1.0f : 0.0f;
    if (mask_kind == IVKIT_MASK_F32) return static_cast<const float*>(mask)[i];
    return 1.0f;
}

// Row `row` of a KL op's gradient output: g32 when the gradient is float32, gt when it has the logits' dtype (T), both
// null without a gradient.
template <class T>
struct GradRow {
    float* g32;
    T* gt;
};

template <class T>
IVKIT_HD GradRow<T> grad_row(void* grad, bool grad_f32, int64_t row, int64_t vocab) {
    return GradRow<T>{grad != nullptr && grad_f32 ? static_cast<float*>(grad) + row * vocab : nullptr,
                      grad != nullptr && !grad_f32 ? static_cast<T*>(grad) + row * vocab : nullptr};
}

#if !defined(__CUDACC__)
// A masked row (weight 0) on the CPU: loss 0 and a zero gradient row; nothing is read. Returns true (the row is done).
template <int DT>
inline bool masked_row_host(float* loss, int64_t row, const GradRow<typename Elem<DT>::T>& g, int64_t vocab) {
    loss[row] = 0.0f;
    if (g.g32) std::fill(g.g32, g.g32 + vocab, 0.0f);
    if (g.gt) std::fill(g.gt, g.gt + vocab, Elem<DT>::store(0.0f));
    return true;
}
#endif

inline void kl_rows_check_args(const void* current, const void* reference, int64_t rows, int64_t vocab,
                               ivkit_dtype_t dtype, const void* mask, int32_t mask_kind, float temperature,
                               int32_t direction, const float* loss, const void* grad, ivkit_dtype_t grad_dtype) {
    IVKIT_CHECK(dtype == IVKIT_DTYPE_F32 || dtype == IVKIT_DTYPE_BF16 || dtype == IVKIT_DTYPE_F16,
                "kl_rows: unsupported dtype code %d", static_cast<int>(dtype));
    IVKIT_CHECK(grad == nullptr || grad_dtype == IVKIT_DTYPE_F32 || grad_dtype == dtype,
                "kl_rows: grad_dtype must be float32 or the logits' dtype, got code %d", static_cast<int>(grad_dtype));
    IVKIT_CHECK(rows >= 0 && vocab > 0, "kl_rows: bad sizes (rows=%lld, vocab=%lld)", static_cast<long long>(rows),
                static_cast<long long>(vocab));
    IVKIT_CHECK(temperature > 0.0f && std::isfinite(temperature), "kl_rows: temperature must be finite and > 0, got %g",
                static_cast<double>(temperature));
    IVKIT_CHECK(direction == IVKIT_KL_FORWARD || direction == IVKIT_KL_REVERSE, "kl_rows: unknown direction %d",
                static_cast<int>(direction));
    IVKIT_CHECK(mask_kind == IVKIT_MASK_NONE || mask_kind == IVKIT_MASK_U8 || mask_kind == IVKIT_MASK_F32,
                "kl_rows: unknown mask_kind %d", static_cast<int>(mask_kind));
    IVKIT_CHECK((mask_kind == IVKIT_MASK_NONE) == (mask == nullptr),
                "kl_rows: mask must be null exactly when mask_kind is IVKIT_MASK_NONE");
    if (rows > 0) {
        IVKIT_CHECK(current != nullptr && reference != nullptr && loss != nullptr, "kl_rows: null pointer argument");
    }
}

}  // namespace ivkit::ops
