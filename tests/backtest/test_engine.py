import argparse
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
    split = result.attribution[["basis", "volatility", "correlation"]].sum(axis=1)
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


NEVER = dk.StopLoss(1e9)  # an exit rule that never fires: books run to expiry


def _first_date_on_or_after(dates, when):
    return dates[dates.searchsorted(when)]


def test_expiry_is_calendar_time_across_a_gap_in_the_data(cheap_correlation):
    """A 30-day option entered before a gap in the data expires on its date (the first close on
    or after it), not after the 21 rows a 30-day option spans on a full calendar."""
    market = cheap_correlation
    keep = np.r_[0:150, 160 : len(market.dates)]  # two weeks of closes missing
    rows = market.dates[keep]
    gapped = dk.MarketData(
        market.spots.loc[rows],
        market.index.loc[rows],
        vols=market.vols.loc[rows],
        index_vol=market.index_vol.loc[rows],
        weights=market.weights,
    )
    result = dk.backtest(gapped, dk.DispersionTrade(), dk.BacktestRules(exit=NEVER))
    expired = result.journal[result.journal["exit_reason"] == "expiry"]
    across = expired[(expired["entry_date"] < market.dates[150]) & (expired["exit_date"] > market.dates[150])]
    assert len(expired) > 5 and len(across) == 1
    for entry, exit_ in zip(expired["entry_date"], expired["exit_date"]):
        assert exit_ == _first_date_on_or_after(rows, entry + pd.Timedelta(days=30))
    # The option decays its 30 calendar days over the rows it is held: less than a row's 1/252 years each.
    row = across.iloc[0]
    assert rows.get_loc(row["exit_date"]) - rows.get_loc(row["entry_date"]) < 21


@pytest.mark.parametrize(
    "tenor, match",
    [(0.5 / 365, "shorter than one step"), (1000.0, "overflows the calendar")],
)
def test_a_tenor_shorter_than_a_step_or_beyond_the_calendar_is_an_error(cheap_correlation, tenor, match):
    with pytest.raises(ValueError, match=f"tenor: .*{match}"):
        dk.backtest(cheap_correlation, dk.DispersionTrade(tenor=tenor))


def test_the_budget_can_be_net_premium(cheap_correlation):
    date = cheap_correlation.dates[100]
    gross = dk.DispersionTrade(budget=0.05).position(cheap_correlation, date, capital=1e6)
    net = dk.DispersionTrade(budget=0.05, budget_basis="net").position(cheap_correlation, date, capital=1e6)
    assert gross.premium == pytest.approx(50_000, rel=1e-12) and gross.premium_at_risk == gross.premium
    assert net.net_premium == pytest.approx(50_000, rel=1e-12) and net.premium_at_risk == net.net_premium
    assert net.premium > gross.premium  # the same book, larger: net premium is a fraction of gross
    np.testing.assert_allclose(net.legs["quantity"] / gross.legs["quantity"], net.premium / gross.premium)
    result = dk.backtest(cheap_correlation, dk.DispersionTrade(budget=0.02, budget_basis="net"), end="2020-08-31")
    np.testing.assert_allclose(result.journal["net_premium"], 0.02 * result.journal["capital"], rtol=1e-9)
    with pytest.raises(ValueError, match="budget_basis"):
        dk.DispersionTrade(budget_basis="notional")


def test_exits_are_judged_after_exit_costs(cheap_correlation):
    """A profit target must be met by what the trade keeps once closed (half-spread, hedge unwind)."""
    policy = dk.HedgePolicy(every=1, hedge_cost_bps=5.0, option_half_spread=2.0)
    target = dk.ProfitTarget(0.02)
    result = dk.backtest(cheap_correlation, dk.DispersionTrade(), dk.BacktestRules(exit=target), policy=policy)
    hits = result.journal[result.journal["exit_rule"] == "ProfitTarget"]
    assert len(hits) > 3
    assert (hits["pnl"] >= 0.02 * hits["premium"]).all()
    # And the P&L the rule saw is the P&L booked.
    seen = hits["exit_reason"].str.extract(r"P&L ([-\d,.]+) >=")[0].str.replace(",", "").astype(float)
    np.testing.assert_allclose(seen.to_numpy(), hits["pnl"].to_numpy(), atol=0.006)


def test_early_exit_equals_a_run_of_the_engine_to_that_date(cheap_correlation):
    """The closed-early book is the engine's run to the exit date, costs and all."""
    policy = dk.HedgePolicy(every=1, hedge_cost_bps=3.0, option_half_spread=1.0)
    result = dk.backtest(
        cheap_correlation, dk.DispersionTrade(), dk.BacktestRules(exit=dk.TimeStop(0.3)), policy=policy
    )
    early = result.journal[result.journal["exit_rule"] == "TimeStop"].iloc[0]
    market = cheap_correlation
    position = dk.DispersionTrade().position(market, early["entry_date"], early["capital"])
    rows = market.dates[(market.dates >= early["entry_date"]) & (market.dates <= early["exit_date"])]
    names = list(position.weights.index)
    spots = pd.concat([market.spots.loc[rows, names], market.index.loc[rows].rename("INDEX")], axis=1)
    vols = pd.concat([market.vols.loc[rows, names], market.index_vol.loc[rows].rename("INDEX")], axis=1)
    rows_to_expiry = market.dates.searchsorted(early["expiry_date"]) - market.dates.get_loc(early["entry_date"])
    rerun = dk.hedged_pnl(
        position.book(),
        spots.to_numpy(),
        vols.to_numpy(),
        dt=(30 / 365) / rows_to_expiry,  # the option's calendar life over the rows it would be held
        policy=policy,
        names=[*names, "INDEX"],
        vols_by="underlying",
    )
    assert early["pnl"] == pytest.approx(rerun.summary.total[0], rel=1e-10)


def test_a_roll_rechecks_the_entry_rule(cheap_correlation):
    signals = dk.market.signal_series(cheap_correlation)
    premium = signals["implied_correlation"] - signals["realized_correlation"]
    threshold = float(premium.median())  # the entry rule fires on about half the dates
    entry = dk.LongDispersionEntry(
        min_vix=0.0, require_falling_vix=False, min_implied_correlation=0.0, min_premium=threshold
    )
    result = dk.backtest(
        cheap_correlation, dk.DispersionTrade(), dk.BacktestRules(entry=entry, exit=dk.ExpiryExit(days=10))
    )
    assert len(result.journal) > 5
    assert (premium.loc[result.journal["entry_date"]] > threshold).all()  # every book, rolled or not
    rolled = result.journal[result.journal["entry_reason"].str.startswith("roll")]
    assert len(rolled) > 0 and rolled["entry_reason"].str.contains("premium").all()


def test_default_costs_are_the_demos_and_are_charged(cheap_correlation):
    from dispersionkit.backtest.engine import DEFAULT_POLICY
    from dispersionkit.cli.config import build, load_config
    from dispersionkit.cli.demo import configure

    assert dk.HedgePolicy(every=1, hedge_cost_bps=1.0, option_half_spread=0.5) == DEFAULT_POLICY
    parser = argparse.ArgumentParser()
    configure(parser)
    demo = parser.parse_args([])
    assert (demo.cost_bps, demo.half_spread) == (DEFAULT_POLICY.hedge_cost_bps, DEFAULT_POLICY.option_half_spread)
    assert build(load_config()).policy == DEFAULT_POLICY  # dispersionkit backtest's config defaults too
    default = dk.backtest(cheap_correlation, dk.DispersionTrade(), end="2020-06-30")
    explicit = dk.backtest(cheap_correlation, dk.DispersionTrade(), end="2020-06-30", policy=DEFAULT_POLICY)
    assert default.attribution["costs"].sum() < 0
    pd.testing.assert_series_equal(default.equity, explicit.equity)
