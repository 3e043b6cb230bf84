// Implied-volatility surfaces: construction from option rows, interpolation, delta strikes.
//
// A surface holds many smiles at once. Rows are grouped (one group per date and underlying);
// a group holds slices (one per expiry, increasing tau); a slice holds nodes (one per strike,
// increasing log-forward-moneyness k = ln(K/F)). Each node carries the total implied variance
// w = vol^2 tau and the slope dw/dk of the monotone cubic through the slice's nodes.
//
// Interpolation, the same for every group:
//  * across strikes (one slice): monotone piecewise-cubic Hermite interpolation of w(k) with
//    the Fritsch-Carlson slopes of SciPy's PchipInterpolator (weighted harmonic mean inside,
//    the shape-preserving three-point formula at the ends; a two-node slice is linear, a
//    one-node slice flat); flat in vol beyond the outermost strikes;
//  * across expiries at fixed k: linear in w between the bracketing slices; before the first
//    and after the last slice the vol at fixed k is held (w proportional to tau);
//  * the log-forward y(tau) = ln(F/S) is linear in tau between slices, from y(0) = 0, and
//    grows at the last slice's carry rate y_n / tau_n beyond it.
// Every query element is computed alone (binary searches and scalar arithmetic), so results
// are identical for any thread count and any split of the queries.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dispersionkit/parallel.hpp"

namespace dk {

struct SurfaceView {
    std::int64_t n_groups = 0;
    const std::int64_t* group_start = nullptr;  // n_groups + 1 offsets into the slices
    const double* slice_tau = nullptr;          // years, increasing within a group
    const double* slice_logfwd = nullptr;       // y = ln(F/S) at the slice's expiry
    const std::int64_t* slice_start = nullptr;  // n_slices + 1 offsets into the nodes
    const double* node_k = nullptr;             // ln(K/F), increasing within a slice
    const double* node_w = nullptr;             // total implied variance vol^2 tau
    const double* node_slope = nullptr;         // dw/dk at the node (filled by surface_slopes)
};

// Flags of input nodes (bit mask).
constexpr std::uint8_t kCalendarArbitrage = 1;  // w(k) below the previous expiry's w at the same k
constexpr std::uint8_t kButterflyArbitrage =
    2;  // a call butterfly or call spread at this strike is mispriced

// Rows per chunk below which construction and queries stay on the calling thread.
constexpr std::size_t kSurfaceMinChunk = 1 << 12;

// Every driver splits its work over `threads` (<= 0: all cores) and throws Interrupted when
// `interrupt` (may be null) stops the call, checked between groups or blocks of queries.

// Sorts n rows by (group, tau, k), ties by row index: a counting sort by group, then a
// comparison sort inside each group (in parallel over groups). Writes group_start
// (n_groups + 1 offsets), order (the input row of each sorted position) and the sorted tau,
// k, w and logfwd. Every group must lie in [0, n_groups) and tau, k must not be NaN (the
// caller checks).
void surface_sort(std::size_t n, const std::int64_t* group, const double* tau, const double* k,
                  const double* w, const double* logfwd, std::int64_t n_groups, std::int64_t* group_start,
                  std::int64_t* order, double* tau_out, double* k_out, double* w_out, double* logfwd_out,
                  int threads, Interrupt* interrupt);

// Fills node_slope (PCHIP slopes) and flags (kCalendarArbitrage / kButterflyArbitrage, with
// `tolerance` in total variance for calendar checks and in units of the forward for
// butterflies and call spreads), in parallel over groups. `view.node_slope` is ignored.
void surface_slopes(const SurfaceView& view, double tolerance, double* node_slope, std::uint8_t* flags,
                    int threads, Interrupt* interrupt);

// For m queries (group, tau, x): vol at tau years and, with x_is_log_spot_moneyness,
// x = ln(K/S) (else x = k = ln(K/F)); logfwd = y(tau). NaN where group < 0, the group has
// no slice, tau <= 0 or an input is NaN.
void surface_query(const SurfaceView& view, std::size_t m, const std::int64_t* group, const double* tau,
                   const double* x, bool x_is_log_spot_moneyness, double* vol, double* logfwd, int threads,
                   Interrupt* interrupt);

// For m queries (group, tau, d1_target): the log-forward-moneyness k at which the surface's
// own vol gives d1 = -k / sqrt(w(k)) + sqrt(w(k)) / 2 = d1_target (a Black-Scholes delta
// fixes d1), found in a bracket grown from the flat-vol guess and narrowed by the Illinois
// method; vol at that k and logfwd = y(tau). NaN where no root is bracketed.
void surface_delta_strike(const SurfaceView& view, std::size_t m, const std::int64_t* group,
                          const double* tau, const double* d1_target, double* k, double* vol, double* logfwd,
                          int threads, Interrupt* interrupt);

}  // namespace dk
