// The cases, inputs and scalar double-precision references of the top-k ops (kl_topk_rows; topk_logprobs), written
// from the contracts in ivkit/ivkit.h. Split from reference.h (which holds the other ops) to keep files small; the
// tolerances reuse kl_rows' error model (reference.h) and say where they differ.
#pragma once
#include "reference.h"

namespace ivt {

// ---- kl_topk_rows ---------------------------------------------------------------------------------------------------

enum TopkValues { TK_NORMAL3, TK_HUGE, TK_TINY_REST, TK_RANDOM_IDS };

struct TopkSpec {
    int64_t rows, vocab, k;
    int dt, grad_dt;  // grad_dt < 0: no gradient requested
    int dir, mask_kind;
    float T;
    int values;
    bool nan_masked;  // masked rows hold NaN logits and ids out of range: the kernel must not read them
    uint64_t seed;
    std::string variant() const {
        static const char* vals[] = {"logits~N(0,3^2), reference top-k", "logits~U(-1e3,1e3)",
                                     "rest mass ~1e-9 (cached ids +30)", "random ids"};
        static const char* masks[] = {"none", "u8", "f32"};
        return fmt("k=%lld %s mask=%s%s T=%g grad=%s %s", static_cast<long long>(k),
                   dir == IVKIT_KL_FORWARD ? "forward" : "reverse", masks[mask_kind], nan_masked ? "(NaN rows)" : "",
                   static_cast<double>(T), grad_dt < 0 ? "none" : dt_name(grad_dt), vals[values]);
    }
};

inline std::vector<TopkSpec> topk_specs(bool large) {
    std::vector<TopkSpec> s;
    struct Shape {
        int64_t rows, vocab, k;
    };
    std::vector<Shape> shapes = {{1, 2, 1}, {3, 7, 3}, {5, 257, 16}, {4, 3001, 64}, {2, 32000, 64}, {3, 1000, 999}};
    if (large) shapes.insert(shapes.end(), {{64, 32000, 64}, {5, 152064, 256}, {33, 4097, 1}});
    const float temps[] = {1.0f, 2.0f, 0.7f};
    const int masks[] = {IVKIT_MASK_NONE, IVKIT_MASK_U8, IVKIT_MASK_F32};
    uint64_t seed = 700;
    for (int dt : kDtypes) {
        const int grads[] = {IVKIT_DTYPE_F32, dt, -1};
        for (int dir : {IVKIT_KL_FORWARD, IVKIT_KL_REVERSE}) {
            int n = 0;
            for (const Shape& sh : shapes) {
                s.push_back({sh.rows, sh.vocab, sh.k, dt, grads[n % 3], dir, masks[(n / 3) % 3], temps[(n + dir) % 3],
                             n % 2 ? TK_RANDOM_IDS : TK_NORMAL3, false, ++seed});
                ++n;
            }
            s.push_back({4, 3001, 32, dt, dt, dir, IVKIT_MASK_NONE, 1.0f, TK_HUGE, false, ++seed});
            s.push_back({4, 3001, 32, dt, IVKIT_DTYPE_F32, dir, IVKIT_MASK_F32, 2.0f, TK_HUGE, false, ++seed});
            s.push_back({3, 32000, 64, dt, IVKIT_DTYPE_F32, dir, IVKIT_MASK_NONE, 1.0f, TK_TINY_REST, false, ++seed});
            s.push_back({5, 1000, 10, dt, dt, dir, IVKIT_MASK_U8, 2.0f, TK_NORMAL3, true, ++seed});
            s.push_back({5, 1000, 10, dt, IVKIT_DTYPE_F32, dir, IVKIT_MASK_F32, 1.0f, TK_NORMAL3, true, ++seed});
        }
    }
    return s;
}

struct TopkInput : RowMasks {
    Buf cur;
    std::vector<int32_t> ids;
    std::vector<float> logq, lrest;
};

// log_softmax(x / T) of a row, in double.
inline std::vector<double> log_softmax_row(const std::vector<double>& x, double T) {
    double m = -INFINITY, z = 0;
    for (double v : x) m = std::max(m, v / T);
    for (double v : x) z += std::exp(v / T - m);
    std::vector<double> o(x.size());
    for (size_t j = 0; j < x.size(); ++j) o[j] = x[j] / T - m - std::log(z);
    return o;
}

// A reference row (logits ~N(0, 3^2)), its top-k (or k random ids), their log q and the log rest mass, computed in
// double and rounded to float32 as the cache stores them; the current row; masks as make_kl's (RowMasks).
inline TopkInput make_topk(const TopkSpec& s) {
    Rng r(s.seed);
    TopkInput in;
    in.cur = Buf(s.dt, static_cast<size_t>(s.rows * s.vocab));
    const size_t V = static_cast<size_t>(s.vocab), K = static_cast<size_t>(s.k);
    for (int64_t row = 0; row < s.rows; ++row) {
        const bool masked = in.add_row(s.mask_kind, row);
        std::vector<double> ref(V), cur(V);
        const double scale = s.values == TK_HUGE ? 1e3 : 3.0;
        for (size_t j = 0; j < V; ++j) {
            ref[j] = s.values == TK_HUGE ? r.uniform(-scale, scale) : scale * r.normal();
            cur[j] = s.values == TK_HUGE ? r.uniform(-scale, scale) : scale * r.normal();
        }
        std::vector<int64_t> order;
        if (s.values == TK_RANDOM_IDS) {
            order = distinct(r, s.k, s.vocab);
        } else {
            order.resize(V);
            for (size_t j = 0; j < V; ++j) order[j] = static_cast<int64_t>(j);
            std::partial_sort(order.begin(), order.begin() + s.k, order.end(),
                              [&](int64_t a, int64_t b) { return ref[static_cast<size_t>(a)] > ref[static_cast<size_t>(b)]; });
            order.resize(K);
        }
        if (s.values == TK_TINY_REST)
            for (int64_t i : order) cur[static_cast<size_t>(i)] += 30.0;
        const std::vector<double> lq = log_softmax_row(ref, s.T);
        std::vector<bool> in_top(V, false);
        for (int64_t i : order) in_top[static_cast<size_t>(i)] = true;
        double rest = 0;
        for (size_t j = 0; j < V; ++j)
            if (!in_top[j]) rest += std::exp(lq[j]);
        for (size_t i = 0; i < K; ++i) {
            in.ids.push_back(masked && s.nan_masked ? -5 : static_cast<int32_t>(order[i]));
            in.logq.push_back(static_cast<float>(lq[static_cast<size_t>(order[i])]));
        }
        in.lrest.push_back(static_cast<float>(std::log(rest)));
        for (size_t j = 0; j < V; ++j) {
            const size_t e = static_cast<size_t>(row) * V + j;
            in.cur.set(e, masked && s.nan_masked ? NAN : round_to(s.dt, cur[j]));
        }
    }
    return in;
}

// The reference of rows [r0, r1): the contract's formulas in double on the (rounded) inputs, P as the sum of the rest
// probabilities. Tolerances: kl_rows' model with S = 1 + max|a| + |lse_a| + max_I |log q_i| + |log Q| (the cached
// values take the place of the reference row's log-probabilities).
inline KlRef topk_reference(const TopkSpec& s, const TopkInput& in, int64_t r0, int64_t r1, int threads) {
    KlRef o;
    const int64_t rows = r1 - r0, V = s.vocab, K = s.k;
    o.loss.assign(static_cast<size_t>(rows), 0.0);
    o.tol_loss.assign(static_cast<size_t>(rows), 0.0);
    if (s.grad_dt >= 0) {
        o.grad.assign(static_cast<size_t>(rows * V), 0.0);
        o.tol_grad.assign(static_cast<size_t>(rows * V), 0.0);
    }
    const double t = static_cast<double>(s.T);
    const bool rev = s.dir == IVKIT_KL_REVERSE;
    parallel_for(rows, threads, [&](int64_t i) {
        const int64_t row = r0 + i;
        const double wr = in.weight[static_cast<size_t>(row)];
        if (wr == 0.0) return;
        std::vector<double> x(static_cast<size_t>(V));
        double amax = 0;
        for (int64_t j = 0; j < V; ++j) {
            x[static_cast<size_t>(j)] = in.cur.at(static_cast<size_t>(row * V + j));
            amax = std::max(amax, std::fabs(x[static_cast<size_t>(j)] / t));
        }
        const std::vector<double> lp = log_softmax_row(x, t);
        std::vector<double> hq(static_cast<size_t>(V), NAN);  // log q_i on I, NaN off I
        double P = 0, qmax = 0;
        const double lQ = in.lrest[static_cast<size_t>(row)], Q = std::exp(lQ);
        for (int64_t k = 0; k < K; ++k) {
            const double lq = in.logq[static_cast<size_t>(row * K + k)];
            hq[static_cast<size_t>(in.ids[static_cast<size_t>(row * K + k)])] = lq;
            qmax = std::max(qmax, std::fabs(lq));
        }
        for (int64_t j = 0; j < V; ++j)
            if (std::isnan(hq[static_cast<size_t>(j)])) P += std::exp(lp[static_cast<size_t>(j)]);
        P = std::max(P, 1e-30);
        const double lP = std::log(P);
        double kl = rev ? P * (lP - lQ) : Q * (lQ - lP);
        for (int64_t j = 0; j < V; ++j) {
            const double lq = hq[static_cast<size_t>(j)], l = lp[static_cast<size_t>(j)];
            if (!std::isnan(lq)) kl += rev ? std::exp(l) * (l - lq) : std::exp(lq) * (lq - l);
        }
        const double lse = x[0] / t - lp[0];
        const double S = 1.0 + amax + std::fabs(lse) + qmax + std::fabs(lQ);
        const double tol_kl = kLossK * kU * S + 4.0 * kU * std::fabs(kl);
        o.loss[static_cast<size_t>(i)] = wr * kl;
        o.tol_loss[static_cast<size_t>(i)] = std::fabs(wr) * tol_kl;
        if (s.grad_dt < 0) return;
        const double sc = wr / t, as = std::fabs(sc);
        for (int64_t j = 0; j < V; ++j) {
            const double lq = hq[static_cast<size_t>(j)], p = std::exp(lp[static_cast<size_t>(j)]);
            const bool top = !std::isnan(lq);
            double g, tol;
            if (!rev) {
                const double q = top ? std::exp(lq) : p * Q / P;  // the dense q~_j off I
                g = top ? sc * (p - q) : sc * p * (1.0 - Q / P);
                tol = as * ((p + q) * kGradK * kU * S + 2.0 * kTinyP);
            } else {
                const double d = (top ? lp[static_cast<size_t>(j)] - lq : lP - lQ) - kl;
                g = sc * p * d;
                tol = as * (p * (kGradK * kU * S * (1.0 + std::fabs(d)) + tol_kl) + kTinyP * (2.0 + std::fabs(d)));
            }
            o.grad[static_cast<size_t>(i * V + j)] = g;
            o.tol_grad[static_cast<size_t>(i * V + j)] = tol;
        }
    });
    return o;
}

// ---- topk_logprobs --------------------------------------------------------------------------------------------------

struct LogprobSpec {
    int64_t rows, vocab, k;
    int dt;
    float T;
    int values;  // TK_NORMAL3: ~N(0, 3^2); TK_HUGE: ~U(-1e3, 1e3); TK_TINY_REST: k tokens 30 above the rest;
                 // TK_RANDOM_IDS here: values from 7 levels only (many ties)
    uint64_t seed;
    std::string variant() const {
        static const char* vals[] = {"logits~N(0,3^2)", "logits~U(-1e3,1e3)", "k tokens +30 (rest ~1e-10)",
                                     "7 distinct values (ties)"};
        return fmt("k=%lld T=%g %s", static_cast<long long>(k), static_cast<double>(T), vals[values]);
    }
};

inline std::vector<LogprobSpec> logprob_specs(bool large) {
    std::vector<LogprobSpec> s;
    struct Shape {
        int64_t rows, vocab, k;
    };
    std::vector<Shape> shapes = {{1, 2, 1}, {3, 7, 3}, {5, 257, 16}, {4, 3001, 64}, {2, 32000, 64}, {3, 1000, 999},
                                 {2, 5000, 1500}};
    if (large) shapes.insert(shapes.end(), {{64, 32000, 64}, {5, 152064, 256}});
    const float temps[] = {1.0f, 2.0f, 0.7f};
    uint64_t seed = 800;
    for (int dt : kDtypes) {
        int n = 0;
        for (const Shape& sh : shapes) s.push_back({sh.rows, sh.vocab, sh.k, dt, temps[n++ % 3], TK_NORMAL3, ++seed});
        s.push_back({4, 3001, 32, dt, 2.0f, TK_HUGE, ++seed});
        s.push_back({3, 32000, 64, dt, 1.0f, TK_TINY_REST, ++seed});
        s.push_back({3, 2000, 50, dt, 1.0f, TK_RANDOM_IDS, ++seed});
    }
    return s;
}

inline Buf make_logprob(const LogprobSpec& s) {
    Rng r(s.seed);
    Buf x(s.dt, static_cast<size_t>(s.rows * s.vocab));
    for (int64_t row = 0; row < s.rows; ++row) {
        const std::vector<int64_t> hot = distinct(r, s.k, s.vocab);
        for (int64_t j = 0; j < s.vocab; ++j) {
            double v = s.values == TK_HUGE ? r.uniform(-1e3, 1e3)
                       : s.values == TK_RANDOM_IDS ? static_cast<double>(r.below(7))
                                                   : 3.0 * r.normal();
            x.set(static_cast<size_t>(row * s.vocab + j), round_to(s.dt, v));
        }
        if (s.values == TK_TINY_REST)
            for (int64_t j : hot) {
                const size_t e = static_cast<size_t>(row * s.vocab + j);
                x.set(e, round_to(s.dt, x.at(e) + 30.0));
            }
    }
    return x;
}

// Checks one row of a topk_logprobs result against fp64: ids distinct and in range, by descending value, a top-k set
// (every kept value >= every other value), logp within kLossK u S of log_softmax (S = 1 + max|a| + |lse|), log_rest
// within kLossK u S of log(sum of the rest's probabilities) (the sums are double; each e_j carries a few u of a - m).
inline void check_logprob_row(Case& c, const LogprobSpec& s, const Buf& x, int64_t row, const int32_t* ids,
                              const float* logp, float log_rest) {
    const size_t V = static_cast<size_t>(s.vocab);
    std::vector<double> v(V);
    double amax = 0;
    for (size_t j = 0; j < V; ++j) {
        v[j] = x.at(static_cast<size_t>(row) * V + j);
        amax = std::max(amax, std::fabs(v[j] / s.T));
    }
    const std::vector<double> lp = log_softmax_row(v, s.T);
    const double S = 1.0 + amax + std::fabs(v[0] / s.T - lp[0]);
    std::vector<bool> kept(V, false);
    double kmin = INFINITY;
    for (int64_t i = 0; i < s.k; ++i) {
        const int32_t id = ids[i];
        if (!(id >= 0 && static_cast<size_t>(id) < V) || kept[static_cast<size_t>(id)]) {
            c.fail(fmt("row %lld: ids[%lld]=%d out of range or repeated", static_cast<long long>(row), static_cast<long long>(i), id));
            return;
        }
        kept[static_cast<size_t>(id)] = true;
        kmin = std::min(kmin, v[static_cast<size_t>(id)]);
        c.expect(i == 0 || v[static_cast<size_t>(ids[i - 1])] >= v[static_cast<size_t>(id)],
                 fmt("row %lld: ids not by descending value at %lld", static_cast<long long>(row), static_cast<long long>(i)));
        c.close(logp[i], lp[static_cast<size_t>(id)], kLossK * kU * S, "logp", row * s.k + i);
    }
    double rest = 0, omax = -INFINITY;
    for (size_t j = 0; j < V; ++j)
        if (!kept[j]) rest += std::exp(lp[j]), omax = std::max(omax, v[j]);
    c.expect(omax <= kmin, fmt("row %lld: a token left out (%g) beats a kept one (%g)", static_cast<long long>(row), omax, kmin));
    c.close(log_rest, std::log(std::max(rest, 1e-30)), kLossK * kU * S, "log_rest", row);
}

}  // namespace ivt
