// Correlated geometric Brownian motion for index components and the index built from them,
// with optional regime switching of the correlation matrix.
//
// Model, per path and step t (0-based) with regime r_t:
//   eps_t    standard normals from Philox4x32-10 keyed by seed, counter (block, t, path)
//   z_t      = L[r_t] eps_t                 (L lower Cholesky factor of the correlation matrix)
//   x_{t+1}  = x_t + (drift_term_t + diffusion_t * z_t),   x = log S, componentwise
//   S_{t+1}  = exp(x_{t+1});  index_{t+1} = sum_i shares_i S_{t+1,i}
// The caller precomputes drift_term = (mu - sigma^2/2) dt and diffusion = sigma sqrt(dt), so
// the C++ core and the NumPy reference share that arithmetic exactly.
//
// Random numbers: block j of step t of absolute path g is Philox(ctr = (j, t, g_lo, g_hi),
// key = (seed_lo, seed_hi)); its words (w0, w1) and (w2, w3) give, by Box-Muller on 32-bit
// uniforms (rng::open_unit32), normals 4j, 4j+1 and 4j+2, 4j+3 of that step. The Markov regime draw of step t
// uses block kRegimeBlock. A path depends only on (seed, absolute path index), never on threads or chunking.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dispersionkit/parallel.hpp"

namespace dk {

struct MarketModel {
    std::size_t n = 0;  // components
    std::size_t steps = 0;
    const double* spot0 = nullptr;       // (n,) written as the t = 0 row
    const double* log_spot0 = nullptr;   // (n,)
    const double* drift_term = nullptr;  // (rows, n), rows = 1 or steps
    const double* diffusion = nullptr;   // (rows, n)
    std::size_t term_row_stride = 0;     // 0 when constant over steps, n when per step
    const double* chol = nullptr;        // (regimes, n, n) lower-triangular, row-major
    std::size_t regimes = 1;
    const double* cum_transition = nullptr;  // (regimes, regimes) cumulative rows, or null
    const std::int32_t* schedule = nullptr;  // (steps,) regime per step, or null
    std::int32_t initial = 0;                // Markov regime of step 0
    const double* shares = nullptr;          // (n,) constant index shares
};

struct PathsOut {
    double* components = nullptr;    // (paths, steps + 1, n), C-contiguous
    double* index = nullptr;         // (paths, steps + 1)
    std::int32_t* regime = nullptr;  // (paths, steps), or null
};

// Philox block index reserved for the regime uniform of a step.
constexpr std::uint32_t kRegimeBlock = 0xFFFFFFFFu;

// Simulates absolute paths [first_path, first_path + paths) into `out` (row 0 = first_path),
// split over `threads` (<= 0: all cores). Model arrays must be valid (checked by the caller).
// Throws Interrupted when `interrupt` (may be null) stops the call (checked between steps).
void simulate_market(const MarketModel& model, std::uint64_t seed, std::uint64_t first_path,
                     std::size_t paths, const PathsOut& out, int threads, Interrupt* interrupt);

// Paths are processed in lockstep groups of this many SIMD lanes; a partial group is padded
// with extra paths that are computed by the same code and discarded, so every path goes
// through identical instructions whatever the chunking.
constexpr std::size_t kPathLanes = 16;

// Below this many path-steps-components a call stays on the calling thread.
constexpr std::size_t kPathsMinWork = 1 << 16;

}  // namespace dk
