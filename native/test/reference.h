// The cases both test binaries run, their inputs, and the scalar double-precision references they are checked against,
// with the tolerance each comparison allows and why. Nothing here calls the library: the references are written from
// the contracts in ivkit/ivkit.h, not from the kernels.
#pragma once
#include <thread>

#include "harness.h"

namespace ivt {

constexpr double kU = 0x1.0p-24;  // unit roundoff of float32: the kernels compute in fp32
constexpr int kDtypes[] = {IVKIT_DTYPE_F32, IVKIT_DTYPE_BF16, IVKIT_DTYPE_F16};

// Runs body(i) for i in [0, n) on up to `threads` threads.
template <class F>
void parallel_for(int64_t n, int threads, F body) {
    const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(threads, n));
    std::vector<std::thread> pool;
    for (int64_t t = 0; t < nt; ++t)
        pool.emplace_back([&, t] {
            for (int64_t i = n * t / nt; i < n * (t + 1) / nt; ++i) body(i);
        });
    for (auto& th : pool) th.join();
}

inline int hw_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

// Elements rounded to a dtype are checked with Case::rounded: the tolerances below are the fp32 error before the
// final rounding (eps), and the rounding itself (half a unit of the dtype) is allowed on top.

// ---- add_rows -------------------------------------------------------------------------------------------------------

struct AddSpec {
    int64_t n_rows, d, n, stride;
    bool scales;
    float scale;
    int dt;
    uint64_t seed;
    std::string variant() const {
        return fmt("n=%lld stride=%lld scales=%s scale=%g", static_cast<long long>(n), static_cast<long long>(stride),
                   scales ? "yes" : "null", static_cast<double>(scale));
    }
};

struct AddInput {
    Buf x, v;
    std::vector<int64_t> rows;
    std::vector<float> scales;
    const float* scales_ptr() const { return scales.empty() ? nullptr : scales.data(); }
};

inline std::vector<AddSpec> add_specs(bool large) {
    std::vector<AddSpec> s;
    uint64_t seed = 100;
    for (int dt : kDtypes) {
        s.push_back({1, 1, 1, 1, true, 1.0f, dt, ++seed});
        s.push_back({7, 13, 3, 0, false, -0.75f, dt, ++seed});
        s.push_back({33, 4097, 17, 1, true, 2.0f, dt, ++seed});
        s.push_back({5, 3, 0, 1, true, 1.0f, dt, ++seed});  // nothing selected: x unchanged
        s.push_back({64, 2048, 64, 1, true, 0.5f, dt, ++seed});  // every row
        s.push_back({9, 255, 4, 0, true, -3.0f, dt, ++seed});
        if (large) {
            s.push_back({2048, 4096, 1024, 1, true, 1.25f, dt, ++seed});
            s.push_back({3, 300001, 2, 1, true, 1.0f, dt, ++seed});     // d > 1024 column blocks of 256: grid-stride loop
            s.push_back({70000, 3, 65535, 1, false, 1.0f, dt, ++seed});  // n at the CUDA grid's y limit
        }
    }
    return s;
}

inline AddInput make_add(const AddSpec& s) {
    Rng r(s.seed);
    AddInput in;
    in.x = Buf(s.dt, static_cast<size_t>(s.n_rows * s.d));
    const int64_t nv = s.stride ? s.n : 1;
    in.v = Buf(s.dt, static_cast<size_t>(nv * s.d));
    for (size_t i = 0; i < in.x.n; ++i) in.x.set(i, round_to(s.dt, 2.0 * r.normal()));
    for (size_t i = 0; i < in.v.n; ++i) in.v.set(i, round_to(s.dt, r.normal()));
    in.rows = distinct(r, s.n, s.n_rows);
    if (s.scales) {
        for (int64_t i = 0; i < s.n; ++i) in.scales.push_back(i % 7 == 3 ? 0.0f : static_cast<float>(r.uniform(-2, 2)));
    }
    return in;
}

// Expected element of a selected row, and the fp32 error before the rounding to dt: factor = scale * scales[i] and the
// product are rounded to fp32 (2 u |factor v|; a fused multiply-add only removes one of them), and for bf16 / f16 the
// fp32 sum too (u |sum|) before the final rounding.
inline void add_expect(const AddSpec& s, const AddInput& in, int64_t i, int64_t j, double* want, double* eps) {
    const double xv = in.x.at(static_cast<size_t>(in.rows[static_cast<size_t>(i)] * s.d + j));
    const double f = static_cast<double>(s.scale) * (in.scales.empty() ? 1.0 : in.scales[static_cast<size_t>(i)]);
    const double fv = f * in.v.at(static_cast<size_t>(i * s.stride * s.d + j));
    const double r = xv + fv;
    *want = r;
    *eps = 2.01 * kU * std::fabs(fv) + (s.dt == IVKIT_DTYPE_F32 ? 0.0 : 1.01 * kU * (std::fabs(r) + 2.01 * kU * std::fabs(fv)));
}

// out (x after the call) against the fp64 reference (k = 1), or against another backend's output `other` with k = 2
// (both within the reference tolerance of the exact value). Rows not selected must keep their bits.
inline void check_add(Case& c, const AddSpec& s, const AddInput& in, const Buf& out, const Buf* other, double k) {
    std::vector<int64_t> slot(static_cast<size_t>(s.n_rows), -1);
    for (int64_t i = 0; i < s.n; ++i) slot[static_cast<size_t>(in.rows[static_cast<size_t>(i)])] = i;
    for (int64_t row = 0; row < s.n_rows; ++row) {
        const int64_t i = slot[static_cast<size_t>(row)];
        for (int64_t j = 0; j < s.d; ++j) {
            const size_t e = static_cast<size_t>(row * s.d + j);
            if (i < 0) {
                c.same_bits(out.bits(e), in.x.bits(e), "unselected x", static_cast<int64_t>(e));
                continue;
            }
            double want, eps;
            add_expect(s, in, i, j, &want, &eps);
            c.rounded(out.at(e), other ? other->at(e) : want, k * eps, s.dt, other != nullptr, "x", static_cast<int64_t>(e));
        }
    }
}

// ---- gather_heads ---------------------------------------------------------------------------------------------------

struct GatherSpec {
    int64_t batch, seq, heads, d_head;
    bool accumulate;
    int dt;
    uint64_t seed;
    std::string variant() const { return accumulate ? "accumulate (fp32 sum)" : "copy"; }
    int64_t width() const { return heads * d_head; }
};

struct GatherInput {
    Buf z;
    std::vector<int64_t> pos;
    Buf out0;  // the output buffer before the call: a pattern (copy) or a running fp32 sum (accumulate)
};

inline std::vector<GatherSpec> gather_specs(bool large) {
    std::vector<GatherSpec> s;
    uint64_t seed = 200;
    for (int dt : kDtypes) {
        for (bool acc : {false, true}) {
            s.push_back({1, 1, 1, 1, acc, dt, ++seed});
            s.push_back({3, 5, 7, 9, acc, dt, ++seed});
            s.push_back({4, 17, 32, 128, acc, dt, ++seed});
            s.push_back({0, 4, 2, 3, acc, dt, ++seed});  // empty batch: out unchanged
            s.push_back({9, 64, 8, 64, acc, dt, ++seed});
            if (large) {
                s.push_back({64, 33, 32, 128, acc, dt, ++seed});
                s.push_back({300, 3, 5, 7, acc, dt, ++seed});
                if (!acc) s.push_back({4160, 1, 32, 128, acc, dt, ++seed});  // > 65535 blocks of 256: grid-stride loop
            }
        }
    }
    return s;
}

inline GatherInput make_gather(const GatherSpec& s) {
    Rng r(s.seed);
    GatherInput in;
    in.z = Buf(s.dt, static_cast<size_t>(s.batch * s.seq * s.width()));
    for (size_t i = 0; i < in.z.n; ++i) in.z.set(i, round_to(s.dt, r.normal()));
    for (int64_t b = 0; b < s.batch; ++b) in.pos.push_back(r.below(s.seq));
    if (s.accumulate) {
        in.out0 = Buf(IVKIT_DTYPE_F32, static_cast<size_t>(s.width()));
        for (size_t i = 0; i < in.out0.n; ++i) in.out0.set(i, round_to(IVKIT_DTYPE_F32, r.normal()));
    } else {
        in.out0 = Buf(s.dt, static_cast<size_t>(std::max<int64_t>(s.batch, 1) * s.width()));
        for (size_t i = 0; i < in.out0.n; ++i) in.out0.set(i, round_to(s.dt, 1000.0 + static_cast<double>(i % 97)));
    }
    return in;
}

// Copy: every output element holds the bits of z at (b, pos[b]). Accumulate: out0 + sum_b z in fp32, batch order;
// a sequential sum of batch additions errs by at most batch * u * sum |terms| (plus 1% for the second-order term).
// other != null: compare with that output bit for bit (both backends add in the same order, so they must agree).
inline void check_gather(Case& c, const GatherSpec& s, const GatherInput& in, const Buf& out, const Buf* other) {
    const int64_t w = s.width();
    if (other) {
        for (size_t e = 0; e < out.n; ++e) c.same_bits(out.bits(e), other->bits(e), "out", static_cast<int64_t>(e));
        return;
    }
    if (!s.accumulate) {
        for (int64_t b = 0; b < s.batch; ++b)
            for (int64_t j = 0; j < w; ++j)
                c.same_bits(out.bits(static_cast<size_t>(b * w + j)),
                            in.z.bits(static_cast<size_t>((b * s.seq + in.pos[static_cast<size_t>(b)]) * w + j)), "out",
                            b * w + j);
        for (size_t e = static_cast<size_t>(s.batch * w); e < out.n; ++e)
            c.same_bits(out.bits(e), in.out0.bits(e), "out beyond batch", static_cast<int64_t>(e));
        return;
    }
    for (int64_t j = 0; j < w; ++j) {
        double sum = in.out0.at(static_cast<size_t>(j)), mag = std::fabs(sum);
        for (int64_t b = 0; b < s.batch; ++b) {
            const double zv = in.z.at(static_cast<size_t>((b * s.seq + in.pos[static_cast<size_t>(b)]) * w + j));
            sum += zv;
            mag += std::fabs(zv);
        }
        c.close(out.at(static_cast<size_t>(j)), sum, 1.01 * static_cast<double>(s.batch) * kU * mag, "acc", j);
    }
}

// ---- patch_heads ----------------------------------------------------------------------------------------------------

struct PatchSpec {
    int64_t batch, seq, heads, d_head, n, stride;
    int mode, dt;
    uint64_t seed;
    std::string variant() const {
        return fmt("%s n=%lld stride=%lld", mode == IVKIT_PATCH_REPLACE ? "replace" : "add", static_cast<long long>(n),
                   static_cast<long long>(stride));
    }
};

struct PatchInput {
    Buf z, values;
    std::vector<int64_t> rows, pos, head;
};

inline std::vector<PatchSpec> patch_specs(bool large) {
    std::vector<PatchSpec> s;
    uint64_t seed = 300;
    for (int dt : kDtypes) {
        for (int mode : {IVKIT_PATCH_REPLACE, IVKIT_PATCH_ADD}) {
            s.push_back({1, 1, 1, 1, 1, 1, mode, dt, ++seed});
            s.push_back({3, 5, 7, 9, 10, 1, mode, dt, ++seed});
            s.push_back({2, 16, 32, 128, 40, 0, mode, dt, ++seed});
            s.push_back({2, 3, 4, 5, 0, 1, mode, dt, ++seed});  // no patches: z unchanged
            s.push_back({4, 9, 8, 64, 288, 1, mode, dt, ++seed});  // every (row, position, head)
            if (large) {
                s.push_back({8, 64, 32, 128, 5000, 1, mode, dt, ++seed});
                s.push_back({2, 1, 1, 140001, 2, 1, mode, dt, ++seed});   // d_head > 1024 column blocks of 128
                s.push_back({16, 64, 64, 1, 65535, 0, mode, dt, ++seed});  // n at the CUDA grid's y limit
            }
        }
    }
    return s;
}

inline PatchInput make_patch(const PatchSpec& s) {
    Rng r(s.seed);
    PatchInput in;
    in.z = Buf(s.dt, static_cast<size_t>(s.batch * s.seq * s.heads * s.d_head));
    for (size_t i = 0; i < in.z.n; ++i) in.z.set(i, round_to(s.dt, r.normal()));
    in.values = Buf(s.dt, static_cast<size_t>((s.stride ? s.n : 1) * s.d_head));
    for (size_t i = 0; i < in.values.n; ++i) in.values.set(i, round_to(s.dt, 3.0 * r.normal()));
    for (int64_t t : distinct(r, s.n, s.batch * s.seq * s.heads)) {
        in.rows.push_back(t / (s.seq * s.heads));
        in.pos.push_back(t / s.heads % s.seq);
        in.head.push_back(t % s.heads);
    }
    return in;
}

// Targets: REPLACE holds the value's bits; ADD holds z + value rounded to dt (for bf16 / f16 through an fp32 sum).
// Everything else keeps its bits. other != null: compare with that output bit for bit (the same fp32 add and rounding).
inline void check_patch(Case& c, const PatchSpec& s, const PatchInput& in, const Buf& out, const Buf* other) {
    if (other) {
        for (size_t e = 0; e < out.n; ++e) c.same_bits(out.bits(e), other->bits(e), "z", static_cast<int64_t>(e));
        return;
    }
    std::vector<int64_t> slot(static_cast<size_t>(s.batch * s.seq * s.heads), -1);
    for (int64_t i = 0; i < s.n; ++i)
        slot[static_cast<size_t>((in.rows[static_cast<size_t>(i)] * s.seq + in.pos[static_cast<size_t>(i)]) * s.heads +
                                 in.head[static_cast<size_t>(i)])] = i;
    for (size_t t = 0; t < slot.size(); ++t) {
        const int64_t i = slot[t];
        for (int64_t j = 0; j < s.d_head; ++j) {
            const size_t e = t * static_cast<size_t>(s.d_head) + static_cast<size_t>(j);
            if (i < 0) {
                c.same_bits(out.bits(e), in.z.bits(e), "untouched z", static_cast<int64_t>(e));
                continue;
            }
            const size_t ve = static_cast<size_t>(i * s.stride * s.d_head + j);
            if (s.mode == IVKIT_PATCH_REPLACE) {
                c.same_bits(out.bits(e), in.values.bits(ve), "patched z", static_cast<int64_t>(e));
            } else {
                const double r = in.z.at(e) + in.values.at(ve);
                const double eps = s.dt == IVKIT_DTYPE_F32 ? 0.0 : 1.01 * kU * std::fabs(r);
                c.rounded(out.at(e), r, eps, s.dt, false, "patched z", static_cast<int64_t>(e));
            }
        }
    }
}

// ---- kl_rows --------------------------------------------------------------------------------------------------------

enum KlValues { KL_NORMAL3, KL_HUGE, KL_IDENTICAL, KL_ONE_HOT };

struct KlSpec {
    int64_t rows, vocab;
    int dt, grad_dt;  // grad_dt < 0: no gradient requested
    int dir, mask_kind;
    float T;
    int values;
    bool nan_masked;  // masked rows hold NaN: the kernel must not read them
    uint64_t seed;
    std::string variant() const {
        static const char* vals[] = {"logits~N(0,3^2)", "logits~U(-1e4,1e4)", "reference=current", "one-hot +-1e4"};
        static const char* masks[] = {"none", "u8", "f32"};
        return fmt("%s mask=%s%s T=%g grad=%s %s", dir == IVKIT_KL_FORWARD ? "forward" : "reverse", masks[mask_kind],
                   nan_masked ? "(NaN rows)" : "", static_cast<double>(T), grad_dt < 0 ? "none" : dt_name(grad_dt),
                   vals[values]);
    }
};

inline std::vector<KlSpec> kl_specs(bool large) {
    std::vector<KlSpec> s;
    const std::vector<std::pair<int64_t, int64_t>> shapes =
        large ? std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {5, 255}, {5, 257}, {7, 1025}, {33, 3001},
                                                        {64, 32000}, {17, 128256}, {37, 152064}}
              : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {5, 257}, {7, 1025}, {4, 3001}, {2, 32000},
                                                        {2, 152064}};
    const float temps[] = {1.0f, 2.0f, 0.7f};
    const int masks[] = {IVKIT_MASK_NONE, IVKIT_MASK_U8, IVKIT_MASK_F32};
    uint64_t seed = 400;
    for (int dt : kDtypes) {
        const int grads[] = {IVKIT_DTYPE_F32, dt, -1};
        for (int dir : {IVKIT_KL_FORWARD, IVKIT_KL_REVERSE}) {
            int k = 0;
            for (auto [rows, vocab] : shapes) {
                s.push_back({rows, vocab, dt, grads[k % 3], dir, masks[(k / 3) % 3], temps[(k + dir) % 3], KL_NORMAL3, false,
                             ++seed});
                ++k;
            }
            // |logit| up to 1e4 (at T = 0.5, |logit / T| up to 2e4), identical rows, and one-hot rows
            s.push_back({4, 3001, dt, dt, dir, IVKIT_MASK_NONE, 1.0f, KL_HUGE, false, ++seed});
            s.push_back({4, 3001, dt, IVKIT_DTYPE_F32, dir, IVKIT_MASK_F32, 0.5f, KL_HUGE, false, ++seed});
            if (large) s.push_back({3, 152064, dt, dt, dir, IVKIT_MASK_NONE, 1.0f, KL_HUGE, false, ++seed});
            s.push_back({3, 4099, dt, IVKIT_DTYPE_F32, dir, IVKIT_MASK_NONE, 1.0f, KL_IDENTICAL, false, ++seed});
            s.push_back({3, 1025, dt, dt, dir, IVKIT_MASK_NONE, 1.0f, KL_ONE_HOT, false, ++seed});
            // masked rows full of NaN: weight-0 rows are never read
            s.push_back({5, 1000, dt, dt, dir, IVKIT_MASK_U8, 2.0f, KL_NORMAL3, true, ++seed});
            s.push_back({5, 1000, dt, IVKIT_DTYPE_F32, dir, IVKIT_MASK_F32, 1.0f, KL_NORMAL3, true, ++seed});
        }
    }
    return s;
}

// The row masks of the KL ops' inputs, both kinds, and the weight per row as the kernel sees it (for mask_kind).
// Row r is masked when r % 3 == 1 (with a mask); live rows get u8 values 1, 2, 255 or f32 weights 1, 0.25, 1.5, 3.
struct RowMasks {
    std::vector<unsigned char> mask_u8;
    std::vector<float> mask_f32;
    std::vector<double> weight;
    const void* mask(int kind) const {
        return kind == IVKIT_MASK_U8 ? static_cast<const void*>(mask_u8.data())
               : kind == IVKIT_MASK_F32 ? static_cast<const void*>(mask_f32.data())
                                        : nullptr;
    }
    // Appends row `row`'s entries; returns whether it is masked.
    bool add_row(int mask_kind, int64_t row) {
        const bool masked = mask_kind != IVKIT_MASK_NONE && row % 3 == 1;
        const unsigned char u8s[] = {1, 2, 255};
        const float f32s[] = {1.0f, 0.25f, 1.5f, 3.0f};
        mask_u8.push_back(masked ? 0 : u8s[row % 3]);
        mask_f32.push_back(masked ? 0.0f : f32s[row % 4]);
        weight.push_back(mask_kind == IVKIT_MASK_U8 ? (masked ? 0.0 : 1.0)
                         : mask_kind == IVKIT_MASK_F32 ? mask_f32.back()
                                                       : 1.0);
        return masked;
    }
};

struct KlInput : RowMasks {
    Buf cur, ref;
};

inline KlInput make_kl(const KlSpec& s) {
    Rng r(s.seed);
    KlInput in;
    const size_t n = static_cast<size_t>(s.rows * s.vocab);
    in.cur = Buf(s.dt, n);
    in.ref = Buf(s.dt, n);
    for (int64_t row = 0; row < s.rows; ++row) {
        const bool masked = in.add_row(s.mask_kind, row);
        const int64_t hot_c = r.below(s.vocab), hot_r = r.below(s.vocab);
        for (int64_t j = 0; j < s.vocab; ++j) {
            const size_t e = static_cast<size_t>(row * s.vocab + j);
            double c, f;
            switch (s.values) {
                case KL_HUGE: c = r.uniform(-1e4, 1e4), f = r.uniform(-1e4, 1e4); break;
                case KL_IDENTICAL: c = f = 3.0 * r.normal(); break;
                case KL_ONE_HOT: c = j == hot_c ? 1e4 : -1e4, f = j == hot_r ? 1e4 : -1e4; break;
                default: c = 3.0 * r.normal(), f = 3.0 * r.normal(); break;
            }
            if (masked && s.nan_masked) c = f = NAN;
            in.cur.set(e, std::isnan(c) ? c : round_to(s.dt, c));
            in.ref.set(e, std::isnan(f) ? f : round_to(s.dt, f));
        }
    }
    return in;
}

// Outputs of an error-path KL call, filled with values no call writes: loss [rows] = -7, grad [rows * vocab] = -9.
struct KlOutputs {
    Buf loss, grad;
    bool operator==(const KlOutputs& o) const { return loss.bytes == o.loss.bytes && grad.bytes == o.grad.bytes; }
};

inline KlOutputs kl_filled(int64_t rows, int64_t vocab) {
    KlOutputs o{Buf(IVKIT_DTYPE_F32, static_cast<size_t>(rows)), Buf(IVKIT_DTYPE_F32, static_cast<size_t>(rows * vocab))};
    for (size_t i = 0; i < o.loss.n; ++i) o.loss.set(i, -7.0);
    for (size_t i = 0; i < o.grad.n; ++i) o.grad.set(i, -9.0);
    return o;
}

// Per-row and per-element expectations and tolerances of kl_rows.
struct KlRef {
    std::vector<double> loss, tol_loss, grad, tol_grad;
};

// Error model of an fp32 streaming KL (the contract: math in fp32). Every log-probability the kernel forms,
// a_j - lse_a with a_j = x_j / T, carries rounding of a few u times the magnitudes involved; S bounds them per row:
//   S = 1 + max|a| + |lse_a| + max|b| + |lse_b|.
// The loss (a difference of log-sum-exps plus a probability-weighted mean of log-ratios, sums in double) is then
// within kLossK u S (+ 4 u |kl| for its own roundings); a probability p_j within kGradK u S relative (exp adds an ulp
// or two; rescaling by the running maximum adds one per change of maximum along the reduction). The K are constants
// of the model, not fitted slack: the worst err/tol ratio seen is reported per case (docs/native-tests.md).
constexpr double kLossK = 16.0;
constexpr double kGradK = 16.0;
// The CPU exp returns exactly 0 below e^-87.3: a probability that small is off by at most this much, absolutely.
constexpr double kTinyP = 1.2e-38;

// The reference for rows [r0, r1) of (cur, ref) (row-major, vocab V), weights w[row]. want_grad: also the gradient
// (its tolerance is the error before the rounding to grad_dt, which check_kl allows on top). Masked rows (weight 0)
// expect exact zeros.
inline KlRef kl_reference(const Buf& cur, const Buf& ref, int64_t r0, int64_t r1, int64_t V, const std::vector<double>& w,
                          float T, int dir, int grad_dt, int threads) {
    KlRef o;
    const int64_t rows = r1 - r0;
    o.loss.assign(static_cast<size_t>(rows), 0.0);
    o.tol_loss.assign(static_cast<size_t>(rows), 0.0);
    if (grad_dt >= 0) {
        o.grad.assign(static_cast<size_t>(rows * V), 0.0);
        o.tol_grad.assign(static_cast<size_t>(rows * V), 0.0);
    }
    const double t = static_cast<double>(T);
    parallel_for(rows, threads, [&](int64_t i) {
        const int64_t row = r0 + i;
        const double wr = w[static_cast<size_t>(row)];
        if (wr == 0.0) return;  // loss 0, grad 0, tolerance 0: exact zeros
        std::vector<double> a(static_cast<size_t>(V)), b(static_cast<size_t>(V));
        double ma = -INFINITY, mb = -INFINITY, aa = 0, ab = 0;
        for (int64_t j = 0; j < V; ++j) {
            a[static_cast<size_t>(j)] = cur.at(static_cast<size_t>(row * V + j)) / t;
            b[static_cast<size_t>(j)] = ref.at(static_cast<size_t>(row * V + j)) / t;
            ma = std::max(ma, a[static_cast<size_t>(j)]);
            mb = std::max(mb, b[static_cast<size_t>(j)]);
            aa = std::max(aa, std::fabs(a[static_cast<size_t>(j)]));
            ab = std::max(ab, std::fabs(b[static_cast<size_t>(j)]));
        }
        double za = 0, zb = 0;
        for (int64_t j = 0; j < V; ++j) {
            za += std::exp(a[static_cast<size_t>(j)] - ma);
            zb += std::exp(b[static_cast<size_t>(j)] - mb);
        }
        const double la = ma + std::log(za), lb = mb + std::log(zb);
        double kl = 0;
        for (int64_t j = 0; j < V; ++j) {
            const double lp = a[static_cast<size_t>(j)] - la, lq = b[static_cast<size_t>(j)] - lb;
            kl += dir == IVKIT_KL_FORWARD ? std::exp(lq) * (lq - lp) : std::exp(lp) * (lp - lq);
        }
        const double S = 1.0 + aa + std::fabs(la) + ab + std::fabs(lb);
        const double tol_kl = kLossK * kU * S + 4.0 * kU * std::fabs(kl);
        o.loss[static_cast<size_t>(i)] = wr * kl;
        o.tol_loss[static_cast<size_t>(i)] = std::fabs(wr) * tol_kl;
        if (grad_dt < 0) return;
        const double s = wr / t, as = std::fabs(s);
        for (int64_t j = 0; j < V; ++j) {
            const double lp = a[static_cast<size_t>(j)] - la, lq = b[static_cast<size_t>(j)] - lb;
            const double p = std::exp(lp), q = std::exp(lq);
            double g, tol;
            if (dir == IVKIT_KL_FORWARD) {
                g = s * (p - q);
                tol = as * ((p + q) * kGradK * kU * S + 2.0 * kTinyP);
            } else {
                const double d = lp - lq - kl;
                g = s * p * d;
                tol = as * (p * (kGradK * kU * S * (1.0 + std::fabs(d)) + tol_kl) + kTinyP * (2.0 + std::fabs(d)));
            }
            const size_t e = static_cast<size_t>(i * V + j);
            o.grad[e] = g;
            o.tol_grad[e] = tol;
        }
    });
    return o;
}

// Loss [rows] and gradient (grad_dt, or null) of rows [r0, r1) of a call against the reference (want_* null, k = 1),
// or against another backend's output (k = 2: both within the reference tolerance of the exact value).
inline void check_kl(Case& c, const KlRef& R, int64_t rows, int64_t V, const float* loss, const Buf* grad,
                     const float* want_loss, const Buf* want_grad, double k) {
    for (int64_t i = 0; i < rows; ++i)
        c.close(loss[i], want_loss ? want_loss[i] : R.loss[static_cast<size_t>(i)], k * R.tol_loss[static_cast<size_t>(i)],
                "loss", i);
    if (!grad) return;
    for (size_t e = 0; e < static_cast<size_t>(rows * V); ++e)
        c.rounded(grad->at(e), want_grad ? want_grad->at(e) : R.grad[e], k * R.tol_grad[e], grad->dt, want_grad != nullptr,
                  "grad", static_cast<int64_t>(e));
}

}  // namespace ivt
