// Run-time ISA dispatch for hot loops. Portable builds compile each marked function three
// times (AVX-512, AVX2+FMA, baseline x86-64) and glibc's ifunc picks one at load time, so a
// wheel built here runs anywhere and still uses libmvec's 8-wide AVX-512 math on this
// machine. -DDK_NATIVE=ON (-march=native) or a sanitizer build uses a single version.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(DK_NATIVE_BUILD) && !defined(__SANITIZE_ADDRESS__)
#define DK_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DK_SIMD_CLONES
#endif
