import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk


def curve(values, dates):
    return pd.Series(values, index=pd.DatetimeIndex(dates), dtype=float)


SMALL = curve(
    [100.0, 110.0, 99.0, 108.9, 121.0], ["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08"]
)


def test_hand_computed_metrics():
    m = dk.compute_metrics(SMALL)
    returns = np.array([0.1, -0.1, 0.1, 121.0 / 108.9 - 1])
    assert m.total_return == pytest.approx(0.21)
    sd = math.sqrt(np.sum((returns - returns.mean()) ** 2) / 3)
    assert m.annual_vol == pytest.approx(sd * math.sqrt(252))
    assert m.sharpe == pytest.approx(returns.mean() / sd * math.sqrt(252))
    assert m.max_drawdown == pytest.approx(99.0 / 110.0 - 1)
    assert m.drawdown_peak == pd.Timestamp("2021-01-05")
    assert m.drawdown_trough == pd.Timestamp("2021-01-06")
    assert m.drawdown_recovery == pd.Timestamp("2021-01-08")
    assert m.win_rate_days == pytest.approx(0.75)
    assert m.cagr == pytest.approx(1.21 ** (365.25 / 4) - 1)
    assert m.win_rate_trades is None and m.n_trades is None


def test_risk_free_lowers_sharpe_by_the_daily_rate():
    m = dk.compute_metrics(SMALL, risk_free=0.0252)
    returns = SMALL.pct_change().dropna().to_numpy()
    expected = (returns.mean() - 0.0001) / returns.std(ddof=1) * math.sqrt(252)
    assert m.sharpe == pytest.approx(expected)
    assert m.risk_free == 0.0252


def test_unrecovered_drawdown_and_cagr_over_two_years():
    m = dk.compute_metrics(curve([100.0, 80.0, 90.0], ["2020-01-01", "2021-01-01", "2022-01-01"]))
    assert m.max_drawdown == pytest.approx(-0.2)
    assert m.drawdown_recovery is None
    assert m.cagr == pytest.approx(0.9 ** (365.25 / 731) - 1)
    flat = dk.compute_metrics(curve([100.0, 100.0, 100.0], ["2020-01-01", "2020-01-02", "2020-01-03"]))
    assert flat.max_drawdown == 0.0 and flat.drawdown_recovery is None
    assert math.isnan(flat.sharpe) and flat.annual_vol == 0.0 and flat.win_rate_days == 0.0


def test_cagr_beyond_the_float_range_is_inf_without_a_warning():
    # 8x in one day compounds to 8**365.25, past the largest double: +inf, not an overflow warning.
    m = dk.compute_metrics(curve([0.125, 1.0], ["2020-01-01", "2020-01-02"]))
    assert m.cagr == math.inf and m.total_return == 7.0
    # Just inside the range the value is finite and matches the direct formula.
    inside = dk.compute_metrics(curve([1.0, 2.0], ["2020-01-01", "2020-01-02"]))
    assert inside.cagr == pytest.approx(2.0**365.25 - 1, rel=1e-12)


@pytest.mark.parametrize(
    "values",
    [[1.0, 1.0, 2.68e154], [5e-324, 1.0]],
    ids=["return-1e154", "from-subnormal"],
)
def test_daily_returns_beyond_the_metrics_float_range_are_an_error(values):
    # Found by the long fuzz campaign: overflow warnings in the returns, their variance and moments.
    with pytest.raises(ValueError, match=r"equity: grows by a factor of about 1e\d+ from .*daily returns above 1e\+50"):
        dk.compute_metrics(curve(values, pd.date_range("2020-01-01", periods=len(values))))


def test_per_year_table_chains_to_the_total():
    equity = curve(
        [100.0, 110.0, 121.0, 108.9, 98.01, 107.811],
        ["2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05", "2022-06-01", "2022-06-02"],
    )
    m = dk.compute_metrics(equity)
    table = m.per_year
    assert list(table.index) == [2020, 2021, 2022]
    np.testing.assert_allclose(table["return"], [0.10, 108.9 / 110 - 1, 107.811 / 108.9 - 1])
    assert list(table["days"]) == [1, 2, 2]
    assert np.prod(1 + table["return"]) == pytest.approx(1 + m.total_return)
    assert table.loc[2021, "max_drawdown"] == pytest.approx(-0.1)
    assert (m.best_year, m.worst_year) == (2020, 2022)
    assert m.best_year_return == pytest.approx(0.10)
    assert math.isnan(table.loc[2020, "vol"])
    assert table.loc[2021, "vol"] == pytest.approx(np.std([0.1, -0.1], ddof=1) * math.sqrt(252))


def test_trade_win_rate_from_journal():
    journal = pd.DataFrame({"pnl": [500.0, -200.0, 50.0, 0.0]})
    m = dk.compute_metrics(SMALL, journal=journal)
    assert m.win_rate_trades == 0.5 and m.n_trades == 4


def test_to_frame_and_str():
    m = dk.compute_metrics(SMALL, journal=pd.DataFrame({"pnl": [1.0]}))
    frame = m.to_frame()
    assert frame.loc["total_return", "value"] == pytest.approx(0.21)
    assert frame.loc["n_trades", "value"] == 1
    text = str(m)
    assert "total return      21.00%" in text
    assert "max drawdown      -10.00%" in text
    assert "2021-01-04 .. 2021-01-08" in text and "2021" in text.splitlines()[-1]


@pytest.mark.parametrize(
    "equity, kwargs, error, match",
    [
        ([1.0, 2.0], {}, TypeError, "equity: expected a pandas Series"),
        (pd.Series([1.0, 2.0]), {}, TypeError, "equity: index must be a DatetimeIndex"),
        (curve([1.0], ["2020-01-01"]), {}, ValueError, "equity: need at least 2 observations"),
        (curve([1.0, 2.0], ["2020-01-02", "2020-01-01"]), {}, ValueError, "equity: dates not sorted"),
        (curve([1.0, 2.0], ["2020-01-01", "2020-01-01"]), {}, ValueError, "equity: duplicate dates, first 2020-01-01"),
        (
            curve([1.0, np.nan], ["2020-01-01", "2020-01-02"]),
            {},
            ValueError,
            "equity: must be finite and > 0 on every date, got nan on 2020-01-02",
        ),
        (curve([1.0, -1.0], ["2020-01-01", "2020-01-02"]), {}, ValueError, "equity: must be finite and > 0"),
        (SMALL, {"risk_free": math.inf}, ValueError, "risk_free: expected a finite annual rate"),
        (SMALL, {"journal": pd.DataFrame({"x": [1]})}, ValueError, "journal: no 'pnl' column"),
        (
            SMALL,
            {"journal": pd.DataFrame({"pnl": [1.0, np.nan]})},
            ValueError,
            "journal: 'pnl' must be numbers without missing",
        ),
        (SMALL, {"journal": [1.0]}, TypeError, "journal: expected a pandas DataFrame"),
    ],
)
def test_bad_inputs_name_the_argument(equity, kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.compute_metrics(equity, **kwargs)


def test_two_points_have_no_volatility_estimate():
    m = dk.compute_metrics(curve([100.0, 105.0], ["2020-01-01", "2020-01-02"]))
    assert math.isnan(m.annual_vol) and math.isnan(m.sharpe)
    assert m.total_return == pytest.approx(0.05) and m.win_rate_days == 1.0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 900))
def test_random_curves_against_brute_force(seed, n):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2019-11-01", periods=n)
    equity = pd.Series(1e5 * np.exp(np.cumsum(rng.normal(0, 0.02, n))), index=dates)
    m = dk.compute_metrics(equity)
    values = equity.to_numpy()
    later_over_earlier = np.triu(values[None, :] / values[:, None])  # [i, j] = E_j / E_i for j >= i
    worst = np.min(np.where(np.triu(np.ones((n, n), bool)), later_over_earlier, np.inf)) - 1
    assert m.max_drawdown == pytest.approx(worst, abs=1e-15)
    assert np.prod(1 + m.per_year["return"]) == pytest.approx(1 + m.total_return, rel=1e-12)
    assert m.per_year["days"].sum() == n - 1
    assert m.best_year_return == m.per_year["return"].max() and m.worst_year_return == m.per_year["return"].min()
    assert equity[m.drawdown_peak] == equity[: m.drawdown_trough].max()
