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

#include <array>
#include <cmath>
#include <limits>

namespace dk::nb {

constexpr double kSqrtPi = 1.77245385090551602730;
constexpr double kSqrtHalfPi = 1.25331413731550025121;  // sqrt(pi / 2)
constexpr double kInvSqrt2Pi_ = 0.39894228040143267794;
constexpr double kInvSqrt2_ = 0.70710678118654752440;

// erfcx(x) = exp(x^2) erfc(x). glibc has no erfcx. Below 26, erfc does not underflow and
// exp(x^2) does not overflow (erfc(x) in (1, 2) for x < 0 needs no reflection); x^2 is split exactly (fma) so exp's argument carries no rounding
// error, which would otherwise be amplified by x^2. Above 26 the asymptotic series converges
// to full precision within 8 terms (ratio <= 15/(2*26^2)).
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

// R'(z) = 1 + z R(z), positive. For z < -4.24 the sum cancels (by ~z^2); there
// R' = K / (y + K) with y = -z/sqrt(2) and K the tail of Laplace's continued fraction
// erfcx(y) = 1 / (sqrt(pi) (y + (1/2) / (y + (2/2) / (y + (3/2) / ...)))), all terms positive.
inline double mills_derivative(double z) {
    if (!(z < -4.24)) return 1.0 + z * mills(z);
    const double y = -z * kInvSqrt2_;
    double d = y;
    for (int k = 40; k >= 2; --k) d = y + 0.5 * k / d;
    const double K = 0.5 / d;
    return K / (y + K);
}

// Gauss-Legendre nodes/weights on [-1, 1], computed once by Newton on P_n.
template <int N>
struct GaussLegendre {
    std::array<double, N> node{}, weight{};
    GaussLegendre() {
        for (int i = 0; i < N; ++i) {
            double z = std::cos(M_PI * (i + 0.75) / (N + 0.5));
            double dp = 1.0;
            for (int it = 0; it < 100; ++it) {
                double p0 = 1.0, p1 = z;
                for (int k = 2; k <= N; ++k) {
                    const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = N * (z * p1 - p0) / (z * z - 1.0);
                const double dz = p1 / dp;
                z -= dz;
                if (std::fabs(dz) < 1e-17) break;
            }
            node[i] = z;
            weight[i] = 2.0 / ((1.0 - z * z) * dp * dp);
        }
    }
};

constexpr int kQuadNodes = 12;

inline const GaussLegendre<kQuadNodes>& quadrature() {
    static const GaussLegendre<kQuadNodes> rule;
    return rule;
}

// Quadrature replaces the difference of Mills ratios when t < kQuadWidth * max(1, |h|): the
// difference would then cancel by more than ~1.5x, while the rule is exact to rounding on an
// interval this narrow relative to the scale on which R' varies.
constexpr double kQuadWidth = 0.25;

// Normalized vega db/ds for x <= 0.
inline double vega(double x, double s) {
    const double h = x / s, t = 0.5 * s;
    return kInvSqrt2Pi_ * std::exp(-0.5 * (h * h + t * t));
}

// b(x, s) for x <= 0, s > 0, with its vega (returned through `vega_out`).
inline double otm_price(double x, double s, double& vega_out) {
    const double h = x / s, t = 0.5 * s;
    const double v = kInvSqrt2Pi_ * std::exp(-0.5 * (h * h + t * t));
    vega_out = v;
    if (t < kQuadWidth * std::fmax(1.0, -h)) {
        const auto& q = quadrature();
        double sum = 0.0;
        for (int i = 0; i < kQuadNodes; ++i) sum += q.weight[i] * mills_derivative(h + t * q.node[i]);
        return v * t * sum;
    }
    if (h + t >= 0.0) {
        const double up = 0.5 * std::exp(0.5 * x) * std::erfc(-(h + t) * kInvSqrt2_);
        const double down = 0.5 * std::exp(-0.5 * x) * std::erfc(-(h - t) * kInvSqrt2_);
        return up - down;
    }
    return v * (mills(h + t) - mills(h - t));
}

// e^{x/2} - b(x, s) for x <= 0: the distance to the upper bound, a sum of positive terms.
inline double otm_complement(double x, double s) {
    const double h = x / s, t = 0.5 * s;
    return 0.5 * std::exp(0.5 * x) * std::erfc((h + t) * kInvSqrt2_) +
           0.5 * std::exp(-0.5 * x) * std::erfc(-(h - t) * kInvSqrt2_);
}

}  // namespace dk::nb
