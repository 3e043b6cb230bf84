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
// The batch shrinks to one lane group when the two step states (7 Greeks per leg and path)
// of kMaxBatch paths would pass this budget (about 146 legs): 16 paths halve the working set
// that every step sweeps. Measured at 2001 names (4002 legs), one thread: 16 -> 25 M
// leg-steps/s; at 201 names 40 -> 43. Results do not depend on the batch (see kLaneGroup).
constexpr std::size_t kBatchBytes = 512 * 1024;

std::size_t batch_for(std::size_t legs) {
    const std::size_t state_bytes = 2 * 7 * sizeof(double) * legs * kMaxBatch;
    return state_bytes <= kBatchBytes ? kMaxBatch : kLaneGroup;
}
// Spots and vols of a batch are copied, kStageSteps steps at a time, into [step][column][path]
// order: each path's rows are read as one contiguous run (the prefetcher follows it) instead
// of 32 scattered cache lines per step, and the SIMD loops read them in place.
constexpr std::size_t kStageSteps = 16;
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

// One step's Greeks for a batch, slot l*B + b.
struct StepState {
    std::size_t batch;
    Buffer price, delta, gamma, vega, theta, vanna, volga;
    StepState(std::size_t batch_size, std::size_t n)
        : batch(batch_size), price(n), delta(n), gamma(n), vega(n), theta(n), vanna(n), volga(n) {}
};

// The Greeks the engine uses, of one leg along a batch of paths.
struct EngineGreeks {
    double *price, *delta, *gamma, *vega, *theta, *vanna, *volga;
};

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
    fix_zero_vol(n, spot, vol, K, T, r, q, s, out);
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
    fix_zero_vol(n, spot, vol, K, T, r, q, 1.0, call_out);
    fix_zero_vol(n, spot, vol, K, T, r, q, -1.0, put_out);
}

// One alive leg's contribution to step t -> t+1 along n paths, from its Greeks at t ("now")
// and its value (mark, or intrinsic when it settles) and vega at t+1. Per-path accumulators
// are added to, never reset.
struct LegStepIn {
    const double *s0, *s1, *v0, *v1;
    const double *price, *delta, *gamma, *vega, *theta, *vanna, *volga;
    const double *value1, *vega1;
};
struct PathSums {
    double *mtm, *cost, *delta, *gamma, *theta, *vega, *vanna, *volga;
    double *dollar_delta, *dollar_gamma, *book_vega, *book_theta;
};

DK_SIMD_CLONES
void leg_step(std::size_t n, double q, double exit_rate, double dt, const LegStepIn& in, const PathSums& acc,
              double* __restrict gt_sum, double* __restrict gt_step) {
    const double *s0p = in.s0, *s1p = in.s1, *v0p = in.v0, *v1p = in.v1, *price = in.price, *delta = in.delta;
    const double *gamma = in.gamma, *vega = in.vega, *theta = in.theta, *vanna = in.vanna, *volga = in.volga;
    const double *value1 = in.value1, *vega1 = in.vega1;
    double *mtm = acc.mtm, *cost = acc.cost, *ad = acc.delta, *ag = acc.gamma;
    double *at = acc.theta, *av = acc.vega, *avn = acc.vanna, *avg = acc.volga, *dd = acc.dollar_delta;
    double *dg = acc.dollar_gamma, *bv = acc.book_vega, *bt = acc.book_theta;
#pragma omp simd
    for (std::size_t b = 0; b < n; ++b) {
        const double s0 = s0p[b], s1 = s1p[b], v0 = v0p[b];
        const double dS = s1 - s0, dv = v1p[b] - v0;
        mtm[b] += q * (value1[b] - price[b]);
        cost[b] += exit_rate * vega1[b];
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
          n_(nl_ * B_),
          a_(B_, n_),
          b_(B_, n_),
          hedge_(m_ * B_),
          net_delta_(m_ * B_),
          gt_sum_(n_),
          forced_(m_, 0) {
        for (auto* acc : {&cash_,      &step_cost_,  &financing_, &cum_,     &peak_,         &cost_,
                          &mtm_,       &hedge_pnl_,  &dividends_, &settle_,  &a_delta_,      &a_gamma_,
                          &a_theta_,   &a_vega_,     &a_vanna_,   &a_volga_, &dollar_delta_, &dollar_gamma_,
                          &book_vega_, &book_theta_, &rebalances_})
            acc->assign(B_, 0.0);
        for (auto& s : sums_) s.assign(B_, 0.0);
    }

    // Paths [begin, end); returns early (their outputs partly written) when the call is stopped.
    void run(std::size_t begin, std::size_t end) {
        for (std::size_t p0 = begin; p0 < end; p0 += B_)
            if (!run_batch(p0, std::min(B_, end - p0))) return;
    }

  private:
    double vol(std::size_t p, std::size_t t, std::size_t col) const {
        return M_.vols[static_cast<std::ptrdiff_t>(p) * M_.vol_stride[0] +
                       static_cast<std::ptrdiff_t>(t) * M_.vol_stride[1] +
                       static_cast<std::ptrdiff_t>(col) * M_.vol_stride[2]];
    }

    // Makes steps lo..hi (hi < lo + kStageSteps) of paths [p0, p0 + nb) available in the
    // stage buffers; padding paths get a valid dummy market (spot 1, vol 0.2).
    void stage(std::size_t p0, std::size_t nb, std::size_t lo, std::size_t hi) {
        if (staged_ <= lo && hi < staged_ + kStageSteps) return;
        staged_ = lo;
        const std::size_t count = std::min(kStageSteps, M_.steps + 1 - lo), K = M_.vol_columns;
        for (std::size_t b = 0; b < nb; ++b) {
            const double* rows = M_.spots + ((p0 + b) * (M_.steps + 1) + lo) * m_;
            for (std::size_t k = 0; k < count * m_; ++k) stage_spot_[k * B_ + b] = rows[k];
            for (std::size_t s = 0; s < count; ++s)
                for (std::size_t c = 0; c < K; ++c) stage_vol_[(s * K + c) * B_ + b] = vol(p0 + b, lo + s, c);
        }
        for (std::size_t k = 0; k < count * m_; ++k)
            std::fill(&stage_spot_[k * B_ + nb], &stage_spot_[k * B_ + B_], 1.0);
        for (std::size_t k = 0; k < count * K; ++k)
            std::fill(&stage_vol_[k * B_ + nb], &stage_vol_[k * B_ + B_], kDummyVol);
    }
    const double* leg_spots(std::size_t t, std::size_t l) const {
        return staged_spots(t, static_cast<std::size_t>(L_.underlying[l]));
    }
    const double* leg_vols(std::size_t t, std::size_t l) const {
        return staged_vols(t, static_cast<std::size_t>(L_.vol_column[l]));
    }
    const double* staged_spots(std::size_t t, std::size_t j) const {
        return stage_spot_.data() + ((t - staged_) * m_ + j) * B_;
    }
    const double* staged_vols(std::size_t t, std::size_t col) const {
        return stage_vol_.data() + ((t - staged_) * M_.vol_columns + col) * B_;
    }
    static EngineGreeks outputs(StepState& s, std::size_t l) {
        const std::size_t i0 = l * s.batch;
        EngineGreeks out;
        out.price = s.price.data() + i0;
        out.delta = s.delta.data() + i0;
        out.gamma = s.gamma.data() + i0;
        out.vega = s.vega.data() + i0;
        out.theta = s.theta.data() + i0;
        out.vanna = s.vanna.data() + i0;
        out.volga = s.volga.data() + i0;
        return out;
    }

    // Legs priced together: a call and a put on the same underlying, strike, expiry and vol
    // column share one evaluation (pair_greeks); any other leg is priced alone.
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
            for (std::size_t k = l + 1; k < nl_ && !g.paired; ++k) {
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

    // Greeks at step t of the legs alive at t (spots and vols must be staged).
    void price_step(std::size_t t, StepState& s) {
        const double elapsed = static_cast<double>(t) * M_.dt;
        for (const PriceGroup& g : groups_) {
            if (!alive(g.first, t)) continue;
            const std::size_t l = g.first;
            const double T = L_.expiry[l] - elapsed, K = L_.strike[l], r = M_.rate;
            const double q = M_.div_yield[L_.underlying[l]];
            if (g.paired) {
                pair_greeks(B_, leg_spots(t, l), leg_vols(t, l), K, T, r, q, outputs(s, g.first),
                            outputs(s, g.second));
            } else {
                leg_greeks(B_, leg_spots(t, l), leg_vols(t, l), K, T, r, q, L_.is_call[l] != 0.0 ? 1.0 : -1.0,
                           outputs(s, l));
            }
        }
    }

    // Net option delta (shares) per underlying of the legs alive at step t.
    void option_delta(std::size_t t, const StepState& s) {
        net_delta_.zero();
        for (std::size_t l = 0; l < nl_; ++l) {
            if (!alive(l, t)) continue;
            const double q = L_.quantity[l];
            double* __restrict nd = net_delta_.data() + static_cast<std::size_t>(L_.underlying[l]) * B_;
            const double* __restrict d = s.delta.data() + l * B_;
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) nd[b] += q * d[b];
        }
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

    void zero_step() {
        for (auto* acc :
             {&mtm_, &hedge_pnl_, &dividends_, &settle_, &a_delta_, &a_gamma_, &a_theta_, &a_vega_, &a_vanna_,
              &a_volga_, &dollar_delta_, &dollar_gamma_, &book_vega_, &book_theta_})
            std::fill(acc->begin(), acc->end(), 0.0);
    }

    // Option P&L, attribution and Greeks of step t from the states at t (now) and t+1 (next).
    void option_step(std::size_t p0, std::size_t nb, std::size_t t, const StepState& now,
                     const StepState& next) {
        const std::size_t t1 = t + 1;
        const std::size_t T = M_.steps;
        const double dt = M_.dt, spread = R_.half_spread_vol * 0.01;
        const bool last = t + 1 == T;
        std::fill(forced_.begin(), forced_.end(), 0);
        double* leg_steps = O_.leg_gamma_theta_steps;
        const PathSums sums{mtm_.data(),          step_cost_.data(), a_delta_.data(),
                            a_gamma_.data(),      a_theta_.data(),   a_vega_.data(),
                            a_vanna_.data(),      a_volga_.data(),   dollar_delta_.data(),
                            dollar_gamma_.data(), book_vega_.data(), book_theta_.data()};
        for (std::size_t l = 0; l < nl_; ++l) {
            if (!alive(l, t)) {
                if (leg_steps)
                    for (std::size_t b = 0; b < nb; ++b) leg_steps[((p0 + b) * T + t) * nl_ + l] = 0.0;
                continue;
            }
            const std::size_t i0 = l * B_;
            const double q = L_.quantity[l];
            const bool settling = !alive(l, t + 1);
            const double* value1 = next.price.data() + i0;
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
            }
            const double exit = last && !settling ? std::fabs(q) * spread : 0.0;
            const LegStepIn in{leg_spots(t, l),       leg_spots(t1, l),      leg_vols(t, l),
                               leg_vols(t1, l),       now.price.data() + i0, now.delta.data() + i0,
                               now.gamma.data() + i0, now.vega.data() + i0,  now.theta.data() + i0,
                               now.vanna.data() + i0, now.volga.data() + i0, value1,
                               next.vega.data() + i0};
            double* gt_step = gt_step_.data() + i0;
            leg_step(B_, q, exit, dt, in, sums, gt_sum_.data() + i0, gt_step);
            if (leg_steps)
                for (std::size_t b = 0; b < nb; ++b) leg_steps[((p0 + b) * T + t) * nl_ + l] = gt_step[b];
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
            double* __restrict dd = dollar_delta_.data();
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
        staged_ = kNothingStaged;
        StepState* now = &a_;
        StepState* next = &b_;

        // Open at step 0: trade every leg (half-spread on entry), then set the first hedge.
        stage(p0, nb, 0, 0);
        price_step(0, *now);
        for (std::size_t l = 0; l < nl_; ++l) {
            const double q = L_.quantity[l];
            const double* price = now->price.data() + l * B_;
            const double* vega = now->vega.data() + l * B_;
            for (std::size_t b = 0; b < B_; ++b) {
                cash_[b] -= q * price[b];
                cost_[b] += std::fabs(q) * vega[b] * spread;
            }
        }
        for (std::size_t b = 0; b < B_; ++b) cash_[b] -= cost_[b];
        std::fill(forced_.begin(), forced_.end(), 0);
        if (R_.hedge) {
            option_delta(0, *now);
            rebalance(0, true);
        }

        for (std::size_t t = 0; t < T; ++t) {
            if (t % kStepsPerCheck == 0 && stop_requested(interrupt_)) return false;
            stage(p0, nb, t, t + 1);
            price_step(t + 1, *next);
            // This step pays for the trades made at the close of t; cost_ collects those at t+1.
            std::copy(cost_.begin(), cost_.end(), step_cost_.begin());
            std::fill(cost_.begin(), cost_.end(), 0.0);
            zero_step();
            option_step(p0, nb, t, *now, *next);
            hedge_step(t);
            for (std::size_t b = 0; b < B_; ++b) {
                financing_[b] = cash_[b] * M_.rate * M_.dt + dividends_[b];
                cash_[b] += financing_[b] + settle_[b];
            }
            if (t + 1 == T) {
                unwind_costs(t + 1);
            } else if (R_.hedge) {
                option_delta(t + 1, *next);
                rebalance(t + 1, R_.every && (t + 1) % static_cast<std::size_t>(*R_.every) == 0);
            }
            record_step(p0, nb, t);
            std::swap(now, next);
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
        for (std::size_t b = 0; b < B_; ++b) {
            const double net = mtm_[b] + hedge_pnl_[b] + financing_[b] - step_cost_[b];
            cum_[b] += net;
            if (cum_[b] > peak_[b]) peak_[b] = cum_[b];
            const double drawdown = peak_[b] - cum_[b];
            if (!(drawdown <= sums_[SummaryRow::max_drawdown][b]))
                sums_[SummaryRow::max_drawdown][b] = drawdown;
            const double delta_pnl = a_delta_[b] + hedge_pnl_[b];
            const double residual =
                mtm_[b] - (a_delta_[b] + a_gamma_[b] + a_theta_[b] + a_vega_[b] + a_vanna_[b] + a_volga_[b]);
            sums_[SummaryRow::total_costs][b] += step_cost_[b];
            sums_[SummaryRow::option_mtm][b] += mtm_[b];
            sums_[SummaryRow::hedge_pnl][b] += hedge_pnl_[b];
            sums_[SummaryRow::financing][b] += financing_[b];
            sums_[SummaryRow::delta][b] += delta_pnl;
            sums_[SummaryRow::gamma][b] += a_gamma_[b];
            sums_[SummaryRow::theta][b] += a_theta_[b];
            sums_[SummaryRow::vega][b] += a_vega_[b];
            sums_[SummaryRow::vanna][b] += a_vanna_[b];
            sums_[SummaryRow::volga][b] += a_volga_[b];
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
                row[StepRow::dollar_delta] = dollar_delta_[b];
                row[StepRow::dollar_gamma] = dollar_gamma_[b];
                row[StepRow::vega] = book_vega_[b];
                row[StepRow::theta] = book_theta_[b];
                row[StepRow::delta_pnl] = delta_pnl;
                row[StepRow::gamma_pnl] = a_gamma_[b];
                row[StepRow::theta_pnl] = a_theta_[b];
                row[StepRow::vega_pnl] = a_vega_[b];
                row[StepRow::vanna_pnl] = a_vanna_[b];
                row[StepRow::volga_pnl] = a_volga_[b];
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
    const std::size_t nl_, m_, B_, n_;
    StepState a_, b_;
    Buffer hedge_, net_delta_, gt_sum_, gt_step_{n_}, payoff_{B_};
    const std::vector<PriceGroup> groups_ = pricing_groups();
    Buffer stage_spot_{kStageSteps * m_ * B_}, stage_vol_{kStageSteps * M_.vol_columns * B_};
    static constexpr std::size_t kNothingStaged = static_cast<std::size_t>(-1) / 2;
    std::size_t staged_ = kNothingStaged;
    std::vector<char> forced_;
    std::vector<double> cash_, step_cost_, financing_, cum_, peak_, cost_, mtm_, hedge_pnl_, dividends_,
        settle_, a_delta_, a_gamma_, a_theta_, a_vega_, a_vanna_, a_volga_, dollar_delta_, dollar_gamma_,
        book_vega_, book_theta_, rebalances_;
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
