// The Black-Scholes-Merton formulas, written once: inline pieces that bs_greeks_block and the
// hedged-book engine both evaluate inside their vectorized loops. Conventions and the
// element policy are in black_scholes.hpp; these functions assume a regular element
// (valid inputs, vol * sqrt(tau) > 0) and leave limits to the callers.
//
// sqrt_tau, e^{-q tau} and e^{-r tau} come in precomputed: a caller pricing many options with
// one (tau, r, q), like the book engine pricing one leg along many paths, computes them once.
#pragma once

#include <cmath>

#include "dispersionkit/config.hpp"

namespace dk {

struct BsTerms {
    double sd;  // vol * sqrt(tau)
    double d1, d2;
    double n1, n2;       // N(s d1), N(s d2), s = +1 call / -1 put
    double pdf;          // n(d1)
    double fwd;          // S e^{-q tau}
    double disc_strike;  // K e^{-r tau}
};

// Everything but the normal CDFs, which are the only parts that depend on call/put.
[[gnu::always_inline]] inline BsTerms bs_common(double S, double K, double T, double v, double r, double q,
                                                double sqT, double dq, double dr) {
    BsTerms t;
    t.sd = v * sqT;
    t.d1 = (std::log(S / K) + (r - q) * T) / t.sd + 0.5 * t.sd;
    t.d2 = t.d1 - t.sd;
    t.pdf = kInvSqrt2Pi * std::exp(-0.5 * t.d1 * t.d1);
    t.fwd = S * dq;
    t.disc_strike = K * dr;
    return t;
}

[[gnu::always_inline]] inline BsTerms bs_terms(double S, double K, double T, double v, double r, double q,
                                               double s, double sqT, double dq, double dr) {
    BsTerms t = bs_common(S, K, T, v, r, q, sqT, dq, dr);
    t.n1 = 0.5 * std::erfc(-s * t.d1 * kInvSqrt2);
    t.n2 = 0.5 * std::erfc(-s * t.d2 * kInvSqrt2);
    return t;
}

// N(x) and N(-x) from one erfc: the smaller tail directly (full relative accuracy), the
// larger as 1 - smaller (accurate to an ulp of a number in [1/2, 1]). NaN stays NaN.
[[gnu::always_inline]] inline void norm_cdf_pair(double x, double& at_x, double& at_minus_x) {
    const double small = 0.5 * std::erfc(std::fabs(x) * kInvSqrt2);
    const double large = 1.0 - small;
    at_x = x >= 0.0 ? large : small;
    at_minus_x = x >= 0.0 ? small : large;
}

// The terms of a call or put from bs_common and its N(+-d1), N(+-d2) (norm_cdf_pair): a
// call and a put with the same inputs then need two erfc instead of four. Agrees with
// bs_terms to rounding, not bit for bit.
[[gnu::always_inline]] inline BsTerms bs_with_cdfs(BsTerms t, double n1, double n2) {
    t.n1 = n1;
    t.n2 = n2;
    return t;
}

// Rounding in the far OTM tail can give a tiny negative price: clamp (keeps NaN).
[[gnu::always_inline]] inline double bs_price_of(const BsTerms& t, double s) {
    const double p = s * (t.fwd * t.n1 - t.disc_strike * t.n2);
    return p < 0.0 ? 0.0 : p;
}
[[gnu::always_inline]] inline double bs_delta_of(const BsTerms& t, double s, double dq) {
    return s * dq * t.n1;
}
[[gnu::always_inline]] inline double bs_gamma_of(const BsTerms& t, double S, double dq) {
    return dq * t.pdf / (S * t.sd);
}
[[gnu::always_inline]] inline double bs_vega_of(const BsTerms& t, double sqT) { return t.fwd * t.pdf * sqT; }
[[gnu::always_inline]] inline double bs_theta_of(const BsTerms& t, double v, double r, double q, double s,
                                                 double sqT) {
    return -t.fwd * t.pdf * v / (2.0 * sqT) - s * r * t.disc_strike * t.n2 + s * q * t.fwd * t.n1;
}
[[gnu::always_inline]] inline double bs_vanna_of(const BsTerms& t, double v, double dq) {
    return -dq * t.pdf * t.d2 / v;
}
[[gnu::always_inline]] inline double bs_volga_of(const BsTerms& t, double v, double vega) {
    return vega * t.d1 * t.d2 / v;
}

}  // namespace dk
