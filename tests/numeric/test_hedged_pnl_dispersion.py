"""The classic two-scenario dispersion day in one unit system: spots in dollars, returns as
decimals, vols as decimals, Greeks per option, P&L in dollars per option unit.

Five stocks at $100 and an equal-weight index at $100 (its level is the mean of the stock
prices). Long one ATM 30-day straddle on each stock, short index straddles sized vega-neutral,
delta hedged at the open, one daily step. Same absolute stock moves; only their co-movement
differs: independent (+5/-4/+6/-3/+2 %, index +1.2%) against identical (all +5%, index +5%).
"""

import numpy as np
import pytest

import dispersionkit as dk

DT, EXPIRY = 1.0 / 252.0, 30.0 / 365.0
STOCK_VOL, INDEX_VOL = 0.35, 0.20  # implied correlation ~0.25 with 5 equal weights


def _book():
    stocks = dk.Book([dk.straddle(i, 100.0, EXPIRY, 1.0) for i in range(5)])
    vega = dk.bs_greeks(100.0, 100.0, EXPIRY, [STOCK_VOL, INDEX_VOL]).vega * 2  # a straddle: two legs
    index_quantity = -5.0 * vega[0] / vega[1]
    return stocks + dk.straddle(5, 100.0, EXPIRY, index_quantity), index_quantity


def _day(moves):
    stocks = 100.0 * (1.0 + np.asarray(moves))
    close = np.append(stocks, stocks.mean())
    return np.vstack([np.full(6, 100.0), close])


@pytest.fixture(scope="module")
def results():
    book, q_index = _book()
    vols = np.array([STOCK_VOL] * 5 + [INDEX_VOL])
    low = dk.hedged_pnl(book, _day([0.05, -0.04, 0.06, -0.03, 0.02]), vols, dt=DT)
    high = dk.hedged_pnl(book, _day([0.05] * 5), vols, dt=DT)
    return low, high, q_index


def test_book_is_vega_neutral_and_short_the_index(results):
    low, _, q_index = results
    assert q_index < 0
    assert abs(low.steps.vega[0, 0]) < 1e-9


def test_low_correlation_day_beats_high_correlation_day(results):
    low, high, _ = results
    assert low.summary.total[0] > high.summary.total[0]
    assert low.summary.total[0] > 0.0


def test_day_pnl_is_the_cash_gamma_times_variance_gap_by_hand(results):
    low, high, q_index = results
    gamma = dk.bs_greeks(100.0, 100.0, EXPIRY, [STOCK_VOL, INDEX_VOL]).gamma * 2
    for res, moves in ((low, [0.05, -0.04, 0.06, -0.03, 0.02]), (high, [0.05] * 5)):
        index_move = np.mean(moves)
        stocks = sum(0.5 * gamma[0] * 100.0**2 * (r * r - STOCK_VOL**2 * DT) for r in moves)
        index = 0.5 * q_index * gamma[1] * 100.0**2 * (index_move**2 - INDEX_VOL**2 * DT)
        legs = res.summary.gamma_theta_legs[0]
        np.testing.assert_allclose(legs.sum(), stocks + index, rtol=1e-10)
        # Third-order terms of 5% moves on 30-day straddles are the residual: small but reported.
        total = res.summary.total[0]
        assert abs(total - (stocks + index)) < 0.15 * abs(stocks + index)
        np.testing.assert_allclose(
            total - res.summary.gamma[0] - res.summary.theta[0] - res.summary.delta[0],
            res.summary.residual[0],
            atol=1e-12,
        )
