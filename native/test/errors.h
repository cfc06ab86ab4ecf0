// Error paths shared by the CPU and the CUDA checks: each op's arguments as one struct, and the argument-level changes
// to a valid call that both backends must reject with IVKIT_ERR_INVALID_ARGUMENT before touching memory (bad dtype,
// bad sizes, bad strides or modes, null pointers), plus the degenerate calls that must succeed (empty work with null
// pointers). Checks that read index values (out of range, duplicates) are CPU-only and live in cpu_test.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "ivkit/ivkit.h"

namespace ivt {

template <class A>
struct Mut {
    const char* what;
    void (*apply)(A&);
};

// Applies each rejection and each acceptance to a copy of `valid`, calls it, and hands the status to rej(what, status)
// or acc(what, status).
template <class A, class Call, class Rej, class Acc>
void apply_mutations(const A& valid, const std::vector<Mut<A>>& rejects, const std::vector<Mut<A>>& accepts, Call call,
                     Rej rej, Acc acc) {
    for (const auto& m : rejects) {
        A a = valid;
        m.apply(a);
        rej(m.what, call(a));
    }
    for (const auto& m : accepts) {
        A a = valid;
        m.apply(a);
        acc(m.what, call(a));
    }
}

struct AddArgs {
    void* x;
    int64_t n_rows, d;
    int32_t dt;
    const void* v;
    int64_t stride;
    const int64_t* rows;
    const float* scales;
    int64_t n;
    float scale;
};

inline std::vector<Mut<AddArgs>> add_rejects() {
    return {
        {"dtype 3", [](AddArgs& a) { a.dt = 3; }},
        {"dtype -1", [](AddArgs& a) { a.dt = -1; }},
        {"n_rows -1", [](AddArgs& a) { a.n_rows = -1; }},
        {"d -1", [](AddArgs& a) { a.d = -1; }},
        {"n -1", [](AddArgs& a) { a.n = -1; }},
        {"n > n_rows", [](AddArgs& a) { a.n = a.n_rows + 1; }},
        {"v_row_stride 2", [](AddArgs& a) { a.stride = 2; }},
        {"v_row_stride -1", [](AddArgs& a) { a.stride = -1; }},
        {"x null", [](AddArgs& a) { a.x = nullptr; }},
        {"v null", [](AddArgs& a) { a.v = nullptr; }},
        {"rows null", [](AddArgs& a) { a.rows = nullptr; }},
    };
}
inline std::vector<Mut<AddArgs>> add_accepts() {  // second member: leaves x unchanged
    return {
        {"n 0, null pointers", [](AddArgs& a) { a.n = 0, a.x = nullptr, a.v = nullptr, a.rows = nullptr, a.scales = nullptr; }},
        {"d 0, null pointers", [](AddArgs& a) { a.d = 0, a.x = nullptr, a.v = nullptr, a.rows = nullptr; }},
    };
}

struct GatherArgs {
    const void* z;
    int64_t batch, seq, heads, d_head;
    int32_t dt;
    const int64_t* pos;
    void* out;
    int32_t accumulate;
};

inline std::vector<Mut<GatherArgs>> gather_rejects() {
    return {
        {"dtype 3", [](GatherArgs& a) { a.dt = 3; }},
        {"batch -1", [](GatherArgs& a) { a.batch = -1; }},
        {"seq 0", [](GatherArgs& a) { a.seq = 0; }},
        {"seq -1", [](GatherArgs& a) { a.seq = -1; }},
        {"heads 0", [](GatherArgs& a) { a.heads = 0; }},
        {"d_head 0", [](GatherArgs& a) { a.d_head = 0; }},
        {"z null", [](GatherArgs& a) { a.z = nullptr; }},
        {"positions null", [](GatherArgs& a) { a.pos = nullptr; }},
        {"out null", [](GatherArgs& a) { a.out = nullptr; }},
        {"accumulate, out null", [](GatherArgs& a) { a.accumulate = 1, a.out = nullptr; }},
    };
}
inline std::vector<Mut<GatherArgs>> gather_accepts() {
    return {{"batch 0, null pointers", [](GatherArgs& a) { a.batch = 0, a.z = nullptr, a.pos = nullptr, a.out = nullptr; }}};
}

struct PatchArgs {
    void* z;
    int64_t batch, seq, heads, d_head;
    int32_t dt;
    const int64_t *rows, *pos, *head;
    const void* values;
    int64_t stride, n;
    int32_t mode;
};

inline std::vector<Mut<PatchArgs>> patch_rejects() {
    return {
        {"dtype 3", [](PatchArgs& a) { a.dt = 3; }},
        {"mode 2", [](PatchArgs& a) { a.mode = 2; }},
        {"mode -1", [](PatchArgs& a) { a.mode = -1; }},
        {"batch 0", [](PatchArgs& a) { a.batch = 0; }},
        {"seq 0", [](PatchArgs& a) { a.seq = 0; }},
        {"heads 0", [](PatchArgs& a) { a.heads = 0; }},
        {"d_head 0", [](PatchArgs& a) { a.d_head = 0; }},
        {"d_head -3", [](PatchArgs& a) { a.d_head = -3; }},
        {"n -1", [](PatchArgs& a) { a.n = -1; }},
        {"values_row_stride 2", [](PatchArgs& a) { a.stride = 2; }},
        {"values_row_stride -1", [](PatchArgs& a) { a.stride = -1; }},
        {"z null", [](PatchArgs& a) { a.z = nullptr; }},
        {"rows null", [](PatchArgs& a) { a.rows = nullptr; }},
        {"positions null", [](PatchArgs& a) { a.pos = nullptr; }},
        {"head_idx null", [](PatchArgs& a) { a.head = nullptr; }},
        {"values null", [](PatchArgs& a) { a.values = nullptr; }},
    };
}
inline std::vector<Mut<PatchArgs>> patch_accepts() {
    return {{"n 0, null pointers",
             [](PatchArgs& a) { a.n = 0, a.z = nullptr, a.rows = a.pos = a.head = nullptr, a.values = nullptr; }}};
}

struct KlCallArgs {
    const void *cur, *ref;
    int64_t rows, vocab;
    int32_t dt;
    const void* mask;
    int32_t mask_kind;
    float T;
    int32_t dir;
    float* loss;
    void* grad;
    int32_t grad_dt;
};

// The rejections every KL-style call shares (fields dt, grad_dt, rows, vocab, T, dir, mask, mask_kind, loss).
template <class A>
std::vector<Mut<A>> kl_common_rejects() {
    return {
        {"dtype 3", [](A& a) { a.dt = 3; }},
        {"dtype -1", [](A& a) { a.dt = -1; }},
        {"grad_dtype 7", [](A& a) { a.grad_dt = 7; }},
        {"grad_dtype f16 for f32 logits", [](A& a) { a.grad_dt = IVKIT_DTYPE_F16; }},
        {"rows -1", [](A& a) { a.rows = -1; }},
        {"vocab 0", [](A& a) { a.vocab = 0; }},
        {"vocab -1", [](A& a) { a.vocab = -1; }},
        {"temperature 0", [](A& a) { a.T = 0.0f; }},
        {"temperature -1", [](A& a) { a.T = -1.0f; }},
        {"temperature inf", [](A& a) { a.T = INFINITY; }},
        {"temperature NaN", [](A& a) { a.T = NAN; }},
        {"direction 2", [](A& a) { a.dir = 2; }},
        {"direction -1", [](A& a) { a.dir = -1; }},
        {"mask_kind 3", [](A& a) { a.mask_kind = 3; }},
        {"mask_kind u8, mask null", [](A& a) { a.mask_kind = IVKIT_MASK_U8, a.mask = nullptr; }},
        {"mask given, mask_kind none", [](A& a) { a.mask_kind = IVKIT_MASK_NONE, a.mask = a.loss; }},
        {"current null", [](A& a) { a.cur = nullptr; }},
        {"loss null", [](A& a) { a.loss = nullptr; }},
    };
}

inline std::vector<Mut<KlCallArgs>> kl_rejects() {
    auto r = kl_common_rejects<KlCallArgs>();
    r.push_back({"reference null", [](KlCallArgs& a) { a.ref = nullptr; }});
    return r;
}
inline std::vector<Mut<KlCallArgs>> kl_accepts() {
    return {
        {"rows 0, null pointers",
         [](KlCallArgs& a) { a.rows = 0, a.cur = a.ref = nullptr, a.loss = nullptr, a.grad = nullptr; }},
    };
}

struct TopkCallArgs {
    const void* cur;
    int64_t rows, vocab;
    int32_t dt;
    const int32_t* ids;
    const float *logq, *lrest;
    int64_t k;
    const void* mask;
    int32_t mask_kind;
    float T;
    int32_t dir;
    float* loss;
    void* grad;
    int32_t grad_dt;
};

inline std::vector<Mut<TopkCallArgs>> topk_rejects() {
    auto r = kl_common_rejects<TopkCallArgs>();
    r.insert(r.end(), {
        {"k 0", [](TopkCallArgs& a) { a.k = 0; }},
        {"k -1", [](TopkCallArgs& a) { a.k = -1; }},
        {"k = vocab", [](TopkCallArgs& a) { a.k = a.vocab; }},
        {"ids null", [](TopkCallArgs& a) { a.ids = nullptr; }},
        {"logq null", [](TopkCallArgs& a) { a.logq = nullptr; }},
        {"log_rest null", [](TopkCallArgs& a) { a.lrest = nullptr; }},
    });
    return r;
}
inline std::vector<Mut<TopkCallArgs>> topk_accepts() {
    return {
        {"rows 0, null pointers", [](TopkCallArgs& a) {
             a.rows = 0, a.cur = nullptr, a.ids = nullptr, a.logq = a.lrest = nullptr, a.loss = nullptr, a.grad = nullptr;
         }},
    };
}

struct LogprobArgs {
    const void* x;
    int64_t rows, vocab;
    int32_t dt;
    float T;
    int64_t k;
    int32_t* ids;
    float *logp, *lrest;
};

inline std::vector<Mut<LogprobArgs>> logprob_rejects() {
    return {
        {"dtype 3", [](LogprobArgs& a) { a.dt = 3; }},
        {"rows -1", [](LogprobArgs& a) { a.rows = -1; }},
        {"vocab 0", [](LogprobArgs& a) { a.vocab = 0; }},
        {"vocab 2^31", [](LogprobArgs& a) { a.vocab = int64_t{1} << 31; }},
        {"k 0", [](LogprobArgs& a) { a.k = 0; }},
        {"k = vocab", [](LogprobArgs& a) { a.k = a.vocab; }},
        {"temperature 0", [](LogprobArgs& a) { a.T = 0.0f; }},
        {"temperature -1", [](LogprobArgs& a) { a.T = -1.0f; }},
        {"temperature NaN", [](LogprobArgs& a) { a.T = NAN; }},
        {"temperature inf", [](LogprobArgs& a) { a.T = INFINITY; }},
        {"logits null", [](LogprobArgs& a) { a.x = nullptr; }},
        {"ids null", [](LogprobArgs& a) { a.ids = nullptr; }},
        {"logp null", [](LogprobArgs& a) { a.logp = nullptr; }},
        {"log_rest null", [](LogprobArgs& a) { a.lrest = nullptr; }},
    };
}
inline std::vector<Mut<LogprobArgs>> logprob_accepts() {
    return {{"rows 0, null pointers",
             [](LogprobArgs& a) { a.rows = 0, a.x = nullptr, a.ids = nullptr, a.logp = a.lrest = nullptr; }}};
}

}  // namespace ivt
