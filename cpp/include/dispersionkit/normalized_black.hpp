// Normalized Black price of an out-of-the-money option, to full relative precision, batched
// over options so the transcendental functions run on vector lanes.
//
// Notation (Jaeckel, "Let's Be Rational"): x = ln(F/K), s = vol * sqrt(tau), h = x/s, t = s/2,
// b = undiscounted price / sqrt(F K). For x <= 0 the call is out of the money and
//     b(x, s) = e^{x/2} Phi(h + t) - e^{-x/2} Phi(h - t),
// which cancels catastrophically for large |h| or small t when evaluated as written. With the
// Mills ratio R(z) = Phi(z) / phi(z) (R' = 1 + z R) it becomes
//     b = phi(h, t) [R(h + t) - R(h - t)] = phi(h, t) * integral_{h-t}^{h+t} R'(z) dz,
// phi(h, t) = exp(-(h^2 + t^2) / 2) / sqrt(2 pi) = db/ds (the normalized vega). R' > 0, so the
// integral form has no cancellation; it is used (Gauss-Legendre) where the difference form
// would lose more than about one digit. Elsewhere the difference of Mills ratios, or near the
// money the plain Phi form, is already accurate.
#pragma once

#include <cstddef>

#include "dispersionkit/config.hpp"
#include "dispersionkit/strided.hpp"

namespace dk::nb {

// Batches are padded to whole vectors (kSimdLanes, config.hpp), so an option's result does
// not depend on its position in the batch.
inline std::size_t padded_to_lanes(std::size_t n) { return (n + kSimdLanes - 1) / kSimdLanes * kSimdLanes; }

// Quadrature replaces the difference of Mills ratios when t < kQuadWidth * max(1, |h|): the
// difference would then cancel by more than ~3x, while on an interval this narrow relative
// to its distance from the origin (where R' stops being ~1/z^2) the 8-node Gauss-Legendre
// rule is exact to rounding (Bernstein-ellipse bound ~ (0.15/2)^16).
constexpr double kQuadWidth = 0.15;

// The Gauss-Legendre error falls like (w/2)^(2N) in the relative width w = t / max(1, |h|),
// so narrower intervals take fewer nodes: 4 below kQuad4Width, 6 below kQuad6Width, else 8
// (each bound keeps (w/2)^(2N) below 1e-18).
constexpr double kQuad4Width = 0.011, kQuad6Width = 0.063;

// Below this lowest node the erfcx argument passes 26 and needs the asymptotic series (b ~ 1e-290).
constexpr double kQuadFarTail = -36.7;

enum class Quadrature { Nodes4, Nodes6, Nodes8, Nodes8FarTail };

// Where the integral form is needed and |x| = 2|h|t <= kSeriesMaxX, a Taylor series in t
// about h (one erfcx instead of one per node) replaces it: the rounding the series amplifies
// then stays within ~2x of the quadrature's.
constexpr double kSeriesMaxX = 4.0;

// The evaluation b(h, t) takes: kFormDirect, kFormSeries, or kFormQuadrature + Quadrature.
// Returned as a double so that choosing vectorizes.
constexpr double kFormDirect = 0.0, kFormSeries = 1.0, kFormQuadrature = 2.0;
constexpr int kForms = 6;

inline double evaluation_form(double h, double t) {
    const double scale = h < -1.0 ? -h : 1.0;  // w < c  <=>  t < c * scale, without a division
    const double rule =
        h - t <= kQuadFarTail ? 3.0 : (t < kQuad4Width * scale ? 0.0 : (t < kQuad6Width * scale ? 1.0 : 2.0));
    const double integral = -2.0 * h * t <= kSeriesMaxX ? kFormSeries : kFormQuadrature + rule;
    return t < kQuadWidth * scale ? integral : kFormDirect;
}

// For m options (m a multiple of kSimdLanes) with x <= 0, s > 0, given h = x/s, t = s/2 and
// ex = e^{x/2}: the price b, the vega db/ds and the distance to the upper bound e^{x/2} - b,
// each to a few ulps relative (the complement as a sum of positive terms near the money,
// never as e^{x/2} - b there). Phi form where h + t >= 0, difference of Mills ratios below.
void otm_values_direct(std::size_t m, const double* h, const double* t, const double* ex, double* price,
                       double* vega, double* complement);

// The same price and vega through the integral form, for options whose evaluation_form(h, t)
// is kFormQuadrature + rule.
void otm_values_quadrature(Quadrature rule, std::size_t m, const double* h, const double* t, double* price,
                           double* vega);

// The same price and vega through the Taylor series, for options whose evaluation_form(h, t)
// is kFormSeries.
void otm_values_series(std::size_t m, const double* h, const double* t, double* price, double* vega);

// multiplier * b(x, s) for m <= kBlock out-of-the-money options (x <= 0, s > 0, multiplier > 0),
// each in the evaluation its own (h, t) calls for, to a few ulps relative: the
// cancellation-free price bs_greeks and bs_price use where the two-term formula would lose
// digits (multiplier = sqrt(F K) e^{-r tau}). Where b itself would near the subnormal range the
// multiplier's logarithm is folded into b's Gaussian factor, so a price that is a normal
// number keeps its digits. Results do not depend on the other options of the batch.
void otm_prices(std::size_t m, const double* x, const double* s, const double* multiplier, double* price);

}  // namespace dk::nb
