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

#include "dispersionkit/config.hpp"
#include "dispersionkit/strided.hpp"

namespace dk {

// Per-element outcome, the code the kernel writes into the status array. Python's
// dispersionkit.IVStatus mirrors these names and codes (checked against _core.IV_STATUS at
// import); the rules are in python/dispersionkit/numeric/implied_vol.py and docs/methodology.md.
//   OK               solved; vol is accurate to ~1e-12 times the condition number
//   AT_INTRINSIC     price within rounding of the discounted intrinsic value: vol 0
//   BELOW_INTRINSIC  price below intrinsic value by more than rounding, or negative: NaN
//   ABOVE_MAX        price >= S e^{-q tau} (call) / K e^{-r tau} (put): NaN
//   NO_INFORMATION   time value within rounding of 0 or of the upper bound, or underflowing: NaN
//   INVALID_INPUT    NaN/inf input, spot/strike <= 0, tau <= 0, unrepresentable discounting: NaN
#define DK_IV_STATUS_LIST(X) \
    X(OK) X(AT_INTRINSIC) X(BELOW_INTRINSIC) X(ABOVE_MAX) X(NO_INFORMATION) X(INVALID_INPUT)
enum class IVStatus : std::int8_t { DK_IV_STATUS_LIST(DK_ENUMERATOR) };
constexpr const char* kIVStatusNames[] = {DK_IV_STATUS_LIST(DK_NAME)};
constexpr std::size_t kIVStatusCount = sizeof(kIVStatusNames) / sizeof(kIVStatusNames[0]);

// The inputs of the strided driver, spelled as the keyword arguments of _core.implied_vol.
#define DK_IV_INPUT_LIST(X) X(price) X(spot) X(strike) X(tau) X(rate) X(div_yield) X(is_call)
struct IvInput {
    enum Index : std::size_t { DK_IV_INPUT_LIST(DK_ENUMERATOR) count };
};
constexpr const char* kIvInputNames[IvInput::count] = {DK_IV_INPUT_LIST(DK_NAME)};

// Elements per chunk below which a call stays on the calling thread (~0.3 us per element).
constexpr std::size_t kIvMinChunk = 1 << 11;

// A price is at intrinsic when it is within kPriceUlps ulps of max(price, intrinsic value)
// plus (kIntrinsicUlps + |ln(S/K)| + |r tau| + |q tau|) ulps of (S e^{-q tau} + K e^{-r tau})
// of the discounted intrinsic value: its own rounding, and that of an intrinsic value computed
// from the inputs in double precision (this kernel's and a caller's, each with its own exp,
// whose errors grow with the size of the exponents).
constexpr double kPriceUlps = 8.0;
constexpr double kIntrinsicUlps = 2.0;

// n <= kBlock contiguous options (inputs indexed by IvInput); status may be null.
void implied_vol_block(std::size_t n, const std::array<const double*, IvInput::count>& in, double* vol,
                       IVStatus* status);

// Fills vol (C-contiguous) and, if non-null, status over a broadcast layout; throws
// Interrupted when `interrupt` (may be null) stops the call.
void implied_vol(Layout layout, std::array<StridedArg, IvInput::count> args, double* vol, IVStatus* status,
                 int threads, Interrupt* interrupt);

}  // namespace dk
