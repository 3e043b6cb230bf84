"""The P&L explain: lines that sum to the P&L, and known answers on constructed markets."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk
from dispersionkit.backtest.attribution import (
    EXPLAIN_COLUMNS,
    explain_lines,
    leg_greeks,
    run_terms,
    sample_moves,
    trailing_moves,
)
from dispersionkit.strategy.position import LegArrays

DT = 1.0 / 252.0


@pytest.fixture(scope="module")
def basket_run(synthetic_market):
    """A market whose index IS the basket of its components (rebalanced at every close)."""
    market = synthetic_market(n_dates=260, realized_corr=0.2, implied_corr=0.5, seed=4)
    basket = dk.basket_index(market.spots, market.weights, base=4000.0)
    same = dk.MarketData(market.spots, basket, vols=market.vols, index_vol=market.index_vol, weights=market.weights)
    return dk.backtest(same, dk.DispersionTrade(), capital=1e6)


def test_explain_lines_sum_to_the_pnl_exactly(basket_run):
    result = basket_run
    assert list(result.explain.columns) == list(EXPLAIN_COLUMNS)
    np.testing.assert_allclose(result.explain.sum(axis=1).to_numpy(), result.pnl.to_numpy(), rtol=0, atol=1e-9)
    table = result.explain_table()
    assert table.loc["total"].to_numpy() == pytest.approx([result.pnl.sum()] * 2, rel=1e-12)
    # The two versions differ only in how cross-volatility and correlation share their sum.
    same = table.drop(index=["cross_volatility", "correlation", "total"])
    np.testing.assert_allclose(same["daily (causal)"], same["per trade (at close)"], rtol=1e-9, atol=1e-6)
    pair = table.loc[["cross_volatility", "correlation"]].sum()
    assert pair["daily (causal)"] == pytest.approx(pair["per trade (at close)"], rel=1e-9)
    journal = result.journal[[f"explain_{name}" for name in EXPLAIN_COLUMNS]].sum(axis=1)
    np.testing.assert_allclose(journal.to_numpy(), result.journal["pnl"].to_numpy(), rtol=0, atol=1e-8)
    # The split columns of the attribution: gamma-theta = basis + volatility + correlation.
    a = result.attribution
    np.testing.assert_allclose(
        (a["basis"] + a["volatility"] + a["correlation"]).to_numpy(), a["gamma_theta"], atol=1e-9
    )


def test_index_equal_to_the_basket_has_no_basis(basket_run, synthetic_market):
    explain = basket_run.explain
    assert explain["basis"].abs().max() <= 1e-9 * explain["correlation"].abs().max()
    assert basket_run.journal["explain_basis"].abs().max() <= 1e-9 * basket_run.journal["pnl"].abs().max()
    # The fixture's own index holds constant shares: its weights drift, so it is not the basket.
    drifting = synthetic_market(n_dates=260, realized_corr=0.2, implied_corr=0.5, seed=4)
    other = dk.backtest(drifting, dk.DispersionTrade(), capital=1e6)
    assert other.explain["basis"].abs().max() > 1e-6 * other.explain["correlation"].abs().max()


def _simulated(paths, seed, n=5, vol=0.3, realized=0.2, implied=0.5, steps=21, warmup=63):
    """A short index straddle against vega-neutral component straddles, hedged daily over ``steps``
    on simulated paths where every name realizes its implied vol and correlation ``realized``; the
    index is the basket (rebalanced daily) and its implied vol is priced at correlation ``implied``."""
    w = np.full(n, 1.0 / n)
    corr = np.full((n, n), realized) + (1 - realized) * np.eye(n)
    sim = dk.simulate_market(np.full(n, 100.0), np.full(n, vol), corr, steps=warmup + steps, paths=paths, seed=seed)
    r = sim.components[:, 1:] / sim.components[:, :-1] - 1.0
    basket = 100.0 * np.concatenate([np.ones((paths, 1)), np.cumprod(1.0 + r @ w, axis=1)], axis=1)
    spots = np.concatenate([sim.components, basket[..., None]], axis=-1)[:, warmup:]
    u = w * vol
    index_vol = np.sqrt(np.sum(u * u) + implied * (np.sum(u) ** 2 - np.sum(u * u)))
    vols = np.append(np.full(n, vol), index_vol)
    tenor = steps * DT
    unit = dk.bs_greeks(100.0, 100.0, tenor, vols).vega
    quantity = np.append(w * unit[-1] / unit[:-1], -1.0)
    underlying = np.repeat(np.arange(n + 1), 2)
    is_call = np.tile([True, False], n + 1)
    legs = LegArrays(
        underlying=tuple(str(u) for u in underlying),
        is_index=underlying == n,
        is_call=is_call,
        strike=np.full(2 * n + 2, 100.0),
        tau=np.full(2 * n + 2, tenor),
        quantity=np.repeat(quantity, 2),
        spot=np.full(2 * n + 2, 100.0),
        vol=np.repeat(vols, 2),
        rate=np.zeros(2 * n + 2),
        div_yield=np.zeros(2 * n + 2),
        price=np.zeros(2 * n + 2),
    )
    book = dk.Book(
        [dk.Leg(int(k), 100.0, tenor, bool(c), float(q)) for k, c, q in zip(underlying, is_call, legs.quantity)]
    )
    result = dk.hedged_pnl(book, spots, vols, dt=DT, detail="steps", vols_by="underlying")
    vol_paths = np.broadcast_to(vols, spots.shape)
    expiry = np.full(len(underlying), steps)
    greeks = leg_greeks(
        legs, underlying, spots, vol_paths, rate=0.0, div_yield=np.zeros(n + 1), dt=DT, expiry_step=expiry
    )
    weights = np.tile(w, (steps + 1, 1))
    terms = run_terms(legs, underlying, spots, vol_paths, weights, result.steps, greeks, dt=DT)
    history = np.concatenate([np.full((paths, 1, n), np.nan), r], axis=1)
    moves, bias = trailing_moves(history, np.tile(w, (warmup + steps + 1, 1)), warmup)
    causal = explain_lines(terms, moves[:, warmup:-1], bias[:, warmup:-1])
    own_moves, own_bias = sample_moves(terms.r, terms.weights)
    at_close = explain_lines(terms, own_moves[:, None, :], own_bias[:, None])
    edge = np.sum(0.5 * terms.cash_gamma * (realized - implied) * (np.sum(u) ** 2 - np.sum(u * u)) * DT)
    return causal, at_close, edge, result


@pytest.mark.parametrize("seed", [3, 4])
def test_correlation_line_recovers_the_theoretical_edge(seed):
    """Names realize exactly their implied vol with correlation 0.2; the index is priced at 0.5.
    The correlation line must be the edge 1/2 CG_I sum_{i!=j} w_i w_j (0.2 - 0.5) s_i s_j dt summed
    over steps and paths, and the volatility lines ~0, in the causal version (moves from the 63
    days before each step) and at close (moves over the trade itself, 21 steps: there the bias
    correction matters, about 2% of the product of the moves, 3.5% of the edge)."""
    causal, at_close, edge, result = _simulated(paths=2000, seed=seed)
    assert edge > 0  # short index gamma and correlation realizing below implied: the long-dispersion edge
    for lines in (causal, at_close):
        volatility = lines["idiosyncratic"] + lines["cross_volatility"] + lines["component_volatility"]
        assert lines["correlation"].sum() == pytest.approx(edge, rel=0.04)
        assert abs(volatility.sum()) < 0.04 * abs(edge)
        assert abs(lines["basis"]).max() < 1e-12 * abs(lines["correlation"]).max()
        np.testing.assert_allclose(sum(lines[name] for name in EXPLAIN_COLUMNS), result.steps.net, atol=1e-12)


def test_causal_moves_use_no_later_data():
    rng = np.random.default_rng(2)
    returns = rng.normal(0.0, 0.01, (120, 4))
    weights = np.full((120, 4), 0.25)
    moves, bias = trailing_moves(returns, weights, 30)
    changed = returns.copy()
    changed[80:] *= 3.0
    later, later_bias = trailing_moves(changed, weights, 30)
    np.testing.assert_array_equal(moves[:80], later[:80])
    np.testing.assert_array_equal(bias[:80], later_bias[:80])
    assert np.isnan(moves[:29]).all() and not np.isnan(moves[29:]).any()
    np.testing.assert_allclose(moves[29], np.sqrt(np.mean(returns[:30] ** 2, axis=0)), rtol=1e-12)
    # The bias of the product of two moves over N steps is about (1 - rho^2) / (2N).
    assert 1 - bias[40] == pytest.approx(1 / 60, rel=0.1)


def test_vega_splits_into_correlation_and_level():
    """Component vols fixed and the index vol moving: all of the vega P&L is the implied
    correlation's mark-to-market; everything moving in proportion: implied correlation is
    unchanged and all of it is the vol level."""
    n, steps = 4, 15
    rng = np.random.default_rng(8)
    spots = 100.0 * np.exp(np.cumsum(np.vstack([np.zeros((1, n + 1)), rng.normal(0, 0.01, (steps, n + 1))]), axis=0))
    w = np.full(n, 0.25)
    base = np.append(np.full(n, 0.3), 0.2)
    underlying = np.repeat(np.arange(n + 1), 2)
    book = dk.Book([dk.Leg(int(k), 100.0, 0.1, bool(k % 2), 1.0 if k < n else -3.0) for k in underlying])
    legs = LegArrays(
        underlying=tuple(map(str, underlying)),
        is_index=underlying == n,
        is_call=np.array([leg.is_call for leg in book]),
        strike=np.full(len(book), 100.0),
        tau=np.full(len(book), 0.1),
        quantity=np.array([leg.quantity for leg in book]),
        spot=spots[0, underlying],
        vol=base[underlying],
        rate=np.zeros(len(book)),
        div_yield=np.zeros(len(book)),
        price=np.zeros(len(book)),
    )
    index_moves = base * np.ones((steps + 1, 1))
    index_moves[:, -1] = np.linspace(0.2, 0.26, steps + 1)
    level_moves = base * np.linspace(1.0, 1.3, steps + 1)[:, None]
    for vols, line in ((index_moves, "correlation_mtm"), (level_moves, "vol_level")):
        result = dk.hedged_pnl(book, spots, vols, dt=DT, detail="steps", vols_by="underlying")
        expiry = np.full(len(book), int(np.ceil(0.1 / DT)))
        greeks = leg_greeks(
            legs, underlying, spots[None], vols[None], rate=0.0, div_yield=np.zeros(n + 1), dt=DT, expiry_step=expiry
        )
        terms = run_terms(
            legs, underlying, spots[None], vols[None], np.tile(w, (steps + 1, 1)), result.steps, greeks, dt=DT
        )
        lines = explain_lines(terms, np.full((1, 1, n), 0.3 * np.sqrt(DT)), np.ones((1, 1)))
        np.testing.assert_allclose(lines["correlation_mtm"] + lines["vol_level"], result.steps.vega_pnl, atol=1e-12)
        other = "vol_level" if line == "correlation_mtm" else "correlation_mtm"
        assert np.abs(lines[line]).sum() > 0
        np.testing.assert_allclose(lines[other], 0.0, atol=1e-10 * np.abs(lines[line]).max())


def test_explain_table_of_a_run_without_trades(synthetic_market):
    market = synthetic_market(n_dates=120)
    never = dk.BacktestRules(entry=dk.ShortDispersionEntry(max_vix=1.0))
    result = dk.backtest(market, dk.DispersionTrade(direction="short"), never)
    table = result.explain_table()
    assert (table.to_numpy() == 0).all() and isinstance(result.explain, pd.DataFrame)
