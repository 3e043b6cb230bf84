"""Volatility vs correlation split on a market where the answer is known."""

import numpy as np
import pytest

import dispersionkit as dk


@pytest.fixture(scope="module")
def fair_vols_cheap_correlation(synthetic_market):
    """Components realize exactly their implied vol; the index IS the basket and is priced at
    correlation 0.65 while the names realize 0.05: all the edge is correlation."""
    market = synthetic_market(n_dates=1600, realized_corr=0.05, implied_corr=0.65, seed=11)
    rules = dk.BacktestRules(exit=dk.ExpiryExit(days=0.0))  # hold every book to expiry, then roll
    return dk.backtest(market, dk.DispersionTrade(direction="long", budget=None), rules, capital=1e9)


def test_correlation_part_carries_the_gamma_theta_when_vols_are_fair(fair_vols_cheap_correlation):
    totals = fair_vols_cheap_correlation.attribution[["gamma_theta", "volatility", "correlation"]].sum()
    assert totals["correlation"] > 0
    # Unbiased split: volatility P&L ~ 0 (sampling noise only), correlation ~ all of gamma-theta.
    # The per-day |r_i||r_j| proxy put ~40% of the correlation edge into "volatility".
    assert totals["correlation"] == pytest.approx(totals["gamma_theta"], rel=0.12)
    assert abs(totals["volatility"]) < 0.12 * totals["correlation"]


def test_short_dispersion_split_mirrors_long(synthetic_market):
    market = synthetic_market(n_dates=300, realized_corr=0.05, implied_corr=0.65, seed=5)
    rules = dk.BacktestRules(exit=dk.ExpiryExit(days=0.0))
    long = dk.backtest(market, dk.DispersionTrade(direction="long", budget=None), rules, capital=1e9)
    short = dk.backtest(market, dk.DispersionTrade(direction="short", budget=None), rules, capital=1e9)
    for name in ("gamma_theta", "volatility", "correlation"):
        np.testing.assert_allclose(
            short.attribution[name].to_numpy(), -long.attribution[name].to_numpy(), rtol=1e-9, atol=1e-9
        )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"vix_lookback": -5}, ValueError, "vix_lookback: must be >= 1"),  # a negative shift reads future VIX
        ({"vix_lookback": 0}, ValueError, "vix_lookback: must be >= 1"),
        ({"vix_lookback": 2.5}, TypeError, "vix_lookback: expected an int"),
        ({"window": 1}, ValueError, "window: must be >= 2"),
        ({"exit": []}, ValueError, "exit: an empty list"),
        ({"entry": ()}, ValueError, "entry: an empty list"),
        ({"entry": "LongDispersionEntry"}, TypeError, "entry: 'LongDispersionEntry' is not a rule"),
        ({"exit": [dk.StopLoss(), 0.25]}, TypeError, "exit: 0.25 is not a rule"),
    ],
)
def test_backtest_rules_reject_bad_settings_when_built(kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.BacktestRules(**kwargs)


def test_index_cash_gamma_of_the_split_is_the_engines(synthetic_market):
    """With rho_impl chosen so that 'as implied' equals the index's implied variance sigma_I^2 dt,
    the correlation part must equal the index legs' gamma-theta from the engine: same cash
    gamma (0.5 Gamma S^2 q, signed, zero once expired), same returns."""
    from dispersionkit.backtest.attribution import correlation_split
    from dispersionkit.backtest.engine import DT

    market = synthetic_market(n_dates=40, realized_corr=0.2, implied_corr=0.6, seed=7)
    position = dk.DispersionTrade(direction="long").position(market, market.dates[0], 1e6)
    names = list(position.weights.index)
    rows = market.dates[:25]  # past the 30-day expiry: the last steps have no live index leg
    spots = np.column_stack([market.spots.loc[rows, names].to_numpy(), market.index.loc[rows].to_numpy()])
    vols = np.column_stack([market.vols.loc[rows, names].to_numpy(), market.index_vol.loc[rows].to_numpy()])
    result = dk.hedged_pnl(
        position.book(), spots, vols, dt=DT, detail="steps", names=[*names, "INDEX"], vols_by="underlying"
    )
    r = spots[1:, :-1] / spots[:-1, :-1] - 1.0
    u = position.weights.to_numpy() * np.sqrt(np.mean(r * r, axis=0))
    own = np.sum((position.weights.to_numpy() * r) ** 2, axis=1)
    rho = (vols[:-1, -1] ** 2 * DT - own) / (np.sum(u) ** 2 - np.sum(u * u))
    split = correlation_split(position, result.steps, spots, vols, rho, DT)
    index_legs = result.steps.gamma_theta_legs[0][:, position.index_mask()].sum(axis=1)
    np.testing.assert_allclose(split["correlation"], index_legs, rtol=1e-9, atol=1e-9)
    assert split["correlation"][-1] == 0.0 and np.any(split["correlation"] != 0.0)
