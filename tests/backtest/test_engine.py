import importlib

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk
from dispersionkit.backtest.attribution import GREEK_COLUMNS


@pytest.fixture(scope="module")
def cheap_correlation(synthetic_market):
    """Realized correlation 0.05 against an implied 0.65: long dispersion should make money."""
    return synthetic_market(n_dates=400, realized_corr=0.05, implied_corr=0.65, seed=3)


def test_long_dispersion_makes_money_when_realized_correlation_is_far_below_implied(cheap_correlation):
    long = dk.backtest(cheap_correlation, dk.DispersionTrade(direction="long"), capital=1e6)
    short = dk.backtest(cheap_correlation, dk.DispersionTrade(direction="short"), capital=1e6)
    assert long.pnl.sum() > 0 > short.pnl.sum()
    assert long.attribution["correlation"].sum() > 0
    assert len(long.journal) > 3


def test_backtest_is_reproducible(cheap_correlation):
    policy = dk.HedgePolicy(every=1, hedge_cost_bps=2.0, option_half_spread=0.5)
    a = dk.backtest(cheap_correlation, dk.DispersionTrade(), policy=policy)
    b = dk.backtest(cheap_correlation, dk.DispersionTrade(), policy=policy)
    pd.testing.assert_series_equal(a.equity, b.equity)
    pd.testing.assert_frame_equal(a.journal, b.journal)
    pd.testing.assert_frame_equal(a.attribution, b.attribution)


def test_attribution_sums_to_pnl_and_the_split_to_gamma_theta(cheap_correlation):
    policy = dk.HedgePolicy(every=1, hedge_cost_bps=2.0, option_half_spread=0.5)
    result = dk.backtest(cheap_correlation, dk.DispersionTrade(), policy=policy)
    lines = result.attribution[list(GREEK_COLUMNS)].sum(axis=1)
    np.testing.assert_allclose(lines.to_numpy(), result.pnl.to_numpy(), atol=1e-8 * result.capital)
    split = result.attribution["volatility"] + result.attribution["correlation"]
    np.testing.assert_allclose(split.to_numpy(), result.attribution["gamma_theta"].to_numpy(), atol=1e-9)
    assert result.attribution["costs"].sum() < 0
    assert abs(result.attribution["residual"].sum()) < 0.05 * result.attribution[["gamma", "theta"]].abs().sum().sum()
    journal_total = result.journal[[f"pnl_{c}" for c in GREEK_COLUMNS]].sum(axis=1)
    np.testing.assert_allclose(journal_total.to_numpy(), result.journal["pnl"].to_numpy(), atol=1e-6)
    assert result.pnl.sum() == pytest.approx(result.journal["pnl"].sum())
    assert result.equity.iloc[-1] == pytest.approx(result.capital + result.pnl.sum())


def test_rules_fire_with_recorded_reasons(cheap_correlation):
    rules = dk.BacktestRules(exit=[dk.ProfitTarget(0.05), dk.StopLoss(0.05)])
    result = dk.backtest(cheap_correlation, dk.DispersionTrade(), rules)
    fired = set(result.journal["exit_rule"])
    assert fired <= {"ProfitTarget", "StopLoss", "Horizon"}
    assert "ProfitTarget" in fired
    row = result.journal[result.journal["exit_rule"] == "ProfitTarget"].iloc[0]
    assert "target" in row["exit_reason"] and row["action"] == "exit"
    assert row["pnl"] > 0
    # An exit leaves the book flat at that close: the next trade starts on a later date.
    dates = cheap_correlation.dates
    exits = result.journal["exit_date"].iloc[:-1].map(dates.get_loc).to_numpy()
    entries = result.journal["entry_date"].iloc[1:].map(dates.get_loc).to_numpy()
    assert (entries >= exits + 1).all()

    rolled = dk.backtest(cheap_correlation, dk.DispersionTrade(), dk.BacktestRules(exit=dk.ExpiryExit(days=10)))
    assert (rolled.journal["exit_rule"].iloc[:-1] == "ExpiryExit").all()
    # A roll re-enters at the same close.
    assert (rolled.journal["entry_date"].iloc[1:].to_numpy() == rolled.journal["exit_date"].iloc[:-1].to_numpy()).all()
    assert rolled.journal["entry_reason"].iloc[1] == "roll"


def test_entry_rule_gates_entries(cheap_correlation):
    never = dk.BacktestRules(entry=dk.ShortDispersionEntry(max_vix=1.0))
    result = dk.backtest(cheap_correlation, dk.DispersionTrade(direction="short"), never)
    assert len(result.journal) == 0 and (result.equity == result.capital).all()
    entry = dk.LongDispersionEntry(
        min_vix=10.0, require_falling_vix=False, min_implied_correlation=0.5, min_premium=0.0
    )
    gated = dk.backtest(cheap_correlation, dk.DispersionTrade(), dk.BacktestRules(entry=entry))
    assert len(gated.journal) > 0
    assert gated.journal["entry_reason"].str.contains("implied correlation").iloc[0]
    wrong_side = dk.backtest(cheap_correlation, dk.DispersionTrade(direction="short"), dk.BacktestRules(entry=entry))
    assert len(wrong_side.journal) == 0


def test_positions_greeks_and_metrics(cheap_correlation):
    result = dk.backtest(cheap_correlation, dk.DispersionTrade(), start="2020-04-01", end="2020-10-30")
    assert result.equity.index[0] == pd.Timestamp("2020-04-01")
    assert set(result.positions["trade"]) == set(result.journal["trade"])
    open_days = result.positions.index
    assert (result.greeks.loc[open_days, "dollar_gamma"] != 0).all()
    assert result.metrics.n_trades == len(result.journal)
    assert "total return" in result.summary()


def test_bad_backtest_arguments(cheap_correlation):
    trade = dk.DispersionTrade()
    with pytest.raises(TypeError, match="trade"):
        dk.backtest(cheap_correlation, "trade")
    with pytest.raises(TypeError, match="rules"):
        dk.backtest(cheap_correlation, trade, [dk.StopLoss()])
    with pytest.raises(ValueError, match="capital"):
        dk.backtest(cheap_correlation, trade, capital=0.0)
    with pytest.raises(TypeError, match="capital: expected a real number"):
        dk.backtest(cheap_correlation, trade, capital="1e6")
    with pytest.raises(ValueError, match="start, end"):
        dk.backtest(cheap_correlation, trade, start="2030-01-01")


def test_thread_count_does_not_change_the_backtest(cheap_correlation):
    one = dk.backtest(cheap_correlation, dk.DispersionTrade(), end="2020-08-31", threads=1)
    two = dk.backtest(cheap_correlation, dk.DispersionTrade(), end="2020-08-31", threads=2)
    np.testing.assert_array_equal(one.pnl.to_numpy(), two.pnl.to_numpy())
    np.testing.assert_array_equal(one.attribution.to_numpy(), two.attribution.to_numpy())


def test_missing_data_closes_the_book_and_is_never_traded_through(cheap_correlation):
    market = cheap_correlation
    vols = market.vols.copy()
    gap = market.dates[150:153]
    vols.loc[gap, "CCC"] = np.nan
    broken = dk.MarketData(market.spots, market.index, vols=vols, index_vol=market.index_vol, weights=market.weights)
    result = dk.backtest(broken, dk.DispersionTrade(), dk.BacktestRules(exit=dk.ExpiryExit(days=1)))
    assert "missing data" in set(result.journal["exit_reason"])
    assert (result.pnl.loc[gap] == 0).all()
    for entry, exit_ in zip(result.journal["entry_date"], result.journal["exit_date"]):
        assert not ((gap > entry) & (gap <= exit_)).any()


def test_losing_all_capital_is_an_error_not_a_silent_curve(synthetic_market):
    # Short component straddles priced at a tenth of the vol the names then realize, whole capital as premium.
    wild = synthetic_market(n_dates=300, realized_corr=-0.2, vol=1.5, seed=5)
    market = dk.MarketData(
        wild.spots, wild.index, vols=wild.vols * 0.1, index_vol=wild.index_vol * 0.1, weights=wild.weights
    )
    trade = dk.DispersionTrade(direction="short", budget=1.0)
    with pytest.raises(ValueError, match="lost all the capital"):
        dk.backtest(market, trade, dk.BacktestRules(exit=dk.ExpiryExit(days=1)), capital=1e4)


def test_the_backtest_reads_the_market_once_as_arrays(cheap_correlation, monkeypatch):
    """pandas at the edge: after MarketData.arrays, no labelled accessor of the market is used."""
    expected = dk.backtest(cheap_correlation, dk.DispersionTrade(), end="2020-06-30")

    def forbidden(*args, **kwargs):
        raise AssertionError("the backtest went back to the labelled market")

    for name in ("weights_frame", "log_returns", "index_log_returns", "implied_correlation"):
        monkeypatch.setattr(dk.MarketData, name, forbidden)
    for module in ("dispersionkit.market.market_data", "dispersionkit.market.signal_series"):
        for name in ("snapshot", "signal_series"):
            if hasattr(importlib.import_module(module), name):
                monkeypatch.setattr(importlib.import_module(module), name, forbidden)
    again = dk.backtest(cheap_correlation, dk.DispersionTrade(), end="2020-06-30")
    pd.testing.assert_series_equal(again.equity, expected.equity)
