#include "dispersionkit/normalized_black.hpp"

#include <cmath>

#include "dispersionkit/config.hpp"

namespace dk::nb {
namespace {

// Gauss-Legendre rules on [-1, 1] (numpy.polynomial.legendre.leggauss(N)).
template <int N>
struct GaussLegendre;
template <>
struct GaussLegendre<4> {
    static constexpr double node[4] = {-0.8611363115940526, -0.33998104358485626, 0.33998104358485626,
                                       0.8611363115940526};
    static constexpr double weight[4] = {0.34785484513745357, 0.6521451548625464, 0.6521451548625464,
                                         0.34785484513745357};
};
template <>
struct GaussLegendre<6> {
    static constexpr double node[6] = {-0.9324695142031519, -0.6612093864662645, -0.2386191860831969,
                                       0.2386191860831969,  0.6612093864662645,  0.9324695142031519};
    static constexpr double weight[6] = {0.17132449237917027, 0.3607615730481387, 0.46791393457269104,
                                         0.46791393457269104, 0.3607615730481387, 0.17132449237917027};
};
template <>
struct GaussLegendre<8> {
    static constexpr double node[8] = {-0.9602898564975362,  -0.7966664774136267, -0.525532409916329,
                                       -0.18343464249564978, 0.18343464249564978, 0.525532409916329,
                                       0.7966664774136267,   0.9602898564975362};
    static constexpr double weight[8] = {0.10122853629037706, 0.22238103445337443, 0.3137066458778869,
                                         0.36268378337836166, 0.36268378337836166, 0.3137066458778869,
                                         0.22238103445337443, 0.10122853629037706};
};

// erfcx(y) = exp(y^2) erfc(y) for y >= 0 (or y < 0 with erfc(y) finite), given erfc(y).
// Below 26, erfc does not underflow and exp(y^2) does not overflow; y^2 is split exactly
// (Veltkamp; no fma, which would be a libm call in the baseline clone and block libmvec) so
// exp's argument carries no rounding error, which y^2 would amplify. Above 26 the
// asymptotic series is exact to rounding within 8 terms (ratio <= 15/(2*26^2)).
inline double erfcx_below_26(double y, double erfc_y) {
    const double yc = y < 26.0 ? y : 26.0;
    const double c = 134217729.0 * yc;
    const double yh = c - (c - yc);
    const double yl = yc - yh;
    const double hi = yc * yc;
    const double lo = ((yh * yh - hi) + 2.0 * yh * yl) + yl * yl;
    return std::exp(hi) * (1.0 + lo) * erfc_y;
}

inline double erfcx_from(double y, double erfc_y) {
    const double small = erfcx_below_26(y, erfc_y);
    const double w = 0.5 / (y * y);
    const double series =
        (1.0 +
         w * (-1.0 + w * (3.0 + w * (-15.0 + w * (105.0 + w * (-945.0 + w * (10395.0 + w * -135135.0))))))) /
        (y * kSqrtPi);
    return y < 26.0 ? small : series;
}

inline double normalized_vega(double h, double t) { return kInvSqrt2Pi * std::exp(-0.5 * (h * h + t * t)); }

// normalized_vega times e^{log_scale}, in one exp: the factor that makes b tiny far out of the
// money (e^{-(h^2 + t^2)/2}) and a large multiplier meet before anything underflows.
template <bool Scaled>
[[gnu::always_inline]] inline double scaled_vega(double h, double t, const double* log_scale, std::size_t i) {
    if constexpr (Scaled)
        return kInvSqrt2Pi * std::exp(log_scale[i] - 0.5 * (h * h + t * t));
    else
        return normalized_vega(h, t);
}

// otm_values_direct; Scaled: price, vega and complement times e^{log_scale[i]}.
template <bool Scaled>
[[gnu::always_inline]] inline void direct(std::size_t m, const double* h, const double* t, const double* ex,
                                          const double* log_scale, double* price, double* vega,
                                          double* complement) {
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        const double up = h[i] + t[i], down = h[i] - t[i];
        const double v = scaled_vega<Scaled>(h[i], t[i], log_scale, i);
        // Scaled: the near-the-money terms (never tiny) are scaled by e^{log_scale} directly.
        const double e = Scaled ? ex[i] * std::exp(log_scale[i]) : ex[i];
        // Near the money (up >= 0) erfc(up/sqrt2) = 2 Phi(-up) <= 1, a tail probability; below
        // it erfc(-up/sqrt2) feeds erfcx. Either way the argument is |up|/sqrt2.
        const double y_up = std::fabs(up) * kInvSqrt2, y_down = -down * kInvSqrt2;
        const double erfc_up = std::erfc(y_up), erfc_down = std::erfc(y_down);
        // Phi form: Phi(h + t) = 1 - Phi(-h - t), so the same two tail probabilities give the
        // price and the complement.
        const double p_up = 0.5 * erfc_up, lower = 0.5 * erfc_down / e;
        const double near_price = e * (1.0 - p_up) - lower, near_complement = e * p_up + lower;
        // Far out of the money: b < e^{x/2} / 2, so the complement does not cancel.
        const double mills_price =
            v * kSqrtHalfPi * (erfcx_from(y_up, erfc_up) - erfcx_from(y_down, erfc_down));
        const bool near = up >= 0.0;
        price[i] = near ? near_price : mills_price;
        complement[i] = near ? near_complement : e - mills_price;
        vega[i] = v;
    }
}

}  // namespace

DK_SIMD_CLONES
void otm_values_direct(std::size_t m, const double* h, const double* t, const double* ex, double* price,
                       double* vega, double* complement) {
    direct<false>(m, h, t, ex, nullptr, price, vega, complement);
}

namespace {

// R' = 1 + z R(z) cancels by ~z^2 for z << 0, costing at most ~3 digits of b where b is
// ~1e-300; the solver's vol error there is that divided by d ln b / d ln s ~ h^2, i.e. still
// at rounding level. Nodes are summed in a fixed order, so each option's sum is independent
// of its neighbours. Without the far tail every node has y < 26 and the series is not needed.
template <int N, bool kFarTail, bool Scaled = false>
inline __attribute__((always_inline)) void quadrature(std::size_t m, const double* h, const double* t,
                                                      double* price, double* vega,
                                                      const double* log_scale = nullptr) {
    using Rule = GaussLegendre<N>;
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        const double hi = h[i], ti = t[i];
        double sum = 0.0;
#pragma GCC unroll 8
        for (int k = 0; k < N; ++k) {
            const double z = hi + ti * Rule::node[k];
            const double y = -z * kInvSqrt2;
            const double yc = y < 26.0 ? y : 26.0;
            const double erfc_y = std::erfc(yc);
            const double ex = kFarTail ? erfcx_from(y, erfc_y) : erfcx_below_26(y, erfc_y);
            sum += Rule::weight[k] * (1.0 + z * kSqrtHalfPi * ex);
        }
        const double v = scaled_vega<Scaled>(hi, ti, log_scale, i);
        vega[i] = v;
        price[i] = v * ti * sum;
    }
}

DK_SIMD_CLONES
void quadrature4(std::size_t m, const double* h, const double* t, double* p, double* v) {
    quadrature<4, false>(m, h, t, p, v);
}

DK_SIMD_CLONES
void quadrature6(std::size_t m, const double* h, const double* t, double* p, double* v) {
    quadrature<6, false>(m, h, t, p, v);
}

DK_SIMD_CLONES
void quadrature8(std::size_t m, const double* h, const double* t, double* p, double* v) {
    quadrature<8, false>(m, h, t, p, v);
}

DK_SIMD_CLONES
void quadrature8_far(std::size_t m, const double* h, const double* t, double* p, double* v) {
    quadrature<8, true>(m, h, t, p, v);
}

}  // namespace

// R(h + t) - R(h - t) = 2 sum_{k odd} R^(k)(h) t^k / k!, with R' = 1 + h R and, differentiating,
// R^(k+1) = h R^(k) + k R^(k-1). For |h| > 1 the recurrence amplifies the rounding of R(h)
// like |h|^k while the terms fall like (t/|h|)^k k!/|h|, so the error stays ~eps h^2
// sinh(|x|/2)/(|x|/2) relative (the quadrature's is ~eps h^2, from R' = 1 + h R). The terms
// fall by (t / max(1, |h|))^2 < kQuadWidth^2 per odd order: kSeriesTerms of them leave a
// truncation error below 0.15^22 ~ 1e-18.
constexpr int kSeriesTerms = 11;

template <int Terms, bool Scaled = false>
[[gnu::always_inline]] inline void series(std::size_t m, const double* h, const double* t, double* price,
                                          double* vega, const double* log_scale = nullptr) {
    constexpr int kOrder = 2 * Terms - 1;
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        const double hi = h[i], ti = t[i];
        const double y = -hi * kInvSqrt2;
        const double yc = y < 26.0 ? y : 26.0;
        double r[kOrder + 1];  // R^(k)(h)
        r[0] = kSqrtHalfPi * erfcx_from(y, std::erfc(yc));
        r[1] = 1.0 + hi * r[0];
#pragma GCC unroll 32
        for (int k = 1; k < kOrder; ++k) r[k + 1] = hi * r[k] + k * r[k - 1];
        // Horner in t^2 from the smallest term: sum_{k odd} r_k t^(k-1) / k!.
        const double t2 = ti * ti;
        double sum = r[kOrder];
#pragma GCC unroll 32
        for (int k = kOrder - 2; k >= 1; k -= 2) sum = r[k] + t2 * (1.0 / ((k + 1.0) * (k + 2.0))) * sum;
        const double v = scaled_vega<Scaled>(hi, ti, log_scale, i);
        vega[i] = v;
        price[i] = 2.0 * v * ti * sum;
    }
}

DK_SIMD_CLONES
void otm_values_series(std::size_t m, const double* h, const double* t, double* price, double* vega) {
    series<kSeriesTerms>(m, h, t, price, vega);
}

namespace {

// Shorter series for narrower intervals: K odd terms leave a truncation error of about w^(2K),
// w = t / max(1, |h|), so w below these bounds needs 3, 5 or 7 terms for 1e-18 (bs_greeks'
// recomputed prices; each option's term count depends only on its own w).
constexpr double kSeries3Width = 1e-3, kSeries5Width = 0.015, kSeries7Width = 0.05;

// otm_prices' evaluations: every form with its results times e^{log_scale} (ls below).
DK_SIMD_CLONES
void scaled_direct(std::size_t m, const double* h, const double* t, const double* ex, const double* ls,
                   double* p, double* v, double* c) {
    direct<true>(m, h, t, ex, ls, p, v, c);
}
template <int Terms>
DK_SIMD_CLONES void scaled_series(std::size_t m, const double* h, const double* t, const double* ls,
                                  double* p, double* v) {
    series<Terms, true>(m, h, t, p, v, ls);
}
template <int N, bool kFarTail>
DK_SIMD_CLONES void scaled_quadrature(std::size_t m, const double* h, const double* t, const double* ls,
                                      double* p, double* v) {
    quadrature<N, kFarTail, true>(m, h, t, p, v, ls);
}

}  // namespace

void otm_values_quadrature(Quadrature rule, std::size_t m, const double* h, const double* t, double* price,
                           double* vega) {
    switch (rule) {
        case Quadrature::Nodes4:
            return quadrature4(m, h, t, price, vega);
        case Quadrature::Nodes6:
            return quadrature6(m, h, t, price, vega);
        case Quadrature::Nodes8:
            return quadrature8(m, h, t, price, vega);
        case Quadrature::Nodes8FarTail:
            return quadrature8_far(m, h, t, price, vega);
    }
}

namespace {

// otm_prices' extra forms: the series with 3, 5 or 7 terms (after evaluation_form's codes).
constexpr double kFormSeries3 = kForms, kFormSeries5 = kForms + 1, kFormSeries7 = kForms + 2;
constexpr int kPriceForms = kForms + 3;

// Below this exponent of e^{-(h^2 + t^2)/2} (~1e-282), b nears the subnormal range, where it
// would lose digits before otm_prices' multiplier scales it back up.
constexpr double kScaleBelow = -650.0;

// h, t, e^{x/2}, the log of the multiplier to fold into the evaluation (ls: ln of it where b
// would near underflow, else 0 and the multiplier is applied after) and the evaluation form of
// m options (m a multiple of kSimdLanes).
DK_SIMD_CLONES
void otm_setup(std::size_t m, const double* __restrict x, const double* __restrict s,
               const double* __restrict multiplier, double* __restrict h, double* __restrict t,
               double* __restrict ex, double* __restrict ls, double* __restrict form) {
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        h[i] = x[i] / s[i];
        t[i] = 0.5 * s[i];
        ex[i] = std::exp(0.5 * x[i]);
        ls[i] = -0.5 * (h[i] * h[i] + t[i] * t[i]) < kScaleBelow ? std::log(multiplier[i]) : 0.0;
        const double f = evaluation_form(h[i], t[i]);
        const double w = t[i] / (h[i] < -1.0 ? -h[i] : 1.0);
        const double shorter =
            w < kSeries3Width ? kFormSeries3 : (w < kSeries5Width ? kFormSeries5 : kFormSeries7);
        form[i] = f == kFormSeries && w < kSeries7Width ? shorter : f;
    }
}

}  // namespace

void otm_prices(std::size_t m, const double* x, const double* s, const double* multiplier, double* price) {
    alignas(64) double px[kBlock], ps[kBlock], pm[kBlock], h[kBlock], t[kBlock], ex[kBlock], ls[kBlock],
        form[kBlock];
    const std::size_t lanes = padded_to_lanes(m);
    for (std::size_t i = 0; i < lanes; ++i) {  // padded with copies of the first option
        px[i] = x[i < m ? i : 0];
        ps[i] = s[i < m ? i : 0];
        pm[i] = multiplier[i < m ? i : 0];
    }
    otm_setup(lanes, px, ps, pm, h, t, ex, ls, form);
    // Each form's options gathered, padded with copies of the first to whole vectors, evaluated
    // on vector lanes and scattered back.
    alignas(64) double gh[kBlock], gt[kBlock], ge[kBlock], gl[kBlock], gb[kBlock], gv[kBlock], gc[kBlock];
    std::size_t index[kBlock];
    for (int f = 0; f < kPriceForms; ++f) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < m; ++i)
            if (static_cast<int>(form[i]) == f) index[n++] = i;
        if (n == 0) continue;
        const std::size_t padded = padded_to_lanes(n);
        for (std::size_t k = 0; k < padded; ++k) {
            const std::size_t i = index[k < n ? k : 0];
            gh[k] = h[i], gt[k] = t[i], ge[k] = ex[i], gl[k] = ls[i];
        }
        if (f == static_cast<int>(kFormDirect)) {
            scaled_direct(padded, gh, gt, ge, gl, gb, gv, gc);
        } else if (f == static_cast<int>(kFormSeries)) {
            scaled_series<kSeriesTerms>(padded, gh, gt, gl, gb, gv);
        } else if (f == static_cast<int>(kFormSeries3)) {
            scaled_series<3>(padded, gh, gt, gl, gb, gv);
        } else if (f == static_cast<int>(kFormSeries5)) {
            scaled_series<5>(padded, gh, gt, gl, gb, gv);
        } else if (f == static_cast<int>(kFormSeries7)) {
            scaled_series<7>(padded, gh, gt, gl, gb, gv);
        } else {
            switch (static_cast<Quadrature>(f - static_cast<int>(kFormQuadrature))) {
                case Quadrature::Nodes4:
                    scaled_quadrature<4, false>(padded, gh, gt, gl, gb, gv);
                    break;
                case Quadrature::Nodes6:
                    scaled_quadrature<6, false>(padded, gh, gt, gl, gb, gv);
                    break;
                case Quadrature::Nodes8:
                    scaled_quadrature<8, false>(padded, gh, gt, gl, gb, gv);
                    break;
                case Quadrature::Nodes8FarTail:
                    scaled_quadrature<8, true>(padded, gh, gt, gl, gb, gv);
                    break;
            }
        }
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = index[k];
            // Folded into the evaluation where b nears underflow, else applied here.
            price[i] = ls[i] != 0.0 ? gb[k] : gb[k] * multiplier[i];
        }
    }
}

}  // namespace dk::nb
