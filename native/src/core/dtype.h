// Element conversions shared by host and device code. bf16/f16 are handled as raw uint16_t bits so
// that the CPU library needs no CUDA headers; rounding is round-to-nearest-even, as libtorch does.
#pragma once
#include <cstdint>
#include <cstring>
#include "ivkit/ivkit.h"

#if defined(__CUDACC__)
#define IVKIT_HD __host__ __device__ __forceinline__
#else
#define IVKIT_HD inline
#endif

namespace ivkit {

IVKIT_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
#endif
}

IVKIT_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
#endif
}

IVKIT_HD float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

IVKIT_HD uint16_t float_to_bf16(float f) {
    uint32_t u = float_to_bits(f);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
    return static_cast<uint16_t>(u >> 16);
}

IVKIT_HD float f16_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        if (man == 0) return bits_to_float(sign);
        // subnormal: normalise
        int e = -1;
        do { ++e; man <<= 1; } while ((man & 0x400u) == 0);
        man &= 0x3ffu;
        return bits_to_float(sign | (static_cast<uint32_t>(112 - e) << 23) | (man << 13));
    }
    if (exp == 31) return bits_to_float(sign | 0x7f800000u | (man << 13));
    return bits_to_float(sign | ((exp + 112) << 23) | (man << 13));
}

IVKIT_HD uint16_t float_to_f16(float f) {
    const uint32_t u = float_to_bits(f);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
    if (abs < 0x38800000u) {                                                 // result is subnormal or zero
        if (abs < 0x33000000u) return static_cast<uint16_t>(sign);           // < 2^-25: rounds to zero
        const uint32_t e = abs >> 23;
        const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;                                      // 14 + (112 - e) + 1 ... in [14, 24]
        uint32_t r = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1u))) ++r;
        return static_cast<uint16_t>(sign | r);
    }
    uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
    r += 0xfffu + ((r >> 13) & 1u);  // round to nearest even on the 13 dropped bits
    return static_cast<uint16_t>(sign | (r >> 13));
}

// Typed load/store in fp32 for the three supported dtypes.
template <int DT> struct Elem;
template <> struct Elem<IVKIT_DTYPE_F32> {
    using T = float;
    static IVKIT_HD float load(T v) { return v; }
    static IVKIT_HD T store(float f) { return f; }
};
template <> struct Elem<IVKIT_DTYPE_BF16> {
    using T = uint16_t;
    static IVKIT_HD float load(T v) { return bf16_to_float(v); }
    static IVKIT_HD T store(float f) { return float_to_bf16(f); }
};
template <> struct Elem<IVKIT_DTYPE_F16> {
    using T = uint16_t;
    static IVKIT_HD float load(T v) { return f16_to_float(v); }
    static IVKIT_HD T store(float f) { return float_to_f16(f); }
};

inline const char* dtype_name(ivkit_dtype_t dt) {
    switch (dt) {
        case IVKIT_DTYPE_F32: return "float32";
        case IVKIT_DTYPE_BF16: return "bfloat16";
        case IVKIT_DTYPE_F16: return "float16";
        default: return "unknown";
    }
}

}  // namespace ivkit
