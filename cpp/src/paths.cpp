#include "dispersionkit/paths.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispersionkit/config.hpp"
#include "dispersionkit/parallel.hpp"
#include "dispersionkit/rng.hpp"

namespace dk {
namespace {

constexpr std::size_t L = kPathLanes;
// Steps of a lane group between two interrupt checks.
constexpr std::size_t kStepsPerCheck = 8;

// Per-chunk working memory, allocated once per chunk (never per path or step).
struct Scratch {
    std::vector<double> log_s, s, eps, z, zr, radius, angle, level;
    std::vector<std::int32_t> reg;
    std::vector<std::uint32_t> lo, hi;

    Scratch(std::size_t n, std::size_t blocks)
        : log_s(n * L),
          s(n * L),
          eps(4 * blocks * L),
          z(n * L),
          zr(n * L),
          radius(2 * L),
          angle(2 * L),
          level(L),
          reg(L),
          lo(L),
          hi(L) {}
};

// First regime j with u < cum[j]; rows end in +inf past their last reachable state.
inline std::int32_t next_regime(const double* cum_row, std::size_t k, double u) {
    std::size_t j = 0;
    while (j + 1 < k && !(u < cum_row[j])) ++j;
    return static_cast<std::int32_t>(j);
}

// z = chol eps for all lanes, with k outermost: every z_i still sums k = 0..i in order, but
// the n - k updates per k are independent, so the loop runs at FMA throughput, not latency.
inline void correlate(const double* __restrict chol, const double* __restrict eps, double* __restrict z,
                      std::size_t n) {
    for (std::size_t q = 0; q < n * L; ++q) z[q] = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        const double* __restrict ek = eps + k * L;
        for (std::size_t i = k; i < n; ++i) {
            const double c = chol[i * n + k];
            double* __restrict zi = z + i * L;
#pragma omp simd
            for (std::size_t p = 0; p < L; ++p) zi[p] += c * ek[p];
        }
    }
}

// One group of L paths starting at absolute path `g0` over all steps; lanes >= `count` are
// padding and are not written. Output rows start at `row0`. Returns false, the group partly
// written, when the call is stopped.
DK_SIMD_CLONES
bool simulate_group(const MarketModel& m, std::uint32_t k0, std::uint32_t k1, std::uint64_t g0,
                    std::size_t row0, std::size_t count, const PathsOut& out, Scratch& w,
                    Interrupt* interrupt) {
    const std::size_t n = m.n, steps = m.steps, nn = n * n, blocks = (n + 3) / 4;
    double* __restrict log_s = w.log_s.data();
    double* __restrict s = w.s.data();
    double* __restrict eps = w.eps.data();
    double* __restrict z = w.z.data();
    double* __restrict zr = w.zr.data();
    double* __restrict radius = w.radius.data();
    double* __restrict angle = w.angle.data();
    double* __restrict level = w.level.data();
    std::int32_t* __restrict reg = w.reg.data();
    std::uint32_t* __restrict lo = w.lo.data();
    std::uint32_t* __restrict hi = w.hi.data();

    for (std::size_t p = 0; p < L; ++p) {
        const std::uint64_t g = g0 + p;
        lo[p] = static_cast<std::uint32_t>(g);
        hi[p] = static_cast<std::uint32_t>(g >> 32);
        reg[p] = 0;
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t p = 0; p < L; ++p) log_s[i * L + p] = m.log_spot0[i];

    double index0 = 0.0;
    for (std::size_t i = 0; i < n; ++i) index0 += m.shares[i] * m.spot0[i];
    for (std::size_t p = 0; p < count; ++p) {
        const std::size_t row = row0 + p;
        std::copy(m.spot0, m.spot0 + n, out.components + row * (steps + 1) * n);
        out.index[row * (steps + 1)] = index0;
    }

    for (std::size_t t = 0; t < steps; ++t) {
        if (t % kStepsPerCheck == 0 && stop_requested(interrupt)) return false;
        const auto step = static_cast<std::uint32_t>(t);

        if (m.schedule != nullptr) {
            for (std::size_t p = 0; p < L; ++p) reg[p] = m.schedule[t];
        } else if (m.cum_transition != nullptr) {
            if (t == 0) {
                for (std::size_t p = 0; p < L; ++p) reg[p] = m.initial;
            } else {
                for (std::size_t p = 0; p < L; ++p) {
                    const rng::Philox4x32 x = rng::philox4x32_10(kRegimeBlock, step, lo[p], hi[p], k0, k1);
                    const double u = rng::open_unit(x.v[0], x.v[1]);
                    reg[p] = next_regime(m.cum_transition + static_cast<std::size_t>(reg[p]) * m.regimes,
                                         m.regimes, u);
                }
            }
        }
        if (out.regime != nullptr)
            for (std::size_t p = 0; p < count; ++p) out.regime[(row0 + p) * steps + t] = reg[p];

        // Box-Muller, four normals per Philox block, in separate loops: GCC would otherwise fuse
        // cos and sin of one angle into a sincos call, which has no SIMD variant.
        for (std::size_t j = 0; j < blocks; ++j) {
#pragma omp simd
            for (std::size_t p = 0; p < L; ++p) {
                const rng::Philox4x32 x =
                    rng::philox4x32_10(static_cast<std::uint32_t>(j), step, lo[p], hi[p], k0, k1);
                radius[p] = std::sqrt(-2.0 * std::log(rng::open_unit32(x.v[0])));
                angle[p] = kTwoPi * rng::open_unit32(x.v[1]);
                radius[L + p] = std::sqrt(-2.0 * std::log(rng::open_unit32(x.v[2])));
                angle[L + p] = kTwoPi * rng::open_unit32(x.v[3]);
            }
            for (std::size_t h = 0; h < 2; ++h) {
                const double* __restrict r = radius + h * L;
                const double* __restrict a = angle + h * L;
                double* __restrict e0 = eps + (4 * j + 2 * h) * L;
                double* __restrict e1 = e0 + L;
#pragma omp simd
                for (std::size_t p = 0; p < L; ++p) e0[p] = r[p] * std::cos(a[p]);
#pragma omp simd
                for (std::size_t p = 0; p < L; ++p) e1[p] = r[p] * std::sin(a[p]);
            }
        }

        // Lanes in different regimes: each distinct regime's product over all lanes, then a
        // per-lane select. A lane's z is the same arithmetic whatever its neighbours do.
        for (std::size_t q = 0; q < L; ++q) {
            bool seen = false;
            for (std::size_t p = 0; p < q; ++p) seen = seen || reg[p] == reg[q];
            if (seen) continue;
            const double* chol = m.chol + static_cast<std::size_t>(reg[q]) * nn;
            if (q == 0) {
                correlate(chol, eps, z, n);
                continue;
            }
            correlate(chol, eps, zr, n);
            for (std::size_t i = 0; i < n; ++i)
#pragma omp simd
                for (std::size_t p = 0; p < L; ++p)
                    z[i * L + p] = reg[p] == reg[q] ? zr[i * L + p] : z[i * L + p];
        }

        const double* __restrict a = m.drift_term + t * m.term_row_stride;
        const double* __restrict b = m.diffusion + t * m.term_row_stride;
        for (std::size_t i = 0; i < n; ++i) {
            const double ai = a[i], bi = b[i];
            double* __restrict xi = log_s + i * L;
            double* __restrict si = s + i * L;
            const double* __restrict zi = z + i * L;
#pragma omp simd
            for (std::size_t p = 0; p < L; ++p) {
                xi[p] = xi[p] + (ai + bi * zi[p]);
                si[p] = std::exp(xi[p]);
            }
        }

        // Index levels lane-parallel; each lane still sums over i in order 0..n-1.
        for (std::size_t p = 0; p < L; ++p) level[p] = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double share = m.shares[i];
            const double* __restrict si = s + i * L;
#pragma omp simd
            for (std::size_t p = 0; p < L; ++p) level[p] += share * si[p];
        }
        for (std::size_t p = 0; p < count; ++p) {
            const std::size_t row = row0 + p;
            double* __restrict dst = out.components + (row * (steps + 1) + t + 1) * n;
            for (std::size_t i = 0; i < n; ++i) dst[i] = s[i * L + p];
            out.index[row * (steps + 1) + t + 1] = level[p];
        }
    }
    return true;
}

}  // namespace

void simulate_market(const MarketModel& m, std::uint64_t seed, std::uint64_t first_path, std::size_t paths,
                     const PathsOut& out, int threads, Interrupt* interrupt) {
    const auto k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
    // Chunks are whole lane groups, so only the last group of the call is padded.
    const std::size_t groups = (paths + L - 1) / L;
    const std::size_t per_group = std::max<std::size_t>(1, m.steps * m.n * L);
    const std::size_t min_chunk = std::max<std::size_t>(1, kPathsMinWork / per_group);
    parallel_for(groups, threads, min_chunk, interrupt, [&](std::size_t begin, std::size_t end) {
        Scratch w(m.n, (m.n + 3) / 4);
        for (std::size_t group = begin; group < end; ++group) {
            const std::size_t row = group * L;
            if (!simulate_group(m, k0, k1, first_path + row, row, std::min(L, paths - row), out, w,
                                interrupt))
                return;
        }
    });
}

}  // namespace dk
