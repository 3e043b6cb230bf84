// Batched quadratic forms u'Ru and the equicorrelation formula.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <new>
#include <vector>

#include "dispersionkit/config.hpp"
#include "dispersionkit/correlation.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// GCC vector types of 2, 4 and 8 doubles: one SSE2, AVX2 or AVX-512 register. They are read
// only from the packed dates, which are 64-byte aligned (PackedDates).
typedef double v2d __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

// The dates of one block transposed and cut into passes of P dates (P = quad_pass_dates(), the
// width of the running ISA's register tile): u_j of date d at packed[((d / P) * n + j) * P + d % P],
// so each pass streams contiguous memory. 64-byte aligned so that every pass reads whole
// aligned vectors (P * 8 bytes is a multiple of 16, 32 or 64 as the vectors need).
class PackedDates {
  public:
    explicit PackedDates(std::size_t n)
        : data_(static_cast<double*>(::operator new[](
              std::max<std::size_t>(1, n) * kQuadDates * sizeof(double), std::align_val_t(64)))) {}
    ~PackedDates() { ::operator delete[](data_, std::align_val_t(64)); }
    PackedDates(const PackedDates&) = delete;
    PackedDates& operator=(const PackedDates&) = delete;
    double* data() { return data_; }

  private:
    double* data_;
};

// Date blocks (quadform_shared), tiles (symmetry_gap) or dates (quadform_per_date) between two
// interrupt checks, and dates of the O(n) equicorrelation formula.
constexpr std::size_t kItemsPerCheck = 16;
constexpr std::size_t kDatesPerCheck = 1024;

// The register tile of quad_passes on one ISA: kVecs vectors V of dates side by side (one pass
// of kPassDates dates) times kRows rows of R.
template <class V_, std::size_t kVecs_, std::size_t kRows_>
struct QuadTile {
    using V = V_;
    static constexpr std::size_t kVecs = kVecs_, kRows = kRows_;
    static constexpr std::size_t kPassDates = kVecs * (sizeof(V) / sizeof(double));
    static_assert(kQuadDates % kPassDates == 0);
};
// AVX-512, 32 registers: 32 dates x 4 rows (16 accumulators); AVX2 and SSE2, 16 registers:
// 8 or 4 dates x 6 rows (12 accumulators).
using Avx512Tile = QuadTile<v8d, 4, 4>;
using Avx2Tile = QuadTile<v4d, 2, 6>;
using Sse2Tile = QuadTile<v2d, 2, 6>;

// u'Ru for the kQuadDates dates of a packed block (PackedDates' pass-major layout for this
// tile), in passes of Tile::kPassDates dates side by side in vector lanes.
// Uses u'Ru = sum_i u_i (R_ii u_i + 2 sum_{j>i} R_ij u_j): each R_ij (j > i) is one multiply-add
// per date, half the work of (U R) * U. kRows rows of R share each load of u_j; their sums over
// j stay in registers (kRows * kVecs accumulators), which is what the register count of the
// ISA bounds. The passes of a block run panel by panel (kRows rows of R), all passes over one
// panel before the next: the panel is then read from cache by every pass, where pass by pass
// each one would stream the whole triangle of R from memory again (n = 2000: 16 MB per pass).
// Every lane follows the same operation order, so a date's result does not depend on its
// neighbours, on the block it falls in or on the panel order (row i's term is added after
// row i-1's in every date's sum).
template <class Tile>
[[gnu::always_inline]] inline void quad_passes(std::size_t n, const double* R, const double* packed,
                                               double* result) {
    using V = typename Tile::V;
    constexpr std::size_t W = sizeof(V) / sizeof(double);
    constexpr std::size_t kVecs = Tile::kVecs, kRows = Tile::kRows, kPassDates = Tile::kPassDates;
    constexpr std::size_t kPasses = kQuadDates / kPassDates;
    const std::size_t pass_stride = n * kPassDates;
    V acc[kPasses][kVecs] = {};
    std::size_t i = 0;
    for (; i + kRows <= n; i += kRows) {
        for (std::size_t p = 0; p < kPasses; ++p) {
            const double* pass = packed + p * pass_stride;
            const auto u_at = [pass](std::size_t j) {
                return reinterpret_cast<const V*>(pass + j * kPassDates);
            };
            V v[kRows][kVecs] = {};
            for (std::size_t j = i + kRows; j < n; ++j) {
                const V* u = u_at(j);
                V uj[kVecs];
#pragma GCC unroll 8
                for (std::size_t k = 0; k < kVecs; ++k) uj[k] = u[k];
#pragma GCC unroll 8
                for (std::size_t r = 0; r < kRows; ++r) {
                    const double a = R[(i + r) * n + j];
#pragma GCC unroll 8
                    for (std::size_t k = 0; k < kVecs; ++k) v[r][k] += a * uj[k];
                }
            }
            // The upper triangle inside the tile, then each row's term of the sum.
#pragma GCC unroll 8
            for (std::size_t r = 0; r < kRows; ++r) {
                const double* row = R + (i + r) * n;
#pragma GCC unroll 8
                for (std::size_t c = r + 1; c < kRows; ++c) {
                    const V* uc = u_at(i + c);
#pragma GCC unroll 8
                    for (std::size_t k = 0; k < kVecs; ++k) v[r][k] += row[i + c] * uc[k];
                }
                const V* ui = u_at(i + r);
#pragma GCC unroll 8
                for (std::size_t k = 0; k < kVecs; ++k)
                    acc[p][k] += ui[k] * (2.0 * v[r][k] + row[i + r] * ui[k]);
            }
        }
    }
    for (; i < n; ++i) {  // the last n % kRows rows
        const double* row = R + i * n;
        for (std::size_t p = 0; p < kPasses; ++p) {
            const double* pass = packed + p * pass_stride;
            const auto u_at = [pass](std::size_t j) {
                return reinterpret_cast<const V*>(pass + j * kPassDates);
            };
            V v[kVecs] = {};
            for (std::size_t j = i + 1; j < n; ++j) {
                const V* u = u_at(j);
#pragma GCC unroll 8
                for (std::size_t k = 0; k < kVecs; ++k) v[k] += row[j] * u[k];
            }
            const V* ui = u_at(i);
#pragma GCC unroll 8
            for (std::size_t k = 0; k < kVecs; ++k) acc[p][k] += ui[k] * (2.0 * v[k] + row[i] * ui[k]);
        }
    }
    for (std::size_t p = 0; p < kPasses; ++p)
        for (std::size_t k = 0; k < kVecs; ++k)
            for (std::size_t l = 0; l < W; ++l) result[p * kPassDates + W * k + l] = acc[p][k][l];
}

// u'Ru for one packed block of kQuadDates dates, and the pass width its packing must use: both
// dispatch on the same targets, so they pick the same tile. fp-contract lets GCC fuse the
// multiply-adds (the ISO-mode default keeps them apart).
#define DK_QUAD_FLAGS optimize("fp-contract=fast")
#if defined(DK_ISA_VERSIONS)
DK_ISA_AVX512 __attribute__((DK_QUAD_FLAGS)) void quad_block(std::size_t n, const double* R,
                                                             const double* packed, double* result) {
    quad_passes<Avx512Tile>(n, R, packed, result);
}
DK_ISA_AVX2 __attribute__((DK_QUAD_FLAGS)) void quad_block(std::size_t n, const double* R,
                                                           const double* packed, double* result) {
    quad_passes<Avx2Tile>(n, R, packed, result);
}
DK_ISA_DEFAULT __attribute__((DK_QUAD_FLAGS)) void quad_block(std::size_t n, const double* R,
                                                              const double* packed, double* result) {
    quad_passes<Sse2Tile>(n, R, packed, result);
}
DK_ISA_AVX512 std::size_t quad_pass_dates() { return Avx512Tile::kPassDates; }
DK_ISA_AVX2 std::size_t quad_pass_dates() { return Avx2Tile::kPassDates; }
DK_ISA_DEFAULT std::size_t quad_pass_dates() { return Sse2Tile::kPassDates; }
#else
#if defined(__AVX512F__)
using BuildTile = Avx512Tile;
#elif defined(__AVX2__)
using BuildTile = Avx2Tile;
#else
using BuildTile = Sse2Tile;
#endif
__attribute__((DK_QUAD_FLAGS)) void quad_block(std::size_t n, const double* R, const double* packed,
                                               double* result) {
    quad_passes<BuildTile>(n, R, packed, result);
}
std::size_t quad_pass_dates() { return BuildTile::kPassDates; }
#endif
#undef DK_QUAD_FLAGS

// u_t = w_t s_t (0 where w_t = 0) of one date.
inline double weighted_vol(double w, double s) { return w == 0.0 ? 0.0 : w * s; }

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
    // (sum_abs == 0 too: products w_i s_i of 1e-300 x 1e-300 underflow to 0 but are not 0.)
    if (may_rescale && out_of_scale) return equicorrelation_rescaled(n, index_vol, s, w);
    const double scale = sum_abs * sum_abs;
    double cross = sum * sum - sum_sq;
    if (!(cross > kCrossCancellation * scale)) cross = cross_sum(n, s, w);
    if (!(std::fabs(cross) > kDegenerate * scale)) return std::numeric_limits<double>::quiet_NaN();
    return (index_vol * index_vol - sum_sq) / cross;
}

}  // namespace

void quadform_shared(std::size_t S, std::size_t T, std::size_t n, const double* R, const WeightedVols& u,
                     double* out, int threads, Interrupt* interrupt) {
    if (S == 0 || T == 0) return;
    const std::size_t blocks = (T + kQuadDates - 1) / kQuadDates;
    const std::size_t work_per_item = kQuadDates * std::max<std::size_t>(1, n * n / 2);
    const std::size_t min_items = std::max<std::size_t>(1, kQuadMinWork / work_per_item);
    parallel_for(S * blocks, threads, min_items, interrupt, [&](std::size_t begin, std::size_t end) {
        PackedDates packed_rows(n);
        double* packed = packed_rows.data();
        const std::size_t P = quad_pass_dates();
        double result[kQuadDates];
        std::size_t packed_block = blocks;  // the date block `packed` holds (none yet)
        for (std::size_t item = begin; item < end; ++item) {
            if ((item - begin) % kItemsPerCheck == 0 && stop_requested(interrupt)) return;
            const std::size_t s = item / blocks, b = item % blocks;
            const std::size_t t0 = b * kQuadDates, count = std::min(kQuadDates, T - t0);
            if (b != packed_block) {  // scenarios of one date block share its packing
                // Dates past T are zero lanes: they never mix with real dates.
                std::memset(packed, 0, n * kQuadDates * sizeof(double));
                for (std::size_t d = 0; d < count; ++d) {
                    const auto t = static_cast<std::ptrdiff_t>(t0 + d);
                    const double* w = u.weights + t * u.w_stride;
                    const double* vol = u.vols + t * u.vol_stride;
                    double* lane = packed + (d / P) * n * P + d % P;
                    for (std::size_t j = 0; j < n; ++j) lane[j * P] = weighted_vol(w[j], vol[j]);
                }
                packed_block = b;
            }
            quad_block(n, R + s * n * n, packed, result);
            std::copy(result, result + count, out + s * T + t0);
        }
    });
}

void quadform_per_date(std::size_t T, std::size_t n, const double* R, const WeightedVols& u, double* out,
                       int threads, Interrupt* interrupt) {
    const std::size_t min_dates = std::max<std::size_t>(1, kQuadMinWork / std::max<std::size_t>(1, n * n));
    parallel_for(T, threads, min_dates, interrupt, [&](std::size_t begin, std::size_t end) {
        std::vector<double> combo(n), row(n);
        for (std::size_t t = begin; t < end; ++t) {
            if ((t - begin) % kItemsPerCheck == 0 && stop_requested(interrupt)) return;
            const auto ts = static_cast<std::ptrdiff_t>(t);
            const double* w = u.weights + ts * u.w_stride;
            const double* vol = u.vols + ts * u.vol_stride;
            for (std::size_t j = 0; j < n; ++j) row[j] = weighted_vol(w[j], vol[j]);
            out[t] = quadform_one(n, R + t * n * n, row.data(), combo.data());
        }
    });
}

namespace {

// Tiles of kSymTile x kSymTile: a tile of R and the matching tile of R' are both in L1.
constexpr std::size_t kSymTile = 32;

// Finiteness and max |R_ij - R_ji| over tile (I, J) and its mirror (J, I), I <= J. The mirror
// is copied transposed into `mirror` (contiguous reads of its rows), so the comparison reads
// two contiguous rows and vectorizes.
DK_SIMD_CLONES
void symmetry_tile(std::size_t n, const double* R, std::size_t i0, std::size_t j0, bool& finite,
                   double& gap) {
    const std::size_t rows = std::min(n, i0 + kSymTile) - i0, cols = std::min(n, j0 + kSymTile) - j0;
    alignas(64) double mirror[kSymTile][kSymTile];
    for (std::size_t c = 0; c < cols; ++c) {
        const double* row = R + (j0 + c) * n + i0;
        for (std::size_t r = 0; r < rows; ++r) mirror[r][c] = row[r];
    }
    // Both reductions are max over doubles (a flag of 1 for a non-finite pair): GCC leaves a
    // bool & reduction scalar, which made this loop, not memory, the cost of the check.
    double worst = 0.0, not_finite = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = R + (i0 + r) * n + j0;
        const double* other = mirror[r];
#pragma omp simd reduction(max : worst, not_finite)
        for (std::size_t c = 0; c < cols; ++c) {
            const double a = row[c], b = other[c];
            const double flag = (std::fabs(a) < kInf) & (std::fabs(b) < kInf) ? 0.0 : 1.0;
            not_finite = flag > not_finite ? flag : not_finite;
            const double d = std::fabs(a - b);
            worst = d > worst ? d : worst;
        }
    }
    finite = finite && not_finite == 0.0;
    gap = worst > gap ? worst : gap;
}

}  // namespace

SymmetryCheck symmetry_gap(std::size_t S, std::size_t n, const double* R, int threads, Interrupt* interrupt) {
    const std::size_t tiles = (n + kSymTile - 1) / kSymTile;
    // An item is a row of tiles ti and its partner row tiles-1-ti: row ti holds tiles - ti tiles
    // from the diagonal on, so each pair holds tiles + 1 and the threads' shares are even.
    const std::size_t pairs = (tiles + 1) / 2;
    const std::size_t items = S * pairs;  // (matrix, pair of tile rows)
    if (items == 0) return {};
    const std::size_t min_items =
        std::max<std::size_t>(1, kQuadMinWork / std::max<std::size_t>(1, 2 * kSymTile * n));
    const std::size_t chunks = chunk_count(items, resolve_threads(threads), min_items);
    std::vector<SymmetryCheck> partial(chunks);
    run_chunks(items, chunks, interrupt, [&](std::size_t c, std::size_t begin, std::size_t end) {
        SymmetryCheck& mine = partial[c];
        for (std::size_t item = begin; item < end; ++item) {
            if ((item - begin) % kItemsPerCheck == 0 && stop_requested(interrupt)) return;
            const std::size_t s = item / pairs, first = item % pairs, last = tiles - 1 - first;
            for (std::size_t ti : {first, last}) {
                for (std::size_t tj = ti; tj < tiles; ++tj)
                    symmetry_tile(n, R + s * n * n, ti * kSymTile, tj * kSymTile, mine.finite, mine.gap);
                if (last == first) break;
            }
        }
    });
    SymmetryCheck total;
    for (const SymmetryCheck& p : partial) {
        total.finite = total.finite && p.finite;
        total.gap = p.gap > total.gap ? p.gap : total.gap;
    }
    if (!total.finite) total.gap = 0.0;
    return total;
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
