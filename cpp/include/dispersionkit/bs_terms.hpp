// The Black-Scholes-Merton formulas, written once: inline pieces that bs_greeks_block and the
// hedged-book engine both evaluate inside their vectorized loops, in double or (bs_greeks'
// opt-in float32 mode) in float. Conventions and the element policy are in black_scholes.hpp;
// these functions assume a regular element (valid inputs, vol * sqrt(tau) > 0) and leave
// limits to the callers.
//
// sqrt_tau, e^{-q tau} and e^{-r tau} come in precomputed: a caller pricing many options with
// one (tau, r, q), like the book engine pricing one leg along many paths, computes them once.
#pragma once

#include <cmath>

#include "dispersionkit/config.hpp"

namespace dk {

template <class Real>
struct BsTerms {
    Real x;   // ln(F/K) = ln(S/K) + (r - q) tau
    Real sd;  // vol * sqrt(tau)
    Real d1, d2;
    Real n1, n2;       // N(s d1), N(s d2), s = +1 call / -1 put
    Real pdf;          // n(d1)
    Real fwd;          // S e^{-q tau}
    Real disc_strike;  // K e^{-r tau}
};

// Everything but the normal CDFs, which are the only parts that depend on call/put.
template <class Real>
[[gnu::always_inline]] inline BsTerms<Real> bs_common(Real S, Real K, Real T, Real v, Real r, Real q,
                                                      Real sqT, Real dq, Real dr) {
    BsTerms<Real> t;
    t.x = std::log(S / K) + (r - q) * T;
    t.sd = v * sqT;
    t.d1 = t.x / t.sd + Real(0.5) * t.sd;
    t.d2 = t.d1 - t.sd;
    t.pdf = Real(kInvSqrt2Pi) * std::exp(Real(-0.5) * t.d1 * t.d1);
    t.fwd = S * dq;
    t.disc_strike = K * dr;
    return t;
}

// N(s d) for the call/put sign s, from one erfc.
template <class Real>
[[gnu::always_inline]] inline Real norm_cdf_signed(Real d, Real s) {
    return Real(0.5) * std::erfc(-s * d * Real(kInvSqrt2));
}

template <class Real>
[[gnu::always_inline]] inline BsTerms<Real> bs_terms(Real S, Real K, Real T, Real v, Real r, Real q, Real s,
                                                     Real sqT, Real dq, Real dr) {
    BsTerms<Real> t = bs_common(S, K, T, v, r, q, sqT, dq, dr);
    t.n1 = norm_cdf_signed(t.d1, s);
    t.n2 = norm_cdf_signed(t.d2, s);
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
template <class Real>
[[gnu::always_inline]] inline BsTerms<Real> bs_with_cdfs(BsTerms<Real> t, Real n1, Real n2) {
    t.n1 = n1;
    t.n2 = n2;
    return t;
}

// The difference of two positive terms: s (fwd N(s d1) - K e^{-r tau} N(s d2)). Rounding in the
// far out-of-the-money tail can make it a tiny negative number: clamp (keeps NaN).
template <class Real>
[[gnu::always_inline]] inline Real bs_price_of(const BsTerms<Real>& t, Real s) {
    const Real p = s * (t.fwd * t.n1 - t.disc_strike * t.n2);
    return p < Real(0) ? Real(0) : p;
}
// The larger of the two terms bs_price_of subtracts: the price's rounding error is about an
// ulp of this, so larger / price is the factor by which the subtraction amplifies rounding.
template <class Real>
[[gnu::always_inline]] inline Real bs_price_term_of(const BsTerms<Real>& t, Real s) {
    return s > Real(0) ? t.fwd * t.n1 : t.disc_strike * t.n2;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_delta_of(const BsTerms<Real>& t, Real s, Real dq) {
    return s * dq * t.n1;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_gamma_of(const BsTerms<Real>& t, Real S, Real dq) {
    return dq * t.pdf / (S * t.sd);
}
template <class Real>
[[gnu::always_inline]] inline Real bs_vega_of(const BsTerms<Real>& t, Real sqT) {
    return t.fwd * t.pdf * sqT;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_theta_of(const BsTerms<Real>& t, Real v, Real r, Real q, Real s,
                                               Real sqT) {
    return -t.fwd * t.pdf * v / (Real(2) * sqT) - s * r * t.disc_strike * t.n2 + s * q * t.fwd * t.n1;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_rho_of(const BsTerms<Real>& t, Real s, Real T) {
    return s * T * t.disc_strike * t.n2;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_epsilon_of(const BsTerms<Real>& t, Real s, Real T) {
    return -s * T * t.fwd * t.n1;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_vanna_of(const BsTerms<Real>& t, Real v, Real dq) {
    return -dq * t.pdf * t.d2 / v;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_volga_of(const BsTerms<Real>& t, Real v, Real vega) {
    return vega * t.d1 * t.d2 / v;
}
template <class Real>
[[gnu::always_inline]] inline Real bs_charm_of(const BsTerms<Real>& t, Real r, Real q, Real s, Real T,
                                               Real dq) {
    return s * q * dq * t.n1 - dq * t.pdf * (Real(2) * (r - q) * T - t.d2 * t.sd) / (Real(2) * T * t.sd);
}

}  // namespace dk
