// kl_topk_rows: per-row KL between the current logits and a cached top-k reference (ids, log q on them, log of the
// rest mass), coarse-grained to k + 1 outcomes, and its gradient w.r.t. the current logits. Shared by
// kl_topk_rows_cpu.cpp and kl_topk_rows_cuda.cu: the scaled logit, the per-id terms, the per-row finish and the
// argument checks, so both backends compute and reject identically.
//
// Math (a = current / T, m = max a, e_j = e^{a_j - m}, Z = sum_j e_j, p_j = e_j / Z, log p_j = a_j - m - log Z):
//   P = Z_rest / Z with Z_rest = sum_{j not in I} e_j summed on its own (a rest of 1e-10 keeps its digits; 1 - sum p_i
//   in fp32 would not, nor would Z - Z_I in double after 32000 additions to a sum of order 1), clamped below at
//   kTopkMinRest.
//   REVERSE  kl = sum_I p_i (log p_i - log q_i) + P (log P - log Q)
//            d/da_j = p_j (h_j - kl), h_i = log p_i - log q_i on I, h_j = log P - log Q off I
//   FORWARD  kl = sum_I q_i (log q_i - log p_i) + Q (log Q - log P)
//            d/da_i = p_i - q_i on I,  d/da_j = p_j (1 - Q / P) off I
//   and d/dcurrent = (1/T) d/da. Off I the gradient is e_j times one per-row constant (c_rest below), so a row costs a
//   max pass, an exp-sum pass (Z and Z_rest; the ids marked in a per-row membership map), k fix-ups and, for the
//   gradient, one write pass.
#pragma once
#include <cmath>
#include <cstdint>
#include "core/dtype.h"
#include "core/status.h"
#include "ops/kl_rows/kl_rows_math.h"

namespace ivkit::ops {

// The smallest current rest mass P the KL uses: only keeps log P finite when every rest e_j underflowed to 0. (The
// libtorch composite, ReferenceCache.referenceLogits, clamps 1 - sum p_i at 1e-12, but its fp32 1 - sum p_i is noise
// below ~1e-7 anyway; Z_rest is exact to a few ulp, so P is used as it is down to here.)
constexpr double kTopkMinRest = 1e-30;

// e^{x / T - m} for a raw logit x (inv_t = 1 / T).
IVKIT_HD float topk_e(float x, float inv_t, float m) { return kl_exp(x * inv_t - m); }

// The ids' share of the KL (REVERSE sum_I p_i (log p_i - log q_i), FORWARD sum_I q_i (log q_i - log p_i)).
struct TopkSums {
    double acc;
};

// log p_i of id i (double; lz = log Z).
IVKIT_HD double topk_log_p(float x, float inv_t, float m, double lz) {
    return static_cast<double>(x) * static_cast<double>(inv_t) - static_cast<double>(m) - lz;
}

// Adds id i (raw logit x, cached log q_i = lq) to the sums.
IVKIT_HD void topk_add(TopkSums& s, float x, float lq, float inv_t, float m, double z, double lz, bool reverse) {
    const float e = topk_e(x, inv_t, m);
    const double lp = topk_log_p(x, inv_t, m, lz);
    if (reverse) {
        s.acc += e / z * (lp - lq);
    } else {
        const double q = exp(static_cast<double>(lq));
        s.acc += q == 0.0 ? 0.0 : q * (lq - lp);
    }
}

// What the gradient pass needs of a finished row: kl, and c_rest with grad_j = c_rest * e_j off I.
struct TopkRow {
    double kl;
    float c_rest;
};

// The row's KL and rest coefficient; z_rest = Z_rest, scale = weight / T, log_rest = log Q.
IVKIT_HD TopkRow topk_finish(const TopkSums& s, double z, double z_rest, float log_rest, float scale, bool reverse) {
    double P = z_rest / z;
    if (!(P >= kTopkMinRest)) P = kTopkMinRest;
    const double lP = log(P), lQ = static_cast<double>(log_rest), Q = exp(lQ);
    TopkRow r;
    if (reverse) {
        r.kl = s.acc + P * (lP - lQ);
        r.c_rest = static_cast<float>(scale * (lP - lQ - r.kl) / z);
    } else {
        r.kl = s.acc + (Q == 0.0 ? 0.0 : Q * (lQ - lP));
        r.c_rest = static_cast<float>(scale * (1.0 - Q / P) / z);
    }
    return r;
}

// d (weight * kl) / d current_i for a cached id (raw logit x, cached log q_i = lq).
IVKIT_HD float topk_grad_id(float x, float lq, float inv_t, float m, double z, double lz, const TopkRow& r, float scale,
                            bool reverse) {
    const double p = topk_e(x, inv_t, m) / z;
    if (reverse) return static_cast<float>(scale * p * (topk_log_p(x, inv_t, m, lz) - lq - r.kl));
    return static_cast<float>(scale * (p - exp(static_cast<double>(lq))));
}

inline void kl_topk_rows_check_args(const void* current, int64_t rows, int64_t vocab, ivkit_dtype_t dtype,
                                    const int32_t* ids, const float* logq, const float* log_rest, int64_t k,
                                    const void* mask, int32_t mask_kind, float temperature, int32_t direction,
                                    const float* loss, const void* grad, ivkit_dtype_t grad_dtype) {
    IVKIT_CHECK(dtype == IVKIT_DTYPE_F32 || dtype == IVKIT_DTYPE_BF16 || dtype == IVKIT_DTYPE_F16,
                "kl_topk_rows: unsupported dtype code %d", static_cast<int>(dtype));
    IVKIT_CHECK(grad == nullptr || grad_dtype == IVKIT_DTYPE_F32 || grad_dtype == dtype,
                "kl_topk_rows: grad_dtype must be float32 or the logits' dtype, got code %d", static_cast<int>(grad_dtype));
    IVKIT_CHECK(rows >= 0 && vocab > 0, "kl_topk_rows: bad sizes (rows=%lld, vocab=%lld)", static_cast<long long>(rows),
                static_cast<long long>(vocab));
    IVKIT_CHECK(k >= 1 && k < vocab, "kl_topk_rows: k must be in [1, vocab=%lld), got %lld", static_cast<long long>(vocab),
                static_cast<long long>(k));
    IVKIT_CHECK(temperature > 0.0f && std::isfinite(temperature),
                "kl_topk_rows: temperature must be finite and > 0, got %g", static_cast<double>(temperature));
    IVKIT_CHECK(direction == IVKIT_KL_FORWARD || direction == IVKIT_KL_REVERSE, "kl_topk_rows: unknown direction %d",
                static_cast<int>(direction));
    IVKIT_CHECK(mask_kind == IVKIT_MASK_NONE || mask_kind == IVKIT_MASK_U8 || mask_kind == IVKIT_MASK_F32,
                "kl_topk_rows: unknown mask_kind %d", static_cast<int>(mask_kind));
    IVKIT_CHECK((mask_kind == IVKIT_MASK_NONE) == (mask == nullptr),
                "kl_topk_rows: mask must be null exactly when mask_kind is IVKIT_MASK_NONE");
    if (rows > 0) {
        IVKIT_CHECK(current != nullptr && ids != nullptr && logq != nullptr && log_rest != nullptr && loss != nullptr,
                    "kl_topk_rows: null pointer argument");
    }
}

}  // namespace ivkit::ops
