"""Statistics of delta hedging along GBM paths: the engine against the known hedging-error laws."""

import numpy as np
from scipy.stats import kurtosis

import dispersionkit as dk

SIGMA, EXPIRY, PATHS = 0.2, 0.25, 4000


def _std_and_se(x):
    """Sample std and its standard error (uses the sample kurtosis: the P&L is not normal)."""
    sd = x.std(ddof=1)
    return sd, sd * np.sqrt((kurtosis(x) + 2.0) / (4.0 * x.size))


def test_hedging_error_falls_like_one_over_sqrt_rebalances(gbm):
    # Kamal & Derman: hedged to expiry at realized = implied vol, std(P&L) ~ sqrt(pi/4) vega vol / sqrt(N).
    book = dk.Book([dk.Leg(0, 100.0, EXPIRY, True, 1.0)])
    vega = float(dk.bs_greeks(100.0, 100.0, EXPIRY, SIGMA).vega)
    counts, stds = (16, 32, 64, 128), []
    for n in counts:
        dt = EXPIRY / n
        total = dk.hedged_pnl(book, gbm(PATHS, n, dt, SIGMA, seed=n), SIGMA, dt=dt).summary.total
        sd, se = _std_and_se(total)
        theory = np.sqrt(np.pi / 4.0) * vega * SIGMA / np.sqrt(n)
        # 4 standard errors plus 6% for the formula's own approximation (it ignores how far the
        # path drifts from the money; measured bias here is 1.5-5%).
        assert abs(sd - theory) < 4.0 * se + 0.06 * theory, (n, sd, theory, se)
        assert abs(total.mean()) < 4.0 * sd / np.sqrt(PATHS)
        stds.append(sd)
    slope = np.polyfit(np.log(counts), np.log(stds), 1)[0]
    assert abs(slope + 0.5) < 0.06, slope


def test_realized_above_implied_earns_cash_gamma_times_variance_gap(gbm):
    realized, implied, dt, steps = 0.30, 0.20, 1.0 / 252.0, 42
    book = dk.straddle(0, 100.0, EXPIRY, 1.0)
    spots = gbm(PATHS, steps, dt, realized, seed=7)
    result = dk.hedged_pnl(book, spots, implied, dt=dt, detail="steps")
    # Expected gain given the path's Greeks: sum_t 0.5 gamma S^2 (realized^2 - implied^2) dt.
    expected = (result.steps.dollar_gamma * (realized**2 - implied**2) * dt).sum(axis=1)
    total = result.summary.total
    assert expected.mean() > 0.5 and total.mean() > 0.5
    gap = total - expected
    assert abs(gap.mean()) < 4.0 * gap.std(ddof=1) / np.sqrt(PATHS) + 0.02 * expected.mean()
    # Path by path the gamma-theta term is the P&L (up to the third-order residual).
    legs = result.summary.gamma_theta_legs.sum(axis=1)
    assert np.corrcoef(legs, total)[0, 1] > 0.99


def test_realized_below_implied_loses_for_the_long_option(gbm):
    dt, steps = 1.0 / 252.0, 42
    book = dk.straddle(0, 100.0, EXPIRY, 1.0)
    total = dk.hedged_pnl(book, gbm(2000, steps, dt, 0.12, seed=3), 0.20, dt=dt).summary.total
    assert total.mean() < 0.0 and (total < 0).mean() > 0.9
