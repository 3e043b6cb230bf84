import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dispersionkit.cli import main


def test_demo_prints_every_section():
    out = io.StringIO()
    status = main(
        ["demo", "--start", "2016-01-01", "--end", "2017-06-30", "--capital", "500000", "--no-report"], out=out
    )
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
    argv = ["demo", "--start", "2018-01-01", "--end", "2018-06-29", "--direction", "short", "--no-report"]
    assert main(argv, out=out) == 0
    assert "short dispersion" in out.getvalue()
    with pytest.raises(SystemExit):
        main(["demo", "--direction", "sideways"])
    with pytest.raises(SystemExit):
        main([])


def test_python_dash_m_runs_the_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "dispersionkit", "demo", "--start", "2018-01-01", "--end", "2018-03-30", "--no-report"],
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
        (
            ["demo", "--start", "2015-01-01T00:00+02:00"],
            "argument --start: expected a date without a time zone (the data has none), got '2015-01-01T00:00+02:00'",
        ),
        (["demo", "--end", "2018-06-29T00:00Z"], "argument --end: expected a date without a time zone"),
        (["demo", "--start", "2015-13-01"], "argument --start: expected an ISO date like 2015-01-01, got '2015-13-01'"),
        (["demo", "--end", "yesterday"], "argument --end: expected an ISO date"),
        (["demo", "--start", ""], "argument --start: expected an ISO date"),
        (["demo", "--capital", "nan"], "capital: must be finite"),
        (["demo", "--capital", "-5"], "capital: must be > 0"),
        (["demo", "--capital", "lots"], "argument --capital: invalid float value: 'lots'"),
        (["demo", "--budget", "nan"], "budget: must be finite"),
        (["demo", "--tenor-days", "0"], "tenor: must be > 0"),
        (["demo", "--tenor-days", "0.1"], "tenor: 0.000273973 years (0.1 calendar days) is shorter than one step"),
        (["demo", "--cost-bps", "-1"], "hedge_cost_bps: must be"),
        (["demo", "--half-spread", "inf"], "option_half_spread: must be finite"),
        (["demo", "--direction", "up"], "argument --direction: invalid choice: 'up'"),
    ],
)
def test_bad_values_exit_with_the_named_error_not_a_traceback(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"dispersionkit demo: error: {message}" in err and "Traceback" not in err


# -- the product commands ----------------------------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import dispersionkit as dk  # noqa: E402
from dispersionkit.cli import config  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    """A user's own CSVs (6 names, 2010-2013, cut from the bundled data) and a config file."""
    folder = tmp_path_factory.mktemp("user")
    prices, index = dk.data.load_sp500()
    prices.loc["2010":"2013", ["AAPL", "JPM", "XOM", "PG", "MSFT", "KO"]].to_csv(folder / "spots.csv")
    index.loc["2010":"2013"].to_csv(folder / "index.csv")
    (folder / "config.toml").write_text(
        '[backtest]\ncapital = 500000\nstart = "2012-01-01"\n\n[trade]\ntenor_days = 45\nbudget = 0.03\n\n'
        '[hedge]\nhedge_cost_bps = 2.0\n\n[rules]\nexit = ["stop_loss", "profit_target", "expiry"]\n\n'
        "[rules.stop_loss]\nfraction = 0.3\n\n[metrics]\ntrials = 10\n\n[report]\ncost_multipliers = [2]\n"
    )
    return folder


def run(argv):
    out = io.StringIO()
    status = main(argv, out=out)
    return status, out.getvalue()


def test_version_and_defaults_in_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"dispersionkit {dk.__version__}"
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 1000000.0)" in text and "(default: dispersionkit-demo)" in text and "--quiet" in text


@pytest.mark.slow
def test_demo_writes_report_figures_and_result(tmp_path):
    status, text = run(
        ["demo", "--start", "2016-07-01", "--end", "2016-12-30", "--out", str(tmp_path), "--cost-multipliers", "2"]
    )
    assert status == 0
    report = tmp_path / "report.html"
    assert f"report: {report.resolve()}" in text
    html = report.read_text()
    drawn = {path.stem for path in (tmp_path / "figures").glob("*.png")}
    assert html.count("data:image/png;base64,") == len(drawn)
    assert drawn >= {"equity_drawdown", "pnl_explain", "correlation_dynamics", "realized_vs_implied", "vol_comparison",
                     "forward_premium", "premium_sweep", "pnl_profile", "stress_heatmap", "book_risk"}  # fmt: skip
    loaded = dk.BacktestResult.load(tmp_path / "result")
    assert {
        "cost_stress",
        "sub_periods",
        "pnl_profile",
        "stress",
        "premium_sweep",
        "forward_premium",
        "book_risk",
    } <= set(loaded.tables)
    assert list(loaded.tables["premium_sweep_equity"].columns) == list(loaded.tables["premium_sweep"].columns)
    assert "Results by assumed correlation premium" in html and "Forward premium" in html
    assert loaded.explain is not None and "per trade (at close)" in html
    assert list(loaded.tables["cost_stress"].index) == [1.0, 2.0]
    assert any("ASSUMED, not measured" in note for note in loaded.notes)
    # dispersionkit report rebuilds the page from the saved result.
    report.unlink()
    status, text = run(["report", str(tmp_path)])
    assert status == 0 and report.is_file() and f"report: {report.resolve()}" in text
    status, _ = run(["report", str(tmp_path / "result"), "--out", str(tmp_path / "again.html")])
    assert status == 0 and (tmp_path / "again.html").is_file()


@pytest.mark.slow
def test_backtest_on_user_files_with_a_config(user_files, tmp_path):
    base = ["backtest", "--spots", str(user_files / "spots.csv"), "--index", str(user_files / "index.csv")]
    status, text = run([*base, "--config", str(user_files / "config.toml"), "--out", str(tmp_path)])
    assert status == 0
    assert "6 components" in text and "MODELLED" in text and "2012-01-03" in text
    assert f"report: {(tmp_path / 'report.html').resolve()}" in text
    result = dk.BacktestResult.load(tmp_path / "result")
    assert result.capital == 500_000 and result.metrics.trials == 10
    assert set(result.journal["exit_rule"]) <= {"StopLoss", "ProfitTarget", "ExpiryExit", "Horizon"}
    # The config reached the trade: 45-day options sized to 3% of equity.
    assert result.journal["premium"].iloc[0] == pytest.approx(0.03 * 500_000)
    assert result.journal["days"].max() <= 45 * 252 / 365 + 1
    status, text = run([*base, "--config", str(user_files / "config.toml"), "--json"])
    payload = json.loads(text)
    assert status == 0 and payload["metrics"]["trials"] == 10 and payload["capital"] == 500_000
    assert set(payload["explain"]["lines"]) >= {"gamma", "theta", "costs", "residual"}
    assert sum(payload["explain"]["lines"].values()) == pytest.approx(payload["explain"]["total"])
    assert [row["cost_multiplier"] for row in payload["cost_stress"]] == [1.0, 2.0]
    assert "book_risk_pnl" not in payload and [row["line"] for row in payload["explain"]["complete"]][-1] == "total"
    assert payload["per_year"][0]["year"] == 2012 and payload["sub_periods"][0]["period"] == "full period"


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[trade]\nbudgett = 0.05\n", "unknown key 'budgett' in [trade]"),
        ("[trades]\nbudget = 0.05\n", "unknown section or key 'trades'"),
        ("[rules.stop_loss]\nfractionn = 0.3\n", "unknown key 'fractionn' in [rules.stop_loss]"),
        ("[rules.bogus]\nx = 1\n", "unknown key 'bogus' in [rules]"),
        ('[trade]\nbudget = "lots"\n', "[trade] budget: expected an integer or a number, got 'lots'"),
        ("[rules]\nwindow = 63.5\n", "[rules] window: expected an integer, got 63.5"),
        ("[trade]\nbudget = 2.0\n", "[trade] budget: a fraction of capital"),
        ('[rules]\nexit = ["sometimes"]\n', "[rules] exit: unknown rule 'sometimes'"),
        ("[trade\n", "not valid TOML"),
    ],
)
def test_bad_config_exits_2_naming_the_key(user_files, tmp_path, capsys, toml, message):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    argv = ["backtest", "--spots", str(user_files / "spots.csv"), "--index", str(user_files / "index.csv")]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--config", str(path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["backtest", "--spots", "missing.csv", "--index", "missing.csv"], "spots: file not found: missing.csv"),
        (["scan", "--spots", "x.csv"], "--spots and --index: give both"),
        (["scan", "--vols", "x.csv"], "--vols: give --spots and --index with it"),
        (["scan", "--date", "2030-01-01"], "date: 2030-01-01 is not a date of the market data"),
        (["demo", "--cost-multipliers", "-1"], "--cost-multipliers: expected numbers >= 0"),
        (["stress", "--spot-shocks", "-1.5"], "spot_shocks: must be > -1"),
        (["stress", "--spot-shocks", "x"], "argument --spot-shocks: invalid float value: 'x'"),
        (["report", "/nonexistent/folder"], "holds no saved result"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and "Traceback" not in err


def test_bad_data_file_names_file_column_and_row(user_files, tmp_path, capsys):
    bad = tmp_path / "spots.csv"
    lines = (user_files / "spots.csv").read_text().splitlines()
    lines[5] = lines[5].replace(",", ",oops,", 1).rsplit(",", 1)[0]
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["backtest", "--spots", str(bad), "--index", str(user_files / "index.csv")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "column 'AAPL', row 5 (line 6)" in err and "'oops'" in err


def test_every_config_key_is_documented_with_its_default():
    text = DOCS.read_text()
    for section, keys in config.SCHEMA.items():
        assert f"### `[{section}]`" in text, section
        for name, key in keys.items():
            row = re.search(rf"^\| `{re.escape(name)}` \| `([^`]*)` \|", text.split(f"### `[{section}]`")[1], re.M)
            assert row, f"[{section}] {name} is not in docs/cli.md"
            assert row.group(1) == config._toml(key.default), f"[{section}] {name}: documented default differs"
    assert config.schema_markdown() in text


def test_defaults_build_the_demo_setup():
    setup = config.build(config.load_config())
    assert setup.trade == dk.DispersionTrade()
    assert setup.policy == dk.HedgePolicy(every=1, hedge_cost_bps=1.0, option_half_spread=0.5)
    assert setup.rules.entry is None and len(setup.rules.exit) == 6
    assert setup.vol_model == dk.ImpliedVolModel() and setup.capital == 1e6


def test_scan_prints_regime_correlations_breakeven_and_signals():
    status, text = run(["scan", "--date", "2016-06-01"])
    assert status == 0
    for label in (
        "dispersionkit scan: 2016-06-01",
        "regime",
        "implied corr",
        "realized corr",
        "premium",
        "break-even corr",
        "long entry",
        "short entry",
        "MODELLED",
    ):
        assert label in text, label
    status, text = run(["scan", "--json"])
    payload = json.loads(text)
    assert status == 0 and payload["date"] == "2022-12-28"
    assert payload["premium"] == pytest.approx(payload["implied_correlation"] - payload["realized_correlation"])
    assert set(payload["signals"]) == {"long_entry", "short_entry"}


def test_stress_prints_the_grid_and_saves_it(tmp_path):
    argv = ["stress", "--date", "2016-06-01", "--spot-shocks", "-0.1", "0", "0.1", "--vol-shocks", "0", "0.05"]
    argv += ["--corr-levels", "0.3", "0.9", "--out", str(tmp_path)]
    status, text = run(argv)
    assert status == 0 and text.count("vol shock") == 2 and "worst: P&L" in text and "survivability" in text
    saved = dk.StressResult.load(tmp_path / "stress")
    assert saved.pnl.shape == (3, 2, 2) and (tmp_path / "stress_heatmap.png").is_file()
    status, text = run([*argv[:-2], "--json"])
    assert status == 0 and len(json.loads(text)["grid"]) == 12


def test_option_files_give_the_vols_and_the_scan_by_tenor(tmp_path):
    sample = dk.data.sample_file
    data = ["--spots", str(sample("spots.csv.gz")), "--index", str(sample("index.csv.gz"))]
    data += ["--weights", str(sample("weights.csv.gz")), "--options", str(sample("options_long.csv.gz"))]
    config_file = tmp_path / "options.toml"
    config_file.write_text('[data]\nindex_underlying = "IDX"\nrate = 0.03\n\n[rules]\nwindow = 20\n')
    status, text = run(["scan", *data, "--config", str(config_file)])
    assert status == 0 and "option surface" in text and "MODELLED" not in text
    assert re.search(r"^30\s+0\.\d+\s+0\.\d+", text.split("by tenor")[1], re.M), text
    status, text = run(["backtest", *data, "--config", str(config_file), "--json"])
    payload = json.loads(text)
    assert status == 0 and payload["vol_source"].startswith("options:") and payload["metrics"]["n_trades"] > 0
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", *data, "--vols", "x.csv"])
    assert exit_info.value.code == 2


def test_risk_prints_the_distribution_by_scenario(tmp_path):
    argv = ["risk", "--date", "2016-06-01", "--paths", "300", "--scenario", "base", "correlation 0.9", "--quiet"]
    status, text = run([*argv, "--out", str(tmp_path)])
    assert status == 0
    for label in ("Path risk on 2016-06-01", "300 paths", "ES 95%", "correlation 0.9", "survivability", "MODELLED"):
        assert label in text, label
    assert (tmp_path / "book_risk.png").is_file()
    pnl = pd.read_parquet(tmp_path / "book_risk_pnl.parquet")
    assert list(pnl.columns) == ["base", "correlation 0.9"] and len(pnl) == 300
    status, text = run([*argv, "--json"])
    payload = json.loads(text)
    assert status == 0 and [row["scenario"] for row in payload["table"]] == ["base", "correlation 0.9"]
    # The same paths whatever the chunking: the command's table equals one dk.book_risk call.
    market = dk.data.sample_market()
    one = dk.book_risk(
        config.build(config.load_config()).trade.position(market, "2016-06-01"), market, "2016-06-01",
        paths=300, scenario=["base", "correlation 0.9"], policy=dk.backtest.engine.DEFAULT_POLICY,
    )  # fmt: skip
    np.testing.assert_array_equal(pnl.to_numpy().T, one.pnl)


def test_bench_prints_a_speedup_table():
    status, text = run(["bench", "--kernels", "bs_greeks", "--threads", "1", "--quiet"])
    assert status == 0
    assert re.search(r"bs_greeks\s+100,000\s+options\s+1\s+\S+\s+\S+\s+[\d.]+x", text), text
    assert "usable cores" in text and "load average" in text


@pytest.mark.parametrize(
    "kernel", ["bs_greeks", "implied_vol", "index_vol", "realized_correlation", "simulate_market", "hedged_pnl"]
)
def test_bench_cases_agree_with_the_reference(kernel):
    # `dispersionkit bench` refuses to time a kernel whose core and reference disagree: every
    # quick case must pass its own check (implied vol failed it once on deep in-the-money
    # options, where vol is ill-conditioned and the check did not allow for it).
    from dispersionkit import benchmark

    (case,) = benchmark.cases(kernels=[kernel])
    expected = case.reference()
    assert case.agree(expected, case.core(1)) and case.agree(expected, case.core(2))


def test_the_implied_vol_bench_check_still_catches_a_wrong_vol():
    from dispersionkit import benchmark

    (case,) = benchmark.cases(kernels=["implied_vol"])
    expected, got = case.reference(), np.array(case.core(1), dtype=float)
    got[::1000] *= 1 + 1e-7  # far beyond the conditioning of these options
    assert not case.agree(expected, got)


def test_a_closed_pipe_ends_quietly():
    process = subprocess.Popen(
        [sys.executable, "-m", "dispersionkit", "scan"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    first = process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    err = process.stderr.read().decode()
    process.stderr.close()
    process.wait(timeout=120)
    assert first.startswith(b"dispersionkit scan:")
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert process.returncode in (0, 141)
