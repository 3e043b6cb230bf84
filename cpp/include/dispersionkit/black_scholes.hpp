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

#include <cstddef>

#include "dispersionkit/strided.hpp"

namespace dk {

// Output pointers; each is C-contiguous and indexed by flat position.
struct GreeksOut {
    double* price;
    double* delta;
    double* gamma;
    double* vega;
    double* theta;
    double* rho;
    double* epsilon;
    double* vanna;
    double* volga;
    double* charm;
};

// Inputs in order: spot, strike, tau, vol, rate, div_yield, is_call (nonzero = call).
constexpr std::size_t kBsArgs = 7;

void bs_greeks_block(std::size_t n, const double* spot, const double* strike, const double* tau,
                     const double* vol, const double* rate, const double* div, const double* is_call,
                     const GreeksOut& out, std::size_t offset);

void bs_price_block(std::size_t n, const double* spot, const double* strike, const double* tau,
                    const double* vol, const double* rate, const double* div, const double* is_call,
                    double* price);

// Strided drivers over a broadcast layout, split over `threads` (<= 0: all cores).
void bs_greeks(Layout layout, std::array<StridedArg, kBsArgs> args, const GreeksOut& out, int threads);
void bs_price(Layout layout, std::array<StridedArg, kBsArgs> args, double* price, int threads);

// Below this many elements a call stays on the calling thread.
constexpr std::size_t kBsMinChunk = 1 << 14;

}  // namespace dk
