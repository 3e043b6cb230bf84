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


def test_index_leg_split_adds_up_to_the_engines_index_gamma_theta(synthetic_market):
    """Whatever the realized moves, basis + idiosyncratic + cross_volatility + correlation is the
    index legs' gamma-theta of the engine: same cash gamma (signed, 0 once expired), same returns."""
    from dispersionkit.backtest.attribution import index_leg_split, leg_greeks, run_terms

    market = synthetic_market(n_dates=40, realized_corr=0.2, implied_corr=0.6, seed=7)
    arrays = market.arrays
    snap = arrays.snapshot(0)
    sized = dk.DispersionTrade(direction="long").size(snap, 1e6)
    rows = slice(0, 25)  # past the 30-day expiry: the last steps have no live index leg
    spots = np.column_stack([arrays.spots[rows, snap.columns], arrays.index[rows]])[None]
    vols = np.column_stack([arrays.vols[rows, snap.columns], arrays.index_vol[rows]])[None]
    dt = 1 / 252
    names = [*snap.names, "INDEX"]
    result = dk.hedged_pnl(sized.book(), spots[0], vols[0], dt=dt, detail="steps", names=names, vols_by="underlying")
    columns = np.array([names.index(u) for u in sized.legs.underlying])
    expiry = np.full(len(columns), int(np.ceil(sized.tenor / dt)))
    greeks = leg_greeks(sized.legs, columns, spots, vols, rate=0.0, div_yield=np.zeros(6), dt=dt, expiry_step=expiry)
    terms = run_terms(sized.legs, columns, spots, vols, arrays.weights[rows], result.steps, greeks, dt=dt)
    index_legs = result.steps.gamma_theta_legs[0][:, sized.legs.is_index].sum(axis=1)
    rng = np.random.default_rng(1)
    for moves in (np.abs(terms.r), rng.uniform(0.005, 0.03, terms.r.shape)):
        split = index_leg_split(
            terms.cash_gamma, terms.r_index, terms.r, terms.weights, terms.vols, terms.index_vol, moves, 0.97, dt
        )
        total = split["basis"] + split["idiosyncratic"] + split["cross_volatility"] + split["correlation"]
        np.testing.assert_allclose(total[0], index_legs, rtol=1e-9, atol=1e-9 * np.abs(index_legs).max())
    assert index_legs[-1] == 0.0 and np.any(index_legs != 0.0)
