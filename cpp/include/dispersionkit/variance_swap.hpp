// Fair variance-swap strikes by static replication from a strip of out-of-the-money options
// (Demeterfi, Derman, Kamal & Zou, 1999), with estimates of the strip's truncation and
// discretisation errors. The formulas are written out in docs/methodology.md.
//
// One strip: strikes x_1 < ... < x_n (n >= 2), Black implied vols v_i > 0, forward F > 0 and
// tau T > 0 (years). The log payoff (2/T)(S/S* - 1 - ln(S/S*)) is replaced by its piecewise-
// linear interpolant through the strikes plus one virtual node at each end (x_n + (x_n -
// x_{n-1}) above, max(x_1 - (x_2 - x_1), x_1 / 2) below); S* is the largest strike <= F (x_1
// when none is). The interpolant is a portfolio of puts below S*, calls above and both at S*;
// priced with undiscounted Black prices it gives
//
//   strike = sum_i weight_i * OTM_i + (2/T)(ln(F/S*) - (F/S* - 1))
//
// Error estimates, each the expected difference between the strip's payoff and the exact log
// payoff, under lognormal laws with forward F: inside [x_1, x_n] interval by interval at the
// mean of the interval's two vols (discretisation_error, >= 0), beyond the ends at the end
// vols held flat (truncation_error). Under one flat vol both are exact, so
// strike - truncation_error - discretisation_error = vol^2 up to rounding.
//
// NaN in a strip's vols, forward or tau gives NaN in its three outputs; the caller validates
// everything else (sorted positive strikes, vols >= 0 or NaN, n >= 2).
#pragma once

#include <cstddef>

#include "dispersionkit/parallel.hpp"

namespace dk {

// Strips by row: row b's strikes start at strikes + b * strike_row_stride (elements, 0 = one
// strip of strikes shared by every row) and are contiguous; the same for vols. forward and
// tau hold one value per row at element strides (0 = shared).
struct VarianceStrips {
    std::size_t rows = 0;
    std::size_t n = 0;
    const double* strikes = nullptr;
    std::ptrdiff_t strike_row_stride = 0;
    const double* vols = nullptr;
    std::ptrdiff_t vol_row_stride = 0;
    const double* forward = nullptr;
    std::ptrdiff_t forward_stride = 0;
    const double* tau = nullptr;
    std::ptrdiff_t tau_stride = 0;
};

// One value per row, C-contiguous.
struct VarianceStrikeOut {
    double* strike = nullptr;
    double* truncation_error = nullptr;
    double* discretisation_error = nullptr;
};

// Rows split over `threads` (<= 0: all cores); throws Interrupted when `interrupt` (may be null)
// stops the call.
void variance_swap_strike(const VarianceStrips& strips, const VarianceStrikeOut& out, int threads,
                          Interrupt* interrupt);

// Below this many strike evaluations (rows x n) a call stays on the calling thread.
constexpr std::size_t kVarianceMinWork = 1 << 13;

}  // namespace dk
