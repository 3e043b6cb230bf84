// Delta-hedged option book P&L and attribution over steps x paths.
//
// Paths are split over threads (parallel.hpp) and run in batches of up to 32, all steps of a
// batch before the next. Each leg is priced once per step (the bs_terms.hpp formulas, with
// e^{-r tau}, e^{-q tau}, sqrt(tau) shared along the batch), and that one evaluation serves
// the mark-to-market of step t-1 -> t, the hedge ratios set at t and the attribution of
// step t -> t+1. Paths are independent and every per-path loop runs whole SIMD vectors, so
// a path's numbers are bit-identical for any thread count and any split of the paths.
//
// Timing: hedges are set at the close of step t from the Greeks at (S_t, vol_t, tau_t);
// step t's P&L covers (t, t+1]. Conventions (financing, costs, settlement, attribution) are
// documented in python/dispersionkit/book.py, which is the public face of this kernel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dk {

// Legs: arrays of length n_legs.
struct BookLegs {
    std::size_t n_legs = 0;
    const std::int64_t* underlying = nullptr;   // spot column of the leg
    const std::int64_t* vol_column = nullptr;   // vol column of the leg
    const std::int64_t* expiry_step = nullptr;  // first step on or after expiry (>= 1)
    const double* strike = nullptr;
    const double* expiry = nullptr;    // years from step 0
    const double* is_call = nullptr;   // 0/1
    const double* quantity = nullptr;  // signed: negative = short
};

// Market: spots C-contiguous (paths, steps + 1, m); vols by element strides over
// (paths, steps + 1, vol columns), stride 0 for broadcast axes.
struct BookMarket {
    std::size_t paths = 0, steps = 0, m = 0, vol_columns = 0;
    const double* spots = nullptr;
    const double* vols = nullptr;
    std::ptrdiff_t vol_stride[3] = {0, 0, 0};
    const double* div_yield = nullptr;  // per underlying, length m
    double rate = 0.0;
    double dt = 0.0;
};

struct HedgeRules {
    bool hedge = true;             // false: options only, never trade the underlying
    std::int64_t every = 1;        // scheduled rebalance when t % every == 0; 0 = no schedule
    double band = -1.0;            // rebalance when |net delta| > band shares; < 0 = no band
    double cost_bps = 0.0;         // per unit of traded hedge notional
    double half_spread_vol = 0.0;  // option half-spread in vol points, charged as |q| vega x points / 100
};

// Per-path summary rows, each of length paths.
enum BookSummaryRow : std::size_t {
    kSumTotal,
    kSumMaxDrawdown,
    kSumCosts,
    kSumRebalances,
    kSumOptionMtm,
    kSumHedge,
    kSumFinancing,
    kSumDelta,
    kSumGamma,
    kSumTheta,
    kSumVega,
    kSumVanna,
    kSumVolga,
    kSumResidual,
    kSummaryRows
};

// Per-step rows, each (paths, steps).
enum BookStepRow : std::size_t {
    kStepOptionMtm,
    kStepHedge,
    kStepFinancing,
    kStepCosts,
    kStepNet,
    kStepCumulative,
    kStepDollarDelta,
    kStepDollarGamma,
    kStepVega,
    kStepTheta,
    kStepDelta,
    kStepGamma,
    kStepThetaPnl,
    kStepVegaPnl,
    kStepVanna,
    kStepVolga,
    kStepResidual,
    kStepRows
};

struct BookOut {
    double* summary = nullptr;                // (kSummaryRows, paths)
    double* leg_gamma_theta = nullptr;        // (paths, n_legs): per-leg gamma-theta summed over steps
    double* steps = nullptr;                  // (kStepRows, paths, steps) or nullptr
    double* leg_gamma_theta_steps = nullptr;  // (paths, steps, n_legs) or nullptr
};

// Below this many paths per thread a call stays on the calling thread.
constexpr std::size_t kBookMinChunk = 16;

void hedged_pnl(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules, const BookOut& out,
                int threads);

}  // namespace dk
