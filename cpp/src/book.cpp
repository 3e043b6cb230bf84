#include "dispersionkit/book.hpp"

#include <algorithm>
#include <array>
#include <cmath>
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
constexpr std::size_t kMaxBatch = 32;
// Hedge trades of at most this many shares are rounding noise (e.g. the delta of an option
// pinned at 0 or 1 recomputed at the next step): not executed, not counted.
constexpr double kMinTrade = 1e-12;

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
[[gnu::always_inline]] inline void store_greeks(const BsTerms<double>& b, double S, double v, double r, double q,
                                                double s, double sqT, double dq, const EngineGreeks& out,
                                                std::size_t i) {
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

// The engine runs a batch of paths step block by step block (kBlockSteps steps), and within a
// block underlying chunk by underlying chunk: a chunk is a run of underlyings whose legs total at
// most about kChunkLegs, and all its steps of the block run before the next chunk starts. Its
// legs' Greeks, staged spots and vols then stay in L2 for the whole block however many names
// the book has, so the cost per leg-step does not grow with the basket. Everything of an
// underlying (its legs, their Greeks, its hedge and rebalancing) is independent of the other
// underlyings; what couples them (cash, its financing, drawdown, the per-step totals) is
// additive per step: the chunks add their contributions into per-step accumulators, and the
// cash recurrence and the per-step records run once per block after the last chunk.
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
          chunks_(make_chunks()),
          a_(B_, nl_ * B_),
          b_(B_, nl_ * B_),
          hedge_(m_ * B_),
          gt_sum_(nl_ * B_),
          net_delta_(max_chunk_underlyings() * B_),
          gt_step_(max_chunk_legs() * B_),
          payoff_(B_),
          stage_spot_((kBlockSteps + 1) * max_chunk_underlyings() * B_),
          stage_vol_((kBlockSteps + 1) * max_chunk_columns() * B_),
          steps_(StepField::count * kBlockSteps * B_),
          close_(CloseField::count * (kBlockSteps + 1) * B_),
          totals_(Total::count * B_),
          sums_(SummaryRow::count * B_) {}

    // Paths [begin, end); returns early (their outputs partly written) when the call is stopped.
    // Every member with a vector loop has ISA clones (DK_SIMD_CLONES).
    void run(std::size_t begin, std::size_t end) {
        for (std::size_t p0 = begin; p0 < end; p0 += B_)
            if (!run_batch(p0, std::min(B_, end - p0))) return;
    }

  private:
    // Legs per chunk: two step states of kChunkLegs legs x 7 Greeks x 32 paths, the staged
    // spots and vols and the per-step accumulators take about 250 KB, half the smallest L2 the
    // engine is tuned on. An underlying is never split (its legs share one hedge).
    static constexpr std::size_t kChunkLegs = 24;
    // Steps between two cash recurrences; a chunk's working set is reused over this many steps.
    static constexpr std::size_t kBlockSteps = 16;

    // Legs priced together: a call and a put on the same underlying, strike, expiry and vol
    // column share one evaluation (pair_greeks); any other leg is priced alone.
    struct PriceGroup {
        std::size_t first, second;
        bool paired;
    };
    struct Chunk {
        std::size_t j0, j1;                  // underlyings [j0, j1)
        std::vector<std::size_t> legs;       // in leg order
        std::vector<PriceGroup> groups;      // pricing groups of those legs
        std::vector<std::size_t> columns;    // vol columns the legs read (sorted)
        std::vector<std::size_t> leg_slot;  // per leg of the book: its column's slot in `columns`
    };

    // Per-step contributions the chunks add up, for the steps of the current block.
    struct StepField {
        enum Index : std::size_t {
            mtm,
            hedge_pnl,
            dividends,
            settle,
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
            exit_cost,  // exit half-spread of the last step and the unwind of the hedges
            count
        };
    };
    // Trades at the close of a step: their costs (charged to that step) and cash (paid then).
    // Slot s is the close of step t0 + s; slot kBlockSteps carries over to the next block.
    struct CloseField {
        enum Index : std::size_t { cost, cash, count };
    };
    // Per-path state of the batch carried across blocks.
    struct Total {
        enum Index : std::size_t { cash, cumulative, peak, rebalances, count };
    };

    double vol(std::size_t p, std::size_t t, std::size_t col) const {
        return M_.vols[static_cast<std::ptrdiff_t>(p) * M_.vol_stride[0] +
                       static_cast<std::ptrdiff_t>(t) * M_.vol_stride[1] +
                       static_cast<std::ptrdiff_t>(col) * M_.vol_stride[2]];
    }

    std::size_t expiry_step(std::size_t l) const { return static_cast<std::size_t>(L_.expiry_step[l]); }
    bool alive(std::size_t l, std::size_t t) const { return expiry_step(l) > t; }
    std::size_t underlying(std::size_t l) const { return static_cast<std::size_t>(L_.underlying[l]); }

    std::vector<Chunk> make_chunks() const {
        std::vector<std::vector<std::size_t>> legs_of(m_);
        for (std::size_t l = 0; l < nl_; ++l) legs_of[underlying(l)].push_back(l);
        std::vector<Chunk> chunks;
        Chunk chunk{0, 0, {}, {}, {}, {}};
        for (std::size_t j = 0; j < m_; ++j) {
            if (!chunk.legs.empty() && chunk.legs.size() + legs_of[j].size() > kChunkLegs) {
                chunk.j1 = j;
                chunks.push_back(finish_chunk(std::move(chunk)));
                chunk = Chunk{j, j, {}, {}, {}, {}};
            }
            chunk.legs.insert(chunk.legs.end(), legs_of[j].begin(), legs_of[j].end());
        }
        chunk.j1 = m_;
        chunks.push_back(finish_chunk(std::move(chunk)));
        return chunks;
    }

    Chunk finish_chunk(Chunk chunk) const {
        std::sort(chunk.legs.begin(), chunk.legs.end());
        std::vector<char> used(nl_, 0);
        for (std::size_t l : chunk.legs) {
            if (used[l]) continue;
            used[l] = 1;
            PriceGroup g{l, l, false};
            for (std::size_t k : chunk.legs) {
                if (g.paired) break;
                if (k <= l || used[k] || L_.underlying[k] != L_.underlying[l] || L_.strike[k] != L_.strike[l] ||
                    L_.expiry[k] != L_.expiry[l] || L_.vol_column[k] != L_.vol_column[l] ||
                    (L_.is_call[k] != 0.0) == (L_.is_call[l] != 0.0))
                    continue;
                used[k] = 1;
                g = L_.is_call[l] != 0.0 ? PriceGroup{l, k, true} : PriceGroup{k, l, true};
            }
            chunk.groups.push_back(g);
        }
        for (std::size_t l : chunk.legs) chunk.columns.push_back(static_cast<std::size_t>(L_.vol_column[l]));
        std::sort(chunk.columns.begin(), chunk.columns.end());
        chunk.columns.erase(std::unique(chunk.columns.begin(), chunk.columns.end()), chunk.columns.end());
        chunk.leg_slot.assign(nl_, 0);
        for (std::size_t l : chunk.legs)
            chunk.leg_slot[l] = static_cast<std::size_t>(
                std::lower_bound(chunk.columns.begin(), chunk.columns.end(),
                                 static_cast<std::size_t>(L_.vol_column[l])) -
                chunk.columns.begin());
        return chunk;
    }

    std::size_t max_chunk_underlyings() const {
        std::size_t most = 1;
        for (const Chunk& c : chunks_) most = std::max(most, c.j1 - c.j0);
        return most;
    }
    std::size_t max_chunk_legs() const {
        std::size_t most = 1;
        for (const Chunk& c : chunks_) most = std::max(most, c.legs.size());
        return most;
    }
    std::size_t max_chunk_columns() const {
        std::size_t most = 1;
        for (const Chunk& c : chunks_) most = std::max(most, c.columns.size());
        return most;
    }

    // ---- staging ------------------------------------------------------------------------

    // Spots and vols of steps t0..t0+count-1 of the chunk's underlyings and vol columns, paths
    // [p0, p0 + nb), in [step][column][path] order: the SIMD loops read each as a contiguous
    // run of the batch. Padding paths get a valid dummy market (spot 1, vol kDummyVol). Vols
    // the same on every path and step (the usual broadcast of one vol per name) are staged
    // once and read for every step (vol_steps_ == 1).
    DK_SIMD_CLONES
    void stage(const Chunk& c, std::size_t p0, std::size_t nb, std::size_t t0, std::size_t count) {
        const std::size_t C = c.j1 - c.j0, K = c.columns.size();
        for (std::size_t b = 0; b < nb; ++b) {
            for (std::size_t s = 0; s < count; ++s) {
                const double* row = M_.spots + ((p0 + b) * (M_.steps + 1) + t0 + s) * m_ + c.j0;
                double* to = stage_spot_.data() + s * C * B_ + b;
                for (std::size_t j = 0; j < C; ++j) to[j * B_] = row[j];
            }
        }
        for (std::size_t k = 0; k < count * C; ++k)
            std::fill(&stage_spot_[k * B_ + nb], &stage_spot_[k * B_ + B_], 1.0);
        const bool same_paths = M_.vol_stride[0] == 0, same_steps = M_.vol_stride[1] == 0;
        vol_steps_ = same_paths && same_steps ? 1 : count;
        for (std::size_t s = 0; s < vol_steps_; ++s) {
            for (std::size_t k = 0; k < K; ++k) {
                double* to = stage_vol_.data() + (s * K + k) * B_;
                if (same_paths) {
                    std::fill(to, to + nb, vol(0, t0 + s, c.columns[k]));
                } else {
                    for (std::size_t b = 0; b < nb; ++b) to[b] = vol(p0 + b, t0 + s, c.columns[k]);
                }
                std::fill(to + nb, to + B_, kDummyVol);
            }
        }
        staged_ = t0;
    }
    const double* spots_at(const Chunk& c, std::size_t t, std::size_t j) const {
        return stage_spot_.data() + ((t - staged_) * (c.j1 - c.j0) + (j - c.j0)) * B_;
    }
    const double* leg_spots(const Chunk& c, std::size_t t, std::size_t l) const {
        return spots_at(c, t, underlying(l));
    }
    const double* leg_vols(const Chunk& c, std::size_t t, std::size_t l) const {
        const std::size_t s = vol_steps_ == 1 ? 0 : t - staged_;
        return stage_vol_.data() + (s * c.columns.size() + c.leg_slot[l]) * B_;
    }

    // ---- per-leg state ------------------------------------------------------------------

    // The legs' Greeks at step t (two states alternate: t and t + 1).
    StepState& state(std::size_t t) { return (t & 1) ? b_ : a_; }
    static EngineGreeks outputs(StepState& s, std::size_t l) {
        const std::size_t i0 = l * s.batch;
        return {s.price.data() + i0, s.delta.data() + i0, s.gamma.data() + i0, s.vega.data() + i0,
                s.theta.data() + i0, s.vanna.data() + i0, s.volga.data() + i0};
    }

    // Greeks at step t of the chunk's legs alive at t (spots and vols staged).
    void price_step(const Chunk& c, std::size_t t) {
        StepState& s = state(t);
        const double elapsed = static_cast<double>(t) * M_.dt;
        for (const PriceGroup& g : c.groups) {
            if (!alive(g.first, t)) continue;
            const std::size_t l = g.first;
            const double T = L_.expiry[l] - elapsed, K = L_.strike[l], r = M_.rate;
            const double q = M_.div_yield[underlying(l)];
            if (g.paired) {
                pair_greeks(B_, leg_spots(c, t, l), leg_vols(c, t, l), K, T, r, q, outputs(s, g.first),
                            outputs(s, g.second));
            } else {
                leg_greeks(B_, leg_spots(c, t, l), leg_vols(c, t, l), K, T, r, q,
                           L_.is_call[l] != 0.0 ? 1.0 : -1.0, outputs(s, l));
            }
        }
    }

    double* step_field(StepField::Index f, std::size_t s) { return steps_.data() + (f * kBlockSteps + s) * B_; }
    double* close_field(CloseField::Index f, std::size_t s) {
        return close_.data() + (f * (kBlockSteps + 1) + s) * B_;
    }
    double* total(Total::Index f) { return totals_.data() + f * B_; }
    double* summary(SummaryRow::Index r) { return sums_.data() + r * B_; }

    // Net option delta (shares) of the chunk's underlyings from its legs alive at step t.
    DK_SIMD_CLONES
    void option_delta(const Chunk& c, std::size_t t) {
        const StepState& s = state(t);
        std::fill(net_delta_.data(), net_delta_.data() + (c.j1 - c.j0) * B_, 0.0);
        for (std::size_t l : c.legs) {
            if (!alive(l, t)) continue;
            const double q = L_.quantity[l];
            double* __restrict nd = net_delta_.data() + (underlying(l) - c.j0) * B_;
            const double* __restrict d = s.delta.data() + l * B_;
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) nd[b] += q * d[b];
        }
    }

    // Moves the chunk's hedges to -net delta where the rules say so, at the spots of step t
    // (slot `slot` of the close fields); forced[j] marks underlyings with a leg settling at t.
    DK_SIMD_CLONES
    void rebalance(const Chunk& c, std::size_t t, std::size_t slot, bool scheduled, const char* forced) {
        const double rate = R_.cost_bps * 1e-4, band = R_.band.value_or(0.0);
        const bool use_band = R_.band.has_value();
        double* __restrict cost = close_field(CloseField::cost, slot);
        double* __restrict cash = close_field(CloseField::cash, slot);
        double* __restrict count = total(Total::rebalances);
        for (std::size_t j = c.j0; j < c.j1; ++j) {
            const bool always = scheduled || forced[j - c.j0];
            double* __restrict H = hedge_.data() + j * B_;
            const double* __restrict D = net_delta_.data() + (j - c.j0) * B_;
            const double* __restrict S = spots_at(c, t, j);
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) {
                const double gap = D[b] + H[b];
                const bool need = always || (use_band && std::fabs(gap) > band);
                const bool traded = need && std::fabs(gap) > kMinTrade;
                const double trade = traded ? -gap : 0.0;
                const double fee = rate * std::fabs(trade) * S[b];
                cost[b] += fee;
                cash[b] -= trade * S[b] + fee;
                H[b] = traded ? -D[b] : H[b];
                count[b] += traded ? 1.0 : 0.0;
            }
        }
    }

    // Opens the chunk at step 0: buys every leg (half-spread on entry) and sets its first hedge.
    DK_SIMD_CLONES
    void open(const Chunk& c) {
        price_step(c, 0);
        const StepState& s = state(0);
        const double spread = R_.half_spread_vol * 0.01;
        double* __restrict cost = close_field(CloseField::cost, 0);
        double* __restrict cash = close_field(CloseField::cash, 0);
        for (std::size_t l : c.legs) {
            const double q = L_.quantity[l];
            const double* __restrict price = s.price.data() + l * B_;
            const double* __restrict vega = s.vega.data() + l * B_;
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) {
                const double fee = std::fabs(q) * vega[b] * spread;
                cost[b] += fee;
                cash[b] -= q * price[b] + fee;
            }
        }
        if (R_.hedge) {
            const std::vector<char> none(c.j1 - c.j0, 0);
            option_delta(c, 0);
            rebalance(c, 0, 0, true, none.data());
        }
    }

    // Step t -> t+1 of the chunk (slot s of the block): prices its legs at t+1, adds the
    // legs' P&L and attribution and the hedges' P&L, then rebalances at t+1 (or, after the
    // last step, charges the unwind).
    DK_SIMD_CLONES
    void chunk_step(const Chunk& c, std::size_t p0, std::size_t nb, std::size_t t, std::size_t s) {
        const std::size_t t1 = t + 1, T = M_.steps;
        const double dt = M_.dt, spread = R_.half_spread_vol * 0.01;
        const bool last = t1 == T;
        price_step(c, t1);
        StepState& now = state(t);
        StepState& next = state(t1);
        std::vector<char>& forced = forced_;
        std::fill(forced.begin(), forced.begin() + static_cast<std::ptrdiff_t>(c.j1 - c.j0), 0);
        double* leg_steps = O_.leg_gamma_theta_steps;
        const PathSums sums{step_field(StepField::mtm, s),          step_field(StepField::exit_cost, s),
                            step_field(StepField::delta, s),        step_field(StepField::gamma, s),
                            step_field(StepField::theta, s),        step_field(StepField::vega, s),
                            step_field(StepField::vanna, s),        step_field(StepField::volga, s),
                            step_field(StepField::dollar_delta, s), step_field(StepField::dollar_gamma, s),
                            step_field(StepField::book_vega, s),    step_field(StepField::book_theta, s)};
        double* __restrict settle = step_field(StepField::settle, s);
        for (std::size_t k = 0; k < c.legs.size(); ++k) {
            const std::size_t l = c.legs[k];
            if (!alive(l, t)) {
                if (leg_steps)
                    for (std::size_t b = 0; b < nb; ++b) leg_steps[((p0 + b) * T + t) * nl_ + l] = 0.0;
                continue;
            }
            const std::size_t i0 = l * B_;
            const double q = L_.quantity[l];
            const bool settling = !alive(l, t1);
            const double* value1 = next.price.data() + i0;
            if (settling) {  // settles at intrinsic; the proceeds go to cash, its hedge is unwound
                forced[underlying(l) - c.j0] = 1;
                const double sign = L_.is_call[l] != 0.0 ? 1.0 : -1.0, K = L_.strike[l];
                const double* __restrict s1 = leg_spots(c, t1, l);
                double* __restrict payoff = payoff_.data();
#pragma omp simd
                for (std::size_t b = 0; b < B_; ++b) {
                    const double value = sign * (s1[b] - K);
                    payoff[b] = value > 0.0 ? value : 0.0;
                    settle[b] += q * payoff[b];
                }
                value1 = payoff_.data();
            }
            const double exit = last && !settling ? std::fabs(q) * spread : 0.0;
            const LegStepIn in{leg_spots(c, t, l),     leg_spots(c, t1, l),   leg_vols(c, t, l),
                               leg_vols(c, t1, l),     now.price.data() + i0, now.delta.data() + i0,
                               now.gamma.data() + i0,  now.vega.data() + i0,  now.theta.data() + i0,
                               now.vanna.data() + i0,  now.volga.data() + i0, value1,
                               next.vega.data() + i0};
            double* gt_step = gt_step_.data() + k * B_;
            leg_step(B_, q, exit, dt, in, sums, gt_sum_.data() + i0, gt_step);
            if (leg_steps)
                for (std::size_t b = 0; b < nb; ++b) leg_steps[((p0 + b) * T + t) * nl_ + l] = gt_step[b];
        }
        hedge_step(c, t, s);
        if (last) {
            unwind_costs(c, t1, s);
        } else if (R_.hedge) {
            option_delta(c, t1);
            rebalance(c, t1, s + 1, R_.every && t1 % static_cast<std::size_t>(*R_.every) == 0, forced.data());
        }
    }

    DK_SIMD_CLONES
    void hedge_step(const Chunk& c, std::size_t t, std::size_t s) {
        const double dt = M_.dt;
        double* __restrict pnl = step_field(StepField::hedge_pnl, s);
        double* __restrict div = step_field(StepField::dividends, s);
        double* __restrict dd = step_field(StepField::dollar_delta, s);
        for (std::size_t j = c.j0; j < c.j1; ++j) {
            const double q = M_.div_yield[j];
            const double* __restrict H = hedge_.data() + j * B_;
            const double* __restrict S0 = spots_at(c, t, j);
            const double* __restrict S1 = spots_at(c, t + 1, j);
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) {
                pnl[b] += H[b] * (S1[b] - S0[b]);
                div[b] += H[b] * q * S0[b] * dt;
                dd[b] += H[b] * S0[b];
            }
        }
    }

    DK_SIMD_CLONES
    void unwind_costs(const Chunk& c, std::size_t t, std::size_t s) {
        const double rate = R_.cost_bps * 1e-4;
        double* __restrict cost = step_field(StepField::exit_cost, s);
        for (std::size_t j = c.j0; j < c.j1; ++j) {
            const double* __restrict H = hedge_.data() + j * B_;
            const double* __restrict S = spots_at(c, t, j);
#pragma omp simd
            for (std::size_t b = 0; b < B_; ++b) cost[b] += rate * std::fabs(H[b]) * S[b];
        }
    }

    // False when the call was stopped before the batch finished.
    bool run_batch(std::size_t p0, std::size_t nb) {
        const std::size_t T = M_.steps;
        std::fill(totals_.begin(), totals_.end(), 0.0);
        std::fill(sums_.begin(), sums_.end(), 0.0);
        std::fill(close_.begin(), close_.end(), 0.0);
        hedge_.zero();
        gt_sum_.zero();
        for (std::size_t t0 = 0; t0 < T; t0 += kBlockSteps) {
            const std::size_t count = std::min(kBlockSteps, T - t0);
            std::fill(steps_.begin(), steps_.end(), 0.0);
            for (const Chunk& c : chunks_) {
                if (stop_requested(interrupt_)) return false;
                stage(c, p0, nb, t0, count + 1);
                if (t0 == 0) open(c);
                for (std::size_t s = 0; s < count; ++s) chunk_step(c, p0, nb, t0 + s, s);
            }
            for (std::size_t s = 0; s < count; ++s) record_step(p0, nb, t0 + s, s);
            // The close of the block's last step (slot `count`) opens the next block.
            for (std::size_t f = 0; f < CloseField::count; ++f) {
                double* slots = close_.data() + f * (kBlockSteps + 1) * B_;
                std::copy(slots + count * B_, slots + (count + 1) * B_, slots);
                std::fill(slots + B_, slots + (kBlockSteps + 1) * B_, 0.0);
            }
        }
        double* rows = sums_.data();
        std::copy(total(Total::cumulative), total(Total::cumulative) + B_, summary(SummaryRow::total));
        std::copy(total(Total::rebalances), total(Total::rebalances) + B_, summary(SummaryRow::n_rebalances));
        for (std::size_t b = 0; b < nb; ++b) {
            const std::size_t p = p0 + b;
            for (std::size_t row = 0; row < SummaryRow::count; ++row) O_.summary[row * M_.paths + p] = rows[row * B_ + b];
            for (std::size_t l = 0; l < nl_; ++l) O_.leg_gamma_theta[p * nl_ + l] = gt_sum_[l * B_ + b];
        }
        return true;
    }

    // Financing and cash of step t (slot s), then its net P&L, drawdown and attribution
    // residual; per-path sums and the optional per-step rows. The cash that step t finances
    // includes the trades at the close of t (slot s); the close of t + 1 is paid after it.
    DK_SIMD_CLONES
    void record_step(std::size_t p0, std::size_t nb, std::size_t t, std::size_t s) {
        const double* mtm = step_field(StepField::mtm, s);
        const double* hedge_pnl = step_field(StepField::hedge_pnl, s);
        const double* dividends = step_field(StepField::dividends, s);
        const double* settle = step_field(StepField::settle, s);
        const double* exit_cost = step_field(StepField::exit_cost, s);
        const double* a_delta = step_field(StepField::delta, s);
        const double* a_gamma = step_field(StepField::gamma, s);
        const double* a_theta = step_field(StepField::theta, s);
        const double* a_vega = step_field(StepField::vega, s);
        const double* a_vanna = step_field(StepField::vanna, s);
        const double* a_volga = step_field(StepField::volga, s);
        const double* close_cost = close_field(CloseField::cost, s);
        const double* close_cash = close_field(CloseField::cash, s);
        const double* next_cash = close_field(CloseField::cash, s + 1);
        double* cash = total(Total::cash);
        double* cum = total(Total::cumulative);
        double* peak = total(Total::peak);
        const bool last = t + 1 == M_.steps;
        for (std::size_t b = 0; b < B_; ++b) {
            if (t == 0) cash[b] += close_cash[b];  // the opening trades
            const double step_cost = close_cost[b] + exit_cost[b];
            const double financing = cash[b] * M_.rate * M_.dt + dividends[b];
            cash[b] += financing + settle[b];
            if (!last) cash[b] += next_cash[b];
            const double net = mtm[b] + hedge_pnl[b] + financing - step_cost;
            cum[b] += net;
            if (cum[b] > peak[b]) peak[b] = cum[b];
            const double drawdown = peak[b] - cum[b];
            double* max_drawdown = summary(SummaryRow::max_drawdown);
            if (!(drawdown <= max_drawdown[b])) max_drawdown[b] = drawdown;
            const double delta_pnl = a_delta[b] + hedge_pnl[b];
            const double residual = mtm[b] - (a_delta[b] + a_gamma[b] + a_theta[b] + a_vega[b] + a_vanna[b] + a_volga[b]);
            summary(SummaryRow::total_costs)[b] += step_cost;
            summary(SummaryRow::option_mtm)[b] += mtm[b];
            summary(SummaryRow::hedge_pnl)[b] += hedge_pnl[b];
            summary(SummaryRow::financing)[b] += financing;
            summary(SummaryRow::delta)[b] += delta_pnl;
            summary(SummaryRow::gamma)[b] += a_gamma[b];
            summary(SummaryRow::theta)[b] += a_theta[b];
            summary(SummaryRow::vega)[b] += a_vega[b];
            summary(SummaryRow::vanna)[b] += a_vanna[b];
            summary(SummaryRow::volga)[b] += a_volga[b];
            summary(SummaryRow::residual)[b] += residual;
            if (O_.steps && b < nb) {
                const std::size_t plane = M_.paths * M_.steps, at = (p0 + b) * M_.steps + t;
                double row[StepRow::count];
                row[StepRow::option_mtm] = mtm[b];
                row[StepRow::hedge_pnl] = hedge_pnl[b];
                row[StepRow::financing] = financing;
                row[StepRow::costs] = step_cost;
                row[StepRow::net] = net;
                row[StepRow::cumulative] = cum[b];
                row[StepRow::dollar_delta] = step_field(StepField::dollar_delta, s)[b];
                row[StepRow::dollar_gamma] = step_field(StepField::dollar_gamma, s)[b];
                row[StepRow::vega] = step_field(StepField::book_vega, s)[b];
                row[StepRow::theta] = step_field(StepField::book_theta, s)[b];
                row[StepRow::delta_pnl] = delta_pnl;
                row[StepRow::gamma_pnl] = a_gamma[b];
                row[StepRow::theta_pnl] = a_theta[b];
                row[StepRow::vega_pnl] = a_vega[b];
                row[StepRow::vanna_pnl] = a_vanna[b];
                row[StepRow::volga_pnl] = a_volga[b];
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
    const std::size_t nl_, m_, B_;
    const std::vector<Chunk> chunks_;
    StepState a_, b_;
    Buffer hedge_, gt_sum_, net_delta_, gt_step_, payoff_, stage_spot_, stage_vol_;
    std::size_t staged_ = 0, vol_steps_ = 1;
    std::vector<double> steps_, close_, totals_, sums_;
    std::vector<char> forced_ = std::vector<char>(max_chunk_underlyings(), 0);
};

}  // namespace

void hedged_pnl(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules, const BookOut& out,
                int threads, Interrupt* interrupt) {
    parallel_for(market.paths, threads, kBookMinChunk, interrupt, [&](std::size_t begin, std::size_t end) {
        const std::size_t count = end - begin;
        const std::size_t batch = std::min(kMaxBatch, (count + kLaneGroup - 1) / kLaneGroup * kLaneGroup);
        BatchEngine engine(legs, market, rules, out, batch, interrupt);
        engine.run(begin, end);
    });
}

}  // namespace dk
