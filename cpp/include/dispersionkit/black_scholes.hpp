// Black-Scholes-Merton prices and Greeks on contiguous blocks, plus the strided drivers.
//
// Conventions: tau in years, vol/rate/div_yield as decimals, continuous r and q. Greeks are
// per unit: vega and volga per 1.00 of vol, rho per 1.00 of rate, epsilon = dV/dq per 1.00,
// theta and charm per year of calendar time (dV/dt = -dV/dtau).
//
// Element policy: NaN in any input, spot <= 0, strike <= 0, tau < 0 or vol < 0 give NaN in
// every output of that element. vol*sqrt(tau) == 0 (tau == 0 or vol == 0) gives the
// deterministic limits: discounted intrinsic value; delta 0 or +-exp(-q tau); gamma, vega,
// vanna, volga 0 away from the forward. Exactly at the forward the limits that do not exist
// are reported as such: gamma +inf, vanna/volga/charm NaN; delta uses N(0) = 1/2.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dispersionkit/config.hpp"
#include "dispersionkit/strided.hpp"

namespace dk {

// The outputs of bs_greeks, in order, spelled as Python's dispersionkit.Greeks fields (which
// are checked against _core.GREEK_NAMES at import).
#define DK_GREEK_LIST(X) \
    X(price) X(delta) X(gamma) X(vega) X(theta) X(rho) X(epsilon) X(vanna) X(volga) X(charm)
struct Greek {
    enum Index : std::size_t { DK_GREEK_LIST(DK_ENUMERATOR) count };
};
constexpr const char* kGreekNames[Greek::count] = {DK_GREEK_LIST(DK_NAME)};

// The inputs of the strided drivers, spelled as the keyword arguments of _core.bs_greeks.
#define DK_BS_INPUT_LIST(X) X(spot) X(strike) X(tau) X(vol) X(rate) X(div_yield) X(is_call)
struct BsInput {
    enum Index : std::size_t { DK_BS_INPUT_LIST(DK_ENUMERATOR) count };
};
constexpr const char* kBsInputNames[BsInput::count] = {DK_BS_INPUT_LIST(DK_NAME)};

// Output pointers by Greek, each C-contiguous and indexed by flat position; a null pointer is a
// Greek not asked for: it is neither computed (where it needs work the others do not) nor stored.
template <class Real>
struct GreeksOutOf {
    std::array<Real*, Greek::count> at{};
    Real* operator[](Greek::Index g) const { return at[g]; }
};
using GreeksOut = GreeksOutOf<double>;
using GreeksOut32 = GreeksOutOf<float>;

// n contiguous options (is_call nonzero = call) into out[g] + offset.
void bs_greeks_block(std::size_t n, const double* spot, const double* strike, const double* tau,
                     const double* vol, const double* rate, const double* div, const std::uint8_t* is_call,
                     const GreeksOut& out, std::size_t offset);

// Strided drivers over a broadcast layout (args indexed by BsInput; the five real inputs
// float64 or float32, is_call uint8/bool), split over `threads` (<= 0: all cores); throw
// Interrupted when `interrupt` (may be null) stops the call. The float32 driver computes in
// float (twice the vector lanes) for callers that accept its accuracy (docs/performance.md).
void bs_greeks(Layout layout, std::array<StridedArg, BsInput::count> args, const GreeksOut& out, int threads,
               Interrupt* interrupt);
void bs_greeks(Layout layout, std::array<StridedArg, BsInput::count> args, const GreeksOut32& out,
               int threads, Interrupt* interrupt);
void bs_price(Layout layout, std::array<StridedArg, BsInput::count> args, double* price, int threads,
              Interrupt* interrupt);
void bs_price(Layout layout, std::array<StridedArg, BsInput::count> args, float* price, int threads,
              Interrupt* interrupt);

// Below this many elements a call stays on the calling thread.
constexpr std::size_t kBsMinChunk = 1 << 14;

// Out-of-the-money (and at-the-money) prices whose two-term formula would amplify rounding by
// more than this factor are recomputed from the normalized Black function (normalized_black.hpp),
// which has no cancellation: float64 prices keep their relative accuracy down to the underflow
// boundary.
constexpr double kPriceCancellation = 32.0;

}  // namespace dk
