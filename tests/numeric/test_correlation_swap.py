"""Correlation swaps: the strike implied by variance swaps, term-sheet realized correlation,
payoff and mark-to-market, with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk


def test_strike_from_variance_swaps_known_answers():
    # Ten names at 35% (variance strike 0.1225), index at 20%: 0.25170 (equicorrelation formula).
    strike = dk.correlation_swap_strike(0.04, np.full(10, 0.35**2), np.full(10, 0.1))
    assert strike.value == pytest.approx(0.25170, abs=5e-6)
    # Five names at 40%, index at 25%: 0.2383.
    assert dk.correlation_swap_strike(0.0625, np.full(5, 0.16), np.full(5, 0.2)).value == pytest.approx(
        0.2383, abs=5e-5
    )
    # Two names at 30% with correlation -0.5 make an index vol of 15%.
    assert dk.correlation_swap_strike(0.15**2, [0.09, 0.09], [0.5, 0.5]).value == pytest.approx(-0.5)


def test_strike_is_the_implied_correlation_of_the_variance_vols():
    rng = np.random.default_rng(1)
    weights = rng.dirichlet(np.ones(8), size=30)
    components = rng.uniform(0.02, 0.3, (30, 8))
    index = rng.uniform(0.01, 0.06, 30)
    expected = dk.implied_correlation(np.sqrt(index), np.sqrt(components), weights)
    result = dk.correlation_swap_strike(index, components, weights)
    np.testing.assert_allclose(result.value, expected.value, rtol=1e-14)
    np.testing.assert_array_equal(result.out_of_range, expected.out_of_range)
    dates = pd.bdate_range("2021-01-01", periods=30)
    labelled = dk.correlation_swap_strike(pd.Series(index, index=dates), components, weights)
    assert isinstance(labelled.value, pd.Series) and labelled.value.index.equals(dates)


def test_strike_flags_quotes_outside_the_correlation_range():
    result = dk.correlation_swap_strike(0.2**2, [0.04, 0.04], [0.5, 0.5])  # index above every name: rho = 1 is the most
    assert result.value == pytest.approx(1.0)
    high = dk.correlation_swap_strike(0.25**2, [0.04, 0.04], [0.5, 0.5])
    assert high.value > 1 and bool(high.out_of_range)
    with pytest.raises(ValueError, match="component_variance_strikes: variance strikes must be >= 0"):
        dk.correlation_swap_strike(0.04, [0.04, -0.01], [0.5, 0.5])


def test_realized_correlation_is_the_average_pairwise_pearson_correlation():
    rng = np.random.default_rng(2)
    returns = pd.DataFrame(rng.normal(0, 0.01, (63, 5)) + rng.normal(0, 0.01, (63, 1)), columns=list("ABCDE"))
    matrix = returns.corr().to_numpy()
    upper = np.triu_indices(5, 1)
    assert dk.swap_realized_correlation(returns) == pytest.approx(matrix[upper].mean(), rel=1e-12)
    w = pd.Series([0.4, 0.3, 0.15, 0.1, 0.05], index=list("EDCBA"))  # aligned by ticker
    pair = np.outer(w.reindex(returns.columns), w.reindex(returns.columns))[upper]
    expected = (pair * matrix[upper]).sum() / pair.sum()
    assert dk.swap_realized_correlation(returns, weights=w) == pytest.approx(expected, rel=1e-12)


def test_realized_correlation_of_many_periods_equals_one_by_one():
    rng = np.random.default_rng(3)
    periods = rng.normal(0, 0.01, (40, 21, 6)) + rng.normal(0, 0.01, (40, 21, 1))
    batch = dk.swap_realized_correlation(periods, weights=np.arange(1, 7) / 21)
    single = [dk.swap_realized_correlation(p, weights=np.arange(1, 7) / 21) for p in periods]
    np.testing.assert_allclose(batch, single, rtol=1e-12)
    paths = dk.simulate_market(
        np.full(6, 100.0), 0.3, np.full((6, 6), 0.6) + 0.4 * np.eye(6), steps=252, paths=200, seed=4
    )
    realized = dk.swap_realized_correlation(paths.log_returns())
    assert realized.mean() == pytest.approx(0.6, abs=0.01)


def test_realized_correlation_rejects_missing_returns():
    returns = np.random.default_rng(4).normal(0, 0.01, (3, 10, 4))
    returns[1, 7, 2] = np.nan
    with pytest.raises(ValueError, match="returns: nan at period 1, row 7, column 2"):
        dk.swap_realized_correlation(returns)
    with pytest.raises(ValueError, match="need at least 2 dates and 2 names"):
        dk.swap_realized_correlation(np.zeros((10, 1)))


def test_payoff_and_mark_to_market():
    assert dk.correlation_swap_payoff(1e6, 0.45, 0.35) == pytest.approx(1e5)
    at_maturity = dk.correlation_swap_value(
        1e6, 0.35, realized_correlation=0.45, elapsed_days=63, total_days=63, implied_correlation=0.5, tau=0.0
    )
    assert at_maturity == pytest.approx(dk.correlation_swap_payoff(1e6, 0.45, 0.35))
    fresh = dk.correlation_swap_value(
        1e6, 0.35, realized_correlation=np.nan, elapsed_days=0, total_days=63, implied_correlation=0.40, tau=0.25,
        rate=0.04,
    )  # fmt: skip
    assert fresh == pytest.approx(1e6 * np.exp(-0.01) * 0.05)
    third = dk.correlation_swap_value(
        1e6, 0.35, realized_correlation=0.65, elapsed_days=21, total_days=63, implied_correlation=0.35, tau=0.2
    )
    assert third == pytest.approx(1e6 * (0.65 - 0.35) / 3)
    with pytest.raises(ValueError, match="elapsed_days: must lie in"):
        dk.correlation_swap_value(1, 0.3, realized_correlation=0.3, elapsed_days=70, total_days=63,
                                  implied_correlation=0.3, tau=0.1)  # fmt: skip


def test_realized_correlation_is_the_rolling_measure_over_the_whole_period():
    rng = np.random.default_rng(5)
    returns = rng.normal(0, 0.01, (42, 7)) + rng.normal(0, 0.008, (42, 1))
    weights = rng.dirichlet(np.ones(7))
    for w in (None, weights):
        rolling = dk.realized_correlation(returns, window=42, weights=w)[-1]
        assert dk.swap_realized_correlation(returns, weights=w) == pytest.approx(rolling, rel=1e-12)
