// Correlation kernels: batched quadratic forms u'Ru (index variance), the equicorrelation
// formula (implied / break-even correlation) and rolling realized statistics.
//
// All arrays are float64. "Row stride" arguments are in elements and may be 0 (one row
// broadcast over all dates). NaN in any input propagates to the outputs it touches; the
// rolling kernels treat NaN returns as missing observations (pandas semantics). Work is split
// over `threads` (<= 0: all cores); each driver throws Interrupted when `interrupt` (may be
// null) stops the call, checked between blocks of dates.
#pragma once

#include <cstddef>

#include "dispersionkit/parallel.hpp"

namespace dk {

// The index's per-name weight-vol products of T dates: u_t = w_t * s_t elementwise, with
// w_t = weights + t*w_stride and s_t = vols + t*vol_stride (rows contiguous, row strides in
// elements, 0 for one row broadcast over all dates). A name whose weight is exactly 0 does
// not enter (u = 0 even where its vol is NaN, e.g. before listing).
struct WeightedVols {
    const double* weights = nullptr;
    std::ptrdiff_t w_stride = 0;
    const double* vols = nullptr;
    std::ptrdiff_t vol_stride = 0;
};

// out[s*T + t] = u_t' R_s u_t for S symmetric n x n matrices R (C-contiguous, S*n*n). Only the
// upper triangle of each R is read (the callers check symmetry: symmetry_gap), which halves
// the flops of the dense GEMM formulation; u_t is formed while the dates are packed.
void quadform_shared(std::size_t S, std::size_t T, std::size_t n, const double* R, const WeightedVols& u,
                     double* out, int threads, Interrupt* interrupt);

// out[t] = u_t' R_t u_t for per-date matrices R_t = R + t*n*n (C-contiguous, every element
// read, so a non-symmetric R_t gives u'((R+R')/2)u exactly as the definition does).
void quadform_per_date(std::size_t T, std::size_t n, const double* R, const WeightedVols& u, double* out,
                       int threads, Interrupt* interrupt);

// Whether S n x n matrices (C-contiguous) are finite, and the largest |R_ij - R_ji| (0 when
// not finite: the gap is then meaningless). Compares tiles of R with the matching tiles of R'
// so both are read from cache, not with a strided transpose.
struct SymmetryCheck {
    bool finite = true;
    double gap = 0.0;
};
SymmetryCheck symmetry_gap(std::size_t S, std::size_t n, const double* R, int threads, Interrupt* interrupt);

// Equicorrelation (CBOE) formula per date:
//   out[t] = (iv_t^2 - sum_i (w_i s_i)^2) / ((sum_i w_i s_i)^2 - sum_i (w_i s_i)^2)
// with iv_t = index_vol[t * iv_stride], s = vols + t*vol_stride, w = weights + t*w_stride.
// Names with weight exactly 0 do not enter (their vol may be NaN, e.g. before listing).
// NaN where the denominator sum_{i!=j} w_i s_i w_j s_j is within 4 eps (sum_i |w_i s_i|)^2 of 0
// (fewer than two names carry weight x vol: the formula is undefined); the denominator is
// recomputed without cancellation where one name dominates.
void equicorrelation(std::size_t T, std::size_t n, const double* index_vol, std::ptrdiff_t iv_stride,
                     const double* vols, std::ptrdiff_t vol_stride, const double* weights,
                     std::ptrdiff_t w_stride, double* out, int threads, Interrupt* interrupt);

// Rolling sample standard deviation (ddof = 1) of each column of x (T x n, C-contiguous) over
// the trailing `window` rows, times `scale`; NaN where fewer than max(min_periods, 2) valid
// observations. out is T x n.
void rolling_std(std::size_t T, std::size_t n, const double* x, std::size_t window, std::size_t min_periods,
                 double scale, double* out, int threads, Interrupt* interrupt);

// Rolling pairwise correlations over pairwise-complete observations (pandas rolling corr).
// avg (length T, may be null): mean of the defined off-diagonal correlations, weighted by
// w_i w_j when weights (length n) is non-null, NaN when none is defined. matrix (T x n x n,
// may be null): the full correlation matrices, diagonal 1 where the column's variance is defined.
void rolling_pairwise_corr(std::size_t T, std::size_t n, const double* x, std::size_t window,
                           std::size_t min_periods, const double* weights, double* avg, double* matrix,
                           int threads, Interrupt* interrupt);

// Dates evaluated side by side by one quadratic-form block (see correlation_quadform.cpp).
constexpr std::size_t kQuadDates = 32;
// Below this many multiply-adds a quadratic-form call stays on the calling thread.
constexpr std::size_t kQuadMinWork = 1 << 18;

}  // namespace dk
