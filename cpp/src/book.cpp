#include "dispersionkit/book.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <new>
#include <vector>

#include "dispersionkit/black_scholes.hpp"
#include "dispersionkit/bs_terms.hpp"
#include "dispersionkit/config.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Paths go through the engine in batches; a batch lays its legs out leg-major (slot l*B + b for
// path b), so every per-path update is a loop over b that vectorizes. B is a multiple of 16
// and buffers are 64-byte aligned, so the SIMD loops have no peeled or epilogue iterations:
// every path takes the same vector code path and its numbers never depend on which batch,
// chunk or thread it ran in. Short batches are padded with dummy paths.
constexpr std::size_t kLaneGroup = 16;
constexpr std::size_t kMaxBatch = 32;  // 42 legs x 32 paths: the step's working set stays in L2
// The batch shrinks to one lane group above about 146 legs (the threshold is where the 7 Greeks
// of two steps for kMaxBatch paths, the engine's state before legs were run in chunks, passed
// kBatchBytes). Measured again with chunks (state: a price and a gamma-theta sum per leg and
// path, ~1 MB at 4002 legs x 16 paths): 16 paths beat 32 at 201 and 2001 names, 32 beat 16 at
// 21 names (one thread). Results do not depend on the batch (see kLaneGroup).
constexpr std::size_t kBatchBytes = 512 * 1024;

std::size_t batch_for(std::size_t legs) {
    const std::size_t state_bytes = 2 * 7 * sizeof(double) * legs * kMaxBatch;
    return state_bytes <= kBatchBytes ? kMaxBatch : kLaneGroup;
}
// Spots and vols of a batch are copied into [step][column][path] order in a ring of a few steps,
// each step once, so the SIMD loops read them in place. The ring holds up to kStageSteps steps
// (fewer for wide books, within kStageBytes, at least the 3 a step reads: t, t+1, t+2).
constexpr std::size_t kStageSteps = 16;
constexpr std::size_t kStageBytes = 256 * 1024;
constexpr std::size_t kStageMinSteps = 4;
// Hedge trades of at most this many shares are rounding noise (e.g. the delta of an option
// pinned at 0 or 1 recomputed at the next step): not executed, not counted.
constexpr double kMinTrade = 1e-12;
// Steps of a batch between two interrupt checks (each step is ~10 us for 32 paths x 42 legs).
constexpr std::size_t kStepsPerCheck = 8;

// Market of the padding paths: spot 1 and this vol make a regular option for any strike.
constexpr double kDummyVol = 0.2;

class Buffer {
  public:
    explicit Buffer(std::size_t n)
        : data_(static_cast<double*>(
              ::operator new[](std::max<std::size_t>(n, 1) * sizeof(double), std::align_val_t(64)))),
          n_(n) {
        std::fill(data_, data_ + n_, 0.0);
    }
    ~Buffer() { ::operator delete[](data_, std::align_val_t(64)); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    double* data() { return data_; }
    const double* data() const { return data_; }
    double& operator[](std::size_t i) { return data_[i]; }
    double operator[](std::size_t i) const { return data_[i]; }
    void zero() { std::fill(data_, data_ + n_, 0.0); }

  private:
    double* data_;
    std::size_t n_;
};

// The Greeks of a chunk of legs at one step, slot (l % chunk) * B + b.
struct ChunkGreeks {
    Buffer price, delta, gamma, vega, theta, vanna, volga;
    explicit ChunkGreeks(std::size_t n)
        : price(n), delta(n), gamma(n), vega(n), theta(n), vanna(n), volga(n) {}
};

// The Greeks the engine uses, of one leg along a batch of paths.
struct EngineGreeks {
    double *price, *delta, *gamma, *vega, *theta, *vanna, *volga;
};

// Whether some path has zero (or NaN) vol * sqrt(T): a branch-free scan inlined into the SIMD
// clones, so the scalar fix_zero_vol runs only for a batch that needs it.
[[gnu::always_inline]] inline bool has_zero_vol(std::size_t n, const double* vol, double T) {
    const double sqT = std::sqrt(T);
    double zero = 0.0;
#pragma omp simd reduction(+ : zero)
    for (std::size_t i = 0; i < n; ++i) zero += vol[i] * sqT > 0.0 ? 0.0 : 1.0;
    return zero != 0.0;
}

// Zero vol (vol * sqrt(T) == 0, or NaN): the deterministic limits and NaN policy of the
// general kernel, element by element (rare: the vectorized pass computed 0/0 there).
void fix_zero_vol(std::size_t n, const double* spot, const double* vol, double K, double T, double r,
                  double q, double s, const EngineGreeks& out) {
    const double sqT = std::sqrt(T);
    const std::uint8_t call = s > 0.0 ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (vol[i] * sqT > 0.0) continue;
        double g[Greek::count];
        GreeksOut one;
        for (std::size_t k = 0; k < Greek::count; ++k) one.at[k] = &g[k];
        bs_greeks_block(1, &spot[i], &K, &T, &vol[i], &r, &q, &call, one, 0);
        out.price[i] = g[Greek::price];
        out.delta[i] = g[Greek::delta];
        out.gamma[i] = g[Greek::gamma];
        out.vega[i] = g[Greek::vega];
        out.theta[i] = g[Greek::theta];
        out.vanna[i] = g[Greek::vanna];
        out.volga[i] = g[Greek::volga];
    }
}

// The seven Greeks the engine uses, of one option with terms b and call sign s, into out[.][i].
// One expression for leg_greeks and both legs of pair_greeks, so a leg's numbers match its
// straddle's bit for bit.
[[gnu::always_inline]] inline void store_greeks(const BsTerms<double>& b, double S, double v, double r,
                                                double q, double s, double sqT, double dq,
                                                const EngineGreeks& out, std::size_t i) {
    const double vg = bs_vega_of(b, sqT);
    out.price[i] = bs_price_of(b, s);
    out.delta[i] = bs_delta_of(b, s, dq);
    out.gamma[i] = bs_gamma_of(b, S, dq);
    out.vega[i] = vg;
    out.theta[i] = bs_theta_of(b, v, r, q, s, sqT);
    out.vanna[i] = bs_vanna_of(b, v, dq);
    out.volga[i] = bs_volga_of(b, v, vg);
}

// Greeks of one leg (strike K, time to expiry T, call sign s) along n paths into out =
// {price, delta, gamma, vega, theta, vanna, volga}. e^{-q T}, e^{-r T} and sqrt(T) are shared
// by the whole block; the formulas are bs_terms.hpp's.
DK_SIMD_CLONES
void leg_greeks(std::size_t n, const double* __restrict spot, const double* __restrict vol, double K,
                double T, double r, double q, double s, const EngineGreeks& out) {
    const double sqT = std::sqrt(T), dq = std::exp(-q * T), dr = std::exp(-r * T);
    const bool is_call = s > 0.0;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const double S = spot[i], v = vol[i];
        // The same CDF pairs as pair_greeks (so a leg's numbers match its straddle's bit for bit).
        const BsTerms<double> common = bs_common(S, K, T, v, r, q, sqT, dq, dr);
        double n1c, n1p, n2c, n2p;
        norm_cdf_pair(common.d1, n1c, n1p);
        norm_cdf_pair(common.d2, n2c, n2p);
        store_greeks(bs_with_cdfs(common, is_call ? n1c : n1p, is_call ? n2c : n2p), S, v, r, q, s, sqT, dq,
                     out, i);
    }
    if (has_zero_vol(n, vol, T)) fix_zero_vol(n, spot, vol, K, T, r, q, s, out);
}

// Greeks of a call and a put sharing spot, strike, expiry and vol (a straddle's two legs):
// one log, one exp and two erfc for both.
DK_SIMD_CLONES
void pair_greeks(std::size_t n, const double* __restrict spot, const double* __restrict vol, double K,
                 double T, double r, double q, const EngineGreeks& call_out, const EngineGreeks& put_out) {
    const double sqT = std::sqrt(T), dq = std::exp(-q * T), dr = std::exp(-r * T);
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const double S = spot[i], v = vol[i];
        const BsTerms<double> common = bs_common(S, K, T, v, r, q, sqT, dq, dr);
        double n1c, n1p, n2c, n2p;
        norm_cdf_pair(common.d1, n1c, n1p);
        norm_cdf_pair(common.d2, n2c, n2p);
        store_greeks(bs_with_cdfs(common, n1c, n2c), S, v, r, q, 1.0, sqT, dq, call_out, i);
        store_greeks(bs_with_cdfs(common, n1p, n2p), S, v, r, q, -1.0, sqT, dq, put_out, i);
    }
    if (has_zero_vol(n, vol, T)) {
        fix_zero_vol(n, spot, vol, K, T, r, q, 1.0, call_out);
        fix_zero_vol(n, spot, vol, K, T, r, q, -1.0, put_out);
    }
}

// A leg's contribution to step t -> t+1 comes in two parts, so a step's Greeks are used as soon
// as they are computed and never stored for the whole book: leg_open adds what the Greeks at t
// and the moves S_t -> S_{t+1}, vol_t -> vol_{t+1} (inputs, known before step t is priced) give
// to step t's attribution and exposures; leg_close adds, once the leg's value at t+1 is known,
// its mark-to-market (from its price at t) and exit cost. Each per-path accumulator still
// receives the legs in leg order, so the sums are those of a single pass.
struct StepSums {
    double *delta, *gamma, *theta, *vega, *vanna, *volga;
    double *dollar_delta, *dollar_gamma, *book_vega, *book_theta;
};

DK_SIMD_CLONES
void leg_open(std::size_t n, double q, double dt, const double* __restrict s0p, const double* __restrict s1p,
              const double* __restrict v0p, const double* __restrict v1p, const EngineGreeks& g,
              const StepSums& acc, double* __restrict gt_sum, double* __restrict gt_step) {
    const double *delta = g.delta, *gamma = g.gamma, *vega = g.vega, *theta = g.theta, *vanna = g.vanna;
    const double* volga = g.volga;
    double *ad = acc.delta, *ag = acc.gamma, *at = acc.theta, *av = acc.vega, *avn = acc.vanna;
    double *avg = acc.volga, *dd = acc.dollar_delta, *dg = acc.dollar_gamma, *bv = acc.book_vega;
    double* bt = acc.book_theta;
#pragma omp simd
    for (std::size_t b = 0; b < n; ++b) {
        const double s0 = s0p[b], s1 = s1p[b], v0 = v0p[b];
        const double dS = s1 - s0, dv = v1p[b] - v0;
        ad[b] += q * delta[b] * dS;
        ag[b] += 0.5 * q * gamma[b] * dS * dS;
        at[b] += q * theta[b] * dt;
        av[b] += q * vega[b] * dv;
        avn[b] += q * vanna[b] * dS * dv;
        avg[b] += 0.5 * q * volga[b] * dv * dv;
        const double ret = dS / s0;
        const double cash_gamma = 0.5 * q * gamma[b] * s0 * s0;
        const double gt = cash_gamma * (ret * ret - v0 * v0 * dt);
        gt_sum[b] += gt;
        gt_step[b] = gt;
        dd[b] += q * delta[b] * s0;
        dg[b] += cash_gamma;
        bv[b] += q * vega[b];
        bt[b] += q * theta[b];
    }
}

DK_SIMD_CLONES
void leg_close(std::size_t n, double q, double exit_rate, const double* __restrict price0,
               const double* __restrict value1, const double* __restrict vega1, double* __restrict mtm,
               double* __restrict cost) {
#pragma omp simd
    for (std::size_t b = 0; b < n; ++b) {
        mtm[b] += q * (value1[b] - price0[b]);
        cost[b] += exit_rate * vega1[b];
    }
}

class BatchEngine {
  public:
    BatchEngine(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules, const BookOut& out,
                std::size_t batch, Interrupt* interrupt)
        : interrupt_(interrupt),
          L_(legs),
          M_(market),
          R_(rules),
          O_(out),
          nl_(legs.n_legs),
          m_(market.m),
          B_(batch),
          chunk_(std::max<std::size_t>(1, kChunkSlots / B_)),
          greeks_(chunk_ * B_),
          price0_(nl_ * B_),
          hedge_(m_ * B_),
          net_delta_(m_ * B_),
          gt_sum_(nl_ * B_),
          forced_(m_, 0) {
        for (auto* acc : {&cash_, &step_cost_, &financing_, &cum_, &peak_, &cost_, &mtm_, &hedge_pnl_,
                          &dividends_, &settle_, &rebalances_})
            acc->assign(B_, 0.0);
        for (auto& s : sums_) s.assign(B_, 0.0);
        for (auto& a : attribution_)
            for (auto& v : a) v.assign(B_, 0.0);
        stage_constant_vols();
    }

    // Paths [begin, end); returns early (their outputs partly written) when the call is stopped.
    void run(std::size_t begin, std::size_t end) {
        for (std::size_t p0 = begin; p0 < end; p0 += B_)
            if (!run_batch(p0, std::min(B_, end - p0))) return;
    }

  private:
    // Legs are priced and booked chunk_ at a time: a chunk's Greeks (7 x chunk_ x B doubles,
    // ~14 KiB) stay in L1 between being computed and being used, whatever the book's size.
    static constexpr std::size_t kChunkSlots = 256;

    // Step t's exposures and attribution (Attribution rows), filled one step ahead (leg_open).
    enum Attribution : std::size_t {
        delta,
        gamma,
        theta,
        vega,
        vanna,
        volga,
        dollar_delta,
        dollar_gamma,
        book_vega,
        book_theta,
        attribution_rows
    };
    using StepAttribution = std::array<std::vector<double>, attribution_rows>;
    static StepSums sums_of(StepAttribution& a) {
        return StepSums{a[delta].data(),        a[gamma].data(),        a[theta].data(),
                        a[vega].data(),         a[vanna].data(),        a[volga].data(),
                        a[dollar_delta].data(), a[dollar_gamma].data(), a[book_vega].data(),
                        a[book_theta].data()};
    }

    double vol(std::size_t p, std::size_t t, std::size_t col) const {
        return M_.vols[static_cast<std::ptrdiff_t>(p) * M_.vol_stride[0] +
                       static_cast<std::ptrdiff_t>(t) * M_.vol_stride[1] +
                       static_cast<std::ptrdiff_t>(col) * M_.vol_stride[2]];
    }

    // Makes steps t..t+2 (as far as they exist) of paths [p0, p0 + nb) available in the ring,
    // staging each step once; padding paths get a valid dummy market (spot 1, vol 0.2).
    void stage_step(std::size_t p0, std::size_t nb, std::size_t t) {
        const std::size_t need = std::min(t + 2, M_.steps);
        if (need < staged_end_) return;
        const std::size_t end = std::min(M_.steps + 1, t + ring_);
        for (std::size_t step = staged_end_; step < end; ++step) stage_one(p0, nb, step);
        staged_end_ = end;
    }
    void stage_one(std::size_t p0, std::size_t nb, std::size_t step) {
        double* spot = stage_spot_.data() + (step % ring_) * m_ * B_;
        for (std::size_t b = 0; b < nb; ++b) rows_[b] = M_.spots + ((p0 + b) * (M_.steps + 1) + step) * m_;
        // Name by name, the batch's paths side by side: contiguous stores, one read stream per path.
        for (std::size_t j = 0; j < m_; ++j) {
            double* out = spot + j * B_;
            for (std::size_t b = 0; b < nb; ++b) out[b] = rows_[b][j];
            std::fill(out + nb, out + B_, 1.0);
        }
        if (!vols_by_step_) return;
        const std::size_t K = M_.vol_columns;
        double* vol_rows = stage_vol_.data() + (step % ring_) * K * B_;
        if (M_.vol_stride[0] == 0) {  // the same vols on every path: one value per column
            for (std::size_t c = 0; c < K; ++c)
                std::fill(vol_rows + c * B_, vol_rows + (c + 1) * B_, vol(p0, step, c));
            return;
        }
        for (std::size_t c = 0; c < K; ++c) {
            double* out = vol_rows + c * B_;
            for (std::size_t b = 0; b < nb; ++b) out[b] = vol(p0 + b, step, c);
            std::fill(out + nb, out + B_, kDummyVol);
        }
    }
    // Vols the same on every path and at every step (the usual flat or per-name implied vols)
    // are staged once per engine, one row per column, and read at every step.
    std::size_t vol_ring() const { return M_.vol_stride[0] == 0 && M_.vol_stride[1] == 0 ? 1 : ring_; }
    void stage_constant_vols() {
        if (vols_by_step_) return;
        for (std::size_t c = 0; c < M_.vol_columns; ++c)
            std::fill(&stage_vol_[c * B_], &stage_vol_[(c + 1) * B_], vol(0, 0, c));
    }
    std::size_t ring_steps() const {
        const std::size_t fit =
            kStageBytes / std::max<std::size_t>(1, (m_ + M_.vol_columns) * B_ * sizeof(double));
        return std::clamp(fit, kStageMinSteps, kStageSteps);
    }
    const double* leg_spots(std::size_t t, std::size_t l) const {
        return staged_spots(t, static_cast<std::size_t>(L_.underlying[l]));
    }
    const double* leg_vols(std::size_t t, std::size_t l) const {
        return staged_vols(t, static_cast<std::size_t>(L_.vol_column[l]));
    }
    const double* staged_spots(std::size_t t, std::size_t j) const {
        return stage_spot_.data() + ((t % ring_) * m_ + j) * B_;
    }
    const double* staged_vols(std::size_t t, std::size_t col) const {
        return stage_vol_.data() + ((vols_by_step_ ? t % ring_ : 0) * M_.vol_columns + col) * B_;
    }
    // Leg l's Greeks in the chunk buffer (l in the chunk being run).
    EngineGreeks chunk_greeks(std::size_t l) {
        const std::size_t i0 = (l % chunk_) * B_;
        EngineGreeks out;
        out.price = greeks_.price.data() + i0;
        out.delta = greeks_.delta.data() + i0;
        out.gamma = greeks_.gamma.data() + i0;
        out.vega = greeks_.vega.data() + i0;
        out.theta = greeks_.theta.data() + i0;
        out.vanna = greeks_.vanna.data() + i0;
        out.volga = greeks_.volga.data() + i0;
        return out;
    }

    // Legs priced together: a call and a put on the same underlying, strike, expiry and vol
    // column in the same chunk share one evaluation (pair_greeks; its numbers are leg_greeks'
    // bit for bit); any other leg is priced alone. Sorted by chunk.
    struct PriceGroup {
        std::size_t first, second;
        bool paired;
    };
    std::vector<PriceGroup> pricing_groups() const {
        std::vector<PriceGroup> groups;
        std::vector<char> used(nl_, 0);
        for (std::size_t l = 0; l < nl_; ++l) {
            if (used[l]) continue;
            used[l] = 1;
            PriceGroup g{l, l, false};
            const std::size_t chunk_end = std::min(nl_, (l / chunk_ + 1) * chunk_);
            for (std::size_t k = l + 1; k < chunk_end && !g.paired; ++k) {
                if (used[k] || L_.underlying[k] != L_.underlying[l] || L_.strike[k] != L_.strike[l] ||
                    L_.expiry[k] != L_.expiry[l] || L_.vol_column[k] != L_.vol_column[l] ||
                    (L_.is_call[k] != 0.0) == (L_.is_call[l] != 0.0))
                    continue;
                used[k] = 1;
                g = L_.is_call[l] != 0.0 ? PriceGroup{l, k, true} : PriceGroup{k, l, true};
            }
            groups.push_back(g);
        }
        return groups;
    }

    std::size_t expiry_step(std::size_t l) const { return static_cast<std::size_t>(L_.expiry_step[l]); }
    bool alive(std::size_t l, std::size_t t) const { return expiry_step(l) > t; }

    // Greeks at step t of the legs of [l0, l1) alive at t into the chunk buffer (spots and vols
    // must be staged); *group is the first group of the chunk, left at the next chunk's first.
    void price_chunk(std::size_t t, std::size_t l1, std::size_t* group) {
        const double elapsed = static_cast<double>(t) * M_.dt;
        for (; *group < groups_.size() && std::min(groups_[*group].first, groups_[*group].second) < l1;
             ++*group) {
            const PriceGroup& g = groups_[*group];
            if (!alive(g.first, t)) continue;
            const std::size_t l = g.first;
            const double T = L_.expiry[l] - elapsed, K = L_.strike[l], r = M_.rate;
            const double q = M_.div_yield[L_.underlying[l]];
            if (g.paired) {
                pair_greeks(B_, leg_spots(t, l), leg_vols(t, l), K, T, r, q, chunk_greeks(g.first),
                            chunk_greeks(g.second));
            } else {
                leg_greeks(B_, leg_spots(t, l), leg_vols(t, l), K, T, r, q, L_.is_call[l] != 0.0 ? 1.0 : -1.0,
                           chunk_greeks(l));
            }
        }
    }

    // Leg l's part of the next step's attribution (step t, from its Greeks at t) and of the
    // net option delta at t; keeps its price at t for the mark of step t.
    void open_leg(std::size_t p0, std::size_t nb, std::size_t t, std::size_t l, const EngineGreeks& g,
                  StepAttribution& attribution, bool net_delta) {
        const std::size_t T = M_.steps;
        const double q = L_.quantity[l];
        std::copy(g.price, g.price + B_, price0_.data() + l * B_);
        if (t < T) {
            leg_open(B_, q, M_.dt, leg_spots(t, l), leg_spots(t + 1, l), leg_vols(t, l), leg_vols(t + 1, l),
                     g, sums_of(attribution), gt_sum_.data() + l * B_, gt_step_.data());
            if (double* leg_steps = O_.leg_gamma_theta_steps)
                for (std::size_t b = 0; b < nb; ++b) leg_steps[((p0 + b) * T + t) * nl_ + l] = gt_step_[b];
        }
        if (net_delta) {
            double* __restrict nd = net_delta_.data() + static_cast<std::size_t>(L_.underlying[l]) * B_;
            const double* __restrict d = g.delta;
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) nd[b] += q * d[b];
        }
    }

    // A leg not alive at step t < T has zero gamma-theta rows.
    void dead_leg(std::size_t p0, std::size_t nb, std::size_t t, std::size_t l) {
        const std::size_t T = M_.steps;
        if (double* leg_steps = O_.leg_gamma_theta_steps; leg_steps && t < T)
            for (std::size_t b = 0; b < nb; ++b) leg_steps[((p0 + b) * T + t) * nl_ + l] = 0.0;
    }

    // Moves hedges to -net delta where the rules say so, at the spots of step t; adds the trade
    // costs to cost_ (charged to the next step) and pays trades and costs from cash_.
    void rebalance(std::size_t t, bool scheduled) {
        const double rate = R_.cost_bps * 1e-4, band = R_.band.value_or(0.0);
        const bool use_band = R_.band.has_value();
        for (std::size_t j = 0; j < m_; ++j) {
            const bool always = scheduled || forced_[j];
            double* __restrict H = hedge_.data() + j * B_;
            const double* __restrict D = net_delta_.data() + j * B_;
            const double* __restrict S = staged_spots(t, j);
            double* __restrict cash = cash_.data();
            double* __restrict cost = cost_.data();
            double* __restrict count = rebalances_.data();
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) {
                const double gap = D[b] + H[b];
                const bool need = always || (use_band && std::fabs(gap) > band);
                const bool traded = need && std::fabs(gap) > kMinTrade;
                const double trade = traded ? -gap : 0.0;
                const double c = rate * std::fabs(trade) * S[b];
                cost[b] += c;
                cash[b] -= trade * S[b] + c;
                H[b] = traded ? -D[b] : H[b];
                count[b] += traded ? 1.0 : 0.0;
            }
        }
    }

    // Step t: prices the legs at t+1, books their mark-to-market of step t (settling those that
    // expire), opens their attribution of step t+1 into *next_ and, when the book is rebalanced
    // at t+1, sums their net delta.
    void option_step(std::size_t p0, std::size_t nb, std::size_t t, bool net_delta) {
        const std::size_t t1 = t + 1;
        const double spread = R_.half_spread_vol * 0.01;
        const bool last = t1 == M_.steps;
        std::fill(forced_.begin(), forced_.end(), 0);
        for (auto& v : *next_) std::fill(v.begin(), v.end(), 0.0);
        if (net_delta) net_delta_.zero();
        std::size_t group = 0;
        for (std::size_t l0 = 0; l0 < nl_; l0 += chunk_) {
            const std::size_t l1 = std::min(nl_, l0 + chunk_);
            price_chunk(t1, l1, &group);
            for (std::size_t l = l0; l < l1; ++l) {
                if (!alive(l, t1)) dead_leg(p0, nb, t1, l);
                if (!alive(l, t)) continue;
                const double q = L_.quantity[l];
                const EngineGreeks g = chunk_greeks(l);
                const bool settling = !alive(l, t1);
                const double* value1 = g.price;
                const double* vega1 = g.vega;
                if (settling) {  // settles at intrinsic; the proceeds go to cash, its hedge is unwound
                    forced_[L_.underlying[l]] = 1;
                    const double sign = L_.is_call[l] != 0.0 ? 1.0 : -1.0, K = L_.strike[l];
                    const double* s1 = leg_spots(t1, l);
                    for (std::size_t b = 0; b < B_; ++b) {
                        const double payoff = sign * (s1[b] - K);
                        payoff_[b] = payoff > 0.0 ? payoff : 0.0;
                        settle_[b] += q * payoff_[b];
                    }
                    value1 = payoff_.data();
                    vega1 = zeros_.data();  // no exit cost (times zero) for a settled leg
                }
                const double exit = last && !settling ? std::fabs(q) * spread : 0.0;
                leg_close(B_, q, exit, price0_.data() + l * B_, value1, vega1, mtm_.data(),
                          step_cost_.data());
                if (!settling) open_leg(p0, nb, t1, l, g, *next_, net_delta);
            }
        }
    }

    void hedge_step(std::size_t t) {
        const double dt = M_.dt;
        for (std::size_t j = 0; j < m_; ++j) {
            const double q = M_.div_yield[j];
            const double* __restrict H = hedge_.data() + j * B_;
            const double* __restrict S0 = staged_spots(t, j);
            const double* __restrict S1 = staged_spots(t + 1, j);
            double* __restrict pnl = hedge_pnl_.data(), * __restrict div = dividends_.data();
            double* __restrict dd = (*now_)[dollar_delta].data();
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) {
                pnl[b] += H[b] * (S1[b] - S0[b]);
                div[b] += H[b] * q * S0[b] * dt;
                dd[b] += H[b] * S0[b];
            }
        }
    }

    void unwind_costs(std::size_t t) {
        const double rate = R_.cost_bps * 1e-4;
        for (std::size_t j = 0; j < m_; ++j) {
            const double* __restrict H = hedge_.data() + j * B_;
            const double* __restrict S = staged_spots(t, j);
            double* __restrict cost = step_cost_.data();
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) cost[b] += rate * std::fabs(H[b]) * S[b];
        }
    }

    // False when the call was stopped before the batch finished.
    bool run_batch(std::size_t p0, std::size_t nb) {
        const std::size_t T = M_.steps;
        const double spread = R_.half_spread_vol * 0.01;
        for (auto* acc : {&cash_, &cum_, &peak_, &cost_, &rebalances_})
            std::fill(acc->begin(), acc->end(), 0.0);
        for (auto& s : sums_) std::fill(s.begin(), s.end(), 0.0);
        hedge_.zero();
        gt_sum_.zero();
        staged_end_ = 0;
        now_ = &attribution_[0];
        next_ = &attribution_[1];
        for (auto& v : *now_) std::fill(v.begin(), v.end(), 0.0);

        // Open at step 0: trade every leg (half-spread on entry), then set the first hedge.
        stage_step(p0, nb, 0);
        if (R_.hedge) net_delta_.zero();
        std::size_t group = 0;
        for (std::size_t l0 = 0; l0 < nl_; l0 += chunk_) {
            const std::size_t l1 = std::min(nl_, l0 + chunk_);
            price_chunk(0, l1, &group);
            for (std::size_t l = l0; l < l1; ++l) {
                if (!alive(l, 0)) {  // cannot happen (expiry_step >= 1); kept out of every sum
                    dead_leg(p0, nb, 0, l);
                    continue;
                }
                const double q = L_.quantity[l];
                const EngineGreeks g = chunk_greeks(l);
                for (std::size_t b = 0; b < B_; ++b) {
                    cash_[b] -= q * g.price[b];
                    cost_[b] += std::fabs(q) * g.vega[b] * spread;
                }
                open_leg(p0, nb, 0, l, g, *now_, R_.hedge);
            }
        }
        for (std::size_t b = 0; b < B_; ++b) cash_[b] -= cost_[b];
        std::fill(forced_.begin(), forced_.end(), 0);
        if (R_.hedge) rebalance(0, true);

        for (std::size_t t = 0; t < T; ++t) {
            if (t % kStepsPerCheck == 0 && stop_requested(interrupt_)) return false;
            stage_step(p0, nb, t);
            // This step pays for the trades made at the close of t; cost_ collects those at t+1.
            std::copy(cost_.begin(), cost_.end(), step_cost_.begin());
            std::fill(cost_.begin(), cost_.end(), 0.0);
            for (auto* acc : {&mtm_, &hedge_pnl_, &dividends_, &settle_})
                std::fill(acc->begin(), acc->end(), 0.0);
            const bool rebalance_next = t + 1 < T && R_.hedge;
            option_step(p0, nb, t, rebalance_next);
            hedge_step(t);
            for (std::size_t b = 0; b < B_; ++b) {
                financing_[b] = cash_[b] * M_.rate * M_.dt + dividends_[b];
                cash_[b] += financing_[b] + settle_[b];
            }
            if (t + 1 == T) {
                unwind_costs(t + 1);
            } else if (rebalance_next) {
                rebalance(t + 1, R_.every && (t + 1) % static_cast<std::size_t>(*R_.every) == 0);
            }
            record_step(p0, nb, t);
            std::swap(now_, next_);
        }
        for (std::size_t b = 0; b < nb; ++b) {
            const std::size_t p = p0 + b;
            sums_[SummaryRow::total][b] = cum_[b];
            sums_[SummaryRow::n_rebalances][b] = rebalances_[b];
            for (std::size_t row = 0; row < SummaryRow::count; ++row)
                O_.summary[row * M_.paths + p] = sums_[row][b];
            for (std::size_t l = 0; l < nl_; ++l) O_.leg_gamma_theta[p * nl_ + l] = gt_sum_[l * B_ + b];
        }
        return true;
    }

    // Net P&L, drawdown, attribution residual; per-path sums and the optional per-step rows.
    void record_step(std::size_t p0, std::size_t nb, std::size_t t) {
        const StepAttribution& a = *now_;
        for (std::size_t b = 0; b < B_; ++b) {
            const double a_delta = a[delta][b], a_gamma = a[gamma][b], a_theta = a[theta][b];
            const double a_vega = a[vega][b], a_vanna = a[vanna][b], a_volga = a[volga][b];
            const double net = mtm_[b] + hedge_pnl_[b] + financing_[b] - step_cost_[b];
            cum_[b] += net;
            if (cum_[b] > peak_[b]) peak_[b] = cum_[b];
            const double drawdown = peak_[b] - cum_[b];
            if (!(drawdown <= sums_[SummaryRow::max_drawdown][b]))
                sums_[SummaryRow::max_drawdown][b] = drawdown;
            const double delta_pnl = a_delta + hedge_pnl_[b];
            const double residual = mtm_[b] - (a_delta + a_gamma + a_theta + a_vega + a_vanna + a_volga);
            sums_[SummaryRow::total_costs][b] += step_cost_[b];
            sums_[SummaryRow::option_mtm][b] += mtm_[b];
            sums_[SummaryRow::hedge_pnl][b] += hedge_pnl_[b];
            sums_[SummaryRow::financing][b] += financing_[b];
            sums_[SummaryRow::delta][b] += delta_pnl;
            sums_[SummaryRow::gamma][b] += a_gamma;
            sums_[SummaryRow::theta][b] += a_theta;
            sums_[SummaryRow::vega][b] += a_vega;
            sums_[SummaryRow::vanna][b] += a_vanna;
            sums_[SummaryRow::volga][b] += a_volga;
            sums_[SummaryRow::residual][b] += residual;
            if (O_.steps && b < nb) {
                const std::size_t plane = M_.paths * M_.steps, at = (p0 + b) * M_.steps + t;
                double row[StepRow::count];
                row[StepRow::option_mtm] = mtm_[b];
                row[StepRow::hedge_pnl] = hedge_pnl_[b];
                row[StepRow::financing] = financing_[b];
                row[StepRow::costs] = step_cost_[b];
                row[StepRow::net] = net;
                row[StepRow::cumulative] = cum_[b];
                row[StepRow::dollar_delta] = a[dollar_delta][b];
                row[StepRow::dollar_gamma] = a[dollar_gamma][b];
                row[StepRow::vega] = a[book_vega][b];
                row[StepRow::theta] = a[book_theta][b];
                row[StepRow::delta_pnl] = delta_pnl;
                row[StepRow::gamma_pnl] = a_gamma;
                row[StepRow::theta_pnl] = a_theta;
                row[StepRow::vega_pnl] = a_vega;
                row[StepRow::vanna_pnl] = a_vanna;
                row[StepRow::volga_pnl] = a_volga;
                row[StepRow::residual] = residual;
                for (std::size_t k = 0; k < StepRow::count; ++k) O_.steps[k * plane + at] = row[k];
            }
        }
    }

    Interrupt* const interrupt_;
    const BookLegs& L_;
    const BookMarket& M_;
    const HedgeRules& R_;
    const BookOut& O_;
    const std::size_t nl_, m_, B_, chunk_;
    ChunkGreeks greeks_;
    Buffer price0_, hedge_, net_delta_, gt_sum_, gt_step_{B_}, payoff_{B_}, zeros_{B_};
    const std::vector<PriceGroup> groups_ = pricing_groups();
    // Step t's mark reads t+1, the next attribution t+2: the ring stages ahead of t.
    const std::size_t ring_ = ring_steps();
    const bool vols_by_step_ = vol_ring() > 1;
    Buffer stage_spot_{ring_ * m_ * B_}, stage_vol_{vol_ring() * M_.vol_columns * B_};
    std::vector<const double*> rows_ = std::vector<const double*>(B_);
    std::size_t staged_end_ = 0;
    std::vector<char> forced_;
    std::vector<double> cash_, step_cost_, financing_, cum_, peak_, cost_, mtm_, hedge_pnl_, dividends_,
        settle_, rebalances_;
    std::array<StepAttribution, 2> attribution_;
    StepAttribution *now_ = &attribution_[0], *next_ = &attribution_[1];
    std::array<std::vector<double>, SummaryRow::count> sums_;
};

}  // namespace

void hedged_pnl(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules, const BookOut& out,
                int threads, Interrupt* interrupt) {
    parallel_for(market.paths, threads, kBookMinChunk, interrupt, [&](std::size_t begin, std::size_t end) {
        const std::size_t count = end - begin;
        const std::size_t batch =
            std::min(batch_for(legs.n_legs), (count + kLaneGroup - 1) / kLaneGroup * kLaneGroup);
        BatchEngine engine(legs, market, rules, out, batch, interrupt);
        engine.run(begin, end);
    });
}

}  // namespace dk
