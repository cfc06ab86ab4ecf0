// topk_logprobs: the entry the reference cache keeps per logits row: the k most likely tokens at temperature T, their
// log-probabilities and the log of the other tokens' mass. Argument checks shared by the backends.
//
// Math (a = logits / T, m = max a, e_j = e^{a_j - m}, Z = sum_j e_j): log p_i = a_i - m - log Z;
// log_rest = log(Z_rest / Z), Z_rest the sum of e_j over the tokens not kept, summed on its own (never Z - Z_top, which
// loses a rest of 1e-10 to rounding of Z), and at least log 1e-30 (kTopkMinRest: every rest term underflowed).
#pragma once
#include <cmath>
#include <cstdint>
#include "core/dtype.h"
#include "core/status.h"
#include "ops/kl_topk_rows/kl_topk_rows_math.h"

namespace ivkit::ops {

// log of the rest mass from the two sums (double), floored at kTopkMinRest.
IVKIT_HD float topk_log_rest(double z_rest, double z) {
    const double P = z_rest / z;
    return static_cast<float>(log(P >= kTopkMinRest ? P : kTopkMinRest));
}

inline void topk_logprobs_check_args(const void* logits, int64_t rows, int64_t vocab, ivkit_dtype_t dtype,
                                     float temperature, int64_t k, const int32_t* ids, const float* logp,
                                     const float* log_rest) {
    IVKIT_CHECK(dtype == IVKIT_DTYPE_F32 || dtype == IVKIT_DTYPE_BF16 || dtype == IVKIT_DTYPE_F16,
                "topk_logprobs: unsupported dtype code %d", static_cast<int>(dtype));
    IVKIT_CHECK(rows >= 0 && vocab > 0, "topk_logprobs: bad sizes (rows=%lld, vocab=%lld)", static_cast<long long>(rows),
                static_cast<long long>(vocab));
    IVKIT_CHECK(vocab <= 2147483647LL, "topk_logprobs: vocab=%lld exceeds the int32 ids", static_cast<long long>(vocab));
    IVKIT_CHECK(k >= 1 && k < vocab, "topk_logprobs: k must be in [1, vocab=%lld), got %lld", static_cast<long long>(vocab),
                static_cast<long long>(k));
    IVKIT_CHECK(temperature > 0.0f && std::isfinite(temperature),
                "topk_logprobs: temperature must be finite and > 0, got %g", static_cast<double>(temperature));
    if (rows > 0) {
        IVKIT_CHECK(logits != nullptr && ids != nullptr && logp != nullptr && log_rest != nullptr,
                    "topk_logprobs: null pointer argument");
    }
}

}  // namespace ivkit::ops
