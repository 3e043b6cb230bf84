"""Book-level break-even correlation, checked by construction through the hedged-book engine."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

DATE = "2020-03-02"
DT = 1.0 / 252.0


def exact_moment_returns(cov, paths, seed):
    """(paths, n) returns whose second moments sum(r r') / paths equal ``cov`` exactly."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((paths, cov.shape[0]))
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / paths)).T
    return z @ np.linalg.cholesky(cov).T


def book_gamma_theta(synthetic_market, position, realized, rho, paths=4000, seed=1):
    """Sum over paths and legs of the engine's gamma-theta for one step whose returns have
    realized vols ``realized`` and equicorrelation ``rho`` exactly (second moments)."""
    n = len(synthetic_market.tickers)
    corr = np.full((n, n), rho)
    np.fill_diagonal(corr, 1.0)
    s = realized.to_numpy()
    r = exact_moment_returns(DT * corr * np.outer(s, s), paths, seed)
    w = position.weights.to_numpy()
    spot0 = np.append(position.spots.to_numpy(), position.index_spot)
    step = np.hstack([r, (r @ w)[:, None]])
    spots = np.stack([np.broadcast_to(spot0, step.shape), spot0 * (1.0 + step)], axis=1)
    vols = np.append(position.vols.to_numpy(), position.index_vol)
    result = dk.hedged_pnl(
        position.book(),
        spots,
        vols,
        dt=DT,
        detail="steps",
        names=[*synthetic_market.tickers, "INDEX"],
        vols_by="underlying",
    )
    return result.steps.gamma_theta_legs.sum(), result.steps.gamma_theta_legs


@pytest.mark.parametrize("direction", ["long", "short"])
def test_book_breakeven_zeroes_the_engines_gamma_theta(synthetic_market, direction):
    market = synthetic_market()
    trade = dk.DispersionTrade(direction=direction)
    realized = pd.Series([0.25, 0.35, 0.3, 0.4, 0.2], index=synthetic_market.tickers)
    be = trade.breakeven_correlation(market, DATE, realized_vols=realized)
    position = trade.position(market, DATE)
    at_be, legs = book_gamma_theta(synthetic_market, position, realized, be.book)
    scale = np.abs(legs).sum()
    assert abs(at_be) < 1e-9 * scale
    below, _ = book_gamma_theta(synthetic_market, position, realized, be.book - 0.1)
    above, _ = book_gamma_theta(synthetic_market, position, realized, be.book + 0.1)
    sign = 1.0 if direction == "long" else -1.0
    assert sign * below > 0 > sign * above


def test_book_breakeven_equals_index_leg_when_components_realize_their_implied_vol(synthetic_market):
    market = synthetic_market()
    realized = pd.Series(0.3, index=synthetic_market.tickers)
    be = dk.DispersionTrade().breakeven_correlation(market, DATE, realized_vols=realized)
    assert be.book == pytest.approx(be.index_leg, abs=1e-12)


def test_breakeven_default_realized_vols_and_bad_inputs(synthetic_market):
    market = synthetic_market()
    trade = dk.DispersionTrade()
    be = trade.breakeven_correlation(market, "2020-06-01")
    expected = dk.realized_vol(market.log_returns(), 63).loc["2020-06-01"]
    pd.testing.assert_series_equal(be.realized_vols, expected)
    with pytest.raises(ValueError, match="realized_vols: no value"):
        trade.breakeven_correlation(market, DATE, realized_vols=pd.Series(0.3, index=synthetic_market.tickers[:2]))
    with pytest.raises(ValueError, match="realized_vols: missing"):
        trade.breakeven_correlation(market, "2020-01-02")
