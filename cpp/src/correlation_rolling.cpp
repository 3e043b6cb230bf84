// Rolling realized statistics over trailing windows of daily returns, with pandas' missing-data
// rules: NaN is a missing observation, a statistic needs max(min_periods, 2) observations,
// correlations use pairwise-complete observations.
//
// Accuracy: running sums are updated by adding the entering row and removing the leaving one,
// on data shifted by a per-column mean so that var = sxx - sx^2/c does not cancel. Dates are
// cut into fixed blocks; each block restarts its sums from scratch (and picks fresh shifts),
// which bounds rounding drift and makes every block independent: the output is the same for
// any thread count because the blocks depend only on (T, window). Running sums still carry the
// rounding of everything that passed through them: a level shift or a spike that has left the
// window leaves a residue far larger than a quiet window's own moments. So every running sum
// comes with an estimate of its accumulated rounding error (per name, the root-sum-square of
// eps x the partial sums it went through), and a statistic whose estimated error exceeds
// kMomentTolerance of its moments, or whose one-pass moments cancel, is recomputed two-pass
// from the window's raw rows (never from the shifted copies, which lose the digits of a
// window far from the block's mean). Two-pass sums use the corrected form
// sum d^2 - (sum d)^2 / c (d = x - mean), which stays exact to rounding even when the mean
// they are taken from is slightly off. Names without missing data in a block take a faster
// route to the average correlation among themselves (complete_block_average, O(window x n) per
// date, two-pass by construction); pairs with a partially missing name go pair by pair
// (pair_block, O(n) per such name and date; average_block combines the two).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dispersionkit/config.hpp"
#include "dispersionkit/correlation.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Below this many pair-updates a rolling call stays on the calling thread.
constexpr std::size_t kRollingMinWork = 1 << 20;

// Output dates per block: long enough that the restart (window rows) is a small overhead.
std::size_t block_length(std::size_t window) { return std::max<std::size_t>(8 * window, 256); }

struct Blocks {
    std::size_t T, window, length, count;
    Blocks(std::size_t T_, std::size_t window_)
        : T(T_), window(window_), length(block_length(window_)), count((T_ + length - 1) / length) {}
    std::size_t begin(std::size_t b) const { return b * length; }
    std::size_t end(std::size_t b) const { return std::min(T, (b + 1) * length); }
    // First row whose data the block's first window needs.
    std::size_t lead(std::size_t b) const { return begin(b) + 1 >= window ? begin(b) + 1 - window : 0; }
};

// A power of two to scale values by before they are squared: 1 for ordinary magnitudes, else
// 2^-e with largest * 2^-e in [0.5, 1) (e clamped to +-1000, so a denormal becomes 2^-74 and
// its square stays normal). Multiplying by a power of two is exact, so sums of squares of
// the scaled values neither underflow (returns of 1e-200) nor overflow (1e200), and results
// scaled back have the bits they would have had unscaled wherever that did not under- or
// overflow. 1 when largest is 0 or not finite. `ordinary` is the binary exponent range left
// unscaled: 300 where only squares are formed; the pair kernel multiplies two moments (fourth
// powers of the values times count^4), so it scales outside 2^-120..2^120.
inline double unit_scale(double largest, int ordinary = 300) {
    if (!(largest > 0.0 && largest <= std::numeric_limits<double>::max())) return 1.0;
    if (largest >= std::ldexp(1.0, -ordinary) && largest <= std::ldexp(1.0, ordinary)) return 1.0;
    int exponent = 0;
    std::frexp(largest, &exponent);
    return std::ldexp(1.0, -std::clamp(exponent, -1000, 1000));
}

DK_SIMD_CLONES
void column_sums(std::size_t n, const double* __restrict row, double* __restrict sum,
                 double* __restrict count, double* __restrict low, double* __restrict high) {
#pragma omp simd
    for (std::size_t j = 0; j < n; ++j) {
        const double v = row[j];
        const bool ok = std::fabs(v) <= std::numeric_limits<double>::max();  // finite: NaN and inf fail
        sum[j] += ok ? v : 0.0;
        count[j] += ok ? 1.0 : 0.0;
        low[j] = ok && v < low[j] ? v : low[j];
        high[j] = ok && v > high[j] ? v : high[j];
    }
}

// Per column over the valid values of rows [lo, hi): the mean (the block's shift) and, when
// `unit` is given, the unit_scale of the largest deviation from it.
void column_means(std::size_t n, const double* x, std::size_t lo, std::size_t hi, std::vector<double>& shift,
                  std::vector<double>* unit = nullptr, int ordinary = 300) {
    std::vector<double> count(n, 0.0), low(n, std::numeric_limits<double>::infinity()),
        high(n, -std::numeric_limits<double>::infinity());
    std::fill(shift.begin(), shift.end(), 0.0);
    for (std::size_t t = lo; t < hi; ++t)
        column_sums(n, x + t * n, shift.data(), count.data(), low.data(), high.data());
    for (std::size_t j = 0; j < n; ++j) shift[j] = count[j] > 0.0 ? shift[j] / count[j] : 0.0;
    if (unit) {
        unit->resize(n);
        for (std::size_t j = 0; j < n; ++j)
            (*unit)[j] =
                count[j] > 0.0 ? unit_scale(std::max(high[j] - shift[j], shift[j] - low[j]), ordinary) : 1.0;
    }
}

// A row as (scaled shifted value, 1) where observed and (0, 0) where missing.
void load_row(std::size_t n, const double* row, const double* shift, const double* unit, double* value,
              double* valid) {
    for (std::size_t j = 0; j < n; ++j) {
        const bool ok = !std::isnan(row[j]);
        value[j] = ok ? (row[j] - shift[j]) * unit[j] : 0.0;
        valid[j] = ok ? 1.0 : 0.0;
    }
}

// Running sums leave rounding residue where the true variance is exactly 0. Like pandas, a
// window whose observed values of a name are all equal is detected exactly: per name, the
// length of the current run of equal observed values (missing rows do not break a run).
struct Runs {
    std::vector<double> value, length, observed;  // run value, run length, observations in window
    explicit Runs(std::size_t n) : value(n), length(n), observed(n) {}
    void clear() {
        std::fill(length.begin(), length.end(), 0.0);
        std::fill(observed.begin(), observed.end(), 0.0);
    }
    void update(std::size_t n, const double* added, const double* removed) {
        run_update(n, added, removed, value.data(), length.data(), observed.data());
    }
    // 1 where every observation of name j in the window is the same value.
    void flat(std::size_t n, double* out) const {
        for (std::size_t j = 0; j < n; ++j)
            out[j] = (observed[j] > 0.0 && length[j] >= observed[j]) ? 1.0 : 0.0;
    }

    DK_SIMD_CLONES
    static void run_update(std::size_t n, const double* __restrict added, const double* __restrict removed,
                           double* __restrict value, double* __restrict length, double* __restrict observed) {
#pragma omp simd
        for (std::size_t j = 0; j < n; ++j) {
            const double v = added[j];
            const bool ok = v == v;  // not NaN
            const bool same = length[j] > 0.0 && v == value[j];
            length[j] = ok ? (same ? length[j] + 1.0 : 1.0) : length[j];
            value[j] = ok ? v : value[j];
            const double gone = (removed && removed[j] == removed[j]) ? 1.0 : 0.0;
            observed[j] += (ok ? 1.0 : 0.0) - gone;
        }
    }
};

// ---- rounding-error estimates of running sums ---------------------------------------------

// A one-pass statistic is recomputed two-pass where the estimated rounding error of its
// running moments exceeds this fraction of the moment (its one-pass value would be off by
// more than ~1e-13 relative).
constexpr double kMomentTolerance = 1e-13;

// Per name, running sums of squares and of absolute values of the (shifted) observations in
// the window, and the accumulated rounding-error estimates of sums built like them: each
// update rounds at most eps x the larger partial sum, and independent roundings add up like a
// random walk (root sum of squares). Pairwise-complete sums of a pair are sums over a subset
// of these terms, so a name's estimates bound its pairs' too.
DK_SIMD_CLONES
void error_step(std::size_t n, const double* __restrict xa, const double* __restrict xr,
                double* __restrict ss, double* __restrict sa, double* __restrict e2ss,
                double* __restrict e2sa) {
#pragma omp simd
    for (std::size_t j = 0; j < n; ++j) {
        const double old_ss = ss[j], old_sa = sa[j];
        ss[j] += xa[j] * xa[j] - xr[j] * xr[j];
        sa[j] += std::fabs(xa[j]) - std::fabs(xr[j]);
        const double bss = kEps * std::max(std::fabs(old_ss), std::fabs(ss[j]));
        const double bsa = kEps * std::max(std::fabs(old_sa), std::fabs(sa[j]));
        e2ss[j] += bss * bss;
        e2sa[j] += bsa * bsa;
    }
}

// Estimated rounding error of the n-scaled variance moment c*sxx - sx^2 of a running sum.
inline double moment_error(double c, double sx, double px, double e_ss, double e_sa) {
    return c * e_ss + 2.0 * std::fabs(sx) * e_sa + 2.0 * kEps * px;
}

// ---- rolling standard deviation ------------------------------------------------------------

DK_SIMD_CLONES
void std_step(std::size_t n, const double* __restrict xa, const double* __restrict va,
              const double* __restrict xr, const double* __restrict vr, double* __restrict c,
              double* __restrict s, double* __restrict ss) {
#pragma omp simd
    for (std::size_t j = 0; j < n; ++j) {
        c[j] += va[j] - vr[j];
        s[j] += xa[j] - xr[j];
        ss[j] += xa[j] * xa[j] - xr[j] * xr[j];
    }
}

// Writes the one-pass std of each name; marks in redo (and counts) the names to recompute
// two-pass: all of them when `all_exact`, else those whose moments cancel by > max_cancellation
// or whose running sums carry an estimated rounding error above kMomentTolerance.
DK_SIMD_CLONES
double std_emit(std::size_t n, const double* __restrict c, const double* __restrict s,
                const double* __restrict ss, const double* __restrict e2ss, const double* __restrict e2sa,
                const double* __restrict flat, const double* __restrict unit, double min_count, double scale,
                double max_cancellation, bool all_exact, double* __restrict out, double* __restrict redo) {
    double flagged = 0.0;
#pragma omp simd reduction(+ : flagged)
    for (std::size_t j = 0; j < n; ++j) {
        const double p = c[j] * ss[j], v = p - s[j] * s[j];
        const double var = flat[j] != 0.0 ? 0.0 : v / (c[j] * (c[j] - 1.0));
        const bool counted = c[j] >= min_count;
        out[j] =
            counted ? std::sqrt(var > 0.0 ? var : 0.0) * (1.0 / unit[j]) * scale : kNaN;  // exact unscaling
        const double error = moment_error(c[j], s[j], p, std::sqrt(e2ss[j]), std::sqrt(e2sa[j]));
        const bool imprecise = all_exact || v * max_cancellation < p || !(error <= kMomentTolerance * v);
        redo[j] = (counted && flat[j] == 0.0 && imprecise) ? 1.0 : 0.0;
        flagged += redo[j];
    }
    return flagged;
}

// Two-pass sample standard deviation of name j's observations in rows [lo, hi) of x (raw),
// the deviations scaled by a power of two (unit_scale) so their squares cannot under- or overflow.
double exact_std(std::size_t n, const double* x, std::size_t lo, std::size_t hi, std::size_t j) {
    double c = 0.0, mean = 0.0;
    for (std::size_t t = lo; t < hi; ++t)
        if (!std::isnan(x[t * n + j])) {
            c += 1.0;
            mean += x[t * n + j];
        }
    mean /= c;
    double largest = 0.0;
    for (std::size_t t = lo; t < hi; ++t)
        if (!std::isnan(x[t * n + j])) largest = std::max(largest, std::fabs(x[t * n + j] - mean));
    const double unit = unit_scale(largest);
    double ss = 0.0, sd = 0.0;
    for (std::size_t t = lo; t < hi; ++t)
        if (!std::isnan(x[t * n + j])) {
            const double d = (x[t * n + j] - mean) * unit;
            ss += d * d;
            sd += d;
        }
    return std::sqrt((ss - sd * sd / c) / (c - 1.0)) / unit;
}

// ---- rolling pairwise correlation ----------------------------------------------------------

// One-pass moments c*sxx - sx^2 lose about log10(c*sxx / (c*sxx - sx^2)) digits. Above this
// amplification (tiny windows of nearly equal values) a statistic is recomputed two-pass from
// the window's rows.
constexpr double kMaxCancellation = 1e3;
static_assert(2.0 * kEps / kMomentTolerance * kMaxCancellation > 1.0,
              "pair_step relies on the error test implying the cancellation limit");
// Windows this short are always computed two-pass: their sums are small next to the rounding
// residue the block's earlier additions and removals left, and two passes cost little.
constexpr std::size_t kExactWindow = 16;

// The window's rows: raw values (NaN where missing) and the observed mask.
struct WindowRows {
    const double* x;
    const double* vs;
    std::size_t rows, n;
    bool exact;  // always two-pass (short windows)
};

// Two-pass correlation of names i and j over their pairwise-complete raw rows; NaN if undefined.
// Deviations are scaled by powers of two (unit_scale) so their products cannot under- or overflow.
double exact_corr(const WindowRows& w, std::size_t i, std::size_t j) {
    double c = 0.0, mx = 0.0, my = 0.0;
    for (std::size_t r = 0; r < w.rows; ++r) {
        const double* x = w.x + r * w.n;
        const double* v = w.vs + r * w.n;
        if (v[i] != 0.0 && v[j] != 0.0) {
            c += 1.0;
            mx += x[i];
            my += x[j];
        }
    }
    mx /= c;
    my /= c;
    double lx = 0.0, ly = 0.0;
    for (std::size_t r = 0; r < w.rows; ++r) {
        const double* x = w.x + r * w.n;
        const double* v = w.vs + r * w.n;
        if (v[i] != 0.0 && v[j] != 0.0) {
            lx = std::max(lx, std::fabs(x[i] - mx));
            ly = std::max(ly, std::fabs(x[j] - my));
        }
    }
    const double ux = unit_scale(lx), uy = unit_scale(ly);
    double sxx = 0.0, syy = 0.0, sxy = 0.0, dxs = 0.0, dys = 0.0;
    for (std::size_t r = 0; r < w.rows; ++r) {
        const double* x = w.x + r * w.n;
        const double* v = w.vs + r * w.n;
        if (v[i] != 0.0 && v[j] != 0.0) {
            const double dx = (x[i] - mx) * ux, dy = (x[j] - my) * uy;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
            dxs += dx;
            dys += dy;
        }
    }
    sxx -= dxs * dxs / c;
    syy -= dys * dys / c;
    sxy -= dxs * dys / c;
    // Two roots: the product sxx * syy of sums of (up to 2^600-sized) squares could overflow.
    return sxx > 0.0 && syy > 0.0 ? sxy / (std::sqrt(sxx) * std::sqrt(syy)) : kNaN;
}

// Row i of the pairs (i, j > i) keeps, over the window's rows, the sums a pair needs beyond
// its two names' own running sums (cn, sx, sxx per name, computed once per date for all
// names): with missing values stored as 0,
//   G  = sum x_i x_j            (only rows where both are observed contribute),
//   D  = #rows with i observed and j missing,
//   Ui = sum x_i,  Qi = sum x_i^2 over rows where j is missing,
//   Uj = sum x_j,  Qj = sum x_j^2 over rows where i is missing,
// so that over the pair's complete rows c = cn_i - D, sx = sx_i - Ui, sxx = sxx_i - Qi,
// sy = sx_j - Uj, syy = sxx_j - Qj, sxy = G. Only G changes with every row; the others change
// only when a missing value enters or leaves the window (pair_missing_update: O(n) per missing
// value, instead of six running sums per pair and row). Rounding: Ui, Qi (Uj, Qj) are running sums over a
// subset of name i's (j's) terms, so the name's error estimate bounds them as it bounds its
// own sums; a pair's sum is then off by at most the name's estimate twice plus the rounding of
// the subtraction (itself below the estimate): the pair kernel uses 3x the names' estimates.
constexpr double kPairErrorFactor = 3.0;
// Exponent range of the values the pair kernel leaves unscaled (see unit_scale).
constexpr int kPairOrdinary = 120;
// The pair kernel takes sqrt(vx * vy) in one root; where the product leaves this range (a quiet
// window next to large values elsewhere in the block) it would lose digits to underflow or
// overflow, and the pair is recomputed two-pass.
constexpr double kPairProductLow = 0x1p-1000, kPairProductHigh = 0x1p1000;

struct PairRowSums {
    double *G, *D, *Ui, *Qi, *Uj, *Qj;
};

// Adds (sign = 1) or removes (sign = -1) one row of the window from row i's correction sums:
// `missing` lists the names missing in that row (ascending).
void pair_missing_update(std::size_t n, std::size_t i, const double* xs, const double* vs,
                         const std::size_t* missing, const std::size_t* missing_end, double sign,
                         const PairRowSums& s) {
    const double a = xs[i] * sign, v = vs[i] * sign, aa = xs[i] * xs[i] * sign;
    for (const std::size_t* p = missing; p != missing_end; ++p) {
        const std::size_t j = *p;
        if (j <= i) continue;
        s.D[j] += v;
        s.Ui[j] += a;
        s.Qi[j] += aa;
    }
    if (vs[i] != 0.0) return;
    for (std::size_t j = i + 1; j < n; ++j) {  // i missing: every j's value on this row
        s.Uj[j] += sign * xs[j];
        s.Qj[j] += sign * (xs[j] * xs[j]);
    }
}

// G += x_a,i x_a,j - x_r,i x_r,j for j > i (rows before the block's first output date).
DK_SIMD_CLONES
void gram_update(std::size_t n, std::size_t i, const double* __restrict xa, const double* __restrict xr,
                 double* __restrict G) {
    const double ai = xa[i], ri = xr[i];
#pragma omp simd
    for (std::size_t j = i + 1; j < n; ++j) G[j] += ai * xa[j] - ri * xr[j];
}

// One date's sums of every name (rows of a block, rows x n each): count, sum, sum of squares
// of the (shifted, scaled) observations in the window and the error estimates of the sums of
// squares and of absolute values (error_step), times kPairErrorFactor.
struct NameSums {
    std::vector<double> cn, sx, sxx, e_ss, e_sa;
};

// The running per-name sums of rows [0, rows) of the block, one row of NameSums per date.
void block_names(std::size_t n, std::size_t lo, std::size_t rows, std::size_t window, const double* xs,
                 const double* vs, const double* zero, NameSums& names, std::vector<double>& scratch) {
    for (auto* v : {&names.cn, &names.sx, &names.sxx, &names.e_ss, &names.e_sa}) v->resize(rows * n);
    scratch.assign(6 * n, 0.0);
    double *c = scratch.data(), *s = c + n, *ss = s + n, *sa = ss + n, *e2ss = sa + n, *e2sa = e2ss + n;
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t t = lo + r;
        const bool leaves = t >= window && t - window >= lo;
        const double* xr = leaves ? xs + (r - window) * n : zero;
        const double* vr = leaves ? vs + (r - window) * n : zero;
        const double* xa = xs + r * n;
        const double* va = vs + r * n;
        for (std::size_t j = 0; j < n; ++j) {
            c[j] += va[j] - vr[j];
            s[j] += xa[j] - xr[j];
        }
        error_step(n, xa, xr, ss, sa, e2ss, e2sa);
        for (std::size_t j = 0; j < n; ++j) {
            names.cn[r * n + j] = c[j];
            names.sx[r * n + j] = s[j];
            names.sxx[r * n + j] = ss[j];
            names.e_ss[r * n + j] = kPairErrorFactor * std::sqrt(e2ss[j]);
            names.e_sa[r * n + j] = kPairErrorFactor * std::sqrt(e2sa[j]);
        }
    }
}

// One date of row i of the pairs (i, j > i), in one pass over its sums: adds row a to and
// removes row r from G, writes the correlation of each pair into corr_row[j] (n-scaled moments
// c*sxy - sx*sy etc.: one division and one square root per pair) and adds the w_i w_j weighted
// correlation and weight of the defined pairs to num and den. redo[j] = 1 where the one-pass
// value is not accurate enough: those pairs are left out of num and den and recomputed
// two-pass by the caller. Returns how many are. cn..e_sa: the names' sums at this date.
DK_SIMD_CLONES
double pair_step(std::size_t n, std::size_t i, const double* __restrict xa, const double* __restrict xr,
                 double* __restrict G, const double* __restrict D, const double* __restrict Ui,
                 const double* __restrict Qi, const double* __restrict Uj, const double* __restrict Qj,
                 const double* __restrict cn, const double* __restrict sx, const double* __restrict sxx,
                 const double* __restrict e_ss, const double* __restrict e_sa, double min_count,
                 const double* __restrict flat, bool always_exact, const double* __restrict weights,
                 double* __restrict corr_row, double* __restrict redo, double& num, double& den) {
    const double ai = xa[i], ri = xr[i], ci = cn[i], sxi = sx[i], sxxi = sxx[i];
    const double ess_i = e_ss[i], esa_i = e_sa[i], wi = weights[i];
    double flagged = 0.0, row_num = 0.0, row_den = 0.0;
#pragma omp simd reduction(+ : flagged, row_num, row_den)
    for (std::size_t j = i + 1; j < n; ++j) {
        const double xy = G[j] + (ai * xa[j] - ri * xr[j]);
        G[j] = xy;
        const double cc = ci - D[j];
        const double x = sxi - Ui[j], xx = sxxi - Qi[j];
        const double y = sx[j] - Uj[j], yy = sxx[j] - Qj[j];
        const double px = cc * xx, py = cc * yy;
        const double vx = px - x * x, vy = py - y * y;
        const double product = vx * vy, den_j = std::sqrt(product);
        // Error estimates of the three moments (c sxy is bounded by (px + py) / 2, and the
        // pair's cross-product sums by the mean of the two names' square sums).
        const double ex = moment_error(cc, x, px, ess_i, esa_i);
        const double ey = moment_error(cc, y, py, e_ss[j], e_sa[j]);
        const double exy =
            0.5 * cc * (ess_i + e_ss[j]) + std::fabs(x) * e_sa[j] + std::fabs(y) * esa_i + kEps * (px + py);
        // Non-short-circuit operators keep the loop branch-free (vectorized). flat_i is
        // handled by the caller (no pair of row i is counted). With positive moments, the error
        // tests imply the cancellation limit (ex >= 2 eps px, so vx >= px * 2 eps /
        // kMomentTolerance > px / kMaxCancellation); a moment that is not positive on a
        // non-constant window is rounding residue and goes two-pass.
        const bool counted = (cc >= min_count) & (flat[j] == 0.0);
        const bool positive = (vx > 0.0) & (vy > 0.0);
        const bool precise = (ex <= kMomentTolerance * vx) & (ey <= kMomentTolerance * vy) &
                             (exy <= kMomentTolerance * den_j) & (product >= kPairProductLow) &
                             (product <= kPairProductHigh);
        const bool ok = counted & positive;
        const double r = ok ? (cc * xy - x * y) / den_j : kNaN;
        corr_row[j] = r;
        const bool again = counted & (always_exact | !(precise & positive));
        redo[j] = again ? 1.0 : 0.0;
        flagged += again ? 1.0 : 0.0;
        const bool use = ok & !again;
        const double wij = wi * weights[j];
        row_num += use ? wij * r : 0.0;
        row_den += use ? wij : 0.0;
    }
    num += row_num;
    den += row_den;
    return flagged;
}

// The diagonal entry of row i (for the matrix): 1 where name i's variance over the window is
// defined and positive, else NaN; imprecise one-pass moments are settled two-pass.
double diagonal(std::size_t i, const double* cn, const double* sx, const double* sxx, const double* e_ss,
                const double* e_sa, double min_count, const double* flat, const WindowRows& window_rows) {
    const double c = cn[i], s = sx[i], px = c * sxx[i], v = px - s * s;
    if (!(c >= min_count) || flat[i] != 0.0) return kNaN;
    const bool precise =
        window_rows.exact
            ? false
            : moment_error(c, s, px, e_ss[i], e_sa[i]) <= kMomentTolerance * v && v * kMaxCancellation >= px;
    if (!precise) {
        const double r = exact_corr(window_rows, i, i);
        return r == r ? 1.0 : kNaN;
    }
    return v > 0.0 ? 1.0 : kNaN;
}

// The pairs of row i that pair_step flagged: recomputed two-pass, then added to num and den.
void pair_redo(std::size_t n, std::size_t i, const WindowRows& window_rows, const double* weights,
               double* corr_row, const double* redo, double& num, double& den) {
    for (std::size_t j = i + 1; j < n; ++j) {
        if (redo[j] == 0.0) continue;
        const double r = exact_corr(window_rows, i, j);
        corr_row[j] = r;
        if (r == r) {
            num += weights[i] * weights[j] * r;
            den += weights[i] * weights[j];
        }
    }
}

constexpr std::size_t kPairTile = 32;

struct PairWorkspace {
    std::vector<double> shift, unit, xs, vs, flat, zero, acc, num, den, row, redo, ones, scratch;
    NameSums names;
    std::vector<std::size_t> missing, missing_start;  // per block row: the names missing in it
};

// One block of dates on the pairwise-complete path: the pairs (i, j > i) with i < pair_rows,
// their weighted sums of defined correlations and weights per date into ws.num / ws.den and,
// when matrix is given (pair_rows = n), the correlation matrices. Dates go in tiles of
// kPairTile; within a tile, name i is the outer loop, so row i's sums (6 x n doubles) stay in
// L1 for the whole tile instead of being reloaded every date. Per date, rows i are added in
// ascending order.
void pair_block(std::size_t n, const double* x, std::size_t lo, std::size_t t0, std::size_t t1,
                std::size_t window, double min_count, const double* weights, std::size_t pair_rows,
                double* matrix, PairWorkspace& ws) {
    const std::size_t rows = t1 - lo, out_rows = t1 - t0;
    ws.shift.resize(n);
    column_means(n, x, lo, t1, ws.shift, &ws.unit, kPairOrdinary);
    ws.xs.resize(rows * n);
    ws.vs.resize(rows * n);
    ws.missing.clear();
    ws.missing_start.assign(1, 0);
    for (std::size_t r = 0; r < rows; ++r) {
        load_row(n, x + (lo + r) * n, ws.shift.data(), ws.unit.data(), ws.xs.data() + r * n,
                 ws.vs.data() + r * n);
        for (std::size_t j = 0; j < n; ++j)
            if (ws.vs[r * n + j] == 0.0) ws.missing.push_back(j);
        ws.missing_start.push_back(ws.missing.size());
    }
    ws.flat.resize(out_rows * n);
    Runs runs(n);
    for (std::size_t t = lo; t < t1; ++t) {
        const bool leaves = t >= window && t - window >= lo;
        runs.update(n, x + t * n, leaves ? x + (t - window) * n : nullptr);
        if (t >= t0) runs.flat(n, ws.flat.data() + (t - t0) * n);
    }
    ws.zero.assign(n, 0.0);
    block_names(n, lo, rows, window, ws.xs.data(), ws.vs.data(), ws.zero.data(), ws.names, ws.scratch);
    ws.num.assign(out_rows, 0.0);
    ws.den.assign(out_rows, 0.0);
    ws.acc.assign(6 * pair_rows * n, 0.0);
    ws.row.resize(n);
    ws.redo.resize(n);
    if (!weights) {
        ws.ones.assign(n, 1.0);
        weights = ws.ones.data();
    }
    const std::size_t nn = n * n;
    const NameSums& names = ws.names;
    for (std::size_t tile = lo; tile < t1; tile += kPairTile) {
        const std::size_t tile_end = std::min(t1, tile + kPairTile);
        for (std::size_t i = 0; i < pair_rows; ++i) {
            double* G = ws.acc.data() + i * n;
            const std::size_t k = pair_rows * n;
            const PairRowSums sums{G, G + k, G + 2 * k, G + 3 * k, G + 4 * k, G + 5 * k};
            for (std::size_t t = tile; t < tile_end; ++t) {
                const bool leaves = t >= window && t - window >= lo;
                const std::size_t r = t - lo;
                const double* xr = leaves ? ws.xs.data() + (r - window) * n : ws.zero.data();
                const double* xa = ws.xs.data() + r * n;
                pair_missing_update(n, i, xa, ws.vs.data() + r * n, ws.missing.data() + ws.missing_start[r],
                                    ws.missing.data() + ws.missing_start[r + 1], 1.0, sums);
                if (leaves)
                    pair_missing_update(n, i, xr, ws.vs.data() + (r - window) * n,
                                        ws.missing.data() + ws.missing_start[r - window],
                                        ws.missing.data() + ws.missing_start[r - window + 1], -1.0, sums);
                if (t < t0) {
                    gram_update(n, i, xa, xr, G);
                    continue;
                }
                const double* flat = ws.flat.data() + (t - t0) * n;
                double* corr_row = matrix ? matrix + t * nn + i * n : ws.row.data();
                double &num = ws.num[t - t0], &den = ws.den[t - t0];
                const double *cn = names.cn.data() + r * n, *sx = names.sx.data() + r * n,
                             *sxx = names.sxx.data() + r * n, *e_ss = names.e_ss.data() + r * n,
                             *e_sa = names.e_sa.data() + r * n;
                const std::size_t first = t + 1 >= lo + window ? t + 1 - window : lo;
                const WindowRows window_rows{x + first * n, ws.vs.data() + (first - lo) * n, t + 1 - first, n,
                                             window <= kExactWindow};
                if (matrix) corr_row[i] = diagonal(i, cn, sx, sxx, e_ss, e_sa, min_count, flat, window_rows);
                if (flat[i] != 0.0) {  // a constant name: none of its pairs is defined
                    gram_update(n, i, xa, xr, G);
                    for (std::size_t j = i + 1; j < n; ++j) corr_row[j] = kNaN;
                    continue;
                }
                if (pair_step(n, i, xa, xr, G, sums.D, sums.Ui, sums.Qi, sums.Uj, sums.Qj, cn, sx, sxx, e_ss,
                              e_sa, min_count, flat, window_rows.exact, weights, corr_row, ws.redo.data(),
                              num, den) > 0.0)
                    pair_redo(n, i, window_rows, weights, corr_row, ws.redo.data(), num, den);
            }
        }
    }
    if (!matrix) return;
    for (std::size_t t = t0; t < t1; ++t) {
        double* m = matrix + t * n * n;
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < i; ++j) m[i * n + j] = m[j * n + i];
        }
    }
}

// Runs `step(add_row, remove_row_or_null, emit, t)` over the blocks in [first, last).
template <class Step>
void for_blocks(const Blocks& blocks, std::size_t first, std::size_t last, Interrupt* interrupt,
                Step&& step) {
    for (std::size_t b = first; b < last; ++b) {
        if (stop_requested(interrupt)) return;
        const std::size_t lo = blocks.lead(b), t0 = blocks.begin(b), t1 = blocks.end(b);
        step.restart(lo, t1);
        for (std::size_t t = lo; t < t1; ++t) {
            const bool leaves = t >= blocks.window && t - blocks.window >= lo;
            step(t, leaves ? t - blocks.window : t, leaves, t >= t0);
        }
    }
}

// ---- average correlation of complete windows, O(window * n) per date ----------------------
//
// When a block has no missing data, sum_{i,j} w_i w_j r_ij = Var(sum_i w_i x_i / sd_i) over the
// window (sample variances throughout), so the average needs the column moments plus one
// pass over the window's rows: sum_{i!=j} w_i w_j r_ij = Var(z) - sum_i w_i^2.

DK_SIMD_CLONES
double weighted_deviation_sum(std::size_t n, const double* __restrict a, const double* __restrict row,
                              const double* __restrict mean) {
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (std::size_t j = 0; j < n; ++j) sum += a[j] * (row[j] - mean[j]);
    return sum;
}

// The same over scaled deviations (row - mean) x unit: a_j x unit_j, 1 / sd of a denormal name,
// would overflow, a_j x ((row - mean) x unit_j) does not, and is the same number wherever the
// former was finite (multiplying by a power of two is exact).
DK_SIMD_CLONES
double weighted_deviation_sum(std::size_t n, const double* __restrict a, const double* __restrict row,
                              const double* __restrict mean, const double* __restrict unit) {
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (std::size_t j = 0; j < n; ++j) sum += a[j] * ((row[j] - mean[j]) * unit[j]);
    return sum;
}

// Sums of squared deviations from `mean` of `rows` consecutive rows, per name: the second pass
// of a two-pass variance. With `sd` (non-null) also corrected by the sum of the deviations,
// sum d^2 - (sum d)^2 / count, which is exact to rounding even where `mean` is off.
// Without scaling (every unit 1, the usual case): the same sums, one multiply fewer.
DK_SIMD_CLONES
void centred_squares(std::size_t n, std::size_t rows, const double* __restrict x,
                     const double* __restrict mean, double* __restrict ss) {
    for (std::size_t j = 0; j < n; ++j) ss[j] = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = x + r * n;
#pragma omp simd
        for (std::size_t j = 0; j < n; ++j) {
            const double d = row[j] - mean[j];
            ss[j] += d * d;
        }
    }
}

DK_SIMD_CLONES
void centred_squares(std::size_t n, std::size_t rows, const double* __restrict x,
                     const double* __restrict mean, const double* __restrict unit, double* __restrict ss) {
    for (std::size_t j = 0; j < n; ++j) ss[j] = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = x + r * n;
#pragma omp simd
        for (std::size_t j = 0; j < n; ++j) {
            const double d = (row[j] - mean[j]) * unit[j];
            ss[j] += d * d;
        }
    }
}

DK_SIMD_CLONES
void corrected_centred_squares(std::size_t n, std::size_t rows, const double* __restrict x,
                               const double* __restrict mean, const double* __restrict unit,
                               double* __restrict ss, double* __restrict sd) {
    for (std::size_t j = 0; j < n; ++j) ss[j] = sd[j] = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = x + r * n;
#pragma omp simd
        for (std::size_t j = 0; j < n; ++j) {
            const double d = (row[j] - mean[j]) * unit[j];
            ss[j] += d * d;
            sd[j] += d;
        }
    }
    const double count = static_cast<double>(rows);
    for (std::size_t j = 0; j < n; ++j) ss[j] -= sd[j] * sd[j] / count;
}

// a_j = w_j / sd_j of the scaled values (the deviations it multiplies are scaled too); returns
// the smallest variance. A two-pass sum of squares about a mean that
// is off by delta is too large by count * delta^2: mean_ok is set false where, with delta_j
// bounded by mean_error[j], that excess could exceed kMomentTolerance of a name's sum.
DK_SIMD_CLONES
double standardizing_weights(std::size_t n, double count, const double* __restrict ss,
                             const double* __restrict w, const double* __restrict unit,
                             const double* __restrict mean_error, double* __restrict a, bool& mean_ok) {
    double smallest = std::numeric_limits<double>::infinity(), worst = 0.0;
#pragma omp simd reduction(min : smallest) reduction(max : worst)
    for (std::size_t j = 0; j < n; ++j) {
        const double var = ss[j] / (count - 1.0);  // of the scaled values: a_j is w_j / sd_j all the same
        smallest = var < smallest ? var : smallest;
        a[j] = (w ? w[j] : 1.0) / std::sqrt(var);  // per scaled deviation: finite even where 1 / sd_j is not
        const double excess = count * mean_error[j] * mean_error[j] - kMomentTolerance * ss[j];
        worst = excess > worst ? excess : worst;
    }
    mean_ok = worst <= 0.0;
    return smallest;
}

// Per name, the largest |x| over rows [lo, hi) (no missing values here).
void column_magnitude(std::size_t n, const double* x, std::size_t lo, std::size_t hi, double* largest) {
    std::fill(largest, largest + n, 0.0);
    for (std::size_t t = lo; t < hi; ++t) {
        const double* row = x + t * n;
        for (std::size_t j = 0; j < n; ++j) {
            const double d = std::fabs(row[j]);
            largest[j] = d > largest[j] ? d : largest[j];
        }
    }
}

// For a block without missing data, the weighted sums over pairs i < j of the correlations and
// of the weights, per date into num[t - t0], den[t - t0] (both 0 where windows are too short);
// false (output unusable) when some window has a name with zero variance, whose pairs the
// caller must then leave out pair by pair.
// Window means come from running sums; variances and Var(z) are two-pass sums over the window's
// rows, corrected for the means' error where it could matter.
bool complete_block_average(std::size_t n, const double* x, std::size_t lo, std::size_t t0, std::size_t t1,
                            std::size_t window, double min_count, const double* w, double* num, double* den,
                            std::vector<double>& scratch) {
    double self = 0.0, pair = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
        const double wj = w ? w[j] : 1.0;
        self += wj * wj;
        pair += wj;
    }
    const double weight_sum = pair;
    pair = pair * pair - self;
    // Weights concentrated on one name: Var(z) - sum w^2 and (sum w)^2 - sum w^2 both cancel.
    // The pair-by-pair route sums w_i w_j r_ij directly and stays exact there.
    if (!(pair * kMaxCancellation > weight_sum * weight_sum)) return false;
    scratch.assign(7 * n + window, 0.0);
    double* s = scratch.data();
    double* mean = s + n;
    double* ss = mean + n;
    double* sd = ss + n;
    double* mean_error = sd + n;
    double* unit = mean_error + n;
    double* a = unit + n;
    double* z = a + n;
    // Bound on the error of a window mean s / count: the running sum's partial sums stay below
    // window x max|x|, and its roundings add up like a random walk over the block's updates.
    column_magnitude(n, x, lo, t1, mean_error);
    const double walk = std::sqrt(2.0 * static_cast<double>(t1 - lo)) * static_cast<double>(window) /
                        std::max(min_count, 2.0);
    bool scaled = false;
    for (std::size_t j = 0; j < n; ++j) {  // deviations are scaled by unit_scale(max|x|), the bound too
        unit[j] = unit_scale(mean_error[j]);
        scaled = scaled || unit[j] != 1.0;
        // + the smallest denormal: s / count of denormal values rounds in absolute terms
        // (a no-op next to any normal bound).
        mean_error[j] =
            unit[j] * (mean_error[j] * kEps * (walk + 2.0) + std::numeric_limits<double>::denorm_min());
    }
    Runs runs(n);
    double count = 0.0;
    for (std::size_t t = lo; t < t1; ++t) {
        const double* add = x + t * n;
        const bool leaves = t >= window && t - window >= lo;
        runs.update(n, add, leaves ? x + (t - window) * n : nullptr);
        if (leaves) {
            const double* rem = x + (t - window) * n;
            for (std::size_t j = 0; j < n; ++j) s[j] += add[j] - rem[j];
        } else {
            for (std::size_t j = 0; j < n; ++j) s[j] += add[j];
            count += 1.0;
        }
        if (t < t0) continue;
        if (count < min_count) {
            num[t - t0] = den[t - t0] = 0.0;
            continue;
        }
        for (std::size_t j = 0; j < n; ++j)
            if (runs.length[j] >= runs.observed[j]) return false;  // a constant name: pairs left out
        const auto rows = static_cast<std::size_t>(count);
        const double* first = x + (t + 1 - rows) * n;
        for (std::size_t j = 0; j < n; ++j) mean[j] = s[j] / count;
        if (scaled)
            centred_squares(n, rows, first, mean, unit, ss);
        else
            centred_squares(n, rows, first, mean, ss);
        bool mean_ok = true;
        double smallest = standardizing_weights(n, count, ss, w, unit, mean_error, a, mean_ok);
        if (!mean_ok) {  // e.g. a level shift inside the block: correct for the mean's error
            corrected_centred_squares(n, rows, first, mean, unit, ss, sd);
            smallest = standardizing_weights(n, count, ss, w, unit, mean_error, a, mean_ok);
        }
        if (!(smallest > 0.0)) return false;
        double sz = 0.0;
        for (std::size_t r = 0; r < rows; ++r) {
            z[r] = scaled ? weighted_deviation_sum(n, a, first + r * n, mean, unit)
                          : weighted_deviation_sum(n, a, first + r * n, mean);
            sz += z[r];
        }
        const double zbar = sz / count;
        double szz = 0.0, dz = 0.0;
        for (std::size_t r = 0; r < rows; ++r) {
            szz += (z[r] - zbar) * (z[r] - zbar);
            dz += z[r] - zbar;
        }
        szz -= dz * dz / count;
        // Halved (exactly) to the sums over unordered pairs i < j, as pair_block keeps them.
        num[t - t0] = 0.5 * (szz / (count - 1.0) - self);
        den[t - t0] = 0.5 * pair;
    }
    return true;
}

// The names of rows [lo, hi) by their missing values: `partial` (some missing) first, then
// `complete` (none); names never observed there have no defined pair in the block and are
// left out. Returns the number of partial names; order holds the kept names' columns.
std::size_t classify_names(std::size_t n, const double* x, std::size_t lo, std::size_t hi,
                           std::vector<std::size_t>& order, std::vector<double>& observed) {
    observed.assign(n, 0.0);
    for (std::size_t t = lo; t < hi; ++t)
        for (std::size_t j = 0; j < n; ++j) observed[j] += std::isnan(x[t * n + j]) ? 0.0 : 1.0;
    order.clear();
    const auto rows = static_cast<double>(hi - lo);
    for (std::size_t j = 0; j < n; ++j)
        if (observed[j] > 0.0 && observed[j] < rows) order.push_back(j);
    const std::size_t partial = order.size();
    for (std::size_t j = 0; j < n; ++j)
        if (observed[j] == rows) order.push_back(j);
    return partial;
}

// A trailing window longer than the data covers every row so far, exactly as a window of T
// rows does. Clamping keeps block lengths (8 * window) and window-sized scratch from
// overflowing or exhausting memory for windows like 2**61 that pandas accepts.
std::size_t effective_window(std::size_t T, std::size_t window) {
    return std::min(window, std::max<std::size_t>(T, 2));
}

std::size_t min_blocks(const Blocks& blocks, std::size_t per_row_work) {
    const std::size_t per_block = (blocks.length + blocks.window) * std::max<std::size_t>(1, per_row_work);
    return std::max<std::size_t>(1, kRollingMinWork / per_block);
}

// The names of a block kept for its average and their data, partial names first.
struct BlockColumns {
    std::vector<std::size_t> order;
    std::vector<double> observed, x, complete, w;
};

// Weighted sums over pairs of the defined correlations and of their weights for the dates of
// one block, into num / den (index t - t0). Names complete over the block (no missing value in
// any of its rows) take the O(window * n) route (complete_block_average) among themselves;
// only the pairs with a name that has missing values (and is observed at least once) go pair
// by pair, so a few late listings or suspensions cost in proportion to their pairs, not n^2.
// Falls back to every pair where the complete route cannot be used (a constant window).
void average_block(std::size_t n, const double* x, std::size_t lo, std::size_t t0, std::size_t t1,
                   std::size_t window, double min_count, const double* weights, PairWorkspace& ws,
                   BlockColumns& part, std::vector<double>& scratch, std::vector<double>& num,
                   std::vector<double>& den) {
    const std::size_t out_rows = t1 - t0, rows = t1 - lo;
    num.assign(out_rows, 0.0);
    den.assign(out_rows, 0.0);
    const std::size_t partial = classify_names(n, x, lo, t1, part.order, part.observed);
    const std::size_t kept = part.order.size(), complete = kept - partial;
    const auto all_pairs = [&] {
        pair_block(n, x, lo, t0, t1, window, min_count, weights, n, nullptr, ws);
        num.swap(ws.num);  // the block's sums; pair_block refills ws.num / ws.den next time
        den.swap(ws.den);
    };
    if (partial == 0 && complete == n) {  // no missing value: the usual case
        if (!complete_block_average(n, x, lo, t0, t1, window, min_count, weights, num.data(), den.data(),
                                    scratch))
            all_pairs();
        return;
    }
    if (complete < 2 && kept == n) {
        all_pairs();
        return;
    }
    // The kept names' rows [lo, t1), partial names first, and the complete names' alone; dates
    // shift by lo (the window rules only look at t - lo).
    part.x.resize(rows * kept);
    part.complete.resize(rows * complete);
    part.w.resize(kept);
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = x + (lo + r) * n;
        for (std::size_t k = 0; k < kept; ++k) part.x[r * kept + k] = row[part.order[k]];
        for (std::size_t k = 0; k < complete; ++k)
            part.complete[r * complete + k] = row[part.order[partial + k]];
    }
    for (std::size_t k = 0; k < kept; ++k) part.w[k] = weights ? weights[part.order[k]] : 1.0;
    const std::size_t s0 = t0 - lo, s1 = t1 - lo;
    if (complete >= 2 && !complete_block_average(complete, part.complete.data(), 0, s0, s1, window, min_count,
                                                 part.w.data() + partial, num.data(), den.data(), scratch)) {
        all_pairs();
        return;
    }
    // Pairs with a partial name: rows i < partial of the pairs of the kept names (all of them
    // when fewer than two names are complete).
    const std::size_t pair_rows = complete >= 2 ? partial : kept;
    if (pair_rows == 0 || kept < 2) return;
    pair_block(kept, part.x.data(), 0, s0, s1, window, min_count, part.w.data(), pair_rows, nullptr, ws);
    for (std::size_t t = 0; t < out_rows; ++t) {
        num[t] += ws.num[t];
        den[t] += ws.den[t];
    }
}

}  // namespace

void rolling_std(std::size_t T, std::size_t n, const double* x, std::size_t window, std::size_t min_periods,
                 double scale, double* out, int threads, Interrupt* interrupt) {
    window = effective_window(T, window);
    const Blocks blocks(T, window);
    const double min_count = static_cast<double>(std::max<std::size_t>(min_periods, 2));
    parallel_for(
        blocks.count, threads, min_blocks(blocks, n), interrupt, [&](std::size_t first, std::size_t last) {
            std::vector<double> shift(n), unit(n, 1.0), xa(n), va(n), xr(n), vr(n), zero(n, 0.0), c(n), s(n),
                ss(n), flat(n), redo(n), err_ss(n), err_sa(n), e2ss(n), e2sa(n);
            Runs runs(n);
            struct Step {
                std::size_t n;
                const double* x;
                std::vector<double>&shift, &unit, &xa, &va, &xr, &vr, &zero, &c, &s, &ss, &flat, &redo,
                    &err_ss, &err_sa, &e2ss, &e2sa;
                Runs& runs;
                double min_count, scale;
                double* out;
                std::size_t blocks_window;
                void restart(std::size_t lo, std::size_t hi) {
                    column_means(n, x, lo, hi, shift, &unit);
                    for (auto* v : {&c, &s, &ss, &err_ss, &err_sa, &e2ss, &e2sa})
                        std::fill(v->begin(), v->end(), 0.0);
                    runs.clear();
                }
                void operator()(std::size_t add, std::size_t remove, bool leaves, bool emit) {
                    load_row(n, x + add * n, shift.data(), unit.data(), xa.data(), va.data());
                    if (leaves) load_row(n, x + remove * n, shift.data(), unit.data(), xr.data(), vr.data());
                    const double* rx = leaves ? xr.data() : zero.data();
                    const double* rv = leaves ? vr.data() : zero.data();
                    std_step(n, xa.data(), va.data(), rx, rv, c.data(), s.data(), ss.data());
                    error_step(n, xa.data(), rx, err_ss.data(), err_sa.data(), e2ss.data(), e2sa.data());
                    runs.update(n, x + add * n, leaves ? x + remove * n : nullptr);
                    if (!emit) return;
                    runs.flat(n, flat.data());
                    double* o = out + add * n;
                    if (std_emit(n, c.data(), s.data(), ss.data(), e2ss.data(), e2sa.data(), flat.data(),
                                 unit.data(), min_count, scale, kMaxCancellation,
                                 blocks_window <= kExactWindow, o, redo.data()) == 0.0)
                        return;
                    const std::size_t first = add + 1 >= blocks_window ? add + 1 - blocks_window : 0;
                    for (std::size_t j = 0; j < n; ++j)
                        if (redo[j] != 0.0) o[j] = exact_std(n, x, first, add + 1, j) * scale;
                }
            } step{n,    x,    shift,  unit,   xa,   va,   xr,   vr,        zero,  c,   s,     ss,
                   flat, redo, err_ss, err_sa, e2ss, e2sa, runs, min_count, scale, out, window};
            for_blocks(blocks, first, last, interrupt, step);
        });
}

void rolling_pairwise_corr(std::size_t T, std::size_t n, const double* x, std::size_t window,
                           std::size_t min_periods, const double* weights, double* avg, double* matrix,
                           int threads, Interrupt* interrupt) {
    window = effective_window(T, window);
    const Blocks blocks(T, window);
    const double min_count = static_cast<double>(std::max<std::size_t>(min_periods, 2));
    parallel_for(blocks.count, threads, min_blocks(blocks, n * (n + 1) / 2), interrupt,
                 [&](std::size_t first, std::size_t last) {
                     PairWorkspace ws;
                     BlockColumns part;
                     std::vector<double> scratch, num, den;
                     for (std::size_t b = first; b < last; ++b) {
                         if (stop_requested(interrupt)) return;
                         const std::size_t lo = blocks.lead(b), t0 = blocks.begin(b), t1 = blocks.end(b);
                         // Every choice below depends only on the block's data, so the output never
                         // depends on threads.
                         if (matrix) {
                             pair_block(n, x, lo, t0, t1, window, min_count, weights, n, matrix, ws);
                         } else {
                             average_block(n, x, lo, t0, t1, window, min_count, weights, ws, part, scratch,
                                           num, den);
                             for (std::size_t t = t0; t < t1; ++t)
                                 avg[t] = den[t - t0] > 0.0 ? num[t - t0] / den[t - t0] : kNaN;
                         }
                     }
                 });
}

}  // namespace dk
