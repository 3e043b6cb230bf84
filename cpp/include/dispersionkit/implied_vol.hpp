// Batched Black-Scholes-Merton implied volatility in the normalized Black formulation.
//
// Inputs: price (today's premium), spot, strike, tau (years), rate, div_yield (continuous),
// is_call (nonzero = call). Output: vol (decimal, per sqrt(year)) and an optional status code.
// In-the-money options are reduced to out-of-the-money ones through put-call parity in
// normalized form; the normalized time value is inverted with Householder(3) steps on the
// "Let's Be Rational" objective transforms (1/ln b far below the inflection point
// s_c = sqrt(2|x|), b - beta just below it, ln(bmax - b) above it), inside a bracket that makes
// every step safe. Everything runs on vector lanes across the options of a block: the
// iterations too, with converged options leaving the batch after each step and each price
// evaluation routed to its form (direct, Taylor series in t, Gauss-Legendre) by the option's
// own (h, t), so an option's result never depends on its neighbours.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dispersionkit/strided.hpp"

namespace dk {

// Keep in sync with dispersionkit.IVStatus.
enum class IVStatus : std::int8_t {
    Ok = 0,              // solved; vol is accurate to ~1e-12 times the condition number
    AtIntrinsic = 1,     // zero time value: vol 0
    BelowIntrinsic = 2,  // price below intrinsic value (or negative): NaN
    AboveMax = 3,        // price >= S e^{-q tau} (call) / K e^{-r tau} (put): NaN
    NoInformation = 4,   // time value within rounding of 0 or of the upper bound, or underflowing: NaN
    InvalidInput = 5,    // NaN/inf input, spot/strike <= 0, tau <= 0, unrepresentable discounting: NaN
};

// Inputs in order: price, spot, strike, tau, rate, div_yield, is_call.
constexpr std::size_t kIvArgs = 7;

// Elements per chunk below which a call stays on the calling thread (~0.3 us per element).
constexpr std::size_t kIvMinChunk = 1 << 11;

// n <= kBlock contiguous options (inputs in the order above); status may be null.
void implied_vol_block(std::size_t n, const double* const in[kIvArgs], double* vol, std::int8_t* status);

// Fills vol (C-contiguous) and, if non-null, status over a broadcast layout.
void implied_vol(Layout layout, std::array<StridedArg, kIvArgs> args, double* vol, std::int8_t* status,
                 int threads);

}  // namespace dk
