// Fair variance-swap strikes from option strips (see variance_swap.hpp for the method).
#include "dispersionkit/variance_swap.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

#include "dispersionkit/config.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Every element goes through the vector loops (tails padded to whole kSimdLanes vectors, see
// config.hpp), so a strike's result does not depend on where the strip ends.
constexpr std::size_t kLanes = kSimdLanes;

// Strips between two interrupt checks.
constexpr std::size_t kRowsPerCheck = 64;

constexpr std::size_t padded(std::size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// Per-thread scratch, 64-byte aligned so the vector loops never peel for alignment.
class Scratch {
  public:
    explicit Scratch(std::size_t n) : pad_(padded(n + 2) + kLanes), storage_(kArrays * pad_ + kLanes) {
        const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
        base_ = storage_.data() + (kLanes - (address / sizeof(double)) % kLanes) % kLanes;
    }
    double* array(std::size_t k) { return base_ + k * pad_; }

    static constexpr std::size_t kArrays = 8;

  private:
    std::size_t pad_;
    std::vector<double> storage_;
    double* base_;
};

// Lower-tail probability of |d|: both N(d) and N(-d) follow from it to full accuracy in their
// own tail (the larger one as 1 - small, accurate to an ulp of a number in [1/2, 1]).
[[gnu::always_inline]] inline double small_tail(double d) {
    return 0.5 * std::erfc(std::fabs(d) * kInvSqrt2);
}
[[gnu::always_inline]] inline double cdf_from_tail(double d, double tail) {
    return d >= 0.0 ? 1.0 - tail : tail;
}

// N(hi) - N(lo) for hi >= lo without cancelling two numbers close to 1.
[[gnu::always_inline]] inline double cdf_difference(double hi, double lo, double tail_hi, double tail_lo) {
    const double both_upper = tail_lo - tail_hi;
    const double both_lower = tail_hi - tail_lo;
    const double across = 1.0 - tail_hi - tail_lo;
    return lo >= 0.0 ? both_upper : (hi <= 0.0 ? both_lower : across);
}

// Chords of ln over consecutive nodes: ratio[k] = ln(y[k+1] / y[k]) / (y[k+1] - y[k]) for
// k < count. ln(1 + h/y) is taken as ln(u) * (h/y) / (u - 1) with u = 1 + h/y rounded (Kahan):
// accurate to a few ulps for closely spaced strikes, where ln(y[k+1] / y[k]) would lose digits.
DK_SIMD_CLONES
void log_chords(std::size_t count, const double* __restrict y, double* __restrict ratio) {
#pragma omp simd
    for (std::size_t k = 0; k < count; ++k) {
        const double h = y[k + 1] - y[k];
        const double rel = h / y[k];
        const double u = 1.0 + rel;
        const double log1p_rel = u == 1.0 ? rel : std::log(u) * rel / (u - 1.0);
        ratio[k] = log1p_rel / h;
    }
}

// Undiscounted Black call and put per strike, and ln(F / x).
DK_SIMD_CLONES
void black_strip(std::size_t count, double forward, double sqrt_tau, const double* __restrict x,
                 const double* __restrict vol, double* __restrict log_moneyness, double* __restrict call,
                 double* __restrict put) {
#pragma omp simd
    for (std::size_t i = 0; i < count; ++i) {
        const double L = std::log(forward / x[i]);
        const double s = vol[i] * sqrt_tau;
        const double d1 = L / s + 0.5 * s;
        const double d2 = d1 - s;
        const double t1 = small_tail(d1), t2 = small_tail(d2);
        const double c = forward * cdf_from_tail(d1, t1) - x[i] * cdf_from_tail(d2, t2);
        const double p = x[i] * cdf_from_tail(-d2, t2) - forward * cdf_from_tail(-d1, t1);
        log_moneyness[i] = L;
        call[i] = c < 0.0 ? 0.0 : c;  // rounding in the far wing; keeps NaN
        put[i] = p < 0.0 ? 0.0 : p;
    }
}

// E[ln(S/a) - lam (S - a); a < S < b] for lognormal S with forward F and total vol s, per
// interval [x[i], x[i+1]] with s the mean of its end vols times sqrt(tau).
DK_SIMD_CLONES
void interval_errors(std::size_t count, double forward, double sqrt_tau, const double* __restrict x,
                     const double* __restrict vol, const double* __restrict log_moneyness,
                     const double* __restrict lam, double* __restrict error) {
#pragma omp simd
    for (std::size_t i = 0; i < count; ++i) {
        const double a = x[i];
        const double s = 0.5 * (vol[i] + vol[i + 1]) * sqrt_tau;
        const double mean_a = log_moneyness[i] - 0.5 * s * s;  // E[ln S] - ln a
        const double d2a = mean_a / s;
        const double d2b = (log_moneyness[i + 1] - 0.5 * s * s) / s;
        const double d1a = d2a + s, d1b = d2b + s;
        const double p2 = cdf_difference(d2a, d2b, small_tail(d2a), small_tail(d2b));
        const double p1 = cdf_difference(d1a, d1b, small_tail(d1a), small_tail(d1b));
        const double density_a = kInvSqrt2Pi * std::exp(-0.5 * d2a * d2a);
        const double density_b = kInvSqrt2Pi * std::exp(-0.5 * d2b * d2b);
        error[i] = mean_a * p2 + s * (density_a - density_b) - lam[i] * (forward * p1 - a * p2);
    }
}

// The same expectation over S < a (upper = false) or S > a (upper = true), one vol.
double tail_error(double forward, double s, double a, double log_moneyness, double lam, bool upper) {
    const double mean_a = log_moneyness - 0.5 * s * s;
    const double d2 = mean_a / s, d1 = d2 + s;
    const double sign = upper ? 1.0 : -1.0;
    const double n2 = cdf_from_tail(sign * d2, small_tail(d2));
    const double n1 = cdf_from_tail(sign * d1, small_tail(d1));
    const double density = kInvSqrt2Pi * std::exp(-0.5 * d2 * d2);
    return mean_a * n2 + sign * s * density - lam * (forward * n1 - a * n2);
}

void one_strip(const double* strikes, const double* vols, double forward, double tau, std::size_t n,
               Scratch& scratch, double& strike, double& truncation, double& discretisation) {
    if (!(forward > 0.0 && tau > 0.0 && std::isfinite(forward) && std::isfinite(tau))) {
        strike = truncation = discretisation = kNaN;
        return;
    }
    double* x = scratch.array(0);      // strikes, padded with copies of the last
    double* v = scratch.array(1);      // vols, likewise
    double* nodes = scratch.array(2);  // virtual node, strikes, virtual node
    double* ratio = scratch.array(3);  // ln chord ratios over nodes
    double* L = scratch.array(4);      // ln(F / x)
    double* call = scratch.array(5);   // undiscounted Black call
    double* put = scratch.array(6);    // undiscounted Black put
    double* error = scratch.array(7);  // per-interval discretisation error
    // Vector loops run over whole vectors; the interval loop reads one element past its count.
    const std::size_t n_pad = padded(n + 1), chords_pad = padded(n + 1), intervals_pad = padded(n - 1);
    for (std::size_t i = 0; i < n_pad + 1; ++i) {
        const std::size_t k = i < n ? i : n - 1;
        x[i] = strikes[k];
        v[i] = vols[k];
    }
    // Virtual end nodes: the strip continued by its end spacing (kept above 0 below).
    const double below = std::fmax(x[0] - (x[1] - x[0]), 0.5 * x[0]);
    const double above = x[n - 1] + (x[n - 1] - x[n - 2]);
    nodes[0] = below;
    for (std::size_t i = 0; i < n; ++i) nodes[i + 1] = x[i];
    nodes[n + 1] = above;
    for (std::size_t k = n + 2; k < chords_pad + 1; ++k) nodes[k] = above + static_cast<double>(k - n - 1);
    log_chords(chords_pad, nodes, ratio);

    const double sqrt_tau = std::sqrt(tau);
    black_strip(n_pad, forward, sqrt_tau, x, v, L, call, put);
    interval_errors(intervals_pad, forward, sqrt_tau, x, v, L, ratio + 1, error);

    // S*: the largest strike <= F (the first when every strike is above F).
    std::size_t star = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (x[i] <= forward) star = i;
    const double two_over_t = 2.0 / tau;
    // Weight of node i = change of the interpolant's slope there = (2/T)(ratio[i] - ratio[i+1]).
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i == star) continue;
        const double weight = two_over_t * (ratio[i] - ratio[i + 1]);
        total += weight * (i < star ? put[i] : call[i]);
    }
    // At S* the slope change splits into the call (the slope right of S*) and the put (left).
    const double flat = 1.0 / x[star];
    total +=
        two_over_t * (flat - ratio[star + 1]) * call[star] + two_over_t * (ratio[star] - flat) * put[star];
    const double u = (forward - x[star]) / x[star];
    total += two_over_t * (std::log1p(u) - u);

    double inside = 0.0;
    for (std::size_t i = 0; i + 1 < n; ++i) inside += error[i];
    const double lower = tail_error(forward, v[0] * sqrt_tau, x[0], L[0], ratio[0], false);
    const double upper = tail_error(forward, v[n - 1] * sqrt_tau, x[n - 1], L[n - 1], ratio[n], true);

    // A NaN vol anywhere in the strip makes the whole strip undefined.
    double any_nan = 0.0;
    for (std::size_t i = 0; i < n; ++i) any_nan += v[i] * 0.0;
    strike = total + any_nan;
    discretisation = two_over_t * inside + any_nan;
    truncation = two_over_t * (lower + upper) + any_nan;
}

}  // namespace

void variance_swap_strike(const VarianceStrips& strips, const VarianceStrikeOut& out, int threads,
                          Interrupt* interrupt) {
    const std::size_t n = strips.n;
    if (strips.rows == 0 || n < 2) return;
    const std::size_t min_rows = std::max<std::size_t>(1, kVarianceMinWork / n);
    parallel_for(strips.rows, threads, min_rows, interrupt, [&](std::size_t begin, std::size_t end) {
        Scratch scratch(n);
        for (std::size_t b = begin; b < end; ++b) {
            if ((b - begin) % kRowsPerCheck == 0 && stop_requested(interrupt)) return;
            const auto row = static_cast<std::ptrdiff_t>(b);
            one_strip(strips.strikes + row * strips.strike_row_stride,
                      strips.vols + row * strips.vol_row_stride, strips.forward[row * strips.forward_stride],
                      strips.tau[row * strips.tau_stride], n, scratch, out.strike[b], out.truncation_error[b],
                      out.discretisation_error[b]);
        }
    });
}

}  // namespace dk
