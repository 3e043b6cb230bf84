#include "dispersionkit/implied_vol.hpp"

#include <cmath>
#include <limits>

#include "dispersionkit/config.hpp"
#include "dispersionkit/normalized_black.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Below this normalized time value b(x, s) and its derivatives leave the normal range of
// doubles during the solve and lose relative precision: the price carries no information.
constexpr double kTinyTimeValue = std::numeric_limits<double>::min() / kEps;  // ~1e-292
// A time value within this many ulps of the normalized price is rounding noise.
constexpr double kInfoUlps = 16.0;
constexpr int kMaxIterations = 64;
// Status codes travel through the vectorized classification loop as doubles.
constexpr double status_code(IVStatus status) {
    return static_cast<double>(static_cast<std::int8_t>(status));
}
constexpr double kOk = status_code(IVStatus::OK), kAtIntrinsic = status_code(IVStatus::AT_INTRINSIC);
constexpr double kBelowIntrinsic = status_code(IVStatus::BELOW_INTRINSIC);
constexpr double kAboveMax = status_code(IVStatus::ABOVE_MAX);
constexpr double kNoInformation = status_code(IVStatus::NO_INFORMATION);
constexpr double kInvalidInput = status_code(IVStatus::INVALID_INPUT);
// Block-stage code for "solve this one": past every status code.
constexpr double kSolve = static_cast<double>(kIVStatusCount);
// Relative Householder step after which the iteration stops (see the solver).
constexpr double kConvergedStep = 3e-5;
// The middle objective is used for beta in [kMiddleRatio * b(s_c), b(s_c)).
constexpr double kMiddleRatio = 0.05;

// One Householder(3) step from the objective's ratios: nu = -f/f', g2 = f''/f', g3 = f'''/f'.
inline double householder3(double nu, double g2, double g3) {
    const double den = 1.0 + nu * (g2 + g3 * nu * (1.0 / 6.0));
    const double step = nu * (1.0 + 0.5 * g2 * nu) / den;
    return (std::fabs(step) < kInf) & (den > 0.0) ? step : nu;
}

// log1p(u), with the series for the tiny arguments of the last iterations (error < u^5/5).
inline double log1p_near_zero(double u) {
    const double series = u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - 0.25 * u)));
    const double full = std::log1p(u);
    return std::fabs(u) < 1e-4 ? series : full;
}

// Branch codes as doubles so the start stage vectorizes.
constexpr double kLower = 0.0, kMiddle = 1.0, kUpper = 2.0;

struct SolverStart {
    double s, lo, hi;  // first iterate and bracket
    double ex;         // e^{x/2}
    double ln_beta;
    double branch;  // kLower / kMiddle / kUpper
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
    const double bc = 0.5 * ex - 0.5 * std::erfc(sc * kInvSqrt2) / ex;
    const double vc = kInvSqrt2Pi * ex;
    const double ln_beta = std::log(beta);
    const double tangent = sc + (beta - bc) / vc;

    // Lower guess. For s << s_c: b = phi(h, t) [R(h + t) - R(h - t)] with R(z) ~ -1/z + 1/z^3,
    // i.e. ln b ~ -(x^2/s^2 + s^2/4)/2 + ln(D / sqrt(2 pi)),
    // D ~ 2t/(a^2 - t^2) [1 - (3a^2 + t^2)/(a^2 - t^2)^2], a = |h|. Freeze the prefactor, solve
    // the quadratic in s^2, repeat.
    // Squares throughout (a^2 = x^2/s^2 is half the quadratic's denominator) save a square
    // root and two divisions per pass.
    double L = -ln_beta, low2 = 0.0;
    for (int pass = 0; pass < 3; ++pass) {
        const double Lc = L > -0.5 * x ? L : -0.5 * x;
        const double disc = 4.0 * Lc * Lc - x * x;
        const double den = 2.0 * Lc + std::sqrt(disc > 0.0 ? disc : 0.0);
        low2 = 2.0 * x * x / den;
        const double a2 = 0.5 * den, t2 = 0.25 * low2;
        const double gap0 = a2 - t2, gap_min = 0.19 * a2;  // a > t below s_c; cap at 0.9 s_c
        const double gap = gap0 > gap_min ? gap0 : gap_min;
        const double inv_gap2 = 1.0 / (gap * gap);
        const double corr0 = 1.0 - (3.0 * a2 + t2) * inv_gap2;
        const double corr = corr0 > 0.5 ? corr0 : 0.5;
        // ln(2t/gap * corr / sqrt(2 pi)) from squares.
        L = -ln_beta + 0.5 * std::log(4.0 * t2 * inv_gap2 * corr * corr * (kInvSqrt2Pi * kInvSqrt2Pi));
    }
    const double low = std::sqrt(low2);

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

// Per-option state of the solver, one array per field so the iteration runs on vector lanes.
struct Lanes {
    alignas(64) double beta[kBlock], x[kBlock], ex[kBlock], ln_beta[kBlock], branch[kBlock];
    alignas(64) double s[kBlock], lo[kBlock], hi[kBlock];
    alignas(64) double h[kBlock], t[kBlock], price[kBlock], vega[kBlock], complement[kBlock], done[kBlock];
    std::size_t index[kBlock];  // position in the block

    void copy(std::size_t to, std::size_t from) {
        beta[to] = beta[from], x[to] = x[from], ex[to] = ex[from], ln_beta[to] = ln_beta[from];
        branch[to] = branch[from], s[to] = s[from], lo[to] = lo[from], hi[to] = hi[from];
        index[to] = index[from];
    }
};

// Prices, vegas and complements at the current iterates of lanes [0, m), m a multiple of
// kSimdLanes. Each option goes to the evaluation its own (h, t) calls for; each sub-batch is
// gathered, padded with copies of its first option, evaluated on vector lanes and scattered back.
void evaluate(Lanes& L, std::size_t m) {
    alignas(64) double form_of[kBlock];
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        form_of[i] = nb::evaluation_form(L.h[i], L.t[i]);
    }
    // Partitioned without branches (the forms mix unpredictably) and with the counts of the two
    // common forms in registers; the quadrature rules are rare and sorted out afterwards.
    constexpr int kDirect = static_cast<int>(nb::kFormDirect), kSeries = static_cast<int>(nb::kFormSeries);
    std::size_t members[nb::kForms][kBlock];
    std::size_t count[nb::kForms] = {};
    std::size_t n_direct = 0, n_series = 0, n_quadrature = 0;
    std::size_t* const quadrature = members[static_cast<int>(nb::kFormQuadrature)];
    for (std::size_t i = 0; i < m; ++i) {
        const double form = form_of[i];
        members[kDirect][n_direct] = i;
        members[kSeries][n_series] = i;
        quadrature[n_quadrature] = i;
        // The upper objective needs the complement, which only the direct form gives.
        n_direct += static_cast<std::size_t>((form == nb::kFormDirect) | (L.branch[i] == kUpper));
        n_series += static_cast<std::size_t>(form == nb::kFormSeries);
        n_quadrature += static_cast<std::size_t>(form >= nb::kFormQuadrature);
    }
    count[kDirect] = n_direct;
    count[kSeries] = n_series;
    // In place: a rule's list never overtakes the positions still to be read.
    for (std::size_t k = 0; k < n_quadrature; ++k) {
        const std::size_t i = quadrature[k];
        const int form = static_cast<int>(form_of[i]);
        members[form][count[form]++] = i;
    }
    alignas(64) double gh[kBlock], gt[kBlock], ge[kBlock], gp[kBlock], gv[kBlock], gc[kBlock];
    for (int form = 0; form < nb::kForms; ++form) {
        const std::size_t n = count[form];
        if (n == 0) continue;
        const std::size_t* idx = members[form];
        const std::size_t padded = nb::padded_to_lanes(n);
        for (std::size_t k = 0; k < padded; ++k) {
            const std::size_t i = idx[k < n ? k : 0];
            gh[k] = L.h[i], gt[k] = L.t[i], ge[k] = L.ex[i];
        }
        if (form == kDirect) {
            nb::otm_values_direct(padded, gh, gt, ge, gp, gv, gc);
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = idx[k];
                L.price[i] = gp[k], L.vega[i] = gv[k], L.complement[i] = gc[k];
            }
        } else {
            if (form == kSeries) {
                nb::otm_values_series(padded, gh, gt, gp, gv);
            } else {
                const int rule = form - static_cast<int>(nb::kFormQuadrature);
                nb::otm_values_quadrature(static_cast<nb::Quadrature>(rule), padded, gh, gt, gp, gv);
            }
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = idx[k];
                L.price[i] = gp[k], L.vega[i] = gv[k];
                // Below the money b << e^{x/2}, so e^{x/2} - b does not cancel; above it the upper
                // objective took the complement from the direct form (evaluated first).
                const bool from_direct = (gh[k] + gt[k] >= 0.0) & (L.branch[i] == kUpper);
                L.complement[i] = from_direct ? L.complement[i] : ge[k] - gp[k];
            }
        }
    }
}

// One safeguarded Householder(3) step for lanes [0, m) (m a multiple of kSimdLanes) on the
// objective of each lane's branch; sets done[i] when lane i has converged. Branch-free, so
// every lane runs the same vector code.
DK_SIMD_CLONES
void householder_step(Lanes& L, std::size_t m) {
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        const double beta = L.beta[i], x = L.x[i], ln_beta = L.ln_beta[i], branch = L.branch[i];
        const double s = L.s[i], lo = L.lo[i], hi = L.hi[i];
        const double b = L.price[i], v = L.vega[i], c = L.complement[i];

        const double lo1 = b < beta ? (s > lo ? s : lo) : lo;
        const double hi1 = b > beta ? (s < hi ? s : hi) : hi;
        const double inv_s = 1.0 / s;
        const double h = x * inv_s, t = 0.5 * s, h_s = h * inv_s;
        const double w2 = h * h_s - 0.5 * t;                 // b''/b'
        const double w3 = w2 * w2 - 3.0 * h_s * h_s - 0.25;  // b'''/b'
        const bool upper = branch == kUpper, lower = branch == kLower;
        // Middle objective f = b - beta.
        const double nu_mid = (beta - b) / v;
        // Lower objective f = 1/ln b - 1/ln beta.
        const double inv_b = 1.0 / b;
        const double r1 = v * inv_b;
        // Upper objective f = ln(bmax - beta) - ln(bmax - b).
        const double inv_c = 1.0 / c;
        const double u = v * inv_c;
        // ln beta - ln b (lower) or ln(c + b - beta) - ln c (upper) without cancellation.
        const double dl = log1p_near_zero(upper ? (b - beta) * inv_c : (beta - b) * inv_b);
        // ln b from the same logarithm (lower objective only).
        const double ln_b = ln_beta - dl, inv_ln_b = 1.0 / ln_b;
        const double nu_low = dl * ln_b / (ln_beta * r1);
        const double q = 1.0 + 2.0 * inv_ln_b;
        const double g2_low = -q * r1 + w2;
        const double g3_low =
            2.0 * (1.0 + 3.0 * inv_ln_b * (1.0 + inv_ln_b)) * r1 * r1 - 3.0 * q * r1 * w2 + w3;
        const double nu_up = -dl / u;
        const double g2_up = w2 + u, g3_up = w3 + 3.0 * u * w2 + 2.0 * u * u;
        const double nu = upper ? nu_up : (lower ? nu_low : nu_mid);
        const double g2 = upper ? g2_up : (lower ? g2_low : w2);
        const double g3 = upper ? g3_up : (lower ? g3_low : w3);
        const double step = householder3(nu, g2, g3);
        const double next = s + step;
        const bool inside = (next > lo1) & (next < hi1);
        // Householder(3) converges with order 4: after a step this small the error left is
        // far below rounding, so no confirming evaluation is needed. A step out of the bracket
        // that small means the root sits at a bracket end to rounding.
        const double tolerance = inside ? kConvergedStep * next : 4.0 * kEps * s;
        const bool converged = std::fabs(step) <= tolerance;
        const double bisected = hi1 < kInf ? 0.5 * (lo1 + hi1) : 2.0 * s;
        const bool hit = b == beta;
        // Underflow far below the root: move up without a Newton step.
        const bool underflow = !(b > 0.0) | !(v > 0.0);
        const double s1 = hit ? s : (inside ? next : (converged ? s : bisected));
        L.s[i] = underflow ? (hi < kInf ? 0.5 * (s + hi) : 2.0 * s) : s1;
        L.lo[i] = underflow ? s : lo1;
        L.hi[i] = underflow ? hi : hi1;
        const bool stepped = !underflow;
        L.done[i] = stepped & (hit | converged) ? 1.0 : 0.0;
    }
}

DK_SIMD_CLONES
void set_h_t(Lanes& L, std::size_t m) {
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
        L.h[i] = L.x[i] / L.s[i];
        L.t[i] = 0.5 * L.s[i];
    }
}

// Iterates lanes [0, m) to convergence (at most kMaxIterations steps each) and writes each
// lane's s to s_out[index]. Converged lanes leave the batch after every step, so later steps
// run only on the options that still need them; each option's path depends on its own
// inputs only.
void solve_lanes(Lanes& L, std::size_t m, double* s_out) {
    for (int it = 0; it < kMaxIterations && m > 0; ++it) {
        const std::size_t padded = nb::padded_to_lanes(m);
        for (std::size_t i = m; i < padded; ++i) L.copy(i, 0);
        set_h_t(L, padded);
        evaluate(L, padded);
        householder_step(L, padded);
        // Without branches (convergence is unpredictable): every lane writes its current s, which a
        // lane still running overwrites later, and is copied down, kept only if still running.
        std::size_t kept = 0;
        for (std::size_t i = 0; i < m; ++i) {
            s_out[L.index[i]] = L.s[i];
            L.copy(kept, i);
            kept += static_cast<std::size_t>(L.done[i] == 0.0);
        }
        m = kept;
    }
}

}  // namespace

// Classifies a block of options and normalizes them. Branch-free so the loop runs on
// libmvec; the block is padded to whole vectors so every element takes the same (vector) code
// path wherever chunk boundaries fall, keeping results identical for any thread count.
DK_SIMD_CLONES
void implied_vol_block(std::size_t n, const std::array<const double*, IvInput::count>& in, double* vol,
                       IVStatus* status) {
    alignas(64) double buf[IvInput::count][kBlock];
    alignas(64) double tv[kBlock], xo[kBlock], sqrt_tau[kBlock], code[kBlock], upper_bound[kBlock];
    const std::size_t padded = nb::padded_to_lanes(n);
    // Whole vectors are read in place; a ragged block is copied and padded with a valid option.
    std::array<const double*, IvInput::count> src;
    for (std::size_t a = 0; a < IvInput::count; ++a) {
        src[a] = in[a];
        if (padded == n) continue;
        for (std::size_t i = 0; i < n; ++i) buf[a][i] = in[a][i];
        for (std::size_t i = n; i < padded; ++i) buf[a][i] = 1.0;
        src[a] = buf[a];
    }
    const double *const Pb = src[IvInput::price], *const Sb = src[IvInput::spot],
                        *const Kb = src[IvInput::strike];
    const double *const Tb = src[IvInput::tau], *const rb = src[IvInput::rate],
                        *const qb = src[IvInput::div_yield];
    const double* const cb = src[IvInput::is_call];
    const double solve = kSolve;
#pragma omp simd
    for (std::size_t i = 0; i < padded; ++i) {
        const double P = Pb[i], S = Sb[i], K = Kb[i], T = Tb[i], r = rb[i], q = qb[i], call = cb[i];
        // Sums of x - x are 0 only if every x is finite: isfinite() in a form that vectorizes.
        const double finite = (P - P) + (S - S) + (K - K) + (T - T) + (r - r) + (q - q) + (call - call);
        const double fwd_disc = S * std::exp(-q * T);     // S e^{-q tau}
        const double strike_disc = K * std::exp(-r * T);  // K e^{-r tau}
        const double log_moneyness = std::log(S / K);
        const double x = log_moneyness + (r - q) * T;
        const double beta = P / (std::sqrt(fwd_disc) * std::sqrt(strike_disc));
        const double bound = call != 0.0 ? fwd_disc : strike_disc;
        const double sign = call != 0.0 ? 1.0 : -1.0;
        // Put-call parity in normalized form: the ITM price minus 2 sinh(|x|/2) is the OTM price
        // at -|x|, which is where the solver works. 2 sinh(a) = u + u / (1 + u), u = e^a - 1.
        const double ax = std::fabs(x);
        const double u = std::expm1(0.5 * ax);
        const double distance = u + u / (1.0 + u);  // |S e^{-q tau} - K e^{-r tau}|, normalized
        const double derived =
            (fwd_disc - fwd_disc) + (strike_disc - strike_disc) + (x - x) + (beta - beta) + (u - u);
        const double t = sign * x > 0.0 ? beta - distance : beta;
        const double upper = std::exp(-0.5 * ax);
        const double noise = kInfoUlps * kEps * beta;
        // At intrinsic within rounding (the rule in implied_vol.py): |t| <= window, the price's
        // own rounding plus that of an intrinsic value computed from the inputs, in the units
        // of t; 2 cosh(x/2) = (S e^{-q tau} + K e^{-r tau}) / normalization, and the exponents'
        // sizes bound the rounding of e^{-q tau}, e^{-r tau} and of x. Out of the money by more
        // than the window, only a zero price is at intrinsic.
        const double intrinsic = sign * x > 0.0 ? distance : 0.0;
        const double cosh2 = (1.0 + u) + 1.0 / (1.0 + u);
        const double exponents = std::fabs(log_moneyness) + std::fabs(r * T) + std::fabs(q * T);
        const double window = kEps * (cosh2 * (kIntrinsicUlps + exponents) +
                                      kPriceUlps * (beta > intrinsic ? beta : intrinsic));
        // (Written as selects between doubles, the form GCC vectorizes.)
        const double near = (sign * x > 0.0) | (distance <= window) ? 1.0 : 0.0;
        const double at_intrinsic =
            near == 1.0 ? (std::fabs(t) <= window ? 1.0 : 0.0) : (P == 0.0 ? 1.0 : 0.0);
        // Later rules take precedence; the order mirrors the documented status rules.
        double c = solve;
        c = t <= noise ? kNoInformation : c;                             // rounding noise
        c = t < kTinyTimeValue ? kNoInformation : c;                     // or underflowing
        c = upper - t <= kInfoUlps * kEps * upper ? kNoInformation : c;  // or at the upper bound
        c = t >= upper ? kAboveMax : c;
        c = t < -window ? kBelowIntrinsic : c;
        c = P >= bound ? kAboveMax : c;
        c = at_intrinsic == 1.0 ? kAtIntrinsic : c;
        c = P < 0.0 ? kBelowIntrinsic : c;
        // Discounting that overflows or underflows leaves nothing to invert.
        c = derived == 0.0 && fwd_disc > 0.0 && strike_disc > 0.0 ? c : kInvalidInput;
        c = finite == 0.0 && S > 0.0 && K > 0.0 && T > 0.0 ? c : kInvalidInput;
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
    Lanes lanes;
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i) {  // written unconditionally, kept if solved: no branch
        lanes.beta[m] = tv[i], lanes.x[m] = xo[i], lanes.ex[m] = ex[i], lanes.ln_beta[m] = ln_beta[i];
        lanes.branch[m] = branch[i], lanes.s[m] = s0[i], lanes.lo[m] = lo[i], lanes.hi[m] = hi[i];
        lanes.index[m] = i;
        m += static_cast<std::size_t>(code[i] == solve);
    }
    alignas(64) double s[kBlock];
    solve_lanes(lanes, m, s);
    for (std::size_t i = 0; i < n; ++i) {
        const double c = code[i];
        vol[i] = c == solve ? s[i] / sqrt_tau[i] : (c == kAtIntrinsic ? 0.0 : kNaN);
        if (status) status[i] = static_cast<IVStatus>(static_cast<std::int8_t>(c == solve ? kOk : c));
    }
}

void implied_vol(Layout layout, std::array<StridedArg, IvInput::count> args, double* vol, IVStatus* status,
                 int threads, Interrupt* interrupt) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kIvMinChunk, interrupt, [&](std::size_t b, std::size_t e) {
        for_each_block<double>(layout, args, b, e, interrupt,
                               [&](std::size_t n, const auto& p, std::size_t flat) {
                                   implied_vol_block(n, p, vol + flat, status ? status + flat : nullptr);
                               });
    });
}

}  // namespace dk
