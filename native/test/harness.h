// Test harness of the Java-free native checks (docs/native-tests.md): a seeded random source, an element codec for
// float32 / bfloat16 / float16 written here from the formats' definitions (frexp / ldexp, independent of the library's
// core/dtype.h), and the bookkeeping of checks: cases with counts and worst error-to-tolerance ratios, printed as text
// and written as one JSON object per test group.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "ivkit/ivkit.h"

namespace ivt {

// ---- random numbers -------------------------------------------------------------------------------------------------

// splitmix64: tiny, seedable, good enough for test inputs.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    double normal() {
        const double u1 = 1.0 - uniform(), u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

// n distinct values of [0, range), in random order (partial Fisher-Yates over an index map).
inline std::vector<int64_t> distinct(Rng& r, int64_t n, int64_t range) {
    std::vector<int64_t> all(static_cast<size_t>(range));
    for (int64_t i = 0; i < range; ++i) all[static_cast<size_t>(i)] = i;
    for (int64_t i = 0; i < n; ++i) std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(i + r.below(range - i))]);
    all.resize(static_cast<size_t>(n));
    return all;
}

// ---- element formats ------------------------------------------------------------------------------------------------

inline const char* dt_name(int dt) {
    return dt == IVKIT_DTYPE_F32 ? "f32" : dt == IVKIT_DTYPE_BF16 ? "bf16" : dt == IVKIT_DTYPE_F16 ? "f16" : "?";
}
inline size_t dt_size(int dt) { return dt == IVKIT_DTYPE_F32 ? 4 : 2; }
// Significand bits (with the implicit one) and the smallest frexp exponent of a normal number.
inline int dt_precision(int dt) { return dt == IVKIT_DTYPE_F32 ? 24 : dt == IVKIT_DTYPE_BF16 ? 8 : 11; }
inline int dt_emin(int dt) { return dt == IVKIT_DTYPE_F16 ? -13 : -125; }

// Spacing of dt's values at magnitude |a| (subnormal spacing below the normal range).
inline double ulp(int dt, double a) {
    int e = dt_emin(dt);
    if (a != 0.0 && std::isfinite(a)) {
        std::frexp(std::fabs(a), &e);
        e = std::max(e, dt_emin(dt));
    }
    return std::ldexp(1.0, e - dt_precision(dt));
}

// The value of dt nearest to x (ties to even; the default rounding mode), in double. Used to make inputs that the
// format holds exactly. Finite x within the format's range only.
inline double round_to(int dt, double x) {
    if (x == 0.0 || !std::isfinite(x)) return x;
    int e;
    std::frexp(x, &e);
    e = std::max(e, dt_emin(dt));
    const int p = dt_precision(dt);
    return std::ldexp(std::nearbyint(std::ldexp(x, p - e)), e - p);
}

inline uint16_t f16_bits(double q) {  // q exactly representable (or NaN)
    if (std::isnan(q)) return 0x7e00u;
    const uint16_t sign = std::signbit(q) ? 0x8000u : 0u;
    q = std::fabs(q);
    if (q == 0.0) return sign;
    if (std::isinf(q)) return static_cast<uint16_t>(sign | 0x7c00u);
    int e;
    const double m = std::frexp(q, &e);  // q = m 2^e, m in [0.5, 1)
    if (e >= -13) return static_cast<uint16_t>(sign | ((e + 14) << 10) | static_cast<uint16_t>((2.0 * m - 1.0) * 1024.0));
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::ldexp(q, 24)));  // subnormal: q / 2^-24
}

inline double f16_value(uint16_t h) {
    const double s = (h & 0x8000u) ? -1.0 : 1.0;
    const int E = (h >> 10) & 31, M = h & 1023;
    if (E == 0) return s * std::ldexp(M, -24);
    if (E == 31) return M ? NAN : s * INFINITY;
    return s * std::ldexp(1024 + M, E - 25);
}

// Stores x, which dt must hold exactly (made by round_to), at element i.
inline void put(int dt, void* base, size_t i, double x) {
    if (dt == IVKIT_DTYPE_F32) {
        static_cast<float*>(base)[i] = static_cast<float>(x);
    } else if (dt == IVKIT_DTYPE_BF16) {
        const float f = static_cast<float>(x);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        static_cast<uint16_t*>(base)[i] = static_cast<uint16_t>(u >> 16);  // exact: the low half is zero
    } else {
        static_cast<uint16_t*>(base)[i] = f16_bits(x);
    }
}

inline double get(int dt, const void* base, size_t i) {
    if (dt == IVKIT_DTYPE_F32) return static_cast<const float*>(base)[i];
    const uint16_t h = static_cast<const uint16_t*>(base)[i];
    if (dt == IVKIT_DTYPE_BF16) {
        const uint32_t u = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
    return f16_value(h);
}

inline uint32_t bits_of(int dt, const void* base, size_t i) {
    if (dt == IVKIT_DTYPE_F32) {
        uint32_t u;
        std::memcpy(&u, static_cast<const float*>(base) + i, 4);
        return u;
    }
    return static_cast<const uint16_t*>(base)[i];
}

// A host tensor of one dtype: raw bytes plus typed access in double.
struct Buf {
    int dt = IVKIT_DTYPE_F32;
    size_t n = 0;
    std::vector<unsigned char> bytes;
    Buf() = default;
    Buf(int dtype, size_t count) : dt(dtype), n(count), bytes(count * dt_size(dtype)) {}
    void* data() { return bytes.data(); }
    const void* data() const { return bytes.data(); }
    size_t size_bytes() const { return bytes.size(); }
    double at(size_t i) const { return get(dt, bytes.data(), i); }
    void set(size_t i, double x) { put(dt, bytes.data(), i, x); }
    uint32_t bits(size_t i) const { return bits_of(dt, bytes.data(), i); }
};

// ---- checks and reports ---------------------------------------------------------------------------------------------

inline std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
inline std::string fmt(const char* f, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

inline std::string json_str(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            o += fmt("\\u%04x", static_cast<unsigned>(c));
        } else {
            o += c;
        }
    }
    return o + "\"";
}

inline std::string json_num(double x) {
    if (!std::isfinite(x)) return "null";
    return fmt("%.6g", x);
}

inline std::string shape_str(const std::vector<int64_t>& s) {
    std::string o;
    for (size_t i = 0; i < s.size(); ++i) o += (i ? "x" : "") + std::to_string(s[i]);
    return o;
}

// One case: a kernel on one dtype and shape, one variant, compared one way. Counts every element or assertion.
struct Case {
    std::string kernel, dtype, variant, compare;
    std::vector<int64_t> shape;
    int64_t checked = 0, failed = 0, exact = 0;
    double max_ratio = 0.0;  // worst |got - want| / tol over the tolerance checks (0 for exact checks)
    std::string first_failure;

    void fail(const std::string& what) {
        ++failed;
        if (first_failure.empty()) first_failure = what;
    }
    // |got - want| <= tol, both finite (or both exactly equal); NaN fails.
    void close(double got, double want, double tol, const char* what, int64_t index) {
        ++checked;
        const double err = std::fabs(got - want);
        if (got == want) ++exact;
        const double ratio = got == want ? 0.0 : (tol > 0 ? err / tol : INFINITY);
        if (!(ratio <= 1.0)) {
            fail(fmt("%s[%lld]: got %.9g, want %.9g, |err| %.3g > tol %.3g", what, static_cast<long long>(index), got, want,
                     err, tol));
        }
        if (!(ratio <= max_ratio)) max_ratio = std::isnan(ratio) ? INFINITY : ratio;
    }
    // A value rounded to dt: |got - want| may exceed the model tolerance by the rounding allowance, half a unit of dt
    // at the smaller of the two magnitudes (the half-gap on the side towards want: got is the nearest value of dt to
    // something within tol of want). pair: want is itself a rounded output (another backend's), so a whole unit.
    // The ratio reported is the excess over the allowance divided by tol: the model's share alone.
    void rounded(double got, double want, double tol, int dt, bool pair, const char* what, int64_t index) {
        ++checked;
        if (got == want) {
            ++exact;
            return;
        }
        const double a = std::fabs(got), b = std::fabs(want);
        const double allowance = pair ? ulp(dt, std::max(a, b)) : 0.5 * ulp(dt, std::min(a, b));
        const double err = std::fabs(got - want), excess = std::max(0.0, err - allowance);
        const double ratio = excess == 0.0 ? 0.0 : (tol > 0 ? excess / tol : INFINITY);
        if (!(ratio <= 1.0)) {
            fail(fmt("%s[%lld]: got %.9g, want %.9g, |err| %.3g > tol %.3g + rounding %.3g", what,
                     static_cast<long long>(index), got, want, err, tol, allowance));
        }
        if (!(ratio <= max_ratio)) max_ratio = std::isnan(ratio) ? INFINITY : ratio;
    }
    void same_bits(uint32_t got, uint32_t want, const char* what, int64_t index) {
        ++checked;
        if (got == want) {
            ++exact;
        } else {
            fail(fmt("%s[%lld]: bits 0x%x, want 0x%x", what, static_cast<long long>(index), got, want));
        }
    }
    void expect(bool ok, const std::string& what) {
        ++checked;
        if (!ok) fail(what);
    }
};

struct Report {
    std::string suite, group;
    std::deque<Case> cases;
    std::string extra;        // additional JSON members (the timing group's results), without braces
    std::string skip_reason;  // non-empty: the group was skipped

    Report(std::string s, std::string g) : suite(std::move(s)), group(std::move(g)) {}

    Case& add(const std::string& kernel, int dt, std::vector<int64_t> shape, const std::string& variant,
              const std::string& compare) {
        cases.emplace_back();
        Case& c = cases.back();
        c.kernel = kernel;
        c.dtype = dt < 0 ? "-" : dt_name(dt);
        c.shape = std::move(shape);
        c.variant = variant;
        c.compare = compare;
        return c;
    }

    int64_t failures() const {
        int64_t f = 0;
        for (const Case& c : cases) f += c.failed;
        return f;
    }

    std::string json() const {
        const char* status = !skip_reason.empty() ? "skip" : failures() ? "fail" : "pass";
        int64_t checked = 0, failed = 0;
        for (const Case& c : cases) {
            checked += c.checked;
            failed += c.failed;
        }
        std::string o = "{\"status\": \"" + std::string(status) + "\", \"suite\": " + json_str(suite) +
                        ", \"group\": " + json_str(group) + ", \"checks\": " + std::to_string(checked) +
                        ", \"failed\": " + std::to_string(failed);
        if (!skip_reason.empty()) o += ", \"skip_reason\": " + json_str(skip_reason);
        o += ", \"cases\": [";
        for (size_t i = 0; i < cases.size(); ++i) {
            const Case& c = cases[i];
            o += std::string(i ? "," : "") + "\n  {\"kernel\": " + json_str(c.kernel) + ", \"dtype\": " + json_str(c.dtype) +
                 ", \"shape\": [";
            for (size_t k = 0; k < c.shape.size(); ++k) o += (k ? ", " : "") + std::to_string(c.shape[k]);
            o += "], \"variant\": " + json_str(c.variant) + ", \"compare\": " + json_str(c.compare) +
                 ", \"checked\": " + std::to_string(c.checked) + ", \"failed\": " + std::to_string(c.failed) +
                 ", \"exact\": " + std::to_string(c.exact) + ", \"max_err_over_tol\": " + json_num(c.max_ratio) +
                 ", \"pass\": " + (c.failed ? "false" : "true");
            if (!c.first_failure.empty()) o += ", \"first_failure\": " + json_str(c.first_failure);
            o += "}";
        }
        o += "]";
        if (!extra.empty()) o += ",\n " + extra;
        return o + "}\n";
    }

    // Prints one line per case, writes the JSON (to json_path, else $IVKIT_TEST_JSON_DIR/<suite>.<group>.json, else
    // nowhere) and returns the exit code: 0 pass, 1 fail, 77 skipped (CTest's SKIP_RETURN_CODE).
    int finish(const std::string& json_path) const {
        int64_t checked = 0;
        for (const Case& c : cases) {
            checked += c.checked;
            std::printf("%s %s %s [%s] %s (%s): %lld checked, %lld exact, max err/tol %.3g\n", c.failed ? "FAIL" : "ok  ",
                        c.kernel.c_str(), c.dtype.c_str(), shape_str(c.shape).c_str(), c.variant.c_str(), c.compare.c_str(),
                        static_cast<long long>(c.checked), static_cast<long long>(c.exact), c.max_ratio);
            if (c.failed)
                std::printf("     %lld failed; first: %s\n", static_cast<long long>(c.failed), c.first_failure.c_str());
        }
        std::string path = json_path;
        if (path.empty()) {
            const char* dir = std::getenv("IVKIT_TEST_JSON_DIR");
            if (dir && *dir) path = std::string(dir) + "/" + suite + "." + group + ".json";
        }
        if (!path.empty()) {
            if (FILE* f = std::fopen(path.c_str(), "w")) {
                const std::string j = json();
                std::fwrite(j.data(), 1, j.size(), f);
                std::fclose(f);
            } else {
                std::printf("cannot write %s\n", path.c_str());
            }
        }
        if (!skip_reason.empty()) {
            std::printf("SKIP %s.%s: %s\n", suite.c_str(), group.c_str(), skip_reason.c_str());
            return 77;
        }
        const int64_t f = failures();
        std::printf("%s %s.%s: %zu cases, %lld checks, %lld failed\n", f ? "FAILED" : "PASSED", suite.c_str(), group.c_str(),
                    cases.size(), static_cast<long long>(checked), static_cast<long long>(f));
        return f ? 1 : 0;
    }
};

}  // namespace ivt
