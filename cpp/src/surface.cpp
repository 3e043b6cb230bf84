#include "dispersionkit/surface.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "dispersionkit/config.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Queries between two interrupt checks.
constexpr std::size_t kQueriesPerCheck = 1024;

inline double sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }

// SciPy's one-sided three-point end slope, with its shape-preserving corrections.
inline double edge_slope(double h0, double h1, double m0, double m1) {
    const double d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (sign(d) != sign(m0)) return 0.0;
    if (sign(m0) != sign(m1) && std::fabs(d) > 3.0 * std::fabs(m0)) return 3.0 * m0;
    return d;
}

void pchip_slopes(const double* k, const double* w, std::int64_t n, double* d) {
    if (n == 1) {
        d[0] = 0.0;
        return;
    }
    if (n == 2) {
        d[0] = d[1] = (w[1] - w[0]) / (k[1] - k[0]);
        return;
    }
    for (std::int64_t i = 1; i + 1 < n; ++i) {
        const double hp = k[i] - k[i - 1], hn = k[i + 1] - k[i];
        const double mp = (w[i] - w[i - 1]) / hp, mn = (w[i + 1] - w[i]) / hn;
        if (sign(mp) != sign(mn) || mp == 0.0 || mn == 0.0) {
            d[i] = 0.0;
        } else {
            const double w1 = 2.0 * hn + hp, w2 = hn + 2.0 * hp;
            d[i] = 1.0 / ((w1 / mp + w2 / mn) / (w1 + w2));
        }
    }
    const double h0 = k[1] - k[0], h1 = k[2] - k[1];
    d[0] = edge_slope(h0, h1, (w[1] - w[0]) / h0, (w[2] - w[1]) / h1);
    const double hl = k[n - 1] - k[n - 2], hm = k[n - 2] - k[n - 3];
    d[n - 1] = edge_slope(hl, hm, (w[n - 1] - w[n - 2]) / hl, (w[n - 2] - w[n - 3]) / hm);
}

// w of slice j at k: the cubic Hermite piece in SciPy's power form, flat outside the nodes.
double slice_variance(const SurfaceView& s, const double* slope, std::int64_t j, double k) {
    const std::int64_t lo = s.slice_start[j], hi = s.slice_start[j + 1];
    const double* kk = s.node_k;
    if (!(k > kk[lo])) return k <= kk[lo] ? s.node_w[lo] : kNaN;
    if (k >= kk[hi - 1]) return s.node_w[hi - 1];
    const std::int64_t i = (std::upper_bound(kk + lo, kk + hi, k) - kk) - 1;
    const double h = kk[i + 1] - kk[i], dx = k - kk[i];
    const double m = (s.node_w[i + 1] - s.node_w[i]) / h;
    const double t = (slope[i] + slope[i + 1] - 2.0 * m) / h;
    const double c0 = t / h, c1 = (m - slope[i]) / h - t;
    return ((c0 * dx + c1) * dx + slope[i]) * dx + s.node_w[i];
}

// Undiscounted call price per unit forward at log-moneyness k and total variance w.
double normalized_call(double k, double w) {
    const double strike = std::exp(k);
    if (!(w > 0.0)) return std::max(1.0 - strike, 0.0);
    const double sd = std::sqrt(w), d1 = -k / sd + 0.5 * sd, d2 = d1 - sd;
    return 0.5 * std::erfc(-d1 * kInvSqrt2) - strike * 0.5 * std::erfc(-d2 * kInvSqrt2);
}

void butterfly_flags(const SurfaceView& s, std::int64_t j, double tol, std::uint8_t* flags) {
    const std::int64_t lo = s.slice_start[j], hi = s.slice_start[j + 1];
    double prev_c = 0.0, prev_K = 0.0, prev_slope = 0.0, prev_dK = 0.0;
    for (std::int64_t i = lo; i < hi; ++i) {
        const double K = std::exp(s.node_k[i]);
        const double c = normalized_call(s.node_k[i], s.node_w[i]);
        if (i > lo) {
            const double dK = K - prev_K;
            const double spread = prev_c - c;  // call spread K_{i-1} / K_i: worth between 0 and dK
            if (spread < -tol || spread > dK + tol) flags[i] |= kButterflyArbitrage;
            const double slope = -spread / dK;
            // Butterfly K_{i-2}, K_{i-1}, K_i with payoff peak (K_{i-1} - K_{i-2}) at K_{i-1}:
            // its price is (K_{i-1} - K_{i-2}) times the rise in the call price's slope.
            if (i > lo + 1 && (slope - prev_slope) * prev_dK < -tol) flags[i - 1] |= kButterflyArbitrage;
            prev_slope = slope;
            prev_dK = dK;
        }
        prev_c = c;
        prev_K = K;
    }
}

void calendar_flags(const SurfaceView& s, const double* slope, std::int64_t j, double tol,
                    std::uint8_t* flags) {
    const std::int64_t p = j - 1;
    const double* k = s.node_k;
    const double* w = s.node_w;
    const std::int64_t plo = s.slice_start[p], phi = s.slice_start[p + 1];
    const std::int64_t lo = s.slice_start[j], hi = s.slice_start[j + 1];
    for (std::int64_t i = lo; i < hi; ++i) {
        if (k[i] >= k[plo] && k[i] <= k[phi - 1] && w[i] < slice_variance(s, slope, p, k[i]) - tol)
            flags[i] |= kCalendarArbitrage;
    }
    for (std::int64_t i = plo; i < phi; ++i) {
        if (k[i] >= k[lo] && k[i] <= k[hi - 1] && slice_variance(s, slope, j, k[i]) < w[i] - tol)
            flags[i] |= kCalendarArbitrage;
    }
}

// Where tau falls among a group's slices: w(k) = w_j0(k) * scale when j1 < 0 (outside the
// quoted expiries, vol held at fixed k), else w_j0 + t (w_j1 - w_j0).
struct Bracket {
    std::int64_t j0 = -1, j1 = -1;
    double t = 0.0, scale = 1.0, logfwd = kNaN;
};

Bracket bracket(const SurfaceView& s, std::int64_t g, double tau) {
    Bracket b;
    if (g < 0 || g >= s.n_groups || !(tau > 0.0) || !std::isfinite(tau)) return b;
    const std::int64_t first = s.group_start[g], last = s.group_start[g + 1] - 1;
    if (last < first) return b;
    const double* st = s.slice_tau;
    if (tau <= st[first]) {
        b.j0 = first;
        b.scale = tau / st[first];
        b.logfwd = s.slice_logfwd[first] * b.scale;
    } else if (tau >= st[last]) {
        b.j0 = last;
        b.scale = tau / st[last];
        b.logfwd = s.slice_logfwd[last] * b.scale;
    } else {
        const std::int64_t j = (std::upper_bound(st + first, st + last + 1, tau) - st) - 1;
        b.j0 = j;
        b.j1 = j + 1;
        b.t = (tau - st[j]) / (st[j + 1] - st[j]);
        b.logfwd = s.slice_logfwd[j] + b.t * (s.slice_logfwd[j + 1] - s.slice_logfwd[j]);
    }
    return b;
}

inline double total_variance(const SurfaceView& s, const Bracket& b, double k) {
    if (b.j1 < 0) return slice_variance(s, s.node_slope, b.j0, k) * b.scale;
    const double w0 = slice_variance(s, s.node_slope, b.j0, k);
    const double w1 = slice_variance(s, s.node_slope, b.j1, k);
    return w0 + b.t * (w1 - w0);
}

// d1 at the surface's own vol, minus the target.
inline double d1_gap(const SurfaceView& s, const Bracket& b, double k, double target) {
    const double w = total_variance(s, b, k);
    if (!(w > 0.0)) return kNaN;
    const double sd = std::sqrt(w);
    return -k / sd + 0.5 * sd - target;
}

double solve_delta_k(const SurfaceView& s, const Bracket& b, double target) {
    const double w0 = total_variance(s, b, 0.0);
    if (!(w0 > 0.0) || !std::isfinite(target)) return kNaN;
    const double sd0 = std::sqrt(w0);
    const double k0 = -target * sd0 + 0.5 * w0;  // the root if the smile were flat
    const double f0 = d1_gap(s, b, k0, target);
    if (!std::isfinite(f0)) return kNaN;
    if (f0 == 0.0) return k0;
    // d1 falls as k rises on any smile without butterfly arbitrage: walk away from k0 on the
    // side the sign points to, doubling the step, until the gap changes sign.
    const double direction = f0 > 0.0 ? 1.0 : -1.0;
    double a = k0, fa = f0, step = std::max(sd0, 1e-3), c = kNaN, fc = kNaN;
    bool found = false;
    for (int i = 0; i < 60; ++i) {
        c = k0 + direction * step;
        fc = d1_gap(s, b, c, target);
        if (!std::isfinite(fc)) return kNaN;
        if (sign(fc) != sign(f0)) {
            found = true;
            break;
        }
        a = c;
        fa = fc;
        step *= 2.0;
    }
    if (!found) return kNaN;
    if (fc == 0.0) return c;
    // Illinois (modified regula falsi) on [a, c].
    double x0 = a, f_0 = fa, x1 = c, f_1 = fc;
    for (int i = 0; i < 200; ++i) {
        double x = x1 - f_1 * (x1 - x0) / (f_1 - f_0);
        const double lo = std::min(x0, x1), hi = std::max(x0, x1);
        if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
        const double fx = d1_gap(s, b, x, target);
        if (!std::isfinite(fx)) return kNaN;
        if (fx == 0.0) return x;
        if (sign(fx) != sign(f_1)) {
            x0 = x1;
            f_0 = f_1;
        } else {
            f_0 *= 0.5;
        }
        x1 = x;
        f_1 = fx;
        if (std::fabs(x1 - x0) <= 4e-16 * std::max(1.0, std::fabs(x1))) break;
    }
    return x1;
}

// Slices of groups [g_begin, g_end) and their first and last nodes.
template <class Fn>
void for_groups(const SurfaceView& s, int threads, Interrupt* interrupt, Fn&& fn) {
    const std::size_t groups = static_cast<std::size_t>(s.n_groups);
    const std::size_t nodes =
        groups == 0 ? 0 : static_cast<std::size_t>(s.slice_start[s.group_start[groups]]);
    // Enough groups per chunk that a chunk holds ~kSurfaceMinChunk nodes on average.
    const std::size_t per_group = groups == 0 ? 1 : std::max<std::size_t>(1, nodes / groups);
    const std::size_t min_groups = std::max<std::size_t>(1, kSurfaceMinChunk / per_group);
    parallel_for(groups, threads, min_groups, interrupt, [&](std::size_t b, std::size_t e) {
        for (std::size_t g = b; g < e && !stop_requested(interrupt); ++g) fn(static_cast<std::int64_t>(g));
    });
}

}  // namespace

void surface_sort(std::size_t n, const std::int64_t* group, const double* tau, const double* k,
                  const double* w, const double* logfwd, std::int64_t n_groups, std::int64_t* group_start,
                  std::int64_t* order, double* tau_out, double* k_out, double* w_out, double* logfwd_out,
                  int threads, Interrupt* interrupt) {
    const auto groups = static_cast<std::size_t>(n_groups);
    // Counting sort by group into packed records, so the sort inside each group compares
    // neighbouring memory instead of chasing rows across the input arrays, and the sorted
    // outputs are written group by group (in parallel) instead of gathered row by row. The
    // rows are counted and scattered in contiguous chunks, one per thread; within a group they
    // land in row order whatever the chunking, and the final sort breaks ties by row, so the
    // result does not depend on the thread count.
    struct Row {
        double tau, k, w, logfwd;
        std::int64_t row;
    };
    const std::size_t chunks = chunk_count(n, resolve_threads(threads), 4 * kSurfaceMinChunk);
    std::vector<std::int64_t> counts(chunks * groups, 0);
    run_chunks(n, chunks, interrupt, [&](std::size_t c, std::size_t b, std::size_t e) {
        std::int64_t* own = counts.data() + c * groups;
        for (std::size_t i = b; i < e; ++i) ++own[static_cast<std::size_t>(group[i])];
    });
    std::int64_t* start = group_start;
    std::int64_t total = 0;
    for (std::size_t g = 0; g < groups; ++g) {
        start[g] = total;
        for (std::size_t c = 0; c < chunks; ++c) {
            const std::int64_t count = counts[c * groups + g];
            counts[c * groups + g] = total;  // now the chunk's next slot in this group
            total += count;
        }
    }
    start[groups] = total;
    const std::unique_ptr<Row[]> rows(new Row[n]);  // every slot is written below: no zeroing
    run_chunks(n, chunks, interrupt, [&](std::size_t c, std::size_t b, std::size_t e) {
        std::int64_t* next = counts.data() + c * groups;
        for (std::size_t i = b; i < e; ++i) {
            const auto slot = static_cast<std::size_t>(next[static_cast<std::size_t>(group[i])]++);
            rows[slot] = {tau[i], k[i], w[i], logfwd[i], static_cast<std::int64_t>(i)};
        }
    });
    const std::size_t per_group = groups == 0 ? 1 : std::max<std::size_t>(1, n / groups);
    const std::size_t min_groups = std::max<std::size_t>(1, kSurfaceMinChunk / per_group);
    parallel_for(groups, threads, min_groups, interrupt, [&](std::size_t b, std::size_t e) {
        for (std::size_t g = b; g < e && !stop_requested(interrupt); ++g) {
            Row* first = rows.get() + start[g];
            Row* last = rows.get() + start[g + 1];
            std::sort(first, last, [](const Row& x, const Row& y) {
                if (x.tau != y.tau) return x.tau < y.tau;
                if (x.k != y.k) return x.k < y.k;
                return x.row < y.row;
            });
            for (Row* r = first; r != last; ++r) {
                const std::ptrdiff_t i = r - rows.get();
                order[i] = r->row;
                tau_out[i] = r->tau;
                k_out[i] = r->k;
                w_out[i] = r->w;
                logfwd_out[i] = r->logfwd;
            }
        }
    });
}

void surface_slopes(const SurfaceView& view, double tolerance, double* node_slope, std::uint8_t* flags,
                    int threads, Interrupt* interrupt) {
    for_groups(view, threads, interrupt, [&](std::int64_t g) {
        const std::int64_t first = view.group_start[g], end = view.group_start[g + 1];
        for (std::int64_t j = first; j < end; ++j) {
            const std::int64_t lo = view.slice_start[j], hi = view.slice_start[j + 1];
            pchip_slopes(view.node_k + lo, view.node_w + lo, hi - lo, node_slope + lo);
            for (std::int64_t i = lo; i < hi; ++i) flags[i] = 0;
            butterfly_flags(view, j, tolerance, flags);
        }
        for (std::int64_t j = first + 1; j < end; ++j) calendar_flags(view, node_slope, j, tolerance, flags);
    });
}

namespace {

// Queries in an order that visits each group's slices together: large batches of queries in
// random group order would otherwise fetch every smile from memory once per query. Each
// query's result is computed alone, so the order changes no bit of any result.
std::vector<std::int64_t> group_order(const SurfaceView& view, std::size_t m, const std::int64_t* group) {
    std::vector<std::int64_t> visit;
    if (m < kSurfaceMinChunk) return visit;
    const auto groups = static_cast<std::size_t>(view.n_groups);
    std::vector<std::int64_t> start(groups + 2, 0);
    auto bucket = [&](std::int64_t g) {
        return g >= 0 && g < view.n_groups ? static_cast<std::size_t>(g) + 1 : std::size_t{0};
    };
    for (std::size_t q = 0; q < m; ++q) ++start[bucket(group[q]) + 1];
    for (std::size_t b = 0; b + 1 < start.size(); ++b) start[b + 1] += start[b];
    visit.resize(m);
    for (std::size_t q = 0; q < m; ++q)
        visit[static_cast<std::size_t>(start[bucket(group[q])]++)] = static_cast<std::int64_t>(q);
    return visit;
}

template <class Fn>
void for_queries(const SurfaceView& view, std::size_t m, const std::int64_t* group, int threads,
                 Interrupt* interrupt, std::size_t min_chunk, Fn&& fn) {
    const std::vector<std::int64_t> visit = group_order(view, m, group);
    parallel_for(m, threads, min_chunk, interrupt, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            if ((i - begin) % kQueriesPerCheck == 0 && stop_requested(interrupt)) return;
            fn(visit.empty() ? i : static_cast<std::size_t>(visit[i]));
        }
    });
}

}  // namespace

void surface_query(const SurfaceView& view, std::size_t m, const std::int64_t* group, const double* tau,
                   const double* x, bool x_is_log_spot_moneyness, double* vol, double* logfwd, int threads,
                   Interrupt* interrupt) {
    for_queries(view, m, group, threads, interrupt, kSurfaceMinChunk, [&](std::size_t q) {
        const Bracket b = bracket(view, group[q], tau[q]);
        logfwd[q] = b.logfwd;
        if (b.j0 < 0 || std::isnan(x[q])) {
            vol[q] = kNaN;
            return;
        }
        const double k = x_is_log_spot_moneyness ? x[q] - b.logfwd : x[q];
        const double w = total_variance(view, b, k);
        vol[q] = w >= 0.0 ? std::sqrt(w / tau[q]) : kNaN;
    });
}

void surface_delta_strike(const SurfaceView& view, std::size_t m, const std::int64_t* group,
                          const double* tau, const double* d1_target, double* k, double* vol, double* logfwd,
                          int threads, Interrupt* interrupt) {
    for_queries(view, m, group, threads, interrupt, kSurfaceMinChunk / 16, [&](std::size_t q) {
        const Bracket b = bracket(view, group[q], tau[q]);
        logfwd[q] = b.logfwd;
        const double root = b.j0 < 0 ? kNaN : solve_delta_k(view, b, d1_target[q]);
        k[q] = root;
        const double w = std::isnan(root) ? kNaN : total_variance(view, b, root);
        vol[q] = w >= 0.0 ? std::sqrt(w / tau[q]) : kNaN;
    });
}

}  // namespace dk
