import io
import subprocess
import sys

import pytest

from dispersionkit.cli import main


def test_demo_prints_every_section():
    out = io.StringIO()
    status = main(["demo", "--start", "2016-01-01", "--end", "2017-06-30", "--capital", "500000"], out=out)
    text = out.getvalue()
    assert status == 0
    for section in (
        "== Regime on 2017-06-30 ==",
        "== Implied vs realized correlation ==",
        "== Backtest: long",
        "total return",
        "CAGR",
        "Sharpe",
        "max drawdown",
        "win rate (trades)",
        "year",
        "2016",
        "2017",
        "MODELLED",
        "exits by",
        "correlation",
        "== The trade on 2017-06-30",
        "break-even correlation",
        "survivability",
    ):
        assert section in text, section


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
