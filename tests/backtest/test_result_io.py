"""BacktestResult: save/load round trip (frames equal with dtypes and index names), attached
tables and notes, short reprs, recomputed metrics; and the cost stress."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk


def assert_same_result(a: dk.BacktestResult, b: dk.BacktestResult):
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, pd.Series):
            pd.testing.assert_series_equal(x, y, check_exact=True, check_freq=True)
        elif isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, check_freq=True)
        elif field.name == "tables":
            assert list(x) == list(y)
            for name in x:
                pd.testing.assert_frame_equal(x[name], y[name], check_exact=True)
        elif field.name == "metrics":
            pd.testing.assert_frame_equal(x.per_year, y.per_year, check_exact=True)
            for m in dataclasses.fields(x):
                if m.name != "per_year":
                    u, v = getattr(x, m.name), getattr(y, m.name)
                    assert u == v or (u != u and v != v), m.name  # NaN == NaN here
                    assert type(u) is type(v), m.name
        else:
            assert x == y, field.name


def test_round_trip_is_exact(bundled_backtest, tmp_path):
    result = bundled_backtest[3]
    folder = result.save(tmp_path / "run")
    assert (folder / "metadata.json").is_file() and (folder / "equity.parquet").is_file()
    loaded = dk.BacktestResult.load(folder)
    assert_same_result(result, loaded)
    assert loaded.journal["entry_date"].dtype == result.journal["entry_date"].dtype
    assert loaded.equity.index.name == result.equity.index.name
    assert isinstance(dk.load_result(folder), dk.BacktestResult)
    # Saving again into the same folder replaces it.
    loaded.with_notes("again").save(folder)
    assert dk.BacktestResult.load(folder).notes[-1] == "again"


def test_round_trip_of_a_run_without_trades(tmp_path, synthetic_market):
    market = synthetic_market(n_dates=120)
    never = dk.ShortDispersionEntry(max_vix=-1.0)
    result = dk.backtest(market, dk.DispersionTrade(), dk.BacktestRules(entry=never))
    assert result.journal.empty
    assert_same_result(result, dk.BacktestResult.load(result.save(tmp_path / "empty")))


def test_load_refuses_what_it_cannot_read(bundled_backtest, tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no saved result"):
        dk.BacktestResult.load(tmp_path)
    folder = bundled_backtest[3].save(tmp_path / "r")
    with pytest.raises(TypeError, match="holds a BacktestResult, not a StressResult"):
        dk.StressResult.load(folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["format_version"] = 99
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format version 99"):
        dk.BacktestResult.load(folder)
    (folder / "metadata.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        dk.BacktestResult.load(folder)
    with pytest.raises(TypeError, match="path: expected a folder path"):
        dk.BacktestResult.load(3)


def test_reprs_are_a_few_lines(bundled_backtest):
    result = bundled_backtest[3]
    text = repr(result)
    assert len(text.splitlines()) <= 4 and len(text) < 500
    assert "Sharpe" in text and "2016-01-04" in text and "tables: " in text and "cost_stress" in text
    assert "<table>" in result._repr_html_() and "BacktestResult" in result._repr_html_()
    assert len(repr(result.metrics)) < 250


def test_with_tables_notes_and_metrics(bundled_backtest):
    result = bundled_backtest[3]
    extra = result.with_tables(mine=pd.DataFrame({"x": [1.0]}))
    assert "mine" in extra.tables and "mine" not in result.tables
    with pytest.raises(TypeError, match="mine: expected a pandas DataFrame"):
        result.with_tables(mine=[1, 2])
    with pytest.raises(TypeError, match="notes: expected strings"):
        result.with_notes(3)
    stricter = result.with_metrics(trials=20)
    assert stricter.metrics.trials == 20 and stricter.metrics.deflated_sharpe < result.metrics.deflated_sharpe
    assert stricter.metrics.sharpe == result.metrics.sharpe


def test_signals_hold_the_market_view(bundled_backtest):
    market, _, _, result = bundled_backtest
    view = result.signals
    assert list(view.index) == list(result.equity.index)
    assert {"vix", "implied_correlation", "realized_correlation", "index_vol", "component_vol"} <= set(view.columns)
    day = view.index[100]
    np.testing.assert_allclose(view.loc[day, "component_vol"], market.vols.loc[day].mean(), rtol=1e-12)
    np.testing.assert_allclose(view.loc[day, "index_vol"], market.index_vol.loc[day], rtol=0)
    assert view["index_vol"].mean() < view["component_vol"].mean()  # diversification


def test_cost_stress_rescales_costs_and_reuses_the_base(bundled_backtest):
    market, trade, policy, result = bundled_backtest
    table = result.tables["cost_stress"]
    assert list(table.index) == [1.0, 2.0] and table.index.name == "cost_multiplier"
    assert table.loc[2.0, "hedge_cost_bps"] == 2 * policy.hedge_cost_bps
    assert table.loc[2.0, "option_half_spread"] == 2 * policy.option_half_spread
    assert table.loc[1.0, "total_return"] == result.metrics.total_return
    assert table.loc[1.0, "costs"] == pytest.approx(-result.attribution["costs"].sum())
    assert table.loc[2.0, "total_return"] < table.loc[1.0, "total_return"]
    with pytest.raises(ValueError, match="multipliers: expected a non-empty list"):
        dk.cost_stress(market, trade, multipliers=[-1.0])


def test_cost_stress_with_exits_blind_to_pnl_doubles_the_costs(bundled_backtest):
    """With expiry the only exit, the trades are the same at any cost level; only the sizes move
    a little (each trade is sized on the equity of its entry date)."""
    market, trade, policy, _ = bundled_backtest
    rules = dk.BacktestRules(exit=[dk.ExpiryExit()])
    table = dk.cost_stress(
        market, trade, rules, policy=policy, multipliers=(0.0, 1.0, 2.0), start="2016-01-01", end="2016-06-30"
    )
    assert table["trades"].nunique() == 1
    assert table.loc[0.0, "costs"] == 0.0
    assert table.loc[2.0, "costs"] == pytest.approx(2 * table.loc[1.0, "costs"], rel=0.02)
    assert table.loc[0.0, "final_equity"] - table.loc[1.0, "final_equity"] == pytest.approx(
        table.loc[1.0, "costs"], rel=0.05
    )
