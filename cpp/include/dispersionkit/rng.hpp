// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011) and the normal / uniform transforms the path simulator uses.
//
// A counter-based generator has no state to carry from one draw to the next: the draw for a
// given (seed, path, step, block) is a pure function of those numbers, so any split of the
// work over threads, chunks or machines reproduces the same random numbers bit for bit.
// Everything here is inline and branch-free so loops over lanes vectorize.
#pragma once

#include <cstdint>
#include <cstring>

namespace dk::rng {

constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kPhiloxRounds = 10;

struct Philox4x32 {
    std::uint32_t v[4];
};

// Philox4x32 with 10 rounds; the key schedule bumps the key before rounds 2..10 (Random123).
inline Philox4x32 philox4x32_10(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                std::uint32_t k0, std::uint32_t k1) {
    for (int r = 0; r < kPhiloxRounds; ++r) {
        if (r > 0) {
            k0 += kPhiloxW0;
            k1 += kPhiloxW1;
        }
        const std::uint64_t p0 = static_cast<std::uint64_t>(kPhiloxM0) * c0;
        const std::uint64_t p1 = static_cast<std::uint64_t>(kPhiloxM1) * c2;
        const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
        const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    return Philox4x32{{c0, c1, c2, c3}};
}

// Uniform on the open interval (0, 1) from the top 52 bits k of two words: (k + 1/2) / 2^52,
// so the logarithm in Box-Muller is always finite. Built by placing k in the mantissa of a
// double in [1, 2) (every step exact), because 64-bit integer -> double conversion has no
// SIMD instruction before AVX-512DQ and would stop the AVX2 / SSE2 builds from vectorizing.
inline double open_unit(std::uint32_t lo, std::uint32_t hi) {
    const std::uint64_t k = ((static_cast<std::uint64_t>(hi) << 32) | lo) >> 12;
    const std::uint64_t bits = 0x3FF0000000000000ull | k;
    double one_plus;
    std::memcpy(&one_plus, &bits, sizeof one_plus);
    return (one_plus - 1.0) + 0x1.0p-53;
}

// Uniform on (0, 1) from one word: (x + 1/2) / 2^32, built the same exact way. Used for
// Box-Muller (as cuRAND's normal4 does), so one Philox block gives four normals; the
// smallest value 2^-33 caps |normal| at sqrt(66 ln 2) = 6.76, which a draw from N(0, 1)
// exceeds with probability 1.4e-11.
inline double open_unit32(std::uint32_t x) {
    const std::uint64_t bits = 0x3FF0000000000000ull | (static_cast<std::uint64_t>(x) << 20);
    double one_plus;
    std::memcpy(&one_plus, &bits, sizeof one_plus);
    return (one_plus - 1.0) + 0x1.0p-33;
}

}  // namespace dk::rng
