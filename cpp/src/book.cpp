#include "dispersionkit/book.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "dispersionkit/black_scholes.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Each path owns a multiple of 16 slots in a Greeks block, so a leg always lands on the same
// SIMD lane in the vectorized loop body (no scalar or narrower epilogue), whatever the batch.
constexpr std::size_t kSlotAlign = 16;
constexpr std::size_t kBlockTarget = 1024;  // slots per Greeks call: amortizes dispatch, stays in L1/L2

// A valid dummy option for padding slots and legs not alive at a step (keeps the block off
// the slow limit path; its Greeks are never read).
constexpr double kDummySpot = 1.0, kDummyTau = 1.0, kDummyVol = 0.2;

struct GreeksBuffers {
    std::array<std::vector<double>, 10> data;
    explicit GreeksBuffers(std::size_t n) {
        for (auto& v : data) v.assign(n, 0.0);
    }
    GreeksOut view() {
        return {data[0].data(), data[1].data(), data[2].data(), data[3].data(), data[4].data(),
                data[5].data(), data[6].data(), data[7].data(), data[8].data(), data[9].data()};
    }
};

inline double intrinsic(double spot, double strike, double is_call) {
    const double v = is_call != 0.0 ? spot - strike : strike - spot;
    return v > 0.0 ? v : 0.0;
}

// Works through paths [begin, end) in batches; all per-path state lives here.
class PathBatcher {
public:
    PathBatcher(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules, const BookOut& out)
        : L_(legs), M_(market), R_(rules), O_(out),
          slots_((legs.n_legs + kSlotAlign - 1) / kSlotAlign * kSlotAlign),
          batch_(std::max<std::size_t>(1, kBlockTarget / std::max<std::size_t>(slots_, 1))),
          n_(batch_ * slots_),
          spot_(n_, kDummySpot), strike_(n_, kDummySpot), tau_(n_, kDummyTau), vol_(n_, kDummyVol),
          rate_(n_, 0.0), div_(n_, 0.0), call_(n_, 1.0), now_(n_), next_(n_),
          hedge_(batch_ * market.m, 0.0), net_delta_(market.m, 0.0), forced_(market.m, 0) {
        for (std::size_t b = 0; b < batch_; ++b) {
            for (std::size_t l = 0; l < L_.n_legs; ++l) {
                const std::size_t i = b * slots_ + l;
                strike_[i] = L_.strike[l];
                rate_[i] = M_.rate;
                div_[i] = M_.div_yield[L_.underlying[l]];
                call_[i] = L_.is_call[l];
            }
        }
    }

    void run(std::size_t begin, std::size_t end) {
        for (std::size_t p0 = begin; p0 < end; p0 += batch_) run_batch(p0, std::min(batch_, end - p0));
    }

private:
    double spot(std::size_t p, std::size_t t, std::size_t j) const {
        return M_.spots[(p * (M_.steps + 1) + t) * M_.m + j];
    }
    double vol(std::size_t p, std::size_t t, std::size_t col) const {
        return M_.vols[static_cast<std::ptrdiff_t>(p) * M_.vol_stride[0] +
                       static_cast<std::ptrdiff_t>(t) * M_.vol_stride[1] +
                       static_cast<std::ptrdiff_t>(col) * M_.vol_stride[2]];
    }
    bool alive(std::size_t l, std::size_t t) const { return static_cast<std::size_t>(L_.expiry_step[l]) > t; }
    double summary(std::size_t row, std::size_t p) const { return O_.summary[row * M_.paths + p]; }
    double& summary_ref(std::size_t row, std::size_t p) { return O_.summary[row * M_.paths + p]; }

    // Greeks of every leg alive at step t, for paths [p0, p0 + nb), into `g`.
    void price_step(std::size_t p0, std::size_t nb, std::size_t t, GreeksBuffers& g) {
        const double elapsed = static_cast<double>(t) * M_.dt;
        for (std::size_t b = 0; b < nb; ++b) {
            for (std::size_t l = 0; l < L_.n_legs; ++l) {
                const std::size_t i = b * slots_ + l;
                if (alive(l, t)) {
                    spot_[i] = spot(p0 + b, t, static_cast<std::size_t>(L_.underlying[l]));
                    tau_[i] = L_.expiry[l] - elapsed;
                    vol_[i] = vol(p0 + b, t, static_cast<std::size_t>(L_.vol_column[l]));
                } else {
                    spot_[i] = L_.strike[l];
                    tau_[i] = kDummyTau;
                    vol_[i] = kDummyVol;
                }
            }
        }
        bs_greeks_block(nb * slots_, spot_.data(), strike_.data(), tau_.data(), vol_.data(), rate_.data(),
                        div_.data(), call_.data(), g.view(), 0);
    }

    // Net option delta per underlying (shares) of the legs alive at step t.
    void option_delta(std::size_t b, std::size_t t, const GreeksBuffers& g) {
        std::fill(net_delta_.begin(), net_delta_.end(), 0.0);
        for (std::size_t l = 0; l < L_.n_legs; ++l)
            if (alive(l, t)) net_delta_[L_.underlying[l]] += L_.quantity[l] * g.data[1][b * slots_ + l];
    }

    // Moves path b's hedge to -net delta on the underlyings that need it at step t; returns the cost.
    double rebalance(std::size_t p, std::size_t b, std::size_t t, bool scheduled) {
        double cost = 0.0;
        double* H = &hedge_[b * M_.m];
        for (std::size_t j = 0; j < M_.m; ++j) {
            const double gap = net_delta_[j] + H[j];
            const bool banded = R_.band >= 0.0 && std::fabs(gap) > R_.band;
            if (!(scheduled || banded || forced_[j])) continue;
            const double trade = -gap;
            if (trade == 0.0) continue;
            const double S = spot(p, t, j);
            cost += R_.cost_bps * 1e-4 * std::fabs(trade) * S;
            cash_[b] -= trade * S;
            H[j] = -net_delta_[j];
            summary_ref(kSumRebalances, p) += 1.0;
        }
        return cost;
    }

    void run_batch(std::size_t p0, std::size_t nb) {
        const std::size_t T = M_.steps, nl = L_.n_legs, m = M_.m;
        const double dt = M_.dt, spread = R_.half_spread_vol * 0.01;
        cash_.assign(nb, 0.0);
        pending_.assign(nb, 0.0);
        cum_.assign(nb, 0.0);
        peak_.assign(nb, 0.0);
        std::fill(hedge_.begin(), hedge_.end(), 0.0);
        for (std::size_t b = 0; b < nb; ++b) {
            const std::size_t p = p0 + b;
            for (std::size_t row = 0; row < kSummaryRows; ++row) summary_ref(row, p) = 0.0;
            for (std::size_t l = 0; l < nl; ++l) O_.leg_gamma_theta[p * nl + l] = 0.0;
        }

        // Open at step 0: buy/sell every leg (half-spread), set the first hedge.
        price_step(p0, nb, 0, now_);
        for (std::size_t b = 0; b < nb; ++b) {
            const std::size_t p = p0 + b;
            double value = 0.0, cost = 0.0;
            for (std::size_t l = 0; l < nl; ++l) {
                const std::size_t i = b * slots_ + l;
                value += L_.quantity[l] * now_.data[0][i];
                cost += std::fabs(L_.quantity[l]) * now_.data[3][i] * spread;
            }
            cash_[b] = -value - cost;
            if (R_.hedge) {
                option_delta(b, 0, now_);
                const double trade_cost = rebalance(p, b, 0, true);
                cash_[b] -= trade_cost;
                cost += trade_cost;
            }
            pending_[b] = cost;
        }

        for (std::size_t t = 0; t < T; ++t) {
            price_step(p0, nb, t + 1, next_);
            const bool last = t + 1 == T;
            const bool scheduled = R_.every > 0 && (t + 1) % static_cast<std::size_t>(R_.every) == 0;
            for (std::size_t b = 0; b < nb; ++b) {
                const std::size_t p = p0 + b;
                double mtm = 0.0, a_delta = 0.0, a_gamma = 0.0, a_theta = 0.0, a_vega = 0.0, a_vanna = 0.0,
                       a_volga = 0.0, dollar_delta = 0.0, dollar_gamma = 0.0, book_vega = 0.0, book_theta = 0.0;
                double* leg_steps = O_.leg_gamma_theta_steps ? O_.leg_gamma_theta_steps + (p * T + t) * nl : nullptr;
                std::fill(forced_.begin(), forced_.end(), 0);
                double settlement = 0.0, exit_cost = 0.0;
                for (std::size_t l = 0; l < nl; ++l) {
                    if (!alive(l, t)) {
                        if (leg_steps) leg_steps[l] = 0.0;
                        continue;
                    }
                    const std::size_t i = b * slots_ + l, u = static_cast<std::size_t>(L_.underlying[l]);
                    const std::size_t col = static_cast<std::size_t>(L_.vol_column[l]);
                    const double q = L_.quantity[l];
                    const double s0 = spot(p, t, u), s1 = spot(p, t + 1, u);
                    const double v0 = vol(p, t, col), v1 = vol(p, t + 1, col);
                    const double dS = s1 - s0, dv = v1 - v0;
                    const double delta = now_.data[1][i], gamma = now_.data[2][i], vega = now_.data[3][i];
                    const double theta = now_.data[4][i];
                    double value_next;
                    if (alive(l, t + 1)) {
                        value_next = next_.data[0][i];
                        if (last) exit_cost += std::fabs(q) * next_.data[3][i] * spread;
                    } else {
                        value_next = intrinsic(s1, L_.strike[l], L_.is_call[l]);
                        settlement += q * value_next;
                        forced_[u] = 1;
                    }
                    mtm += q * (value_next - now_.data[0][i]);
                    a_delta += q * delta * dS;
                    a_gamma += 0.5 * q * gamma * dS * dS;
                    a_theta += q * theta * dt;
                    a_vega += q * vega * dv;
                    a_vanna += q * now_.data[7][i] * dS * dv;
                    a_volga += 0.5 * q * now_.data[8][i] * dv * dv;
                    const double ret = dS / s0;
                    const double cash_gamma = 0.5 * q * gamma * s0 * s0;
                    const double gt = cash_gamma * (ret * ret - v0 * v0 * dt);
                    O_.leg_gamma_theta[p * nl + l] += gt;
                    if (leg_steps) leg_steps[l] = gt;
                    dollar_delta += q * delta * s0;
                    dollar_gamma += cash_gamma;
                    book_vega += q * vega;
                    book_theta += q * theta;
                }

                const double* H = &hedge_[b * m];
                double hedge_pnl = 0.0, dividends = 0.0;
                for (std::size_t j = 0; j < m; ++j) {
                    const double s0 = spot(p, t, j);
                    hedge_pnl += H[j] * (spot(p, t + 1, j) - s0);
                    dividends += H[j] * M_.div_yield[j] * s0 * dt;
                    dollar_delta += H[j] * s0;
                }
                const double financing = cash_[b] * M_.rate * dt + dividends;
                double cost = pending_[b] + exit_cost;
                cash_[b] += financing + settlement;

                if (last) {
                    for (std::size_t j = 0; j < m; ++j)
                        cost += R_.cost_bps * 1e-4 * std::fabs(H[j]) * spot(p, T, j);
                } else if (R_.hedge) {
                    option_delta(b, t + 1, next_);
                    const double trade_cost = rebalance(p, b, t + 1, scheduled);
                    cash_[b] -= trade_cost;
                    pending_[b] = trade_cost;
                } else {
                    pending_[b] = 0.0;
                }

                const double net = mtm + hedge_pnl + financing - cost;
                cum_[b] += net;
                if (cum_[b] > peak_[b]) peak_[b] = cum_[b];
                const double drawdown = peak_[b] - cum_[b];
                if (!(drawdown <= summary(kSumMaxDrawdown, p))) summary_ref(kSumMaxDrawdown, p) = drawdown;
                const double delta_pnl = a_delta + hedge_pnl;
                const double residual = mtm - (a_delta + a_gamma + a_theta + a_vega + a_vanna + a_volga);

                summary_ref(kSumCosts, p) += cost;
                summary_ref(kSumOptionMtm, p) += mtm;
                summary_ref(kSumHedge, p) += hedge_pnl;
                summary_ref(kSumFinancing, p) += financing;
                summary_ref(kSumDelta, p) += delta_pnl;
                summary_ref(kSumGamma, p) += a_gamma;
                summary_ref(kSumTheta, p) += a_theta;
                summary_ref(kSumVega, p) += a_vega;
                summary_ref(kSumVanna, p) += a_vanna;
                summary_ref(kSumVolga, p) += a_volga;
                summary_ref(kSumResidual, p) += residual;

                if (O_.steps) {
                    const std::size_t plane = M_.paths * T, at = p * T + t;
                    const double row[kStepRows] = {mtm, hedge_pnl, financing, cost, net, cum_[b],
                                                   dollar_delta, dollar_gamma, book_vega, book_theta,
                                                   delta_pnl, a_gamma, a_theta, a_vega, a_vanna, a_volga, residual};
                    for (std::size_t k = 0; k < kStepRows; ++k) O_.steps[k * plane + at] = row[k];
                }
            }
            std::swap(now_, next_);
        }
        for (std::size_t b = 0; b < nb; ++b) summary_ref(kSumTotal, p0 + b) = cum_[b];
    }

    const BookLegs& L_;
    const BookMarket& M_;
    const HedgeRules& R_;
    const BookOut& O_;
    const std::size_t slots_, batch_, n_;
    std::vector<double> spot_, strike_, tau_, vol_, rate_, div_, call_;
    GreeksBuffers now_, next_;
    std::vector<double> hedge_, net_delta_;
    std::vector<char> forced_;
    std::vector<double> cash_, pending_, cum_, peak_;
};

}  // namespace

void hedged_pnl(const BookLegs& legs, const BookMarket& market, const HedgeRules& rules,
                const BookOut& out, int threads) {
    parallel_for(market.paths, threads, kBookMinChunk, [&](std::size_t begin, std::size_t end) {
        PathBatcher batcher(legs, market, rules, out);
        batcher.run(begin, end);
    });
}

}  // namespace dk
