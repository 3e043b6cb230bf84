// Batched quadratic forms u'Ru and the equicorrelation formula.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dispersionkit/config.hpp"
#include "dispersionkit/correlation.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Eight dates side by side: one AVX-512 register on this machine, two AVX2 registers elsewhere.
// Declared 8-byte aligned so loads from plain double buffers are never alignment faults.
typedef double v8d __attribute__((vector_size(64), aligned(8)));
constexpr std::size_t kLanes = kQuadDates / 8;  // v8d per packed row
constexpr std::size_t kTile = 4;                // rows of R sharing each load of u_j
// Date blocks (quadform_shared) or dates (quadform_per_date) between two interrupt checks, and
// dates of the O(n) equicorrelation formula.
constexpr std::size_t kItemsPerCheck = 16;
constexpr std::size_t kDatesPerCheck = 1024;

// u'Ru for kQuadDates dates at once. ut holds u transposed: ut[j*kLanes + k] = u_j for dates
// 8k..8k+7. Uses u'Ru = sum_i u_i (R_ii u_i + 2 sum_{j>i} R_ij u_j): each R_ij (j > i) is one
// multiply-add per date, half the work of (U R) * U. Every lane follows the same operation
// order, so a date's result does not depend on its neighbours or on the block it falls in.
// fp-contract lets GCC fuse the multiply-adds (the ISO-mode default keeps them apart).
__attribute__((optimize("fp-contract=fast"))) DK_SIMD_CLONES void quad_block(std::size_t n, const double* R,
                                                                             const v8d* __restrict ut,
                                                                             double* __restrict result) {
    v8d acc[kLanes] = {};
    std::size_t i = 0;
    for (; i + kTile <= n; i += kTile) {
        const double* r0 = R + i * n;
        const double* r1 = r0 + n;
        const double* r2 = r1 + n;
        const double* r3 = r2 + n;
        v8d v0[kLanes] = {}, v1[kLanes] = {}, v2[kLanes] = {}, v3[kLanes] = {};
        for (std::size_t j = i + kTile; j < n; ++j) {
            const v8d* u = ut + j * kLanes;
            const double a0 = r0[j], a1 = r1[j], a2 = r2[j], a3 = r3[j];
#pragma GCC unroll 4
            for (std::size_t k = 0; k < kLanes; ++k) {
                const v8d uk = u[k];
                v0[k] += a0 * uk;
                v1[k] += a1 * uk;
                v2[k] += a2 * uk;
                v3[k] += a3 * uk;
            }
        }
        // The upper triangle inside the tile itself.
        const v8d* u0 = ut + i * kLanes;
        const v8d* u1 = u0 + kLanes;
        const v8d* u2 = u1 + kLanes;
        const v8d* u3 = u2 + kLanes;
#pragma GCC unroll 4
        for (std::size_t k = 0; k < kLanes; ++k) {
            v0[k] += r0[i + 1] * u1[k] + r0[i + 2] * u2[k] + r0[i + 3] * u3[k];
            v1[k] += r1[i + 2] * u2[k] + r1[i + 3] * u3[k];
            v2[k] += r2[i + 3] * u3[k];
            acc[k] += u0[k] * (2.0 * v0[k] + r0[i] * u0[k]);
            acc[k] += u1[k] * (2.0 * v1[k] + r1[i + 1] * u1[k]);
            acc[k] += u2[k] * (2.0 * v2[k] + r2[i + 2] * u2[k]);
            acc[k] += u3[k] * (2.0 * v3[k] + r3[i + 3] * u3[k]);
        }
    }
    for (; i < n; ++i) {  // the last n % kTile rows
        const double* ri = R + i * n;
        v8d v[kLanes] = {};
        for (std::size_t j = i + 1; j < n; ++j)
            for (std::size_t k = 0; k < kLanes; ++k) v[k] += ri[j] * ut[j * kLanes + k];
        for (std::size_t k = 0; k < kLanes; ++k) {
            const v8d ui = ut[i * kLanes + k];
            acc[k] += ui * (2.0 * v[k] + ri[i] * ui);
        }
    }
    for (std::size_t k = 0; k < kLanes; ++k)
        for (std::size_t l = 0; l < 8; ++l) result[8 * k + l] = acc[k][l];
}

// u'Ru as (sum_i u_i R_i) . u: rows of R are combined with vector multiply-adds into `combo`
// (length n, stays in L1), so there is no horizontal reduction per row, and R streams once.
DK_SIMD_CLONES
double quadform_one(std::size_t n, const double* __restrict R, const double* __restrict u,
                    double* __restrict combo) {
    for (std::size_t j = 0; j < n; ++j) combo[j] = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double* ri = R + i * n;
        const double ui = u[i];
#pragma omp simd
        for (std::size_t j = 0; j < n; ++j) combo[j] += ui * ri[j];
    }
    double total = 0.0;
#pragma omp simd reduction(+ : total)
    for (std::size_t j = 0; j < n; ++j) total += combo[j] * u[j];
    return total;
}

// The equicorrelation denominator sum_{i!=j} u_i u_j (u_i = w_i s_i) is computed as
// (sum u)^2 - sum u^2, which cancels when one name carries almost all of sum |u|; below
// kCrossCancellation x (sum |u|)^2 (more than three digits lost) it is recomputed as
// 2 sum_i u_i (u_0 + ... + u_{i-1}), whose terms all have one sign when the weights do, so it
// is accurate to ~n eps of itself. A denominator within kDegenerate x (sum |u|)^2 of 0 is
// below the rounding of its own inputs: fewer than two names carry weight x vol (one stock,
// zero weights, a halted name with zero vol) and the formula is undefined (NaN).
constexpr double kCrossCancellation = 1e-3;
constexpr double kDegenerate = 4.0 * std::numeric_limits<double>::epsilon();

double cross_sum(std::size_t n, const double* s, const double* w) {
    double prefix = 0.0, cross = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double ws = w[i] == 0.0 ? 0.0 : w[i] * s[i];
        cross += ws * prefix;
        prefix += ws;
    }
    return 2.0 * cross;
}

// Outside [kScaleLow, kScaleHigh] for sum_i |u_i| (or above it for the index vol) the squares
// would under- or overflow, so the formula is evaluated on the products rescaled by one power
// of two (it is homogeneous of degree 0 in (index_vol, u)).
constexpr double kScaleLow = 0x1p-450;
constexpr double kScaleHigh = 0x1p+450;

double equicorrelation_one(std::size_t n, double index_vol, const double* __restrict s,
                           const double* __restrict w, bool may_rescale = true);

// The formula on u_i / 2^top and index_vol / 2^top, 2^top the binary exponent of the largest
// |w_i s_i|; each product is formed as (mantissa x mantissa) x 2^(e_w + e_s), rounded exactly as
// w_i s_i is where that is in range, so a product that would under- or overflow keeps its digits.
double equicorrelation_rescaled(std::size_t n, double index_vol, const double* s, const double* w) {
    std::vector<double> mantissa(n, 0.0), unit(n, 1.0);
    std::vector<int> exponent(n, 0);
    int top = std::numeric_limits<int>::min();
    for (std::size_t i = 0; i < n; ++i) {
        if (w[i] == 0.0) continue;  // absent, as in the direct formula
        if (!std::isfinite(w[i]) || !std::isfinite(s[i])) return std::numeric_limits<double>::quiet_NaN();
        int ew = 0, es = 0;
        const double mw = std::frexp(w[i], &ew), ms = std::frexp(s[i], &es);
        mantissa[i] = mw * ms;  // in [0.25, 1): normal, one rounding like w_i s_i
        exponent[i] = ew + es;
        if (mantissa[i] != 0.0) top = std::max(top, exponent[i]);
    }
    if (top == std::numeric_limits<int>::min()) return std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = 0; i < n; ++i)
        if (mantissa[i] != 0.0) mantissa[i] = std::ldexp(mantissa[i], exponent[i] - top);
    // sum |u| / 2^top lies in [0.25, n): the direct formula applies (an index vol still beyond
    // range then gives +-inf, as the exact value is).
    return equicorrelation_one(n, std::ldexp(index_vol, -top), unit.data(), mantissa.data(), false);
}

DK_SIMD_CLONES
double equicorrelation_one(std::size_t n, double index_vol, const double* __restrict s,
                           const double* __restrict w, bool may_rescale) {
    double sum = 0.0, sum_sq = 0.0, sum_abs = 0.0;
#pragma omp simd reduction(+ : sum, sum_sq, sum_abs)
    for (std::size_t i = 0; i < n; ++i) {
        const double ws = w[i] == 0.0 ? 0.0 : w[i] * s[i];  // a zero-weight name is absent, even with NaN vol
        sum += ws;
        sum_sq += ws * ws;
        sum_abs += std::fabs(ws);
    }
    if (std::isnan(sum_abs)) return std::numeric_limits<double>::quiet_NaN();  // missing data
    const bool out_of_scale =
        !(sum_abs >= kScaleLow && sum_abs <= kScaleHigh) || std::fabs(index_vol) > kScaleHigh;
    if (may_rescale && sum_abs > 0.0 && out_of_scale) return equicorrelation_rescaled(n, index_vol, s, w);
    const double scale = sum_abs * sum_abs;
    double cross = sum * sum - sum_sq;
    if (!(cross > kCrossCancellation * scale)) cross = cross_sum(n, s, w);
    if (!(std::fabs(cross) > kDegenerate * scale)) return std::numeric_limits<double>::quiet_NaN();
    return (index_vol * index_vol - sum_sq) / cross;
}

}  // namespace

void quadform_shared(std::size_t S, std::size_t T, std::size_t n, const double* R, const double* u,
                     std::ptrdiff_t u_stride, double* out, int threads, Interrupt* interrupt) {
    if (S == 0 || T == 0) return;
    const std::size_t blocks = (T + kQuadDates - 1) / kQuadDates;
    const std::size_t work_per_item = kQuadDates * std::max<std::size_t>(1, n * n / 2);
    const std::size_t min_items = std::max<std::size_t>(1, kQuadMinWork / work_per_item);
    parallel_for(S * blocks, threads, min_items, interrupt, [&](std::size_t begin, std::size_t end) {
        std::vector<double> packed_rows(std::max<std::size_t>(1, n) * kQuadDates);
        double* packed = packed_rows.data();
        double result[kQuadDates];
        for (std::size_t item = begin; item < end; ++item) {
            if ((item - begin) % kItemsPerCheck == 0 && stop_requested(interrupt)) return;
            const std::size_t s = item / blocks, b = item % blocks;
            const std::size_t t0 = b * kQuadDates, count = std::min(kQuadDates, T - t0);
            // Dates past T are zero lanes: they never mix with real dates.
            std::memset(packed, 0, n * kQuadDates * sizeof(double));
            for (std::size_t d = 0; d < count; ++d) {
                const double* row = u + static_cast<std::ptrdiff_t>(t0 + d) * u_stride;
                for (std::size_t j = 0; j < n; ++j) packed[j * kQuadDates + d] = row[j];
            }
            quad_block(n, R + s * n * n, reinterpret_cast<const v8d*>(packed), result);
            std::copy(result, result + count, out + s * T + t0);
        }
    });
}

void quadform_per_date(std::size_t T, std::size_t n, const double* R, const double* u,
                       std::ptrdiff_t u_stride, double* out, int threads, Interrupt* interrupt) {
    const std::size_t min_dates = std::max<std::size_t>(1, kQuadMinWork / std::max<std::size_t>(1, n * n));
    parallel_for(T, threads, min_dates, interrupt, [&](std::size_t begin, std::size_t end) {
        std::vector<double> combo(n);
        for (std::size_t t = begin; t < end; ++t) {
            if ((t - begin) % kItemsPerCheck == 0 && stop_requested(interrupt)) return;
            out[t] =
                quadform_one(n, R + t * n * n, u + static_cast<std::ptrdiff_t>(t) * u_stride, combo.data());
        }
    });
}

void equicorrelation(std::size_t T, std::size_t n, const double* index_vol, std::ptrdiff_t iv_stride,
                     const double* vols, std::ptrdiff_t vol_stride, const double* weights,
                     std::ptrdiff_t w_stride, double* out, int threads, Interrupt* interrupt) {
    const std::size_t min_dates = std::max<std::size_t>(1, kQuadMinWork / std::max<std::size_t>(1, n));
    parallel_for(T, threads, min_dates, interrupt, [&](std::size_t begin, std::size_t end) {
        for (std::size_t t = begin; t < end; ++t) {
            if ((t - begin) % kDatesPerCheck == 0 && stop_requested(interrupt)) return;
            const auto ts = static_cast<std::ptrdiff_t>(t);
            out[t] = equicorrelation_one(n, index_vol[ts * iv_stride], vols + ts * vol_stride,
                                         weights + ts * w_stride);
        }
    });
}

}  // namespace dk
