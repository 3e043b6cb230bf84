// Normalized Black price of an out-of-the-money option, to full relative precision.
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

#include <cmath>
#include <limits>

namespace dk::nb {

constexpr double kSqrtPi = 1.77245385090551602730;
constexpr double kSqrtHalfPi = 1.25331413731550025121;  // sqrt(pi / 2)
constexpr double kInvSqrt2Pi_ = 0.39894228040143267794;
constexpr double kInvSqrt2_ = 0.70710678118654752440;

// erfcx(x) = exp(x^2) erfc(x). glibc has no erfcx. Below 26, erfc does not underflow and
// exp(x^2) does not overflow (and erfc(x) in (1, 2) for x < 0 needs no reflection); x^2 is
// split exactly (fma) so exp's argument carries no rounding error, which would otherwise be
// amplified by x^2. Above 26 the asymptotic series converges to full precision within 8
// terms (ratio <= 15/(2*26^2)).
inline double erfcx(double x) {
    if (std::isnan(x)) return x;
    if (x < 26.0) {
        if (x < -26.6) return std::numeric_limits<double>::infinity();
        const double hi = x * x;
        const double lo = std::fma(x, x, -hi);
        return std::exp(hi) * (1.0 + lo) * std::erfc(x);
    }
    const double w = 1.0 / (2.0 * x * x);
    double sum = 1.0, term = 1.0;
    for (int k = 1; k <= 8; ++k) {
        term *= -(2.0 * k - 1.0) * w;
        sum += term;
    }
    return sum / (x * kSqrtPi);
}

// Mills ratio R(z) = Phi(z) / phi(z).
inline double mills(double z) { return kSqrtHalfPi * erfcx(-z * kInvSqrt2_); }

// Gauss-Legendre rule on [-1, 1] for the integral form.
constexpr int kQuadNodes = 8;

// Quadrature replaces the difference of Mills ratios when t < kQuadWidth * max(1, |h|): the
// difference would then cancel by more than ~3x, while on an interval this narrow relative
// to its distance from the origin (where R' stops being ~1/z^2) the 8-node rule is exact to
// rounding (Bernstein-ellipse bound ~ (0.15/2)^16).
constexpr double kQuadWidth = 0.15;

// sum_i w_i R'(h + t z_i) over the 8 nodes, vectorized across nodes (libmvec exp/erfc).
double mills_derivative_quadrature(double h, double t);

// b(x, s), its vega db/ds and, on request, the distance to the upper bound e^{x/2} - b(s), for
// x <= 0, s > 0. `ex` is e^{x/2}, constant while solving. Each is accurate to a few ulps
// relative (the complement as a sum of positive terms, never as e^{x/2} - b).
struct OtmValues {
    double price, vega, complement;
};

inline OtmValues otm_values(double x, double s, double ex, bool with_complement) {
    const double h = x / s, t = 0.5 * s;
    OtmValues o;
    o.vega = kInvSqrt2Pi_ * std::exp(-0.5 * (h * h + t * t));
    o.complement = 0.0;
    const bool quad = t < kQuadWidth * (h < -1.0 ? -h : 1.0);
    if (h + t >= 0.0 && (with_complement || !quad)) {
        // Near the money: Phi(h + t) = 1 - Phi(-h - t) with Phi(-h - t) <= 1/2, so the same two
        // tail probabilities give the price and the complement.
        const double p_up = 0.5 * std::erfc((h + t) * kInvSqrt2_);     // Phi(-h - t)
        const double p_down = 0.5 * std::erfc(-(h - t) * kInvSqrt2_);  // Phi(h - t)
        const double down = p_down / ex;
        o.complement = ex * p_up + down;
        if (!quad) {
            o.price = ex * (1.0 - p_up) - down;
            return o;
        }
    }
    if (quad) {
        o.price = o.vega * t * mills_derivative_quadrature(h, t);
        if (with_complement && h + t < 0.0) o.complement = ex - o.price;  // b << e^{x/2} here
        return o;
    }
    o.price = o.vega * (mills(h + t) - mills(h - t));
    if (with_complement) o.complement = ex - o.price;  // far out of the money: b < e^{x/2} / 2
    return o;
}

}  // namespace dk::nb
