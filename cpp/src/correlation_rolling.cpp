// Rolling realized statistics over trailing windows of daily returns, with pandas' missing-data
// rules: NaN is a missing observation, a statistic needs max(min_periods, 2) observations,
// correlations use pairwise-complete observations.
//
// Accuracy: running sums are updated by adding the entering row and removing the leaving one,
// on data shifted by a per-column mean so that var = sxx - sx^2/c does not cancel. Dates are
// cut into fixed blocks; each block restarts its sums from scratch (and picks fresh shifts),
// which bounds rounding drift and makes every block independent: the output is the same for
// any thread count because the blocks depend only on (T, window). Where one-pass moments would
// still lose digits (short windows, strong cancellation) a statistic is recomputed two-pass
// from the window's rows. Blocks without missing data take a faster route to the average
// correlation (complete_block_average), which is two-pass by construction.
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

// Mean of the valid values of each column over rows [lo, hi): the shift for one block.
void column_means(std::size_t n, const double* x, std::size_t lo, std::size_t hi,
                  std::vector<double>& shift) {
    std::vector<double> count(n, 0.0);
    std::fill(shift.begin(), shift.end(), 0.0);
    for (std::size_t t = lo; t < hi; ++t) {
        const double* row = x + t * n;
        for (std::size_t j = 0; j < n; ++j) {
            if (std::isfinite(row[j])) {
                shift[j] += row[j];
                count[j] += 1.0;
            }
        }
    }
    for (std::size_t j = 0; j < n; ++j) shift[j] = count[j] > 0.0 ? shift[j] / count[j] : 0.0;
}

// A row as (shifted value, 1) where observed and (0, 0) where missing.
void load_row(std::size_t n, const double* row, const double* shift, double* value, double* valid) {
    for (std::size_t j = 0; j < n; ++j) {
        const bool ok = !std::isnan(row[j]);
        value[j] = ok ? row[j] - shift[j] : 0.0;
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
// two-pass: all of them when `all_exact`, else those whose moments cancel by > max_cancellation.
DK_SIMD_CLONES
double std_emit(std::size_t n, const double* __restrict c, const double* __restrict s,
                const double* __restrict ss, const double* __restrict flat, double min_count, double scale,
                double max_cancellation, bool all_exact, double* __restrict out, double* __restrict redo) {
    double flagged = 0.0;
#pragma omp simd reduction(+ : flagged)
    for (std::size_t j = 0; j < n; ++j) {
        const double p = c[j] * ss[j], v = p - s[j] * s[j];
        const double var = flat[j] != 0.0 ? 0.0 : v / (c[j] * (c[j] - 1.0));
        const bool counted = c[j] >= min_count;
        out[j] = counted ? std::sqrt(var > 0.0 ? var : 0.0) * scale : kNaN;
        redo[j] = (counted && flat[j] == 0.0 && (all_exact || v * max_cancellation < p)) ? 1.0 : 0.0;
        flagged += redo[j];
    }
    return flagged;
}

// Two-pass sample standard deviation of name j's observations in rows [lo, hi) of x.
double exact_std(std::size_t n, const double* x, std::size_t lo, std::size_t hi, std::size_t j) {
    double c = 0.0, mean = 0.0;
    for (std::size_t t = lo; t < hi; ++t)
        if (!std::isnan(x[t * n + j])) {
            c += 1.0;
            mean += x[t * n + j];
        }
    mean /= c;
    double ss = 0.0;
    for (std::size_t t = lo; t < hi; ++t)
        if (!std::isnan(x[t * n + j])) ss += (x[t * n + j] - mean) * (x[t * n + j] - mean);
    return std::sqrt(ss / (c - 1.0));
}

// ---- rolling pairwise correlation ----------------------------------------------------------

// Sums over pairwise-complete observations of pairs (i, j >= i), indexed by j: adds row a and
// removes row r (all-missing when nothing leaves).
DK_SIMD_CLONES
void pair_update(std::size_t n, std::size_t i, const double* __restrict xa, const double* __restrict va,
                 const double* __restrict xr, const double* __restrict vr, double* __restrict c,
                 double* __restrict sx, double* __restrict sy, double* __restrict sxx, double* __restrict syy,
                 double* __restrict sxy) {
    const double ai = xa[i], pi = va[i], ri = xr[i], qi = vr[i];
#pragma omp simd
    for (std::size_t j = i; j < n; ++j) {
        const double p = pi * va[j], q = qi * vr[j];
        c[j] += p - q;
        sx[j] += p * ai - q * ri;
        sy[j] += p * xa[j] - q * xr[j];
        sxx[j] += p * ai * ai - q * ri * ri;
        syy[j] += p * xa[j] * xa[j] - q * xr[j] * xr[j];
        sxy[j] += p * ai * xa[j] - q * ri * xr[j];
    }
}

// One-pass moments c*sxx - sx^2 lose about log10(c*sxx / (c*sxx - sx^2)) digits. Above this
// amplification (tiny windows of nearly equal values) a statistic is recomputed two-pass from
// the window's rows, so results stay within ~1e-12 of a two-pass computation everywhere.
constexpr double kMaxCancellation = 1e3;
// Windows this short are always computed two-pass: their sums are small next to the rounding
// residue the block's earlier additions and removals left, and two passes cost little.
constexpr std::size_t kExactWindow = 16;

// The window's prepared rows: shifted values (0 where missing) and the observed mask.
struct WindowRows {
    const double* xs;
    const double* vs;
    std::size_t rows, n;
    bool exact;  // always two-pass (short windows)
};

// Two-pass correlation of names i and j over their pairwise-complete rows; NaN if undefined.
double exact_corr(const WindowRows& w, std::size_t i, std::size_t j) {
    double c = 0.0, mx = 0.0, my = 0.0;
    for (std::size_t r = 0; r < w.rows; ++r) {
        const double* x = w.xs + r * w.n;
        const double* v = w.vs + r * w.n;
        if (v[i] != 0.0 && v[j] != 0.0) {
            c += 1.0;
            mx += x[i];
            my += x[j];
        }
    }
    mx /= c;
    my /= c;
    double sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (std::size_t r = 0; r < w.rows; ++r) {
        const double* x = w.xs + r * w.n;
        const double* v = w.vs + r * w.n;
        if (v[i] != 0.0 && v[j] != 0.0) {
            const double dx = x[i] - mx, dy = x[j] - my;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }
    }
    return sxx > 0.0 && syy > 0.0 ? sxy / std::sqrt(sxx * syy) : kNaN;
}

// The correlations of pairs (i, j >= i) from their sums into corr_row[j] (n-scaled moments
// c*sxy - sx*sy etc.: one division and one square root per pair); redo[j] = 1 where the
// one-pass value is not accurate enough and must be recomputed. Returns how many are.
DK_SIMD_CLONES
double pair_corr(std::size_t n, std::size_t i, const double* __restrict c, const double* __restrict sx,
                 const double* __restrict sy, const double* __restrict sxx, const double* __restrict syy,
                 const double* __restrict sxy, double min_count, const double* __restrict flat,
                 bool always_exact, double* __restrict corr_row, double* __restrict redo) {
    const double flat_i = flat[i];
    double flagged = 0.0;
#pragma omp simd reduction(+ : flagged)
    for (std::size_t j = i; j < n; ++j) {
        const double cc = c[j], x = sx[j], y = sy[j];
        const double px = cc * sxx[j], py = cc * syy[j];
        const double vx = px - x * x, vy = py - y * y;
        const bool counted = cc >= min_count && flat_i == 0.0 && flat[j] == 0.0;
        const bool imprecise = vx * kMaxCancellation < px || vy * kMaxCancellation < py || always_exact;
        const bool ok = counted && vx > 0.0 && vy > 0.0;
        corr_row[j] = ok ? (cc * sxy[j] - x * y) / std::sqrt(vx * vy) : kNaN;
        redo[j] = (counted && imprecise) ? 1.0 : 0.0;
        flagged += redo[j];
    }
    return flagged;
}

// Adds the w_i w_j weighted sum and the weight of the defined off-diagonal correlations of
// row i to num and den.
DK_SIMD_CLONES
void pair_sum(std::size_t n, std::size_t i, const double* __restrict corr_row,
              const double* __restrict weights, double& num, double& den) {
    const double wi = weights[i];
    double row_num = 0.0, row_den = 0.0;
#pragma omp simd reduction(+ : row_num, row_den)
    for (std::size_t j = i + 1; j < n; ++j) {
        const double r = corr_row[j];
        const bool use = r == r;
        row_num += use ? wi * weights[j] * r : 0.0;
        row_den += use ? wi * weights[j] : 0.0;
    }
    num += row_num;
    den += row_den;
}

void pair_emit(std::size_t n, std::size_t i, const double* c, const double* sx, const double* sy,
               const double* sxx, const double* syy, const double* sxy, double min_count, const double* flat,
               const double* weights, const WindowRows& window_rows, double* corr_row, double* redo,
               double& num, double& den) {
    if (pair_corr(n, i, c, sx, sy, sxx, syy, sxy, min_count, flat, window_rows.exact, corr_row, redo) > 0.0)
        for (std::size_t j = i; j < n; ++j)
            if (redo[j] != 0.0) corr_row[j] = exact_corr(window_rows, i, j);
    pair_sum(n, i, corr_row, weights, num, den);
}

constexpr std::size_t kPairTile = 32;

struct PairWorkspace {
    std::vector<double> shift, xs, vs, flat, zero, acc, num, den, row, redo, ones;
};

// One block of dates on the pairwise-complete path. Dates go in tiles of kPairTile; within a
// tile, name i is the outer loop, so row i's running sums (6 x n doubles) stay in L1 for the
// whole tile instead of being reloaded every date. Per date, rows i are added in ascending order.
void pair_block(std::size_t n, const double* x, std::size_t lo, std::size_t t0, std::size_t t1,
                std::size_t window, double min_count, const double* weights, double* avg, double* matrix,
                PairWorkspace& ws) {
    const std::size_t rows = t1 - lo, out_rows = t1 - t0;
    ws.shift.resize(n);
    column_means(n, x, lo, t1, ws.shift);
    ws.xs.resize(rows * n);
    ws.vs.resize(rows * n);
    for (std::size_t r = 0; r < rows; ++r)
        load_row(n, x + (lo + r) * n, ws.shift.data(), ws.xs.data() + r * n, ws.vs.data() + r * n);
    ws.flat.resize(out_rows * n);
    Runs runs(n);
    for (std::size_t t = lo; t < t1; ++t) {
        const bool leaves = t >= window && t - window >= lo;
        runs.update(n, x + t * n, leaves ? x + (t - window) * n : nullptr);
        if (t >= t0) runs.flat(n, ws.flat.data() + (t - t0) * n);
    }
    ws.zero.assign(n, 0.0);
    ws.num.assign(out_rows, 0.0);
    ws.den.assign(out_rows, 0.0);
    ws.acc.assign(6 * n * n, 0.0);
    ws.row.resize(n);
    ws.redo.resize(n);
    if (!weights) {
        ws.ones.assign(n, 1.0);
        weights = ws.ones.data();
    }
    const std::size_t nn = n * n;
    for (std::size_t tile = lo; tile < t1; tile += kPairTile) {
        const std::size_t tile_end = std::min(t1, tile + kPairTile);
        for (std::size_t i = 0; i < n; ++i) {
            double* c = ws.acc.data() + i * n;
            double *sx = c + nn, *sy = sx + nn, *sxx = sy + nn, *syy = sxx + nn, *sxy = syy + nn;
            for (std::size_t t = tile; t < tile_end; ++t) {
                const bool leaves = t >= window && t - window >= lo;
                const std::size_t r = t - lo;
                const double* xr = leaves ? ws.xs.data() + (r - window) * n : ws.zero.data();
                const double* vr = leaves ? ws.vs.data() + (r - window) * n : ws.zero.data();
                pair_update(n, i, ws.xs.data() + r * n, ws.vs.data() + r * n, xr, vr, c, sx, sy, sxx, syy,
                            sxy);
                if (t < t0) continue;
                const std::size_t first = t + 1 >= lo + window ? t + 1 - window : lo;
                const WindowRows rows{ws.xs.data() + (first - lo) * n, ws.vs.data() + (first - lo) * n,
                                      t + 1 - first, n, window <= kExactWindow};
                pair_emit(n, i, c, sx, sy, sxx, syy, sxy, min_count, ws.flat.data() + (t - t0) * n, weights,
                          rows, matrix ? matrix + t * nn + i * n : ws.row.data(), ws.redo.data(),
                          ws.num[t - t0], ws.den[t - t0]);
            }
        }
    }
    for (std::size_t t = t0; t < t1; ++t) {
        const double num = ws.num[t - t0], den = ws.den[t - t0];
        if (avg) avg[t] = den > 0.0 ? num / den : kNaN;
        if (!matrix) continue;
        double* m = matrix + t * n * n;
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isnan(m[i * n + i])) m[i * n + i] = 1.0;  // corr(x, x) where x's variance is defined
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

// Sum of squared deviations from `mean` of `rows` consecutive rows, per name (second pass of
// a two-pass variance: no cancellation, whatever the window).
DK_SIMD_CLONES
void centred_squares(std::size_t n, std::size_t rows, const double* __restrict xs,
                     const double* __restrict mean, double* __restrict ss) {
    for (std::size_t j = 0; j < n; ++j) ss[j] = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = xs + r * n;
#pragma omp simd
        for (std::size_t j = 0; j < n; ++j) {
            const double d = row[j] - mean[j];
            ss[j] += d * d;
        }
    }
}

// a_j = w_j / sd_j; returns the smallest variance.
DK_SIMD_CLONES
double standardizing_weights(std::size_t n, double count, const double* __restrict ss,
                             const double* __restrict w, double* __restrict a) {
    double smallest = std::numeric_limits<double>::infinity();
#pragma omp simd reduction(min : smallest)
    for (std::size_t j = 0; j < n; ++j) {
        const double var = ss[j] / (count - 1.0);
        smallest = var < smallest ? var : smallest;
        a[j] = (w ? w[j] : 1.0) / std::sqrt(var);
    }
    return smallest;
}

// Fills avg[t0, t1) for a block without missing data; false (output unusable) when some window
// has a name with zero variance, whose pairs the caller must then leave out pair by pair.
// Window means come from running sums; variances and Var(z) are two-pass over the window rows.
bool complete_block_average(std::size_t n, const double* x, std::size_t lo, std::size_t t0, std::size_t t1,
                            std::size_t window, double min_count, const double* w, double* avg,
                            std::vector<double>& shift, std::vector<double>& xs,
                            std::vector<double>& scratch) {
    column_means(n, x, lo, t1, shift);
    xs.resize((t1 - lo) * n);
    for (std::size_t t = lo; t < t1; ++t)
        for (std::size_t j = 0; j < n; ++j) xs[(t - lo) * n + j] = x[t * n + j] - shift[j];
    scratch.assign(4 * n + window, 0.0);
    double* s = scratch.data();
    double* mean = s + n;
    double* ss = mean + n;
    double* a = ss + n;
    double* z = a + n;
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
    Runs runs(n);
    double count = 0.0;
    for (std::size_t t = lo; t < t1; ++t) {
        const double* add = xs.data() + (t - lo) * n;
        const bool leaves = t >= window && t - window >= lo;
        runs.update(n, x + t * n, leaves ? x + (t - window) * n : nullptr);
        const double* rem = leaves ? xs.data() + (t - window - lo) * n : add;
        const double keep = leaves ? 1.0 : 0.0;
        for (std::size_t j = 0; j < n; ++j) s[j] += add[j] - keep * rem[j];
        count += 1.0 - keep;
        if (t < t0) continue;
        if (count < min_count) {
            avg[t] = kNaN;
            continue;
        }
        for (std::size_t j = 0; j < n; ++j)
            if (runs.length[j] >= runs.observed[j]) return false;  // a constant name: pairs left out
        const auto rows = static_cast<std::size_t>(count);
        const double* first = xs.data() + (t + 1 - rows - lo) * n;
        for (std::size_t j = 0; j < n; ++j) mean[j] = s[j] / count;
        centred_squares(n, rows, first, mean, ss);
        if (!(standardizing_weights(n, count, ss, w, a) > 0.0)) return false;
        double sz = 0.0;
        for (std::size_t r = 0; r < rows; ++r) {
            z[r] = weighted_deviation_sum(n, a, first + r * n, mean);
            sz += z[r];
        }
        const double zbar = sz / count;
        double szz = 0.0;
        for (std::size_t r = 0; r < rows; ++r) szz += (z[r] - zbar) * (z[r] - zbar);
        avg[t] = pair > 0.0 ? (szz / (count - 1.0) - self) / pair : kNaN;
    }
    return true;
}

bool has_missing(std::size_t n, const double* x, std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo * n; i < hi * n; ++i)
        if (std::isnan(x[i])) return true;
    return false;
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

}  // namespace

void rolling_std(std::size_t T, std::size_t n, const double* x, std::size_t window, std::size_t min_periods,
                 double scale, double* out, int threads, Interrupt* interrupt) {
    window = effective_window(T, window);
    const Blocks blocks(T, window);
    const double min_count = static_cast<double>(std::max<std::size_t>(min_periods, 2));
    parallel_for(
        blocks.count, threads, min_blocks(blocks, n), interrupt, [&](std::size_t first, std::size_t last) {
            std::vector<double> shift(n), xa(n), va(n), xr(n), vr(n), zero(n, 0.0), c(n), s(n), ss(n),
                flat(n), redo(n);
            Runs runs(n);
            struct Step {
                std::size_t n;
                const double* x;
                std::vector<double>&shift, &xa, &va, &xr, &vr, &zero, &c, &s, &ss, &flat, &redo;
                Runs& runs;
                double min_count, scale;
                double* out;
                std::size_t blocks_window;
                void restart(std::size_t lo, std::size_t hi) {
                    column_means(n, x, lo, hi, shift);
                    for (auto* v : {&c, &s, &ss}) std::fill(v->begin(), v->end(), 0.0);
                    runs.clear();
                }
                void operator()(std::size_t add, std::size_t remove, bool leaves, bool emit) {
                    load_row(n, x + add * n, shift.data(), xa.data(), va.data());
                    if (leaves) load_row(n, x + remove * n, shift.data(), xr.data(), vr.data());
                    const double* rx = leaves ? xr.data() : zero.data();
                    const double* rv = leaves ? vr.data() : zero.data();
                    std_step(n, xa.data(), va.data(), rx, rv, c.data(), s.data(), ss.data());
                    runs.update(n, x + add * n, leaves ? x + remove * n : nullptr);
                    if (!emit) return;
                    runs.flat(n, flat.data());
                    double* o = out + add * n;
                    if (std_emit(n, c.data(), s.data(), ss.data(), flat.data(), min_count, scale,
                                 kMaxCancellation, blocks_window <= kExactWindow, o, redo.data()) == 0.0)
                        return;
                    const std::size_t first = add + 1 >= blocks_window ? add + 1 - blocks_window : 0;
                    for (std::size_t j = 0; j < n; ++j)
                        if (redo[j] != 0.0) o[j] = exact_std(n, x, first, add + 1, j) * scale;
                }
            } step{n, x,  shift, xa,   va,   xr,        vr,    zero, c,
                   s, ss, flat,  redo, runs, min_count, scale, out,  window};
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
                     std::vector<double> shift(n), xs, scratch;
                     for (std::size_t b = first; b < last; ++b) {
                         if (stop_requested(interrupt)) return;
                         const std::size_t lo = blocks.lead(b), t0 = blocks.begin(b), t1 = blocks.end(b);
                         // The path depends only on the block's data, so the output never depends on threads.
                         if (!matrix && !has_missing(n, x, lo, t1) &&
                             complete_block_average(n, x, lo, t0, t1, window, min_count, weights, avg, shift,
                                                    xs, scratch))
                             continue;
                         pair_block(n, x, lo, t0, t1, window, min_count, weights, avg, matrix, ws);
                     }
                 });
}

}  // namespace dk
