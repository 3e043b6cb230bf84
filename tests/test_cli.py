import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dispersionkit.cli import main


def test_demo_prints_every_section():
    out = io.StringIO()
    status = main(["demo", "--start", "2016-01-01", "--end", "2017-06-30", "--capital", "500000"], out=out)
    text = out.getvalue()
    assert status == 0
    for section in (
        "== Assumptions ==",
        "ASSUMED, not measured",
        "MODEL",
        "traded: the S&P 500 index",
        "NOT the basket",
        "== Regime on 2017-06-30 ==",
        "== Implied vs realized correlation, and the forward premium ==",
        "forward premium",
        "VIX dates (measured)",
        "== The trade on 2017-06-30",
        "break-even correlation",
        "survivability",
        "== Results by assumed correlation premium ==",
        "assumed 0 pts",
        "assumed 5 pts",
        "assumed 10 pts",
        "from index vol",
        "total return",
        "CAGR",
        "Sharpe",
        "max drawdown",
        "win rate (trades)",
        "basis (S&P 500 vs basket)",
        "== Sub-periods ==",
        "2010s",
        "== P&L explain (full period) ==",
        "cross_volatility (at close)",
        "residual",
        "== Trades ==",
        "TimeStop",
    ):
        assert section in text, section


def test_demo_sections_return_their_tables():
    from dispersionkit.demo import DemoSettings, demo_sections

    sections = demo_sections(DemoSettings(start="2018-01-01", end="2018-06-29", premia=(0.0, 0.10), index="basket"))
    by_title = {section.title: section for section in sections}
    sweep = by_title["Results by assumed correlation premium"].tables["sweep"]
    assert list(sweep.columns) == ["assumed 0 pts", "assumed 10 pts", "from index vol"]
    # The basket is traded: no basis; the P&L lines add up to the P&L.
    assert sweep.loc["basis"].abs().max() < 1e-6 * sweep.loc["pnl"].abs().max()
    lines = sweep.loc[["basis", "correlation", "volatility", "costs", "other"]].sum()
    np.testing.assert_allclose(lines.to_numpy(), sweep.loc["pnl"].to_numpy(), rtol=1e-12)
    explain = by_title["P&L explain (full period)"].tables["daily"]
    np.testing.assert_allclose(explain.drop(index="total").sum(), explain.loc["total"], rtol=1e-9)
    assert "basket of the 20 stocks" in by_title["Assumptions"].text
    assert set(by_title["Sub-periods"].tables["sharpe"].index) == {"full period", "2010s"}
    assert isinstance(
        by_title["Implied vs realized correlation, and the forward premium"].tables["by_year"], pd.DataFrame
    )


def test_demo_short_direction_and_bad_arguments():
    out = io.StringIO()
    assert main(["demo", "--start", "2018-01-01", "--end", "2018-06-29", "--direction", "short"], out=out) == 0
    assert "short dispersion" in out.getvalue()
    with pytest.raises(SystemExit):
        main(["demo", "--direction", "sideways"])
    with pytest.raises(SystemExit):
        main([])


def test_python_dash_m_runs_the_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "dispersionkit", "demo", "--start", "2018-01-01", "--end", "2018-03-30"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "== Regime on 2018-03-29 ==" in completed.stdout or "== Regime on 2018-03-30 ==" in completed.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--budget", "2"], "budget: a fraction of capital in (0, 1]"),
        (["demo", "--start", "2030-01-01"], "start, end: fewer than 2 trading days"),
    ],
)
def test_bad_values_exit_with_the_named_error_not_a_traceback(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"dispersionkit demo: error: {message}" in err and "Traceback" not in err
