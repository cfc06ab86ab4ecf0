// CUDA half of the Java-free native checks (docs/native-tests.md): every CUDA kernel of libivkit_cuda, called through
// the C ABI the Java side binds, against its own CPU path in libivkit (the same ABI) and against the double-precision
// references of reference.h, on odd and large shapes; the error paths (the stream stays usable after a rejected call);
// and timings with CUDA events against a device-to-device copy on the same GPU.
// Usage: ivkit_cuda_test [group...] (add_rows gather_heads patch_heads kl_rows kl_topk_rows topk_logprobs errors timing;
// none = all).
// Exit 0 pass, 1 fail, 2 usage, 77 no CUDA device (CTest: skipped). With $IVKIT_TEST_JSON_DIR set, writes
// cuda.<group>.json there.
#include <cuda_runtime.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

#include "cuda_fill.h"
#include "errors.h"
#include "reference_topk.h"

using namespace ivt;

namespace {

cudaStream_t g_stream = nullptr;  // a non-blocking stream of our own; the first case of each op uses the default stream

void ck(cudaError_t e, const char* what, int line) {
    if (e != cudaSuccess) throw std::runtime_error(fmt("%s (cuda_test.cpp:%d): %s", what, line, cudaGetErrorString(e)));
}
#define CK(expr) ck((expr), #expr, __LINE__)

// A device allocation. Uploads go through g_stream and wait for it; downloads first wait for the whole device, so
// work queued on the default stream is finished too.
struct Dev {
    void* p = nullptr;
    size_t bytes = 0;
    explicit Dev(size_t b) : bytes(b) { CK(cudaMalloc(&p, std::max<size_t>(b, 1))); }
    Dev(const void* host, size_t b) : Dev(b) { up(host, b); }
    explicit Dev(const Buf& b) : Dev(b.data(), b.size_bytes()) {}
    template <class T>
    explicit Dev(const std::vector<T>& v) : Dev(v.data(), v.size() * sizeof(T)) {}
    Dev(Dev&& o) noexcept : p(o.p), bytes(o.bytes) { o.p = nullptr; }
    Dev(const Dev&) = delete;
    Dev& operator=(const Dev&) = delete;
    ~Dev() {
        if (p) cudaFree(p);
    }
    void up(const void* h, size_t b, size_t offset = 0) {
        if (b) CK(cudaMemcpyAsync(static_cast<char*>(p) + offset, h, b, cudaMemcpyHostToDevice, g_stream));
        CK(cudaStreamSynchronize(g_stream));
    }
    void down(void* h, size_t b, size_t offset = 0) const {
        CK(cudaDeviceSynchronize());
        if (b) CK(cudaMemcpyAsync(h, static_cast<const char*>(p) + offset, b, cudaMemcpyDeviceToHost, g_stream));
        CK(cudaStreamSynchronize(g_stream));
    }
    Buf down_buf(int dt, size_t n) const {
        Buf b(dt, n);
        down(b.data(), b.size_bytes());
        return b;
    }
    template <class T>
    T* as() const {
        return static_cast<T*>(p);
    }
};

cudaStream_t stream_for(size_t i) { return i == 0 ? nullptr : g_stream; }
std::string stream_note(size_t i) { return i == 0 ? " stream=default" : ""; }

// ---- ops against the CPU path and the reference ----------------------------------------------------------------------

void run_add_rows(Report& rep) {
    const auto specs = add_specs(true);
    for (size_t k = 0; k < specs.size(); ++k) {
        const AddSpec& s = specs[k];
        const AddInput in = make_add(s);
        Buf cpu = in.x;
        const ivkit_status_t cst = ivkit_add_rows(cpu.data(), s.n_rows, s.d, s.dt, in.v.data(), s.stride, in.rows.data(),
                                                  in.scales_ptr(), s.n, s.scale);
        Dev x(in.x), v(in.v), rows(in.rows), scales(in.scales);
        const ivkit_status_t st = ivkit_cuda_add_rows(x.p, s.n_rows, s.d, s.dt, v.p, s.stride, rows.as<int64_t>(),
                                                      in.scales.empty() ? nullptr : scales.as<float>(), s.n, s.scale,
                                                      stream_for(k));
        const Buf gpu = x.down_buf(s.dt, in.x.n);
        Case& a = rep.add("add_rows", s.dt, {s.n_rows, s.d}, s.variant() + stream_note(k), "cuda vs cpu kernel");
        a.expect(cst == IVKIT_OK && st == IVKIT_OK, fmt("status cpu %d, cuda %d: %s", cst, st, ivkit_cuda_last_error()));
        check_add(a, s, in, gpu, &cpu, 2.0);
        Case& b = rep.add("add_rows", s.dt, {s.n_rows, s.d}, s.variant() + stream_note(k), "cuda vs fp64 reference");
        check_add(b, s, in, gpu, nullptr, 1.0);
    }
}

void run_gather_heads(Report& rep) {
    const auto specs = gather_specs(true);
    for (size_t k = 0; k < specs.size(); ++k) {
        const GatherSpec& s = specs[k];
        const GatherInput in = make_gather(s);
        Buf cpu = in.out0;
        const ivkit_status_t cst = ivkit_gather_heads(in.z.data(), s.batch, s.seq, s.heads, s.d_head, s.dt, in.pos.data(),
                                                      cpu.data(), s.accumulate ? 1 : 0);
        Dev z(in.z), pos(in.pos), out(in.out0);
        const ivkit_status_t st = ivkit_cuda_gather_heads(z.p, s.batch, s.seq, s.heads, s.d_head, s.dt, pos.as<int64_t>(),
                                                          out.p, s.accumulate ? 1 : 0, stream_for(k));
        const Buf gpu = out.down_buf(in.out0.dt, in.out0.n);
        const std::vector<int64_t> shape{s.batch, s.seq, s.heads, s.d_head};
        Case& a = rep.add("gather_heads", s.dt, shape, s.variant() + stream_note(k), "cuda vs cpu kernel (bits)");
        a.expect(cst == IVKIT_OK && st == IVKIT_OK, fmt("status cpu %d, cuda %d: %s", cst, st, ivkit_cuda_last_error()));
        check_gather(a, s, in, gpu, &cpu);
        Case& b = rep.add("gather_heads", s.dt, shape, s.variant() + stream_note(k), "cuda vs fp64 reference");
        check_gather(b, s, in, gpu, nullptr);
    }
}

void run_patch_heads(Report& rep) {
    const auto specs = patch_specs(true);
    for (size_t k = 0; k < specs.size(); ++k) {
        const PatchSpec& s = specs[k];
        const PatchInput in = make_patch(s);
        Buf cpu = in.z;
        const ivkit_status_t cst = ivkit_patch_heads(cpu.data(), s.batch, s.seq, s.heads, s.d_head, s.dt, in.rows.data(),
                                                     in.pos.data(), in.head.data(), in.values.data(), s.stride, s.n, s.mode);
        Dev z(in.z), rows(in.rows), pos(in.pos), head(in.head), values(in.values);
        const ivkit_status_t st =
            ivkit_cuda_patch_heads(z.p, s.batch, s.seq, s.heads, s.d_head, s.dt, rows.as<int64_t>(), pos.as<int64_t>(),
                                   head.as<int64_t>(), values.p, s.stride, s.n, s.mode, stream_for(k));
        const Buf gpu = z.down_buf(s.dt, in.z.n);
        const std::vector<int64_t> shape{s.batch, s.seq, s.heads, s.d_head};
        Case& a = rep.add("patch_heads", s.dt, shape, s.variant() + stream_note(k), "cuda vs cpu kernel (bits)");
        a.expect(cst == IVKIT_OK && st == IVKIT_OK, fmt("status cpu %d, cuda %d: %s", cst, st, ivkit_cuda_last_error()));
        check_patch(a, s, in, gpu, &cpu);
        Case& b = rep.add("patch_heads", s.dt, shape, s.variant() + stream_note(k), "cuda vs fp64 reference");
        check_patch(b, s, in, gpu, nullptr);
    }
}

struct KlOut {
    std::vector<float> loss;
    Buf grad;
    ivkit_status_t st = IVKIT_OK;
};

// Host outputs of a KL call: NaN loss, grad of grad_dt (or none).
KlOut kl_out(int64_t rows, int64_t vocab, int grad_dt) {
    KlOut o;
    o.loss.assign(static_cast<size_t>(rows), NAN);
    if (grad_dt >= 0) o.grad = Buf(grad_dt, static_cast<size_t>(rows * vocab));
    return o;
}

KlOut kl_cpu(const KlSpec& s, const KlInput& in, int grad_dt) {
    KlOut o = kl_out(s.rows, s.vocab, grad_dt);
    o.st = ivkit_kl_rows(in.cur.data(), in.ref.data(), s.rows, s.vocab, s.dt, in.mask(s.mask_kind), s.mask_kind, s.T, s.dir,
                         o.loss.data(), grad_dt >= 0 ? o.grad.data() : nullptr, grad_dt >= 0 ? grad_dt : s.dt, hw_threads());
    return o;
}

struct KlDev {
    Dev cur, ref, mask;
    explicit KlDev(const KlInput& in, int kind)
        : cur(in.cur), ref(in.ref),
          mask(kind == IVKIT_MASK_U8 ? Dev(in.mask_u8) : kind == IVKIT_MASK_F32 ? Dev(in.mask_f32) : Dev(size_t{0})) {}
};

// Device outputs of a KL call with sentinels (NaN loss, 0x7f7f... grad): every element must be written. call(loss,
// grad) runs the op; the outputs come back in a KlOut.
template <class Call>
KlOut kl_cuda_call(int64_t rows, int64_t vocab, int grad_dt, Call call) {
    KlOut o;
    o.loss.assign(static_cast<size_t>(rows), NAN);
    Dev loss(o.loss);
    Dev grad(grad_dt >= 0 ? static_cast<size_t>(rows * vocab) * dt_size(grad_dt) : 0);
    if (grad_dt >= 0) CK(cudaMemset(grad.p, 0x7f, grad.bytes));
    o.st = call(loss.as<float>(), grad_dt >= 0 ? grad.p : nullptr);
    loss.down(o.loss.data(), o.loss.size() * sizeof(float));
    if (grad_dt >= 0) o.grad = grad.down_buf(grad_dt, static_cast<size_t>(rows * vocab));
    return o;
}

KlOut kl_cuda(const KlSpec& s, const KlDev& d, int grad_dt, cudaStream_t stream) {
    return kl_cuda_call(s.rows, s.vocab, grad_dt, [&](float* loss, void* grad) {
        return ivkit_cuda_kl_rows(d.cur.p, d.ref.p, s.rows, s.vocab, s.dt, s.mask_kind ? d.mask.p : nullptr, s.mask_kind,
                                  s.T, s.dir, loss, grad, grad_dt >= 0 ? grad_dt : s.dt, stream);
    });
}

// One KL op's cases on CUDA: each against the CPU kernel (within twice the reference tolerance) and the fp64 reference,
// and the loss bits unchanged when no gradient is written. make(s) builds the host inputs, ref(s, in) the reference,
// cpu(s, in, grad_dt) calls the CPU op, Dev(in, mask_kind) uploads, gpu(s, dev, grad_dt, stream) calls the CUDA op.
template <class S, class DevIn, class Make, class Ref, class Cpu, class Gpu>
void kl_cuda_cases(Report& rep, const char* op, const std::vector<S>& specs, Make make, Ref ref, Cpu cpu_op, Gpu gpu_op) {
    for (size_t k = 0; k < specs.size(); ++k) {
        const S& s = specs[k];
        const auto in = make(s);
        const KlRef R = ref(s, in);
        const KlOut cpu = cpu_op(s, in, s.grad_dt);
        const DevIn d(in, s.mask_kind);
        const KlOut gpu = gpu_op(s, d, s.grad_dt, stream_for(k));
        const std::string variant = s.variant() + stream_note(k);
        const Buf* gg = s.grad_dt >= 0 ? &gpu.grad : nullptr;
        Case& a = rep.add(op, s.dt, {s.rows, s.vocab}, variant, "cuda vs cpu kernel");
        a.expect(cpu.st == IVKIT_OK && gpu.st == IVKIT_OK,
                 fmt("status cpu %d, cuda %d: %s", cpu.st, gpu.st, ivkit_cuda_last_error()));
        check_kl(a, R, s.rows, s.vocab, gpu.loss.data(), gg, cpu.loss.data(), s.grad_dt >= 0 ? &cpu.grad : nullptr, 2.0);
        Case& b = rep.add(op, s.dt, {s.rows, s.vocab}, variant, "cuda vs fp64 reference");
        check_kl(b, R, s.rows, s.vocab, gpu.loss.data(), gg, nullptr, nullptr, 1.0);
        if (s.grad_dt >= 0) {  // the same kernel without the gradient pass: the loss must keep its bits
            const KlOut nog = gpu_op(s, d, -1, g_stream);
            Case& n = rep.add(op, s.dt, {s.rows, s.vocab}, variant, "cuda loss without grad = with grad (bits)");
            n.expect(nog.st == IVKIT_OK, fmt("status %d", nog.st));
            for (int64_t r = 0; r < s.rows; ++r)
                n.same_bits(bits_of(IVKIT_DTYPE_F32, nog.loss.data(), static_cast<size_t>(r)),
                            bits_of(IVKIT_DTYPE_F32, gpu.loss.data(), static_cast<size_t>(r)), "loss", r);
        }
    }
}

void run_kl_rows(Report& rep) {
    kl_cuda_cases<KlSpec, KlDev>(rep, "kl_rows", kl_specs(true), make_kl, [](const KlSpec& s, const KlInput& in) {
        return kl_reference(in.cur, in.ref, 0, s.rows, s.vocab, in.weight, s.T, s.dir, s.grad_dt, hw_threads());
    }, kl_cpu, kl_cuda);
}

KlOut topk_cpu(const TopkSpec& s, const TopkInput& in, int grad_dt) {
    KlOut o = kl_out(s.rows, s.vocab, grad_dt);
    o.st = ivkit_kl_topk_rows(in.cur.data(), s.rows, s.vocab, s.dt, in.ids.data(), in.logq.data(), in.lrest.data(), s.k,
                              in.mask(s.mask_kind), s.mask_kind, s.T, s.dir, o.loss.data(),
                              grad_dt >= 0 ? o.grad.data() : nullptr, grad_dt >= 0 ? grad_dt : s.dt, hw_threads());
    return o;
}

struct TopkDev {
    Dev cur, ids, logq, lrest, mask;
    explicit TopkDev(const TopkInput& in, int kind)
        : cur(in.cur), ids(in.ids), logq(in.logq), lrest(in.lrest),
          mask(kind == IVKIT_MASK_U8 ? Dev(in.mask_u8) : kind == IVKIT_MASK_F32 ? Dev(in.mask_f32) : Dev(size_t{0})) {}
};

KlOut topk_cuda(const TopkSpec& s, const TopkDev& d, int grad_dt, cudaStream_t stream) {
    return kl_cuda_call(s.rows, s.vocab, grad_dt, [&](float* loss, void* grad) {
        return ivkit_cuda_kl_topk_rows(d.cur.p, s.rows, s.vocab, s.dt, d.ids.as<int32_t>(), d.logq.as<float>(),
                                       d.lrest.as<float>(), s.k, s.mask_kind ? d.mask.p : nullptr, s.mask_kind, s.T,
                                       s.dir, loss, grad, grad_dt >= 0 ? grad_dt : s.dt, stream);
    });
}

void run_kl_topk_rows(Report& rep) {
    kl_cuda_cases<TopkSpec, TopkDev>(rep, "kl_topk_rows", topk_specs(true), make_topk,
                                     [](const TopkSpec& s, const TopkInput& in) {
                                         return topk_reference(s, in, 0, s.rows, hw_threads());
                                     },
                                     topk_cpu, topk_cuda);
}

void run_topk_logprobs(Report& rep) {
    const auto specs = logprob_specs(true);
    for (size_t c = 0; c < specs.size(); ++c) {
        const LogprobSpec& s = specs[c];
        const Buf x = make_logprob(s);
        const size_t nk = static_cast<size_t>(s.rows * s.k), nr = static_cast<size_t>(s.rows);
        std::vector<int32_t> ids(nk, -1), cids(nk, -1);
        std::vector<float> lp(nk, NAN), lr(nr, NAN), clp(nk, NAN), clr(nr, NAN);
        Dev dx(x), did(ids), dlp(lp), dlr(lr);
        const ivkit_status_t st = ivkit_cuda_topk_logprobs(dx.p, s.rows, s.vocab, s.dt, s.T, s.k, did.as<int32_t>(),
                                                           dlp.as<float>(), dlr.as<float>(), stream_for(c));
        did.down(ids.data(), nk * sizeof(int32_t));
        dlp.down(lp.data(), nk * sizeof(float));
        dlr.down(lr.data(), nr * sizeof(float));
        const std::string variant = s.variant() + stream_note(c);
        Case& a = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, variant, "cuda vs fp64 reference");
        a.expect(st == IVKIT_OK, fmt("status %d: %s", st, ivkit_cuda_last_error()));
        if (st != IVKIT_OK) continue;
        for (int64_t r = 0; r < s.rows; ++r)
            check_logprob_row(a, s, x, r, ids.data() + r * s.k, lp.data() + r * s.k, lr[static_cast<size_t>(r)]);
        // the CPU kernel keeps the same values in the same order (ties may pick other ids); log_rest is held to the
        // fp64 reference above
        Case& b = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, variant, "cuda vs cpu kernel (kept values, bits)");
        b.expect(ivkit_topk_logprobs(x.data(), s.rows, s.vocab, s.dt, s.T, s.k, cids.data(), clp.data(), clr.data(),
                                     hw_threads()) == IVKIT_OK, "cpu status");
        for (size_t i = 0; i < nk; ++i) {
            const size_t base = i / static_cast<size_t>(s.k) * static_cast<size_t>(s.vocab);
            if (ids[i] < 0 || ids[i] >= s.vocab) continue;  // reported by the reference check above
            b.same_bits(x.bits(base + static_cast<size_t>(ids[i])), x.bits(base + static_cast<size_t>(cids[i])), "kept",
                        static_cast<int64_t>(i));
        }
    }
}

// ---- error paths ----------------------------------------------------------------------------------------------------

// A rejected call: the status, a message naming the op, no CUDA error left behind, the stream still usable, and the
// outputs untouched (read back from the device).
void rejected(Case& c, const char* op, const char* what, ivkit_status_t st, const std::function<bool()>& unchanged) {
    const std::string msg = ivkit_cuda_last_error();
    c.expect(st == IVKIT_ERR_INVALID_ARGUMENT, fmt("%s: status %d, want %d (IVKIT_ERR_INVALID_ARGUMENT)", what, st,
                                                   IVKIT_ERR_INVALID_ARGUMENT));
    c.expect(msg.find(op) != std::string::npos, fmt("%s: message \"%s\" does not name %s", what, msg.c_str(), op));
    const cudaError_t last = cudaGetLastError();
    c.expect(last == cudaSuccess, fmt("%s: CUDA error left behind: %s", what, cudaGetErrorString(last)));
    const cudaError_t sync = cudaStreamSynchronize(g_stream);
    c.expect(sync == cudaSuccess, fmt("%s: stream unusable: %s", what, cudaGetErrorString(sync)));
    c.expect(unchanged(), fmt("%s: output changed by a rejected call", what));
}

void accepted(Case& c, const char* what, ivkit_status_t st, const std::function<bool()>& unchanged) {
    c.expect(st == IVKIT_OK, fmt("%s: status %d (%s), want IVKIT_OK", what, st, ivkit_cuda_last_error()));
    c.expect(std::strcmp(ivkit_cuda_last_error(), "") == 0,
             fmt("%s: last error not cleared: %s", what, ivkit_cuda_last_error()));
    c.expect(cudaStreamSynchronize(g_stream) == cudaSuccess && cudaGetLastError() == cudaSuccess, fmt("%s: CUDA error", what));
    c.expect(unchanged(), fmt("%s: output changed by an empty call", what));
}

ivkit_status_t call(const AddArgs& a, cudaStream_t s) {
    return ivkit_cuda_add_rows(a.x, a.n_rows, a.d, a.dt, a.v, a.stride, a.rows, a.scales, a.n, a.scale, s);
}
ivkit_status_t call(const GatherArgs& a, cudaStream_t s) {
    return ivkit_cuda_gather_heads(a.z, a.batch, a.seq, a.heads, a.d_head, a.dt, a.pos, a.out, a.accumulate, s);
}
ivkit_status_t call(const PatchArgs& a, cudaStream_t s) {
    return ivkit_cuda_patch_heads(a.z, a.batch, a.seq, a.heads, a.d_head, a.dt, a.rows, a.pos, a.head, a.values, a.stride,
                                  a.n, a.mode, s);
}
ivkit_status_t call(const KlCallArgs& a, cudaStream_t s) {
    return ivkit_cuda_kl_rows(a.cur, a.ref, a.rows, a.vocab, a.dt, a.mask, a.mask_kind, a.T, a.dir, a.loss, a.grad,
                              a.grad_dt, s);
}

ivkit_status_t call(const LogprobArgs& a, cudaStream_t s) {
    return ivkit_cuda_topk_logprobs(a.x, a.rows, a.vocab, a.dt, a.T, a.k, a.ids, a.logp, a.lrest, s);
}
ivkit_status_t call(const TopkCallArgs& a, cudaStream_t s) {
    return ivkit_cuda_kl_topk_rows(a.cur, a.rows, a.vocab, a.dt, a.ids, a.logq, a.lrest, a.k, a.mask, a.mask_kind, a.T,
                                   a.dir, a.loss, a.grad, a.grad_dt, s);
}

bool dev_equals(const Dev& d, const Buf& want) {
    Buf b(want.dt, want.n);
    d.down(b.data(), b.size_bytes());
    return b.bytes == want.bytes;
}

void errors_add_rows(Report& rep) {
    const AddSpec s{4, 3, 2, 1, true, 1.5f, IVKIT_DTYPE_F32, 1};
    const AddInput in = make_add(s);
    Dev x(in.x), v(in.v), rows(in.rows), scales(in.scales);
    const AddArgs valid{x.p, s.n_rows, s.d, s.dt, v.p, s.stride, rows.as<int64_t>(), scales.as<float>(), s.n, s.scale};
    auto same = [&] { return dev_equals(x, in.x); };
    Case& c = rep.add("add_rows", s.dt, {s.n_rows, s.d}, "rejected arguments", "status, message, stream, x unchanged");
    for (const auto& m : add_rejects()) {
        AddArgs a = valid;
        m.apply(a);
        rejected(c, "add_rows", m.what, call(a, g_stream), same);
    }
    for (const auto& m : add_accepts()) {
        AddArgs a = valid;
        m.apply(a);
        accepted(c, m.what, call(a, g_stream), same);
    }
    {  // n above the grid's y limit: rejected before launch (the CPU path has no such limit)
        const int64_t big = 65536;
        Dev bx(static_cast<size_t>(big) * 4), brows(static_cast<size_t>(big) * 8);
        CK(cudaMemset(bx.p, 0, bx.bytes));
        const AddArgs a{bx.p, big, 1, IVKIT_DTYPE_F32, bx.p, 1, brows.as<int64_t>(), nullptr, big, 1.0f};
        Buf zero(IVKIT_DTYPE_F32, static_cast<size_t>(big));
        rejected(c, "add_rows", "n 65536 > 65535 (cuda)", call(a, g_stream), [&] { return dev_equals(bx, zero); });
    }
    // Row values are the caller's to validate on CUDA; an out-of-range row is skipped, never written out of bounds.
    Case& g = rep.add("add_rows", s.dt, {s.n_rows, s.d}, "rows out of range (not validated on CUDA)",
                      "no write outside x (guard zones)");
    {
        const int64_t guard = 64;
        Buf whole(IVKIT_DTYPE_F32, static_cast<size_t>((s.n_rows + 2 * guard) * s.d));
        for (size_t i = 0; i < whole.n; ++i) whole.set(i, static_cast<double>(i % 13));
        Dev dw(whole);
        const std::vector<int64_t> bad{-3, s.n_rows + 5};
        Dev dbad(bad);
        AddArgs a = valid;
        a.x = dw.as<float>() + guard * s.d;
        a.rows = dbad.as<int64_t>();
        const ivkit_status_t st = call(a, g_stream);
        g.expect(st == IVKIT_OK || st == IVKIT_ERR_INVALID_ARGUMENT, fmt("status %d", st));
        g.expect(cudaStreamSynchronize(g_stream) == cudaSuccess && cudaGetLastError() == cudaSuccess, "CUDA error");
        g.expect(dev_equals(dw, whole), "memory around and inside x unchanged");
    }
    Case& ok = rep.add("add_rows", s.dt, {s.n_rows, s.d}, "valid call after rejected ones, same stream",
                       "cuda vs fp64 reference");
    ok.expect(call(valid, g_stream) == IVKIT_OK, "valid call");
    check_add(ok, s, in, x.down_buf(s.dt, in.x.n), nullptr, 1.0);
}

void errors_gather_heads(Report& rep) {
    const GatherSpec s{2, 3, 2, 2, false, IVKIT_DTYPE_BF16, 2};
    const GatherInput in = make_gather(s);
    Dev z(in.z), pos(in.pos), out(in.out0);
    const GatherArgs valid{z.p, s.batch, s.seq, s.heads, s.d_head, s.dt, pos.as<int64_t>(), out.p, 0};
    auto same = [&] { return dev_equals(out, in.out0); };
    Case& c = rep.add("gather_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, "rejected arguments",
                      "status, message, stream, out unchanged");
    for (const auto& m : gather_rejects()) {
        GatherArgs a = valid;
        m.apply(a);
        rejected(c, "gather_heads", m.what, call(a, g_stream), same);
    }
    for (const auto& m : gather_accepts()) {
        GatherArgs a = valid;
        m.apply(a);
        accepted(c, m.what, call(a, g_stream), same);
    }
    Case& ok = rep.add("gather_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head},
                       "valid call after rejected ones, same stream", "cuda vs fp64 reference");
    ok.expect(call(valid, g_stream) == IVKIT_OK, "valid call");
    check_gather(ok, s, in, out.down_buf(s.dt, in.out0.n), nullptr);
}

void errors_patch_heads(Report& rep) {
    const PatchSpec s{2, 3, 2, 4, 3, 1, IVKIT_PATCH_ADD, IVKIT_DTYPE_F16, 3};
    const PatchInput in = make_patch(s);
    Dev z(in.z), rows(in.rows), pos(in.pos), head(in.head), values(in.values);
    const PatchArgs valid{z.p, s.batch, s.seq, s.heads, s.d_head, s.dt, rows.as<int64_t>(), pos.as<int64_t>(),
                          head.as<int64_t>(), values.p, s.stride, s.n, s.mode};
    auto same = [&] { return dev_equals(z, in.z); };
    Case& c = rep.add("patch_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head}, "rejected arguments",
                      "status, message, stream, z unchanged");
    for (const auto& m : patch_rejects()) {
        PatchArgs a = valid;
        m.apply(a);
        rejected(c, "patch_heads", m.what, call(a, g_stream), same);
    }
    for (const auto& m : patch_accepts()) {
        PatchArgs a = valid;
        m.apply(a);
        accepted(c, m.what, call(a, g_stream), same);
    }
    {  // n above the grid's y limit (cuda only)
        const int64_t big = 65536;
        Dev idx(static_cast<size_t>(big) * 8);
        PatchArgs a = valid;
        a.rows = a.pos = a.head = idx.as<int64_t>();
        a.n = big;
        rejected(c, "patch_heads", "n 65536 > 65535 (cuda)", call(a, g_stream), same);
    }
    Case& g = rep.add("patch_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head},
                      "indices out of range (not validated on CUDA)", "no write outside z (guard zones)");
    {
        const int64_t per = s.seq * s.heads * s.d_head, guard = 2 * per;
        Buf whole(s.dt, static_cast<size_t>(s.batch * per + 2 * guard));
        for (size_t i = 0; i < whole.n; ++i) whole.set(i, static_cast<double>(i % 11));
        Dev dw(whole);
        // every target has one index out of range: row = batch, row = -1, position = seq (and head = heads first)
        const std::vector<int64_t> br{s.batch, -1, 0}, bp{0, 0, s.seq}, bh{s.heads, 0, 0};
        Dev dr(br), dp(bp), dh(bh);
        PatchArgs a = valid;
        a.z = static_cast<uint16_t*>(dw.p) + guard;
        a.rows = dr.as<int64_t>(), a.pos = dp.as<int64_t>(), a.head = dh.as<int64_t>();
        const ivkit_status_t st = call(a, g_stream);
        g.expect(st == IVKIT_OK || st == IVKIT_ERR_INVALID_ARGUMENT, fmt("status %d", st));
        g.expect(cudaStreamSynchronize(g_stream) == cudaSuccess && cudaGetLastError() == cudaSuccess, "CUDA error");
        g.expect(dev_equals(dw, whole), "memory around and inside z unchanged");
    }
    Case& ok = rep.add("patch_heads", s.dt, {s.batch, s.seq, s.heads, s.d_head},
                       "valid call after rejected ones, same stream", "cuda vs fp64 reference");
    ok.expect(call(valid, g_stream) == IVKIT_OK, "valid call");
    check_patch(ok, s, in, z.down_buf(s.dt, in.z.n), nullptr);
}

void errors_kl_rows(Report& rep) {
    const KlSpec s{3, 5, IVKIT_DTYPE_F32, IVKIT_DTYPE_F32, IVKIT_KL_FORWARD, IVKIT_MASK_NONE, 1.0f, KL_NORMAL3, false, 4};
    const KlInput in = make_kl(s);
    const KlOutputs out0 = kl_filled(s.rows, s.vocab);
    const Buf &loss0 = out0.loss, &grad0 = out0.grad;
    Dev cur(in.cur), ref(in.ref), loss(loss0), grad(grad0);
    const KlCallArgs valid{cur.p, ref.p, s.rows, s.vocab, s.dt, nullptr, IVKIT_MASK_NONE, s.T, s.dir, loss.as<float>(),
                           grad.p, IVKIT_DTYPE_F32};
    auto same = [&] { return dev_equals(loss, loss0) && dev_equals(grad, grad0); };
    Case& c = rep.add("kl_rows", s.dt, {s.rows, s.vocab}, "rejected arguments",
                      "status, message, stream, loss and grad unchanged");
    apply_mutations(
        valid, kl_rejects(), kl_accepts(), [](const KlCallArgs& a) { return call(a, g_stream); },
        [&](const char* w, ivkit_status_t st) { rejected(c, "kl_rows", w, st, same); },
        [&](const char* w, ivkit_status_t st) { accepted(c, w, st, same); });
    {  // more rows than a grid holds: rejected before launch (nothing is read; the pointers only need to be non-null)
        KlCallArgs a = valid;
        a.rows = int64_t{1} << 31;
        a.vocab = 1;
        rejected(c, "kl_rows", "rows 2^31 (cuda)", call(a, g_stream), same);
    }
    Case& ok = rep.add("kl_rows", s.dt, {s.rows, s.vocab}, "valid call after rejected ones, same stream",
                       "cuda vs fp64 reference");
    ok.expect(call(valid, g_stream) == IVKIT_OK, "valid call");
    const KlRef R = kl_reference(in.cur, in.ref, 0, s.rows, s.vocab, in.weight, s.T, s.dir, IVKIT_DTYPE_F32, 1);
    const Buf l = loss.down_buf(IVKIT_DTYPE_F32, 3), g = grad.down_buf(IVKIT_DTYPE_F32, 15);
    check_kl(ok, R, s.rows, s.vocab, static_cast<const float*>(l.data()), &g, nullptr, nullptr, 1.0);
}

void errors_kl_topk_rows(Report& rep) {
    const TopkSpec s{3, 6, 2, IVKIT_DTYPE_F32, IVKIT_DTYPE_F32, IVKIT_KL_REVERSE, IVKIT_MASK_NONE, 1.0f, TK_NORMAL3, false, 5};
    const TopkInput in = make_topk(s);
    const KlOutputs out0 = kl_filled(s.rows, s.vocab);
    const Buf &loss0 = out0.loss, &grad0 = out0.grad;
    Dev cur(in.cur), ids(in.ids), logq(in.logq), lrest(in.lrest), loss(loss0), grad(grad0);
    const TopkCallArgs valid{cur.p, s.rows, s.vocab, s.dt, ids.as<int32_t>(), logq.as<float>(), lrest.as<float>(), s.k,
                             nullptr, IVKIT_MASK_NONE, s.T, s.dir, loss.as<float>(), grad.p, IVKIT_DTYPE_F32};
    auto same = [&] { return dev_equals(loss, loss0) && dev_equals(grad, grad0); };
    Case& c = rep.add("kl_topk_rows", s.dt, {s.rows, s.vocab}, "rejected arguments",
                      "status, message, stream, loss and grad unchanged");
    apply_mutations(
        valid, topk_rejects(), topk_accepts(), [](const TopkCallArgs& a) { return call(a, g_stream); },
        [&](const char* w, ivkit_status_t st) { rejected(c, "kl_topk_rows", w, st, same); },
        [&](const char* w, ivkit_status_t st) { accepted(c, w, st, same); });
    {  // more rows than a grid holds: rejected before launch (nothing is read; the pointers only need to be non-null)
        TopkCallArgs a = valid;
        a.rows = int64_t{1} << 31;
        rejected(c, "kl_topk_rows", "rows 2^31 (cuda)", call(a, g_stream), same);
    }
    {  // a vocabulary beyond the shared-memory id map: unsupported, before launch
        TopkCallArgs a = valid;
        a.vocab = 385025;
        const ivkit_status_t st = call(a, g_stream);
        c.expect(st == IVKIT_ERR_UNSUPPORTED, fmt("vocab 385025: status %d, want IVKIT_ERR_UNSUPPORTED", st));
        c.expect(cudaGetLastError() == cudaSuccess && cudaStreamSynchronize(g_stream) == cudaSuccess && same(),
                 "vocab 385025: stream usable, outputs unchanged");
    }
    {  // an id out of range in row 1: that row's loss is NaN, the others are right, nothing outside is touched
        std::vector<int32_t> bad = in.ids;
        bad[3] = 6;
        Dev bad_ids(bad);
        TopkCallArgs a = valid;
        a.ids = bad_ids.as<int32_t>();
        Case& b = rep.add("kl_topk_rows", s.dt, {s.rows, s.vocab}, "ids[1, 1] = vocab (unchecked on cuda)",
                          "row 1 loss NaN, other rows vs fp64 reference, stream usable");
        b.expect(call(a, g_stream) == IVKIT_OK, "status");
        b.expect(cudaStreamSynchronize(g_stream) == cudaSuccess && cudaGetLastError() == cudaSuccess, "stream usable");
        const Buf l = loss.down_buf(IVKIT_DTYPE_F32, 3);
        b.expect(std::isnan(l.at(1)), fmt("row 1 loss %g, want NaN", l.at(1)));
        const KlRef R = topk_reference(s, in, 0, s.rows, 1);
        b.close(l.at(0), R.loss[0], R.tol_loss[0], "loss", 0);
        b.close(l.at(2), R.loss[2], R.tol_loss[2], "loss", 2);
        loss.up(loss0.data(), loss0.size_bytes());
        grad.up(grad0.data(), grad0.size_bytes());
    }
    Case& ok = rep.add("kl_topk_rows", s.dt, {s.rows, s.vocab}, "valid call after rejected ones, same stream",
                       "cuda vs fp64 reference");
    ok.expect(call(valid, g_stream) == IVKIT_OK, "valid call");
    const Buf l = loss.down_buf(IVKIT_DTYPE_F32, 3), g = grad.down_buf(IVKIT_DTYPE_F32, 18);
    check_kl(ok, topk_reference(s, in, 0, s.rows, 1), s.rows, s.vocab, static_cast<const float*>(l.data()), &g, nullptr,
             nullptr, 1.0);
}

void errors_topk_logprobs(Report& rep) {
    const LogprobSpec s{3, 6, 2, IVKIT_DTYPE_BF16, 1.0f, TK_NORMAL3, 6};
    const Buf x = make_logprob(s);
    const std::vector<int32_t> ids0(6, -3);
    const std::vector<float> lp0(6, -7.0f), lr0(3, -9.0f);
    Dev dx(x), ids(ids0), lp(lp0), lr(lr0);
    const LogprobArgs valid{dx.p, s.rows, s.vocab, s.dt, s.T, s.k, ids.as<int32_t>(), lp.as<float>(), lr.as<float>()};
    auto same = [&] {
        std::vector<int32_t> i(6);
        std::vector<float> p(6), r(3);
        ids.down(i.data(), 24), lp.down(p.data(), 24), lr.down(r.data(), 12);
        return i == ids0 && p == lp0 && r == lr0;
    };
    Case& c = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, "rejected arguments",
                      "status, message, stream, outputs unchanged");
    apply_mutations(
        valid, logprob_rejects(), logprob_accepts(), [](const LogprobArgs& a) { return call(a, g_stream); },
        [&](const char* w, ivkit_status_t st) { rejected(c, "topk_logprobs", w, st, same); },
        [&](const char* w, ivkit_status_t st) { accepted(c, w, st, same); });
    {  // more kept tokens than the shared-memory pairs hold: unsupported, before launch
        LogprobArgs a = valid;
        a.vocab = 5000, a.k = 4097;
        const ivkit_status_t st = call(a, g_stream);
        c.expect(st == IVKIT_ERR_UNSUPPORTED, fmt("k 4097: status %d, want IVKIT_ERR_UNSUPPORTED", st));
        c.expect(cudaGetLastError() == cudaSuccess && cudaStreamSynchronize(g_stream) == cudaSuccess && same(),
                 "k 4097: stream usable, outputs unchanged");
    }
    Case& ok = rep.add("topk_logprobs", s.dt, {s.rows, s.vocab}, "valid call after rejected ones, same stream",
                       "cuda vs fp64 reference");
    ok.expect(call(valid, g_stream) == IVKIT_OK, "valid call");
    std::vector<int32_t> i(6);
    std::vector<float> p(6), r(3);
    ids.down(i.data(), 24), lp.down(p.data(), 24), lr.down(r.data(), 12);
    for (int64_t row = 0; row < s.rows; ++row)
        check_logprob_row(ok, s, x, row, i.data() + row * s.k, p.data() + row * s.k, r[static_cast<size_t>(row)]);
}

void errors_library(Report& rep) {
    Case& c = rep.add("abi", -1, {}, "version, device count, thread-local error text", "contract");
    c.expect(std::strcmp(ivkit_cuda_version(), IVKIT_TEST_EXPECTED_VERSION) == 0,
             fmt("ivkit_cuda_version() \"%s\", want \"%s\"", ivkit_cuda_version(), IVKIT_TEST_EXPECTED_VERSION));
    int n = 0;
    CK(cudaGetDeviceCount(&n));
    c.expect(ivkit_cuda_device_count() == n, fmt("ivkit_cuda_device_count() %d, cudaGetDeviceCount %d",
                                                 ivkit_cuda_device_count(), n));
    c.expect(ivkit_cuda_add_rows(nullptr, 1, 1, 9, nullptr, 1, nullptr, nullptr, 1, 1.0f, g_stream) ==
                 IVKIT_ERR_INVALID_ARGUMENT, "bad call");
    const std::string mine = ivkit_cuda_last_error();
    std::string other = "unset";
    std::thread([&] { other = ivkit_cuda_last_error(); }).join();
    c.expect(!mine.empty() && other.empty(), fmt("error text is per thread: here \"%s\", other thread \"%s\"", mine.c_str(),
                                                 other.c_str()));
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

// ---- timings --------------------------------------------------------------------------------------------------------

struct Times {
    double median_ms, min_ms;
    int iters;
};

// Each call between two events on g_stream; after warm-up calls. Median and minimum over the iterations.
template <class F>
Times time_calls(int warm, int iters, F fn) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < warm; ++i) fn();
    CK(cudaStreamSynchronize(g_stream));
    std::vector<double> ms;
    for (int i = 0; i < iters; ++i) {
        CK(cudaEventRecord(a, g_stream));
        fn();
        CK(cudaEventRecord(b, g_stream));
        CK(cudaEventSynchronize(b));
        float t = 0;
        CK(cudaEventElapsedTime(&t, a, b));
        ms.push_back(t);
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front(), iters};
}

// Largest max|logit| / T per row of a bf16 [rows, V] host array: bounds S of the error model without a double pass.
std::vector<double> row_absmax(const Buf& x, int64_t rows, int64_t V, float T) {
    std::vector<double> m(static_cast<size_t>(rows), 0.0);
    parallel_for(rows, hw_threads(), [&](int64_t r) {
        double a = 0;
        for (int64_t j = 0; j < V; ++j) a = std::max(a, std::fabs(x.at(static_cast<size_t>(r * V + j))));
        m[static_cast<size_t>(r)] = a / static_cast<double>(T);
    });
    return m;
}

void run_timing(Report& rep) {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    int drv = 0, rt = 0;
    CK(cudaDriverGetVersion(&drv));
    CK(cudaRuntimeGetVersion(&rt));
    std::string js = "\"device\": {\"name\": " + json_str(prop.name) + fmt(", \"cc\": \"%d.%d\"", prop.major, prop.minor) +
                     fmt(", \"sms\": %d, \"memory_bytes\": %zu, \"l2_bytes\": %d, \"driver\": %d, \"runtime\": %d}",
                         prop.multiProcessorCount, prop.totalGlobalMem, prop.l2CacheSize, drv, rt);

    const float T = 2.0f;
    const int warm = 2, iters = 10;
    // $IVKIT_TEST_TIMING_SHAPES ("ROWSxV,ROWSxV", e.g. for a GPU with less memory) replaces the default shapes.
    std::vector<std::pair<int64_t, int64_t>> shapes = {{4096, 32000}, {8192, 128256}};
    if (const char* env = std::getenv("IVKIT_TEST_TIMING_SHAPES"); env && *env) {
        shapes.clear();
        long long r = 0, v = 0;
        int used = 0;
        for (const char* p = env; std::sscanf(p, "%lldx%lld%n", &r, &v, &used) == 2; p += used + (p[used] == ',' ? 1 : 0)) {
            shapes.push_back({r, v});
            if (p[used] != ',') break;
        }
        if (shapes.empty()) throw std::runtime_error(fmt("IVKIT_TEST_TIMING_SHAPES=\"%s\": want ROWSxV[,ROWSxV...]", env));
    }
    double copy_gbps = 0;
    std::string kl_js;
    std::printf("timing on %s (cc %d.%d, %d SMs)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    {  // the copy, on a buffer the size of the largest logits tensor: reads and writes `bytes` each
        const size_t bytes = static_cast<size_t>(shapes.back().first * shapes.back().second) * 2;
        Dev src(bytes), dst(bytes);
        CK(fill_normal_bf16(src.p, static_cast<int64_t>(bytes / 2), 7, 1.0f, g_stream));
        const Times t = time_calls(warm, iters, [&] {
            CK(cudaMemcpyAsync(dst.p, src.p, bytes, cudaMemcpyDeviceToDevice, g_stream));
        });
        copy_gbps = 2.0 * static_cast<double>(bytes) / (t.median_ms * 1e-3) / 1e9;
        js += fmt(",\n \"copy\": {\"api\": \"cudaMemcpyAsync D2D\", \"bytes\": %zu, \"bytes_moved\": %zu, "
                  "\"ms_median\": %s, \"ms_min\": %s, \"iters\": %d, \"gb_per_s\": %s, "
                  "\"convention\": \"bytes read + bytes written per second, 1e9\"}",
                  bytes, 2 * bytes, json_num(t.median_ms).c_str(), json_num(t.min_ms).c_str(), t.iters,
                  json_num(copy_gbps).c_str());
        std::printf("  copy %zu bytes D2D: %.3f ms median, %.0f GB/s (read + write)\n", bytes, t.median_ms, copy_gbps);
    }
    for (size_t si = 0; si < shapes.size(); ++si) {
        const int64_t rows = shapes[si].first, V = shapes[si].second;
        const size_t n = static_cast<size_t>(rows * V), bytes = n * 2;
        size_t free_b = 0, total_b = 0;
        CK(cudaMemGetInfo(&free_b, &total_b));
        Case& mem = rep.add("kl_rows", IVKIT_DTYPE_BF16, {rows, V}, "device memory for the timing buffers", "cudaMemGetInfo");
        mem.expect(free_b > 3 * bytes + (size_t{1} << 28), fmt("needs %zu bytes, %zu free", 3 * bytes, free_b));
        if (mem.failed) continue;
        Dev cur(bytes), ref(bytes), grad(bytes), loss(static_cast<size_t>(rows) * 4);
        CK(fill_normal_bf16(cur.p, static_cast<int64_t>(n), 11 + si, 3.0f, g_stream));
        CK(fill_normal_bf16(ref.p, static_cast<int64_t>(n), 23 + si, 3.0f, g_stream));
        CK(cudaStreamSynchronize(g_stream));

        // Host copies of the inputs, for the CPU path and the reference.
        Buf hcur(IVKIT_DTYPE_BF16, n), href(IVKIT_DTYPE_BF16, n);
        cur.down(hcur.data(), bytes);
        ref.down(href.data(), bytes);
        const std::vector<double> amax = row_absmax(hcur, rows, V, T), bmax = row_absmax(href, rows, V, T);
        // Sampled rows for the full check (loss and every gradient element): 8 at each end and 8 in the middle.
        std::vector<int64_t> sample;
        for (int64_t r = 0; r < 8; ++r) sample.push_back(r), sample.push_back(rows / 2 - 4 + r), sample.push_back(rows - 8 + r);
        std::sort(sample.begin(), sample.end());
        const int64_t ns = static_cast<int64_t>(sample.size());
        Buf scur(IVKIT_DTYPE_BF16, static_cast<size_t>(ns * V)), sref(IVKIT_DTYPE_BF16, static_cast<size_t>(ns * V));
        for (int64_t i = 0; i < ns; ++i) {
            std::memcpy(static_cast<uint16_t*>(scur.data()) + i * V, static_cast<const uint16_t*>(hcur.data()) + sample[i] * V, V * 2);
            std::memcpy(static_cast<uint16_t*>(sref.data()) + i * V, static_cast<const uint16_t*>(href.data()) + sample[i] * V, V * 2);
        }

        struct Variant {
            int dir;
            bool with_grad;
        };
        for (const Variant& var : {Variant{IVKIT_KL_REVERSE, true}, Variant{IVKIT_KL_FORWARD, true}, Variant{IVKIT_KL_REVERSE, false}}) {
            const char* dname = var.dir == IVKIT_KL_FORWARD ? "forward" : "reverse";
            ivkit_status_t st = IVKIT_OK;
            const Times t = time_calls(warm, iters, [&] {
                const ivkit_status_t s1 = ivkit_cuda_kl_rows(cur.p, ref.p, rows, V, IVKIT_DTYPE_BF16, nullptr, IVKIT_MASK_NONE, T,
                                                             var.dir, loss.as<float>(), var.with_grad ? grad.p : nullptr,
                                                             IVKIT_DTYPE_BF16, g_stream);
                if (s1 != IVKIT_OK) st = s1;
            });
            const double moved = static_cast<double>((var.with_grad ? 3 : 2) * bytes + static_cast<size_t>(rows) * 4);
            const double gbps = moved / (t.median_ms * 1e-3) / 1e9;
            const double share = copy_gbps > 0 ? gbps / copy_gbps : NAN;
            const std::string what = fmt("%s T=%g grad=%s, timed", dname, static_cast<double>(T), var.with_grad ? "bf16" : "none");
            std::printf("  kl_rows %lldx%lld bf16 %s%s: %.3f ms median (min %.3f), %.0f GB/s of the minimum traffic, %.2f of the copy\n",
                        static_cast<long long>(rows), static_cast<long long>(V), dname, var.with_grad ? " fwd+bwd" : " loss only",
                        t.median_ms, t.min_ms, gbps, share);
            kl_js += fmt("%s\n  {\"shape\": [%lld, %lld], \"dtype\": \"bf16\", \"direction\": \"%s\", \"grad\": \"%s\", "
                         "\"temperature\": %g, \"iters\": %d, \"warmup\": %d, \"ms_median\": %s, \"ms_min\": %s, "
                         "\"bytes_min\": %.0f, \"gb_per_s\": %s, \"share_of_copy\": %s}",
                         kl_js.empty() ? "" : ",", static_cast<long long>(rows), static_cast<long long>(V), dname,
                         var.with_grad ? "bf16" : "none", static_cast<double>(T), t.iters, warm,
                         json_num(t.median_ms).c_str(), json_num(t.min_ms).c_str(), moved, json_num(gbps).c_str(),
                         json_num(share).c_str());

            // The timed outputs (the last call's): every row's loss against the CPU path, sampled rows in full.
            CK(cudaStreamSynchronize(g_stream));
            std::vector<float> gl(static_cast<size_t>(rows)), cl(static_cast<size_t>(rows), NAN);
            loss.down(gl.data(), gl.size() * 4);
            Case& all = rep.add("kl_rows", IVKIT_DTYPE_BF16, {rows, V}, what, "cuda vs cpu kernel, loss of every row");
            all.expect(st == IVKIT_OK, fmt("status %d: %s", st, ivkit_cuda_last_error()));
            all.expect(ivkit_kl_rows(hcur.data(), href.data(), rows, V, IVKIT_DTYPE_BF16, nullptr, IVKIT_MASK_NONE, T, var.dir,
                                     cl.data(), nullptr, IVKIT_DTYPE_BF16, hw_threads()) == IVKIT_OK, "cpu call");
            const double logv = std::log(static_cast<double>(V));
            for (int64_t r = 0; r < rows; ++r) {
                // S of the error model with |lse| <= max|logit| / T + log V (no exp needed): a looser bound, same model.
                const double S = 1.0 + 2.0 * amax[static_cast<size_t>(r)] + 2.0 * bmax[static_cast<size_t>(r)] + 2.0 * logv;
                const double tol = kLossK * kU * S + 4.0 * kU * std::fabs(cl[static_cast<size_t>(r)]);
                all.close(gl[static_cast<size_t>(r)], cl[static_cast<size_t>(r)], 2.0 * tol, "loss", r);
            }
            std::vector<double> ones(static_cast<size_t>(ns), 1.0);
            const int gdt = var.with_grad ? IVKIT_DTYPE_BF16 : -1;
            const KlRef R = kl_reference(scur, sref, 0, ns, V, ones, T, var.dir, gdt, hw_threads());
            std::vector<float> sl(static_cast<size_t>(ns)), scl(static_cast<size_t>(ns));
            Buf sg(IVKIT_DTYPE_BF16, static_cast<size_t>(ns * V)), scg(IVKIT_DTYPE_BF16, static_cast<size_t>(ns * V));
            for (int64_t i = 0; i < ns; ++i) {
                sl[static_cast<size_t>(i)] = gl[static_cast<size_t>(sample[i])];
                if (var.with_grad)
                    grad.down(static_cast<uint16_t*>(sg.data()) + i * V, static_cast<size_t>(V) * 2,
                              static_cast<size_t>(sample[i] * V) * 2);
            }
            const bool cok = ivkit_kl_rows(scur.data(), sref.data(), ns, V, IVKIT_DTYPE_BF16, nullptr, IVKIT_MASK_NONE, T, var.dir,
                                           scl.data(), var.with_grad ? scg.data() : nullptr, IVKIT_DTYPE_BF16,
                                           hw_threads()) == IVKIT_OK;
            const std::vector<int64_t> sshape{rows, V};
            Case& sc = rep.add("kl_rows", IVKIT_DTYPE_BF16, sshape, what + fmt(", %lld sampled rows", static_cast<long long>(ns)),
                               "cuda vs cpu kernel");
            sc.expect(cok, "cpu call");
            check_kl(sc, R, ns, V, sl.data(), var.with_grad ? &sg : nullptr, scl.data(), var.with_grad ? &scg : nullptr, 2.0);
            Case& sr = rep.add("kl_rows", IVKIT_DTYPE_BF16, sshape, what + fmt(", %lld sampled rows", static_cast<long long>(ns)),
                               "cuda vs fp64 reference");
            check_kl(sr, R, ns, V, sl.data(), var.with_grad ? &sg : nullptr, nullptr, nullptr, 1.0);
        }
    }
    rep.extra = "\"timing\": {" + js + ",\n \"kl_rows\": [" + kl_js + "]}";
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::pair<std::string, std::function<void(Report&)>>> groups = {
        {"add_rows", run_add_rows}, {"gather_heads", run_gather_heads}, {"patch_heads", run_patch_heads},
        {"kl_rows", run_kl_rows}, {"kl_topk_rows", run_kl_topk_rows}, {"topk_logprobs", run_topk_logprobs},
        {"errors", run_errors},
        {"timing", run_timing}};
    std::vector<std::string> want(argv + 1, argv + argc);
    if (want.empty())
        for (const auto& g : groups) want.push_back(g.first);
    for (const std::string& name : want)
        if (std::none_of(groups.begin(), groups.end(), [&](const auto& g) { return g.first == name; })) {
            std::fprintf(stderr, "usage: ivkit_cuda_test [add_rows|gather_heads|patch_heads|kl_rows|kl_topk_rows|topk_logprobs|errors|timing]...\n");
            return 2;
        }

    // No device (no GPU, no driver, or a driver older than this runtime): every group is skipped, with the reason.
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    std::string skip;
    if (e != cudaSuccess) {
        skip = fmt("no CUDA device: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    } else if (n == 0) {
        skip = "no CUDA device: cudaGetDeviceCount = 0";
    }
    if (skip.empty()) {
        const cudaError_t s = cudaSetDevice(0) == cudaSuccess ? cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking)
                                                              : cudaGetLastError();
        if (s != cudaSuccess) skip = fmt("CUDA device unusable: %s", cudaGetErrorString(s));
    }
    int rc = 0, skipped = 0;
    for (const std::string& name : want) {
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == name; });
        Report rep("cuda", name);
        const auto t0 = std::chrono::steady_clock::now();
        if (!skip.empty()) {
            rep.skip_reason = skip;
        } else {
            try {
                it->second(rep);
            } catch (const std::exception& ex) {
                rep.add(name, -1, {}, "harness", "no exception").fail(fmt("exception: %s", ex.what()));
            }
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rep.extra += std::string(rep.extra.empty() ? "" : ", ") + "\"seconds\": " + json_num(secs);
        const int r = rep.finish("");
        if (r == 77) ++skipped;
        else rc = std::max(rc, r);
    }
    if (rc == 0 && skipped == static_cast<int>(want.size())) return 77;
    return rc;
}
