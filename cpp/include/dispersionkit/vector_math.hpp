// Tells GCC that glibc's libmvec has SIMD variants of exp/log/erfc, so loops
// calling them vectorize without -ffast-math (which would break NaN propagation). glibc only
// declares these itself under __FAST_MATH__. Requires -fopenmp-simd -fno-math-errno.
#pragma once

#include <cmath>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
extern "C" {
#pragma omp declare simd notinbranch
double exp(double) noexcept;
#pragma omp declare simd notinbranch
double log(double) noexcept;
#pragma omp declare simd notinbranch
double erfc(double) noexcept;
}
#endif

namespace dk {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// Standard normal CDF via erfc: accurate in the lower tail, where 1 - Phi(-x) would cancel.
inline double norm_cdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }
inline double norm_pdf(double x) { return kInvSqrt2Pi * std::exp(-0.5 * x * x); }

}  // namespace dk
