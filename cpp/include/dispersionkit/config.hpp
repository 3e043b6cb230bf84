// Platform guards and constants shared by every kernel: the one place that decides which
// compiler features a build uses.
//
// - DK_LIBMVEC: glibc's libmvec has SIMD variants of exp, log, erfc, expm1, log1p, sin and
//   cos (and of expf, logf, erfcf). GCC vectorizes loops calling them only when it knows those variants
//   exist, which glibc declares itself only under __FAST_MATH__; -ffast-math is not an option (it breaks the
//   NaN propagation missing market data relies on), so they are declared here. Requires -fopenmp-simd
//   -fno-math-errno (CMakeLists.txt).
// - DK_SIMD_CLONES: run-time ISA dispatch for hot loops. Portable builds compile each marked
//   function three times (AVX-512, AVX2+FMA, baseline x86-64) and glibc's ifunc picks one at
//   load time, so a wheel built here runs anywhere and still uses libmvec's 8-wide AVX-512
//   math on a machine that has it. -DDK_NATIVE=ON (-march=native) uses a single version.
//   DK_ISA_VERSIONS: the same dispatch for hand-written per-ISA versions of a function.
// - Sanitizer builds (ASan, TSan) use a single version too: ifunc resolvers run while the
//   library is being relocated, before the sanitizer runtime is ready for instrumented code.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DK_SANITIZER_BUILD 1
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DK_LIBMVEC 1
#endif

#if defined(DK_LIBMVEC) && !defined(DK_NATIVE_BUILD) && !defined(DK_SANITIZER_BUILD)
#define DK_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
// Hand-written per-ISA versions of one function, for kernels whose best register tiling depends
// on the vector width (AVX-512 has 32 registers of 8 doubles, AVX2 16 of 4): the function is
// defined three times with DK_ISA_AVX512 / DK_ISA_AVX2 / DK_ISA_DEFAULT and GCC's function
// multiversioning picks one at load time, as for DK_SIMD_CLONES. Builds without clones define
// it once, for the ISA they compile for (DK_ISA_VERSIONS undefined).
#define DK_ISA_VERSIONS 1
#define DK_ISA_AVX512 __attribute__((target("arch=x86-64-v4")))
#define DK_ISA_AVX2 __attribute__((target("arch=x86-64-v3")))
#define DK_ISA_DEFAULT __attribute__((target("default")))
#else
#define DK_SIMD_CLONES
#endif

#ifdef DK_LIBMVEC
extern "C" {
#pragma omp declare simd notinbranch
double exp(double) noexcept;
#pragma omp declare simd notinbranch
double log(double) noexcept;
#pragma omp declare simd notinbranch
double erfc(double) noexcept;
#pragma omp declare simd notinbranch
double expm1(double) noexcept;
#pragma omp declare simd notinbranch
double log1p(double) noexcept;
#pragma omp declare simd notinbranch
double sin(double) noexcept;
#pragma omp declare simd notinbranch
double cos(double) noexcept;
// float variants (bs_greeks' float32 mode): 16 lanes per AVX-512 vector.
#pragma omp declare simd notinbranch
float expf(float) noexcept;
#pragma omp declare simd notinbranch
float logf(float) noexcept;
#pragma omp declare simd notinbranch
float erfcf(float) noexcept;
}
#endif

// Two lists of names (an enum and its spellings) from one X-macro list, so they cannot drift
// apart: `enum Index : std::size_t { LIST(DK_ENUMERATOR) count };` and
// `constexpr const char* kNames[] = {LIST(DK_NAME)};`.
#define DK_ENUMERATOR(name) name,
#define DK_NAME(name) #name,

namespace dk {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = std::numeric_limits<double>::epsilon();

constexpr double kSqrtPi = 1.77245385090551602730;
constexpr double kSqrtHalfPi = 1.25331413731550025121;  // sqrt(pi / 2)
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kTwoPi = 6.28318530717958647693;

// Elementwise kernels pad every batch to a multiple of this many lanes (the AVX-512 double
// width, a multiple of the narrower clones' widths), so every element runs the vector loop
// body and never a scalar remainder loop, whose libm results could differ in the last bits:
// an element's result then does not depend on where block or thread boundaries fall.
constexpr std::size_t kSimdLanes = 8;
// The same for float kernels (bs_greeks' float32 mode): the AVX-512 float width.
constexpr std::size_t kSimdLanesFloat = 16;

}  // namespace dk
