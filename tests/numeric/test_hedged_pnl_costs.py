"""Trading costs and rebalancing rules: monotone costs, band width trades costs against hedge error."""

import numpy as np
import pytest

import dispersionkit as dk

DT = 1.0 / 252.0


@pytest.fixture(scope="module")
def market(gbm):
    return gbm(1000, 42, DT, 0.2, seed=21)


def test_costs_monotone_in_bps(market):
    book = dk.straddle(0, 100.0, 0.25, 10.0)
    totals, costs = [], []
    for bps in (0.0, 1.0, 5.0, 20.0):
        m = dk.hedged_pnl(book, market, 0.2, dt=DT, policy=dk.HedgePolicy(hedge_cost_bps=bps)).summary
        totals.append(m.total)
        costs.append(m.total_costs)
    assert np.all(costs[0] == 0.0)
    for lo, hi in zip(range(3), range(1, 4)):
        assert np.all(costs[hi] > costs[lo])
        assert np.all(totals[hi] < totals[lo])
    # Costs are linear in bps on identical trades.
    np.testing.assert_allclose(costs[3], 4.0 * costs[2], rtol=1e-12)


def test_hedge_cost_matches_traded_notional(market):
    book = dk.Book([dk.Leg(0, 100.0, 0.25, True, 10.0)])
    s = dk.hedged_pnl(book, market[:3], 0.2, dt=DT, policy=dk.HedgePolicy(hedge_cost_bps=10.0), detail="steps").steps
    g = dk.bs_greeks(market[:3, :-1, 0], 100.0, 0.25 - np.arange(42) * DT, 0.2)
    hedge = -10.0 * g.delta  # shares held after each rebalance (every step)
    # Trades at steps 0..41, then the unwind at 42, charged to the last step.
    trades = np.diff(np.concatenate([np.zeros((3, 1)), hedge, np.zeros((3, 1))], axis=1), axis=1)
    notional = np.abs(trades) * market[:3, :, 0]
    expected = notional[:, :42].copy()
    expected[:, -1] += notional[:, 42]
    np.testing.assert_allclose(s.costs, 10.0 * 1e-4 * expected, rtol=1e-10)


def test_option_half_spread_charged_on_entry_and_exit(market):
    book = dk.straddle(0, 100.0, 0.25, -4.0)
    s = dk.hedged_pnl(book, market[:2], 0.2, dt=DT, policy=dk.HedgePolicy(option_half_spread=0.5), detail="steps").steps
    vega_now = 2 * dk.bs_greeks(100.0, 100.0, 0.25, 0.2).vega
    vega_end = 2 * dk.bs_greeks(market[:2, -1, 0], 100.0, 0.25 - 42 * DT, 0.2).vega
    np.testing.assert_allclose(s.costs[:, 0], 4.0 * vega_now * 0.005, rtol=1e-12)
    np.testing.assert_allclose(s.costs[:, -1], 4.0 * vega_end * 0.005, rtol=1e-12)
    assert np.all(s.costs[:, 1:-1] == 0.0)


def test_band_trades_costs_against_hedge_error(market):
    book = dk.straddle(0, 100.0, 0.25, 10.0)
    stds, costs, counts = [], [], []
    for band in (0.05, 0.5, 2.0):
        m = dk.hedged_pnl(
            book, market, 0.2, dt=DT, policy=dk.HedgePolicy(every=None, band=band, hedge_cost_bps=5.0)
        ).summary
        stds.append((m.total + m.total_costs).std())  # hedge error before costs
        costs.append(m.total_costs.mean())
        counts.append(m.n_rebalances.mean())
    assert counts[0] > counts[1] > counts[2]
    assert costs[0] > costs[1] > costs[2]
    assert stds[0] < stds[1] < stds[2]


def test_schedule_every_k_steps(market):
    book = dk.straddle(0, 100.0, 0.25, 1.0)
    for every, expected in ((1, 42), (5, 9), (42, 1)):
        m = dk.hedged_pnl(book, market[:5], 0.2, dt=DT, policy=dk.HedgePolicy(every=every)).summary
        assert np.all(m.n_rebalances == expected), (every, m.n_rebalances)


def test_unhedged_book_never_trades(market):
    book = dk.straddle(0, 100.0, 0.25, 1.0)
    m = dk.hedged_pnl(book, market[:5], 0.2, dt=DT, policy=dk.HedgePolicy(hedge_instrument="none")).summary
    assert np.all(m.n_rebalances == 0) and np.all(m.hedge_pnl == 0.0)
