#include "dispersionkit/implied_vol.hpp"

#include <cmath>
#include <limits>

#include "dispersionkit/normalized_black.hpp"
#include "dispersionkit/parallel.hpp"
#include "dispersionkit/simd_dispatch.hpp"
#include "dispersionkit/vector_math.hpp"

// libmvec's expm1 as well (same conditions as vector_math.hpp), for the classification loop.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__)
extern "C" {
#pragma omp declare simd notinbranch
double expm1(double) noexcept;
}
#endif

namespace dk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = std::numeric_limits<double>::epsilon();

// Below this normalized time value b(x, s) and its derivatives leave the normal range of
// doubles during the solve and lose relative precision: the price carries no information.
constexpr double kTinyTimeValue = std::numeric_limits<double>::min() / kEps;  // ~1e-292
// A time value within this many ulps of the normalized price is rounding noise.
constexpr double kInfoUlps = 16.0;
constexpr int kMaxIterations = 64;
// Block-stage code for "solve this one" (status codes are 0-5).
constexpr int kSolve = 6;
// Relative Householder step after which the iteration stops (see the solver).
constexpr double kConvergedStep = 3e-5;
// The middle objective is used for beta in [kMiddleRatio * b(s_c), b(s_c)).
constexpr double kMiddleRatio = 0.05;

// One Householder(3) step from the objective's ratios: nu = -f/f', g2 = f''/f', g3 = f'''/f'.
inline double householder3(double nu, double g2, double g3) {
    const double den = 1.0 + nu * (g2 + g3 * nu * (1.0 / 6.0));
    const double step = nu * (1.0 + 0.5 * g2 * nu) / den;
    return std::isfinite(step) && den > 0.0 ? step : nu;
}

// log1p(u), with the series for the tiny arguments of the last iterations (error < u^5/5).
inline double log1p_near_zero(double u) {
    if (std::fabs(u) < 1e-4) return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - 0.25 * u)));
    return std::log1p(u);
}

enum class Branch { Lower, Middle, Upper };

// Branch codes as doubles so the start stage vectorizes.
constexpr double kLower = 0.0, kMiddle = 1.0, kUpper = 2.0;

struct SolverStart {
    double s, lo, hi;  // first iterate and bracket
    double ex;         // e^{x/2}
    double ln_beta;
    double branch;     // kLower / kMiddle / kUpper
};

// Branch-free (vectorizable) initial guess and bracket for solving b(x, s) = beta.
//
// The inflection point s_c = sqrt(2|x|) of b(s) splits the objectives: far below it
// f = 1/ln b - 1/ln beta, just below it (beta >= kMiddleRatio b(s_c), where b is close to its
// tangent at s_c since b''(s_c) = 0) f = b - beta, above it f = ln(bmax - beta) - ln(bmax - b).
// Each is close to linear in s on its side, so Householder(3) converges in 2-3 steps.
inline SolverStart solver_start(double beta, double x, double ex) {
    const double sc = std::sqrt(-2.0 * x);
    // At s_c: h + t = 0, h - t = -s_c, h^2 + t^2 = |x|.
    const double bc = 0.5 * ex - 0.5 * std::erfc(sc * nb::kInvSqrt2_) / ex;
    const double vc = nb::kInvSqrt2Pi_ * ex;
    const double ln_beta = std::log(beta);
    const double tangent = sc + (beta - bc) / vc;

    // Lower guess. For s << s_c: b = phi(h, t) [R(h + t) - R(h - t)] with R(z) ~ -1/z + 1/z^3,
    // i.e. ln b ~ -(x^2/s^2 + s^2/4)/2 + ln(D / sqrt(2 pi)),
    // D ~ 2t/(a^2 - t^2) [1 - (3a^2 + t^2)/(a^2 - t^2)^2], a = |h|. Freeze the prefactor, solve
    // the quadratic in s^2, repeat.
    double L = -ln_beta, low = sc;
    for (int pass = 0; pass < 3; ++pass) {
        const double Lc = L > -0.5 * x ? L : -0.5 * x;
        const double disc = 4.0 * Lc * Lc - x * x;
        low = std::sqrt(2.0 * x * x / (2.0 * Lc + std::sqrt(disc > 0.0 ? disc : 0.0)));
        const double a = -x / low, t = 0.5 * low;
        const double gap0 = a * a - t * t, gap_min = 0.19 * a * a;  // a > t below s_c; cap at 0.9 s_c
        const double gap = gap0 > gap_min ? gap0 : gap_min;
        const double corr = 1.0 - (3.0 * a * a + t * t) / (gap * gap);
        L = -ln_beta + std::log(2.0 * t / gap * (corr > 0.5 ? corr : 0.5) * nb::kInvSqrt2Pi_);
    }

    SolverStart st;
    st.ex = ex;
    st.ln_beta = ln_beta;
    const bool upper = beta >= bc, middle = beta >= kMiddleRatio * bc;
    st.branch = upper ? kUpper : (middle ? kMiddle : kLower);
    st.s = upper ? tangent : (middle ? (tangent > 0.5 * sc ? tangent : 0.5 * sc) : (low < sc ? low : sc));
    st.lo = upper ? sc : 0.0;
    st.hi = upper ? kInf : sc;
    return st;
}

// Householder(3) iterations from `start` for b(x, s) = beta, x <= 0, 0 < beta < e^{x/2}; returns s.
double solve_from(double beta, double x, const SolverStart& start) {
    const double ex = start.ex, ln_beta = start.ln_beta;
    const Branch branch = start.branch == kUpper ? Branch::Upper : (start.branch == kMiddle ? Branch::Middle : Branch::Lower);
    const bool lower = branch == Branch::Lower;
    double s = start.s, lo = start.lo, hi = start.hi;

    for (int it = 0; it < kMaxIterations; ++it) {
        const nb::OtmValues o = nb::otm_values(x, s, ex, branch == Branch::Upper);
        const double b = o.price, v = o.vega;
        if (!(b > 0.0) || !(v > 0.0)) {  // underflow far below the root
            lo = s;
            s = std::isfinite(hi) ? 0.5 * (s + hi) : 2.0 * s;
            continue;
        }
        if (b == beta) break;
        if (b < beta) lo = s > lo ? s : lo;
        else hi = s < hi ? s : hi;

        const double inv_s = 1.0 / s;
        const double h = x * inv_s, t = 0.5 * s, h_s = h * inv_s;
        const double w2 = h * h_s - 0.5 * t;                // b''/b'
        const double w3 = w2 * w2 - 3.0 * h_s * h_s - 0.25;  // b'''/b'
        double step;
        if (branch == Branch::Middle) {
            step = householder3((beta - b) / v, w2, w3);
        } else if (lower) {
            const double inv_b = 1.0 / b;
            const double L = std::log(b), inv_L = 1.0 / L;
            const double r1 = v * inv_b;
            const double dl = log1p_near_zero((beta - b) * inv_b);  // ln beta - ln b without cancellation
            const double nu = dl * L / (ln_beta * r1);
            const double q = 1.0 + 2.0 * inv_L;
            const double g2 = -q * r1 + w2;
            const double g3 = 2.0 * (1.0 + 3.0 * inv_L * (1.0 + inv_L)) * r1 * r1 - 3.0 * q * r1 * w2 + w3;
            step = householder3(nu, g2, g3);
        } else {
            const double inv_c = 1.0 / o.complement;
            const double u = v * inv_c;
            const double nu = -log1p_near_zero((b - beta) * inv_c) / u;
            step = householder3(nu, w2 + u, w3 + 3.0 * u * w2 + 2.0 * u * u);
        }
        const double next = s + step;
        if (next > lo && next < hi) {
            s = next;
            // Householder(3) converges with order 4: after a step this small the error left
            // is far below rounding, so no confirming evaluation is needed.
            if (std::fabs(step) <= kConvergedStep * s) break;
        } else if (std::fabs(step) <= 4.0 * kEps * s) {
            break;  // the root sits at a bracket end to rounding
        } else {
            s = std::isfinite(hi) ? 0.5 * (lo + hi) : 2.0 * s;
        }
    }
    return s;
}

}  // namespace


// Classifies a block of options and normalizes them. Branch-free so the loop runs on
// libmvec; the block is padded to whole vectors so every element takes the same (vector) code
// path wherever chunk boundaries fall, keeping results identical for any thread count.
DK_SIMD_CLONES
void implied_vol_block(std::size_t n, const double* const in[kIvArgs], double* vol, std::int8_t* status) {
    constexpr std::size_t kLanes = 8;
    alignas(64) double Pb[kBlock], Sb[kBlock], Kb[kBlock], Tb[kBlock], rb[kBlock], qb[kBlock], cb[kBlock];
    alignas(64) double tv[kBlock], xo[kBlock], sqrt_tau[kBlock], code[kBlock], upper_bound[kBlock];
    double* const buf[kIvArgs] = {Pb, Sb, Kb, Tb, rb, qb, cb};
    const std::size_t padded = (n + kLanes - 1) / kLanes * kLanes;
    for (std::size_t a = 0; a < kIvArgs; ++a) {
        for (std::size_t i = 0; i < n; ++i) buf[a][i] = in[a][i];
        for (std::size_t i = n; i < padded; ++i) buf[a][i] = 1.0;
    }
    const double solve = static_cast<double>(kSolve);
#pragma omp simd
    for (std::size_t i = 0; i < padded; ++i) {
        const double P = Pb[i], S = Sb[i], K = Kb[i], T = Tb[i], r = rb[i], q = qb[i], call = cb[i];
        // Sums of x - x are 0 only if every x is finite: isfinite() in a form that vectorizes.
        const double finite = (P - P) + (S - S) + (K - K) + (T - T) + (r - r) + (q - q) + (call - call);
        const double fwd_disc = S * std::exp(-q * T);    // S e^{-q tau}
        const double strike_disc = K * std::exp(-r * T);  // K e^{-r tau}
        const double x = std::log(S / K) + (r - q) * T;
        const double beta = P / (std::sqrt(fwd_disc) * std::sqrt(strike_disc));
        const double derived = (fwd_disc - fwd_disc) + (strike_disc - strike_disc) + (x - x) + (beta - beta);
        const double bound = call != 0.0 ? fwd_disc : strike_disc;
        const double sign = call != 0.0 ? 1.0 : -1.0;
        // Put-call parity in normalized form: the ITM price minus 2 sinh(|x|/2) is the OTM price
        // at -|x|, which is where the solver works. 2 sinh(a) = u + u / (1 + u), u = e^a - 1.
        const double ax = std::fabs(x);
        const double u = std::expm1(0.5 * ax);
        const double t = sign * x > 0.0 ? beta - (u + u / (1.0 + u)) : beta;
        const double upper = std::exp(-0.5 * ax);
        const double noise = kInfoUlps * kEps * beta;
        // Later rules take precedence; the order mirrors the documented status rules.
        double c = solve;
        c = t <= noise ? 4.0 : c;                                   // NoInformation: rounding noise
        c = t < kTinyTimeValue ? 4.0 : c;                           //   or underflowing
        c = upper - t <= kInfoUlps * kEps * upper ? 4.0 : c;        //   or at the upper bound
        c = t >= upper ? 3.0 : c;                                   // AboveMax
        c = t == 0.0 ? (beta == 0.0 && P > 0.0 ? 4.0 : 1.0) : c;    // AtIntrinsic, unless underflow
        c = t < -noise ? 2.0 : c;                                   // BelowIntrinsic
        c = P >= bound ? 3.0 : c;                                   // AboveMax
        c = P < 0.0 ? 2.0 : c;                                      // BelowIntrinsic
        // Discounting that overflows or underflows leaves nothing to invert.
        c = derived == 0.0 && fwd_disc > 0.0 && strike_disc > 0.0 ? c : 5.0;
        c = finite == 0.0 && S > 0.0 && K > 0.0 && T > 0.0 ? c : 5.0;  // InvalidInput
        code[i] = c;
        tv[i] = t;
        xo[i] = -ax;
        upper_bound[i] = upper;
        sqrt_tau[i] = std::sqrt(T);
    }
    // Initial guesses for all lanes (garbage, never used, for those not to be solved).
    alignas(64) double s0[kBlock], lo[kBlock], hi[kBlock], ex[kBlock], ln_beta[kBlock], branch[kBlock];
#pragma omp simd
    for (std::size_t i = 0; i < padded; ++i) {
        const double b = code[i] == solve ? tv[i] : 0.5;
        const double x = code[i] == solve ? xo[i] : -1.0;
        const SolverStart st = solver_start(b, x, upper_bound[i]);
        s0[i] = st.s;
        lo[i] = st.lo;
        hi[i] = st.hi;
        ex[i] = st.ex;
        ln_beta[i] = st.ln_beta;
        branch[i] = st.branch;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const double c = code[i];
        double v = kNaN;
        if (c == solve) {
            const SolverStart st{s0[i], lo[i], hi[i], ex[i], ln_beta[i], branch[i]};
            v = solve_from(tv[i], xo[i], st) / sqrt_tau[i];
        }
        else if (c == 1.0) v = 0.0;
        vol[i] = v;
        if (status) status[i] = static_cast<std::int8_t>(c == solve ? 0.0 : c);
    }
}

void implied_vol(Layout layout, std::array<StridedArg, kIvArgs> args, double* vol, std::int8_t* status,
                 int threads) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kIvMinChunk, [&](std::size_t b, std::size_t e) {
        for_each_block<double>(layout, args, b, e, [&](std::size_t n, const auto& p, std::size_t flat) {
            const double* const in[kIvArgs] = {p[0], p[1], p[2], p[3], p[4], p[5], p[6]};
            implied_vol_block(n, in, vol + flat, status ? status + flat : nullptr);
        });
    });
}

}  // namespace dk
