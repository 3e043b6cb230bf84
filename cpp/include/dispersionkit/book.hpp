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
// documented in python/dispersionkit/numeric/hedged_pnl.py, which is the public face of this kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "dispersionkit/config.hpp"
#include "dispersionkit/parallel.hpp"

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

// When the hedge is rebalanced and what trading costs. Bound to Python as _core.HedgeRules.
struct HedgeRules {
    bool hedge = true;                  // false: options only, never trade the underlying
    std::optional<std::int64_t> every;  // scheduled rebalance when t % every == 0 (every >= 1)
    std::optional<double> band;         // rebalance when |net delta| > band shares (band >= 0)
    double cost_bps = 0.0;              // per unit of traded hedge notional
    // Option half-spread in vol points, charged as |q| vega x points / 100.
    double half_spread_vol = 0.0;
};

// Per-path summary rows, each of length paths, spelled as Python's PnLSummary fields
// (exported as _core.PNL_SUMMARY_ROWS).
// clang-format off
#define DK_SUMMARY_ROW_LIST(X) \
    X(total) X(max_drawdown) X(total_costs) X(n_rebalances) X(option_mtm) X(hedge_pnl) X(financing) \
    X(delta) X(gamma) X(theta) X(vega) X(vanna) X(volga) X(residual)
// clang-format on
struct SummaryRow {
    enum Index : std::size_t { DK_SUMMARY_ROW_LIST(DK_ENUMERATOR) count };
};
constexpr const char* kSummaryRowNames[SummaryRow::count] = {DK_SUMMARY_ROW_LIST(DK_NAME)};

// Per-step rows, each (paths, steps), spelled as Python's PnLSteps fields (exported as
// _core.PNL_STEP_ROWS).
// clang-format off
#define DK_STEP_ROW_LIST(X) \
    X(option_mtm) X(hedge_pnl) X(financing) X(costs) X(net) X(cumulative) X(dollar_delta) X(dollar_gamma) \
    X(vega) X(theta) X(delta_pnl) X(gamma_pnl) X(theta_pnl) X(vega_pnl) X(vanna_pnl) X(volga_pnl) X(residual)
// clang-format on
struct StepRow {
    enum Index : std::size_t { DK_STEP_ROW_LIST(DK_ENUMERATOR) count };
};
constexpr const char* kStepRowNames[StepRow::count] = {DK_STEP_ROW_LIST(DK_NAME)};

struct BookOut {
    double* summary = nullptr;                // (SummaryRow::count, paths)
    double* leg_gamma_theta = nullptr;        // (paths, n_legs): per-leg gamma-theta summed over steps
    double* steps = nullptr;                  // (StepRow::count, paths, steps) or nullptr
    double* leg_gamma_theta_steps = nullptr;  // (paths, steps, n_legs) or nullptr
};

// Below this many paths per thread a call stays on the calling thread.
constexpr std::size_t kBookMinChunk = 16;

// Paths split over `threads` (<= 0: all cores); throws Interrupted when `interrupt` (may be
// null) stops the call (checked between steps).
void hedged_pnl(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules, const BookOut& out,
                int threads, Interrupt* interrupt);

}  // namespace dk
