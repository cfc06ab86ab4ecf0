// CPU half of the Java-free native checks (docs/native-tests.md): every CPU kernel of libivkit, called through the C
// ABI the Java side binds, against the scalar double-precision references of reference.h on odd shapes, and the error
// paths of the CPU ABI. Usage: ivkit_cpu_test [group...] (groups: add_rows gather_heads patch_heads kl_rows kl_topk_rows topk_logprobs errors;
// none = all). Exit 0 pass, 1 fail, 2 usage. With $IVKIT_TEST_JSON_DIR set, writes cpu.<group>.json there.
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "errors.h"
#include "reference_topk.h"

using namespace ivt;

namespace {

int kl_threads() { return std::min(4, hw_threads()); }

void run_add_rows(Report& rep) {
    for (const AddSpec& s : add_specs(false)) {
        const AddInput in = make_add(s);
        Buf x = in.x;
        Case& c = rep.add("add_rows", s.dt, {s.n_rows, s.d}, s.variant(), "cpu vs fp64 reference");
        const ivkit_status_t st = ivkit_add_rows(x.data(), s.n_rows, s.d, s.dt, in.v.data(), s.stride, in.rows.data(),
                                                 in.scales_ptr(), s.n, s.scale);
        c.expect(st == IVKIT_OK, fmt("status %d: %s", st, ivkit_last_error()));
        if (st == IVKIT_OK) check_add(c, s, in, x, nullptr, 1.0);
    }
}

void run_gather_heads(Report& rep) {
    for (const GatherSpec& s : gather_specs(false)) {
        const GatherInput in = make_gather(s);
        Buf out = in.out0;
        Case& c = rep.add("gather_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, s.variant(), "cpu vs fp64 reference");
        const ivkit_status_t st = ivkit_gather_heads(in.z.data(), s.batch, s.seq, s.heads, s.d_head, s.dt, in.pos.data(),
                                                     out.data(), s.accumulate ? 1 : 0);
        c.expect(st == IVKIT_OK, fmt("status %d: %s", st, ivkit_last_error()));
        if (st == IVKIT_OK) check_gather(c, s, in, out, nullptr);
    }
}

void run_patch_heads(Report& rep) {
    for (const PatchSpec& s : patch_specs(false)) {
        const PatchInput in = make_patch(s);
        Buf z = in.z;
        Case& c = rep.add("patch_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, s.variant(), "cpu vs fp64 reference");
        const ivkit_status_t st = ivkit_patch_heads(z.data(), s.batch, s.seq, s.heads, s.d_head, s.dt, in.rows.data(),
                                                    in.pos.data(), in.head.data(), in.values.data(), s.stride, s.n, s.mode);
        c.expect(st == IVKIT_OK, fmt("status %d: %s", st, ivkit_last_error()));
        if (st == IVKIT_OK) check_patch(c, s, in, z, nullptr);
    }
}

struct KlOut {
    std::vector<float> loss;
    Buf grad;
    ivkit_status_t st;
};

// Outputs of a KL call, filled with sentinels (NaN loss, 0x7f7f... grad) so that every element must be written.
KlOut kl_out(int64_t rows, int64_t vocab, int grad_dt) {
    KlOut o;
    o.loss.assign(static_cast<size_t>(rows), NAN);
    if (grad_dt >= 0) {
        o.grad = Buf(grad_dt, static_cast<size_t>(rows * vocab));
        std::memset(o.grad.data(), 0x7f, o.grad.size_bytes());
    }
    return o;
}

KlOut kl_cpu(const KlSpec& s, const KlInput& in, int grad_dt, int threads) {
    KlOut o = kl_out(s.rows, s.vocab, grad_dt);
    o.st = ivkit_kl_rows(in.cur.data(), in.ref.data(), s.rows, s.vocab, s.dt, in.mask(s.mask_kind), s.mask_kind, s.T, s.dir,
                         o.loss.data(), grad_dt >= 0 ? o.grad.data() : nullptr, grad_dt >= 0 ? grad_dt : s.dt, threads);
    return o;
}

// One KL op's cases (kl_rows or kl_topk_rows): each against the fp64 reference, the loss bits unchanged when no
// gradient is written, and, on `thread_specs`, rows split over 4 threads bit-identical to 1 thread (each row is computed
// by the same code whichever thread runs it). make(s) builds the inputs, ref(s, in) the reference, run(s, in, grad_dt,
// threads) calls the op.
template <class S, class Make, class Ref, class Run>
void kl_cases(Report& rep, const char* op, const std::vector<S>& specs, const std::vector<S>& thread_specs, Make make,
              Ref ref, Run run) {
    for (const S& s : specs) {
        const auto in = make(s);
        const KlRef R = ref(s, in);
        Case& c = rep.add(op, s.dt, {s.rows, s.vocab}, s.variant(), "cpu vs fp64 reference");
        const KlOut o = run(s, in, s.grad_dt, kl_threads());
        c.expect(o.st == IVKIT_OK, fmt("status %d: %s", o.st, ivkit_last_error()));
        if (o.st != IVKIT_OK) continue;
        check_kl(c, R, s.rows, s.vocab, o.loss.data(), s.grad_dt >= 0 ? &o.grad : nullptr, nullptr, nullptr, 1.0);
        if (s.grad_dt >= 0) {  // the loss does not depend on whether a gradient is written
            Case& n = rep.add(op, s.dt, {s.rows, s.vocab}, s.variant(), "loss without grad = loss with grad (bits)");
            const KlOut o2 = run(s, in, -1, kl_threads());
            n.expect(o2.st == IVKIT_OK, fmt("status %d", o2.st));
            for (int64_t r = 0; r < s.rows; ++r) n.same_bits(bits_of(IVKIT_DTYPE_F32, o2.loss.data(), static_cast<size_t>(r)),
                                                            bits_of(IVKIT_DTYPE_F32, o.loss.data(), static_cast<size_t>(r)),
                                                            "loss", r);
        }
    }
    for (const S& s : thread_specs) {
        const auto in = make(s);
        const KlOut one = run(s, in, s.grad_dt, 1), four = run(s, in, s.grad_dt, 4);
        Case& c = rep.add(op, s.dt, {s.rows, s.vocab}, s.variant(), "threads=4 vs threads=1 (bits)");
        c.expect(one.st == IVKIT_OK && four.st == IVKIT_OK, "status");
        for (int64_t r = 0; r < s.rows; ++r) c.same_bits(bits_of(IVKIT_DTYPE_F32, four.loss.data(), static_cast<size_t>(r)),
                                                        bits_of(IVKIT_DTYPE_F32, one.loss.data(), static_cast<size_t>(r)), "loss", r);
        for (size_t e = 0; e < one.grad.n; ++e) c.same_bits(four.grad.bits(e), one.grad.bits(e), "grad", static_cast<int64_t>(e));
    }
}

void run_kl_rows(Report& rep) {
    std::vector<KlSpec> threads;
    for (int dt : kDtypes)
        threads.push_back({9, 32000, dt, dt, IVKIT_KL_REVERSE, IVKIT_MASK_F32, 2.0f, KL_NORMAL3, false, 900u + static_cast<unsigned>(dt)});
    kl_cases(rep, "kl_rows", kl_specs(false), threads, make_kl, [](const KlSpec& s, const KlInput& in) {
        return kl_reference(in.cur, in.ref, 0, s.rows, s.vocab, in.weight, s.T, s.dir, s.grad_dt, hw_threads());
    }, kl_cpu);
}

KlOut topk_cpu(const TopkSpec& s, const TopkInput& in, int grad_dt, int threads) {
    KlOut o = kl_out(s.rows, s.vocab, grad_dt);
    o.st = ivkit_kl_topk_rows(in.cur.data(), s.rows, s.vocab, s.dt, in.ids.data(), in.logq.data(), in.lrest.data(), s.k,
                              in.mask(s.mask_kind), s.mask_kind, s.T, s.dir, o.loss.data(),
                              grad_dt >= 0 ? o.grad.data() : nullptr, grad_dt >= 0 ? grad_dt : s.dt, threads);
    return o;
}

void run_kl_topk_rows(Report& rep) {
    std::vector<TopkSpec> threads;
    for (int dt : kDtypes)
        threads.push_back({9, 32000, 64, dt, dt, IVKIT_KL_REVERSE, IVKIT_MASK_F32, 2.0f, TK_NORMAL3, false,
                           950u + static_cast<unsigned>(dt)});
    kl_cases(rep, "kl_topk_rows", topk_specs(false), threads, make_topk, [](const TopkSpec& s, const TopkInput& in) {
        return topk_reference(s, in, 0, s.rows, hw_threads());
    }, topk_cpu);
}

void run_topk_logprobs(Report& rep) {
    for (const LogprobSpec& s : logprob_specs(false)) {
        const Buf x = make_logprob(s);
        std::vector<int32_t> ids(static_cast<size_t>(s.rows * s.k), -1);
        std::vector<float> lp(static_cast<size_t>(s.rows * s.k), NAN), lr(static_cast<size_t>(s.rows), NAN);
        Case& c = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, s.variant(), "cpu vs fp64 reference");
        const ivkit_status_t st = ivkit_topk_logprobs(x.data(), s.rows, s.vocab, s.dt, s.T, s.k, ids.data(), lp.data(),
                                                      lr.data(), kl_threads());
        c.expect(st == IVKIT_OK, fmt("status %d: %s", st, ivkit_last_error()));
        if (st != IVKIT_OK) continue;
        for (int64_t r = 0; r < s.rows; ++r)
            check_logprob_row(c, s, x, r, ids.data() + r * s.k, lp.data() + r * s.k, lr[static_cast<size_t>(r)]);
    }
    // rows split over 4 threads: the same ids and bits as 1 thread (each row is computed by the same code)
    for (int dt : kDtypes) {
        const LogprobSpec s{9, 32000, 64, dt, 2.0f, TK_NORMAL3, 970u + static_cast<unsigned>(dt)};
        const Buf x = make_logprob(s);
        const size_t n = static_cast<size_t>(s.rows * s.k), rows = static_cast<size_t>(s.rows);
        std::vector<int32_t> ids1(n, -1), ids4(n, -2);
        std::vector<float> lp1(n, NAN), lp4(n, NAN), lr1(rows, NAN), lr4(rows, NAN);
        Case& c = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, s.variant(), "threads=4 vs threads=1 (bits)");
        const ivkit_status_t st1 = ivkit_topk_logprobs(x.data(), s.rows, s.vocab, s.dt, s.T, s.k, ids1.data(), lp1.data(), lr1.data(), 1);
        const ivkit_status_t st4 = ivkit_topk_logprobs(x.data(), s.rows, s.vocab, s.dt, s.T, s.k, ids4.data(), lp4.data(), lr4.data(), 4);
        c.expect(st1 == IVKIT_OK && st4 == IVKIT_OK, "status");
        for (size_t e = 0; e < n; ++e) {
            c.expect(ids4[e] == ids1[e], fmt("ids[%zu] %d vs %d", e, ids4[e], ids1[e]));
            c.same_bits(bits_of(IVKIT_DTYPE_F32, lp4.data(), e), bits_of(IVKIT_DTYPE_F32, lp1.data(), e), "logp", static_cast<int64_t>(e));
        }
        for (size_t r = 0; r < rows; ++r)
            c.same_bits(bits_of(IVKIT_DTYPE_F32, lr4.data(), r), bits_of(IVKIT_DTYPE_F32, lr1.data(), r), "log_rest", static_cast<int64_t>(r));
    }
}

// ---- error paths ----------------------------------------------------------------------------------------------------

bool same_bytes(const Buf& a, const Buf& b) { return a.bytes == b.bytes; }

// A rejected call: the status, a message naming the op, and outputs untouched.
void rejected(Case& c, const char* op, const char* what, ivkit_status_t st, bool unchanged) {
    const std::string msg = ivkit_last_error();
    c.expect(st == IVKIT_ERR_INVALID_ARGUMENT, fmt("%s: status %d, want %d (IVKIT_ERR_INVALID_ARGUMENT)", what, st,
                                                   IVKIT_ERR_INVALID_ARGUMENT));
    c.expect(msg.find(op) != std::string::npos, fmt("%s: message \"%s\" does not name %s", what, msg.c_str(), op));
    c.expect(unchanged, fmt("%s: output changed by a rejected call", what));
}

void accepted(Case& c, const char* what, ivkit_status_t st, bool unchanged) {
    c.expect(st == IVKIT_OK, fmt("%s: status %d (%s), want IVKIT_OK", what, st, ivkit_last_error()));
    c.expect(std::strcmp(ivkit_last_error(), "") == 0, fmt("%s: last error not cleared: %s", what, ivkit_last_error()));
    c.expect(unchanged, fmt("%s: output changed by an empty call", what));
}

ivkit_status_t call(const AddArgs& a) {
    return ivkit_add_rows(a.x, a.n_rows, a.d, a.dt, a.v, a.stride, a.rows, a.scales, a.n, a.scale);
}
ivkit_status_t call(const GatherArgs& a) {
    return ivkit_gather_heads(a.z, a.batch, a.seq, a.heads, a.d_head, a.dt, a.pos, a.out, a.accumulate);
}
ivkit_status_t call(const PatchArgs& a) {
    return ivkit_patch_heads(a.z, a.batch, a.seq, a.heads, a.d_head, a.dt, a.rows, a.pos, a.head, a.values, a.stride, a.n,
                             a.mode);
}
ivkit_status_t call(const KlCallArgs& a) {
    return ivkit_kl_rows(a.cur, a.ref, a.rows, a.vocab, a.dt, a.mask, a.mask_kind, a.T, a.dir, a.loss, a.grad, a.grad_dt, 1);
}
ivkit_status_t call(const LogprobArgs& a) {
    return ivkit_topk_logprobs(a.x, a.rows, a.vocab, a.dt, a.T, a.k, a.ids, a.logp, a.lrest, 1);
}
ivkit_status_t call(const TopkCallArgs& a) {
    return ivkit_kl_topk_rows(a.cur, a.rows, a.vocab, a.dt, a.ids, a.logq, a.lrest, a.k, a.mask, a.mask_kind, a.T, a.dir,
                              a.loss, a.grad, a.grad_dt, 1);
}

void errors_add_rows(Report& rep) {
    const AddSpec s{4, 3, 2, 1, true, 1.5f, IVKIT_DTYPE_F32, 1};
    const AddInput in = make_add(s);
    Buf x = in.x;
    const AddArgs valid{x.data(), s.n_rows, s.d, s.dt, in.v.data(), s.stride, in.rows.data(), in.scales.data(), s.n, s.scale};
    Case& c = rep.add("add_rows", s.dt, {s.n_rows, s.d}, "rejected arguments", "status, message, x unchanged");
    for (const auto& m : add_rejects()) {
        AddArgs a = valid;
        m.apply(a);
        rejected(c, "add_rows", m.what, call(a), same_bytes(x, in.x));
    }
    // values the CPU path validates (the CUDA path leaves them to the caller)
    const std::vector<std::pair<const char*, std::vector<int64_t>>> bad_rows = {
        {"rows[1] = n_rows", {1, 4}}, {"rows[0] = -1", {-1, 3}}, {"rows repeated", {3, 3}}};
    for (const auto& [what, rows] : bad_rows) {
        AddArgs a = valid;
        a.rows = rows.data();
        rejected(c, "add_rows", what, call(a), same_bytes(x, in.x));
    }
    for (const auto& m : add_accepts()) {
        AddArgs a = valid;
        m.apply(a);
        accepted(c, m.what, call(a), same_bytes(x, in.x));
    }
    Case& ok = rep.add("add_rows", s.dt, {s.n_rows, s.d}, "valid call after rejected ones", "cpu vs fp64 reference");
    ok.expect(call(valid) == IVKIT_OK, "valid call");
    check_add(ok, s, in, x, nullptr, 1.0);
}

void errors_gather_heads(Report& rep) {
    const GatherSpec s{2, 3, 2, 2, false, IVKIT_DTYPE_BF16, 2};
    const GatherInput in = make_gather(s);
    Buf out = in.out0;
    const GatherArgs valid{in.z.data(), s.batch, s.seq, s.heads, s.d_head, s.dt, in.pos.data(), out.data(), 0};
    Case& c = rep.add("gather_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, "rejected arguments",
                      "status, message, out unchanged");
    for (const auto& m : gather_rejects()) {
        GatherArgs a = valid;
        m.apply(a);
        rejected(c, "gather_heads", m.what, call(a), same_bytes(out, in.out0));
    }
    for (int acc : {0, 1}) {
        Buf acc_out(IVKIT_DTYPE_F32, static_cast<size_t>(s.width()));
        for (size_t i = 0; i < acc_out.n; ++i) acc_out.set(i, 1.0 + static_cast<double>(i));
        const Buf acc0 = acc_out;
        for (const auto& pos : {std::vector<int64_t>{3, 0}, std::vector<int64_t>{0, -1}}) {
            GatherArgs a = valid;
            a.pos = pos.data();
            a.accumulate = acc;
            if (acc) a.out = acc_out.data();
            rejected(c, "gather_heads", acc ? "accumulate, position out of range" : "position out of range", call(a),
                     same_bytes(out, in.out0) && same_bytes(acc_out, acc0));
        }
    }
    for (const auto& m : gather_accepts()) {
        GatherArgs a = valid;
        m.apply(a);
        accepted(c, m.what, call(a), same_bytes(out, in.out0));
    }
    Case& ok = rep.add("gather_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, "valid call after rejected ones",
                       "cpu vs fp64 reference");
    ok.expect(call(valid) == IVKIT_OK, "valid call");
    check_gather(ok, s, in, out, nullptr);
}

void errors_patch_heads(Report& rep) {
    const PatchSpec s{2, 3, 2, 4, 3, 1, IVKIT_PATCH_ADD, IVKIT_DTYPE_F16, 3};
    const PatchInput in = make_patch(s);
    Buf z = in.z;
    const PatchArgs valid{z.data(), s.batch, s.seq, s.heads, s.d_head, s.dt, in.rows.data(), in.pos.data(), in.head.data(),
                          in.values.data(), s.stride, s.n, s.mode};
    Case& c = rep.add("patch_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, "rejected arguments",
                      "status, message, z unchanged");
    for (const auto& m : patch_rejects()) {
        PatchArgs a = valid;
        m.apply(a);
        rejected(c, "patch_heads", m.what, call(a), same_bytes(z, in.z));
    }
    // index values the CPU path validates: out of range in each index, and one target twice
    const std::vector<int64_t> r_bad{0, 2, 1}, p_bad{0, 3, 1}, h_bad{0, 1, 2}, neg{0, -1, 1};
    const std::vector<int64_t> dup_r{0, 0, 1}, dup_p{1, 1, 2}, dup_h{1, 1, 0};
    struct Bad {
        const char* what;
        const int64_t *rows, *pos, *head;
    };
    const Bad bads[] = {{"rows[1] = batch", r_bad.data(), in.pos.data(), in.head.data()},
                        {"positions[1] = seq", in.rows.data(), p_bad.data(), in.head.data()},
                        {"head_idx[2] = heads", in.rows.data(), in.pos.data(), h_bad.data()},
                        {"rows[1] = -1", neg.data(), in.pos.data(), in.head.data()},
                        {"positions[1] = -1", in.rows.data(), neg.data(), in.head.data()},
                        {"head_idx[1] = -1", in.rows.data(), in.pos.data(), neg.data()},
                        {"target repeated", dup_r.data(), dup_p.data(), dup_h.data()}};
    for (const Bad& b : bads) {
        PatchArgs a = valid;
        a.rows = b.rows, a.pos = b.pos, a.head = b.head;
        rejected(c, "patch_heads", b.what, call(a), same_bytes(z, in.z));
    }
    for (const auto& m : patch_accepts()) {
        PatchArgs a = valid;
        m.apply(a);
        accepted(c, m.what, call(a), same_bytes(z, in.z));
    }
    Case& ok = rep.add("patch_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, "valid call after rejected ones",
                       "cpu vs fp64 reference");
    ok.expect(call(valid) == IVKIT_OK, "valid call");
    check_patch(ok, s, in, z, nullptr);
}

void errors_kl_rows(Report& rep) {
    const KlSpec s{3, 5, IVKIT_DTYPE_F32, IVKIT_DTYPE_F32, IVKIT_KL_FORWARD, IVKIT_MASK_NONE, 1.0f, KL_NORMAL3, false, 4};
    const KlInput in = make_kl(s);
    const KlOutputs out0 = kl_filled(s.rows, s.vocab);
    KlOutputs out = out0;
    const KlCallArgs valid{in.cur.data(), in.ref.data(), s.rows, s.vocab, s.dt, nullptr, IVKIT_MASK_NONE, s.T, s.dir,
                           static_cast<float*>(out.loss.data()), out.grad.data(), IVKIT_DTYPE_F32};
    Case& c = rep.add("kl_rows", s.dt, {s.rows, s.vocab}, "rejected arguments", "status, message, loss and grad unchanged");
    apply_mutations(
        valid, kl_rejects(), kl_accepts(), [](const KlCallArgs& a) { return call(a); },
        [&](const char* w, ivkit_status_t st) { rejected(c, "kl_rows", w, st, out == out0); },
        [&](const char* w, ivkit_status_t st) { accepted(c, w, st, out == out0); });
    Case& ok = rep.add("kl_rows", s.dt, {s.rows, s.vocab}, "valid call after rejected ones", "cpu vs fp64 reference");
    ok.expect(call(valid) == IVKIT_OK, "valid call");
    const KlRef R = kl_reference(in.cur, in.ref, 0, s.rows, s.vocab, in.weight, s.T, s.dir, IVKIT_DTYPE_F32, 1);
    check_kl(ok, R, s.rows, s.vocab, static_cast<const float*>(out.loss.data()), &out.grad, nullptr, nullptr, 1.0);
}

void errors_kl_topk_rows(Report& rep) {
    const TopkSpec s{3, 6, 2, IVKIT_DTYPE_F32, IVKIT_DTYPE_F32, IVKIT_KL_REVERSE, IVKIT_MASK_NONE, 1.0f, TK_NORMAL3, false, 5};
    const TopkInput in = make_topk(s);
    const KlOutputs out0 = kl_filled(s.rows, s.vocab);
    KlOutputs out = out0;
    const TopkCallArgs valid{in.cur.data(), s.rows, s.vocab, s.dt, in.ids.data(), in.logq.data(), in.lrest.data(), s.k,
                             nullptr, IVKIT_MASK_NONE, s.T, s.dir, static_cast<float*>(out.loss.data()), out.grad.data(),
                             IVKIT_DTYPE_F32};
    Case& c = rep.add("kl_topk_rows", s.dt, {s.rows, s.vocab}, "rejected arguments", "status, message, loss and grad unchanged");
    const auto unchanged = [&] { return out == out0; };
    apply_mutations(
        valid, topk_rejects(), topk_accepts(), [](const TopkCallArgs& a) { return call(a); },
        [&](const char* w, ivkit_status_t st) { rejected(c, "kl_topk_rows", w, st, unchanged()); },
        [&](const char* w, ivkit_status_t st) { accepted(c, w, st, unchanged()); });
    // id values the CPU path validates (the CUDA path leaves them to the caller); row 2 holds the bad id: rows 0 and 1
    // must stay unwritten too
    const std::vector<std::pair<const char*, std::vector<int32_t>>> bad_ids = {
        {"ids[2, 1] = vocab", {0, 1, 2, 3, 4, 6}}, {"ids[2, 0] = -1", {0, 1, 2, 3, -1, 5}}, {"ids of row 2 repeated", {0, 1, 2, 3, 5, 5}}};
    for (const auto& [what, ids] : bad_ids) {
        TopkCallArgs a = valid;
        a.ids = ids.data();
        rejected(c, "kl_topk_rows", what, call(a), unchanged());
    }
    Case& ok = rep.add("kl_topk_rows", s.dt, {s.rows, s.vocab}, "valid call after rejected ones", "cpu vs fp64 reference");
    ok.expect(call(valid) == IVKIT_OK, "valid call");
    check_kl(ok, topk_reference(s, in, 0, s.rows, 1), s.rows, s.vocab, static_cast<const float*>(out.loss.data()),
             &out.grad, nullptr, nullptr, 1.0);
}

void errors_topk_logprobs(Report& rep) {
    const LogprobSpec s{3, 6, 2, IVKIT_DTYPE_BF16, 1.0f, TK_NORMAL3, 6};
    const Buf x = make_logprob(s);
    std::vector<int32_t> ids(6, -3);
    std::vector<float> lp(6, -7.0f), lr(3, -9.0f);
    const auto ids0 = ids;
    const auto lp0 = lp, lr0 = lr;
    const LogprobArgs valid{x.data(), s.rows, s.vocab, s.dt, s.T, s.k, ids.data(), lp.data(), lr.data()};
    auto same = [&] { return ids == ids0 && lp == lp0 && lr == lr0; };
    Case& c = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, "rejected arguments", "status, message, outputs unchanged");
    apply_mutations(
        valid, logprob_rejects(), logprob_accepts(), [](const LogprobArgs& a) { return call(a); },
        [&](const char* w, ivkit_status_t st) { rejected(c, "topk_logprobs", w, st, same()); },
        [&](const char* w, ivkit_status_t st) { accepted(c, w, st, same()); });
    Case& ok = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, "valid call after rejected ones", "cpu vs fp64 reference");
    ok.expect(call(valid) == IVKIT_OK, "valid call");
    for (int64_t r = 0; r < s.rows; ++r) check_logprob_row(ok, s, x, r, ids.data() + r * s.k, lp.data() + r * s.k, lr[static_cast<size_t>(r)]);
}

void errors_library(Report& rep) {
    Case& c = rep.add("abi", -1, {}, "version, noop, thread-local error text, BLAS threads", "contract");
    c.expect(std::strcmp(ivkit_version(), IVKIT_TEST_EXPECTED_VERSION) == 0,
             fmt("ivkit_version() \"%s\", want \"%s\"", ivkit_version(), IVKIT_TEST_EXPECTED_VERSION));
    c.expect(ivkit_noop() == IVKIT_OK, "ivkit_noop");
    c.expect(ivkit_add_rows(nullptr, 1, 1, 9, nullptr, 1, nullptr, nullptr, 1, 1.0f) == IVKIT_ERR_INVALID_ARGUMENT, "bad call");
    const std::string mine = ivkit_last_error();
    std::string other = "unset";
    std::thread([&] { other = ivkit_last_error(); }).join();
    c.expect(!mine.empty() && other.empty(), fmt("error text is per thread: here \"%s\", other thread \"%s\"", mine.c_str(),
                                                 other.c_str()));
    c.expect(ivkit_noop() == IVKIT_OK && mine == ivkit_last_error(), "noop does not touch the error text");
    // No OpenBLAS is loaded in this process: both report -1 and change nothing.
    c.expect(ivkit_blas_get_threads() == -1, fmt("ivkit_blas_get_threads() = %d without OpenBLAS", ivkit_blas_get_threads()));
    c.expect(ivkit_blas_set_threads(2) == -1, "ivkit_blas_set_threads(2) without OpenBLAS");
    c.expect(ivkit_blas_set_threads(0) == -1, "ivkit_blas_set_threads(0)");

    // The test's own codec against constants of the formats (IEEE 754 binary16, bfloat16): the references rely on it.
    Case& k = rep.add("harness", -1, {}, "element codec of the test", "format constants");
    uint16_t h[4];
    put(IVKIT_DTYPE_F16, h, 0, 1.0), put(IVKIT_DTYPE_F16, h, 1, 65504.0), put(IVKIT_DTYPE_F16, h, 2, 0x1.0p-24),
        put(IVKIT_DTYPE_F16, h, 3, -2.0);
    k.expect(h[0] == 0x3c00 && h[1] == 0x7bff && h[2] == 0x0001 && h[3] == 0xc000, "f16 bits of 1, 65504, 2^-24, -2");
    put(IVKIT_DTYPE_BF16, h, 0, 1.0), put(IVKIT_DTYPE_BF16, h, 1, -0x1.fep127);
    k.expect(h[0] == 0x3f80 && h[1] == 0xff7f, "bf16 bits of 1 and the most negative value");
    k.expect(ulp(IVKIT_DTYPE_F16, 1.0) == 0x1.0p-10 && ulp(IVKIT_DTYPE_BF16, 1.0) == 0x1.0p-7 &&
                 ulp(IVKIT_DTYPE_F32, 1.0) == 0x1.0p-23 && ulp(IVKIT_DTYPE_F16, 1e-6) == 0x1.0p-24,
             "ulp at 1 and in f16's subnormal range");
    k.expect(round_to(IVKIT_DTYPE_BF16, 1.0 + 0x1.0p-8) == 1.0 && round_to(IVKIT_DTYPE_BF16, 1.0 + 3 * 0x1.0p-8) == 1.0 + 0x1.0p-6,
             "bf16 ties to even");
    Rng r(5);
    for (int dt : kDtypes)
        for (int i = 0; i < 2000; ++i) {
            const double x = round_to(dt, std::ldexp(r.normal(), static_cast<int>(r.below(40)) - 30));
            Buf b(dt, 1);
            b.set(0, x);
            k.expect(b.at(0) == x, fmt("%s round trip of %.17g", dt_name(dt), x));
        }
}

void run_errors(Report& rep) {
    errors_add_rows(rep);
    errors_gather_heads(rep);
    errors_patch_heads(rep);
    errors_kl_rows(rep);
    errors_kl_topk_rows(rep);
    errors_topk_logprobs(rep);
    errors_library(rep);
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::pair<std::string, std::function<void(Report&)>>> groups = {
        {"add_rows", run_add_rows}, {"gather_heads", run_gather_heads}, {"patch_heads", run_patch_heads},
        {"kl_rows", run_kl_rows}, {"kl_topk_rows", run_kl_topk_rows}, {"topk_logprobs", run_topk_logprobs},
        {"errors", run_errors}};
    std::vector<std::string> want(argv + 1, argv + argc);
    if (want.empty())
        for (const auto& g : groups) want.push_back(g.first);
    int rc = 0;
    for (const std::string& name : want) {
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == name; });
        if (it == groups.end()) {
            std::fprintf(stderr, "usage: ivkit_cpu_test [add_rows|gather_heads|patch_heads|kl_rows|kl_topk_rows|topk_logprobs|errors]...\n");
            return 2;
        }
        Report rep("cpu", name);
        try {
            it->second(rep);
        } catch (const std::exception& e) {
            rep.add(name, -1, {}, "harness", "no exception").fail(fmt("exception: %s", e.what()));
        }
        rc = std::max(rc, rep.finish(""));
    }
    return rc;
}
