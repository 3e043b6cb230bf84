"""``dispersionkit backtest | scan | stress | risk | report | bench``: each a configure(parser) and run(args, out)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .. import _persist
from ..backtest.engine import backtest
from ..backtest.result import BacktestResult, modelled_vols
from ..data import sample_market
from ..market.market_data import MarketData
from ..market.signal_series import signal_series
from ..strategy.book_risk import NAMED_SCENARIOS, prepare_book_risk
from ..strategy.risk import survivability
from ..strategy.signals import LongDispersionEntry, MarketState, RegimeClassifier, ShortDispersionEntry
from . import outputs
from .config import Setup, build, date_argument, load_config
from .progress import progress

# -- data -------------------------------------------------------------------------------------

BUNDLED_NOTE = (
    "Data: bundled daily closes of the S&P 500 price index and of 20 large S&P 500 stocks "
    "(dividend-adjusted), 1990-2022; VIX 2014-2019. The 20 names are a fixed sample with equal "
    "weights, not the index's constituents, so the traded index is not their basket."
)


def add_data_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group(
        "market data (CSV or Parquet: a date column, then one column per ticker or one value column)"
    )
    default = "" if required else " (default: the bundled S&P 500 data)"
    group.add_argument("--spots", required=required, metavar="F", help="component prices, dates x tickers" + default)
    group.add_argument("--index", required=required, metavar="F", help="index levels, one value column")
    group.add_argument(
        "--vols", metavar="F", help="component implied vols (decimals), dates x tickers (default: model)"
    )
    group.add_argument(
        "--index-vol", metavar="F", help="index implied vol (decimal) (default: from --vix or the model)"
    )
    group.add_argument("--vix", metavar="F", help="VIX in points, for the modelled index vol where present")
    group.add_argument("--weights", metavar="F", help="index weights, dates x tickers (default: equal)")
    group.add_argument(
        "--options", metavar="F", help="option quotes, long format (docs/data-formats.md): vols from their surface"
    )
    parser.add_argument("--config", metavar="F.toml", help="settings file (keys and defaults: docs/cli.md)")


def load_market(args, values) -> tuple[MarketData, list[str]]:
    """The market the data options describe (or the bundled one) and notes on where it came from."""
    setup = build(values)
    if args.options and (args.vols or args.index_vol or args.vix):
        raise ValueError("--options: the option data gives the implied vols; drop --vols, --index-vol and --vix")
    if args.spots is None and args.index is None:
        for flag in ("vols", "index_vol", "vix", "weights", "options"):
            if getattr(args, flag):
                raise ValueError(f"--{flag.replace('_', '-')}: give --spots and --index with it")
        return sample_market(setup.vol_model), [BUNDLED_NOTE]
    if args.spots is None or args.index is None:
        raise ValueError("--spots and --index: give both (or neither, for the bundled data)")
    data = values["data"]
    modelled = args.options is None and (args.vols is None or args.index_vol is None)
    option_settings = {
        "options": args.options,
        "index_underlying": data["index_underlying"],
        "option_quotes": data["option_quotes"],
        "vol_tenor_days": float(data["vol_tenor_days"]),
    }
    market = MarketData.from_files(
        args.spots,
        args.index,
        vols=args.vols,
        index_vol=args.index_vol,
        weights=args.weights,
        rate=float(data["rate"]),
        div_yields=float(data["div_yield"]),
        vix=args.vix,
        vol_model=setup.vol_model if modelled else None,
        date_column=data.get("date_column"),
        index_column=data.get("index_column"),
        **(option_settings if args.options else {}),
    )
    files = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("spots", args.spots),
            ("index", args.index),
            ("vols", args.vols),
            ("index vol", args.index_vol),
            ("VIX", args.vix),
            ("weights", args.weights),
            ("options", args.options),
        )
        if value
    )
    notes = [
        f"Data: {files}; {len(market.tickers)} components, {len(market.dates)} dates "
        f"{market.dates[0].date()}..{market.dates[-1].date()}; weights "
        f"{'from the file' if args.weights else 'equal'}; rate {float(data['rate']):g}, dividend yield "
        f"{float(data['div_yield']):g}."
    ]
    missing = int(market.missing["count"].sum())
    if missing:
        notes.append(f"{missing} missing values in the inputs (kept as missing; dates without data are not traded).")
    return market, notes


# -- backtest ---------------------------------------------------------------------------------


def configure_backtest(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser, required=True)
    parser.add_argument("--out", metavar="DIR", help="write report.html, figures/ and the saved result here")
    parser.add_argument("--json", action="store_true", help="print metrics, tables and the explain as JSON")


def run_backtest(args, out) -> int:
    values = load_config(args.config)
    setup = build(values)
    market, notes = load_market(args, values)
    analyse = bool(args.out or args.json)
    units = 1 + (len({1.0, *setup.cost_multipliers}) + 1 if analyse else 0) + (2 if args.out else 0)
    with progress(units, "backtest", quiet=args.quiet) as bar:
        result = backtest(
            market,
            setup.trade,
            setup.rules,
            policy=setup.policy,
            capital=setup.capital,
            start=setup.start,
            end=setup.end,
            progress=bar.days(),
        ).with_notes(*notes)
        bar.to(1)
        result = result.with_metrics(**setup.metrics)
        if analyse:
            result = outputs.analyse(
                result,
                market,
                setup.trade,
                setup.rules,
                policy=setup.policy,
                capital=setup.capital,
                start=setup.start,
                end=setup.end,
                multipliers=setup.cost_multipliers,
                bar=bar,
            )
        paths = outputs.write_outputs(result, args.out, title=setup.title) if args.out else None
    if args.json:
        payload = outputs.result_json(result)
        if paths:
            payload["outputs"] = {name: str(path) for name, path in paths.items()}
        print(outputs.dumps(payload), file=out)
        return 0
    print(f"dispersionkit backtest: {setup.trade.direction} dispersion on your data", file=out)
    for note in result.notes:
        print(note, file=out)
    if modelled_vols(result.vol_source):
        print("NOTE: implied vols are MODELLED, not option quotes.", file=out)
    print("", file=out)
    print(result.summary(), file=out)
    if paths:
        print(f"\nreport: {paths['report']}", file=out)
        print(f"figures: {paths['figures']}; saved result: {paths['result']}", file=out)
    return 0


# -- scan -------------------------------------------------------------------------------------


def configure_scan(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser, required=False)
    parser.add_argument(
        "--date", type=date_argument("--date"), help="the date to scan (default: the last date with data)"
    )
    parser.add_argument("--json", action="store_true", help="print the scan as JSON")


def _scan_date(market: MarketData, signals: pd.DataFrame, date) -> pd.Timestamp:
    if date is not None:
        return market.dates[market.arrays.row(date)]
    usable = signals.dropna(subset=["vix", "implied_correlation", "realized_correlation"])
    if usable.empty:
        raise ValueError("data: no date has an index vol and both correlations (too few dates for the window?)")
    return usable.index[-1]


class _OneDate(NamedTuple):
    """What scan, stress and risk share: the config, the trade set-up, the market, the notes on
    where the data came from, the signal series and the date looked at."""

    values: dict
    setup: Setup
    market: MarketData
    notes: list[str]
    signals: pd.DataFrame
    date: pd.Timestamp


def _one_date(args) -> _OneDate:
    values = load_config(args.config)
    setup = build(values)
    market, notes = load_market(args, values)
    signals = signal_series(market, setup.rules.window, setup.rules.vix_lookback)
    return _OneDate(values, setup, market, notes, signals, _scan_date(market, signals, args.date))


def run_scan(args, out) -> int:
    values, setup, market, notes, signals, today = _one_date(args)
    row = signals.loc[today]
    state = MarketState(
        float(row["vix"]),
        float(row["vix_change"]),
        float(row["implied_correlation"]),
        float(row["realized_correlation"]),
    )
    regime = RegimeClassifier().classify(state)
    long_rule = LongDispersionEntry(**values["rules.long_entry"])
    short_rule = ShortDispersionEntry(**values["rules.short_entry"])
    long_signal, short_signal = long_rule.evaluate(state), short_rule.evaluate(state)
    breakeven = setup.trade.breakeven_correlation(market, today, capital=setup.capital, window=setup.rules.window)
    modelled = modelled_vols(market.vol_source)
    by_tenor = correlation_by_tenor(market, today)
    if args.json:
        payload = {
            "date": today.date().isoformat(),
            "notes": notes,
            "vol_source": market.vol_source,
            "index_vol_origin": str(market.index_vol_origin.loc[today]),
            "regime": {"label": regime.label, "vix_trend": regime.vix_trend, "reasons": list(regime.reasons)},
            "vix": state.vix,
            "vix_change": state.vix_change,
            "implied_correlation": state.implied_correlation,
            "realized_correlation": state.realized_correlation,
            "premium": state.premium,
            "breakeven_correlation": {"index_leg": breakeven.index_leg, "book": breakeven.book},
            "signals": {
                "long_entry": {"fired": long_signal.fired, "reason": long_signal.reason},
                "short_entry": {"fired": short_signal.fired, "reason": short_signal.reason},
            },
            "by_tenor": None if by_tenor is None else outputs.records(by_tenor),
        }
        print(outputs.dumps(outputs.jsonable(payload)), file=out)
        return 0
    print(f"dispersionkit scan: {today.date()}", file=out)
    for note in notes:
        print(note, file=out)
    print(f"implied vols: {market.vol_source}", file=out)
    if modelled:
        print("NOTE: implied vols are MODELLED, not option quotes: the implied correlation and the premium", file=out)
        print("      below are the model's assumption, not a measurement.", file=out)
    print(f"\nregime            {regime}", file=out)
    print(f"index vol source  {market.index_vol_origin.loc[today]}", file=out)
    print(f"implied corr      {state.implied_correlation:7.1%}", file=out)
    print(f"realized corr     {state.realized_correlation:7.1%}  ({setup.rules.window}-day)", file=out)
    print(f"premium           {100 * state.premium:+6.1f} points", file=out)
    print(
        f"break-even corr   index leg {breakeven.index_leg:.1%}, book {breakeven.book:.1%} "
        f"({setup.trade.direction} {setup.trade.tenor * 365:g}-day {setup.trade.structure}, trailing realized vols)",
        file=out,
    )
    for name, signal in (("long entry", long_signal), ("short entry", short_signal)):
        verdict = "FIRES" if signal.fired else "no"
        print(f"{name:<18}{verdict}: {signal.reason}", file=out)
    if by_tenor is not None:
        print(
            "\nby tenor (implied from the option surface at the money; realized over as many trading days):", file=out
        )
        print(by_tenor.to_string(float_format=lambda x: f"{x:.3f}"), file=out)
    return 0


SCAN_TENORS = (30, 91, 182)
"""Calendar-day tenors of the scan's term structure (when the market has an option surface)."""


def correlation_by_tenor(market: MarketData, date, tenors=SCAN_TENORS) -> pd.DataFrame | None:
    """Implied (surface, at the money) and trailing realized correlation by tenor on ``date``;
    None without an option surface. Realized over the trading days a tenor spans (tenor x 252 / 365)."""
    if market.surface is None:
        return None
    implied = market.implied_correlation_term_structure(tenors).loc[date]
    rows = {}
    for tenor in tenors:
        window = max(2, round(tenor * 252 / 365))
        realized = signal_series(market, window).loc[date, "realized_correlation"]
        rows[tenor] = {
            "implied": float(implied[tenor]),
            "realized": float(realized),
            "premium": float(implied[tenor]) - float(realized),
            "realized_window_days": window,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "tenor_days"
    return table


# -- stress -----------------------------------------------------------------------------------


def configure_stress(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser, required=False)
    parser.add_argument(
        "--date", type=date_argument("--date"), help="the trade date (default: the last date with data)"
    )
    parser.add_argument(
        "--spot-shocks",
        nargs="+",
        type=float,
        default=[-0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2],
        metavar="S",
        help="relative spot moves of every underlying",
    )
    parser.add_argument(
        "--vol-shocks",
        nargs="+",
        type=float,
        default=[0.0, 0.05, 0.1],
        metavar="V",
        help="added to every component vol (decimals: 0.05 = 5 points)",
    )
    parser.add_argument(
        "--corr-levels",
        nargs="+",
        type=float,
        default=[0.2, 0.4, 0.6, 0.8, 0.9, 0.95],
        metavar="C",
        help="average correlations",
    )
    parser.add_argument("--out", metavar="DIR", help="save the StressResult and the heatmap here")
    parser.add_argument("--json", action="store_true", help="print the grid as JSON")


def run_stress(args, out) -> int:
    _, setup, market, notes, _, date = _one_date(args)
    spots, vols, levels = args.spot_shocks, args.vol_shocks, args.corr_levels
    position = setup.trade.position(market, date, setup.capital)
    stress = setup.trade.stress(market, date, spots, vols, levels, setup.capital)
    worst = stress.worst()
    check = survivability(setup.capital, max(0.0, -float(worst["pnl"])), position.premium)
    if args.out:
        folder = Path(args.out)
        stress.save(folder / "stress")
        from ..report.figures import stress_heatmap
        from ..report.html_page import figure_png

        figure = stress_heatmap(stress.to_frame(), title=f"Stress P&L of the trade on {date.date()}")
        (folder / "stress_heatmap.png").write_bytes(figure_png(figure))
    if args.json:
        payload = {
            "date": date.date().isoformat(),
            "notes": notes,
            "vol_source": market.vol_source,
            "premium": position.premium,
            "base_value": stress.base_value,
            "implied_correlation": stress.current_correlation,
            "grid": outputs.records(stress.to_frame()),
            "worst": {k: float(v) for k, v in worst.items()},
            "survivability": {"ratio": check.ratio, "passed": check.passed, "reasons": list(check.reasons)},
        }
        print(outputs.dumps(outputs.jsonable(payload)), file=out)
        return 0
    print(
        f"dispersionkit stress: {setup.trade.direction} dispersion on {date.date()}, capital {setup.capital:,.0f}; "
        f"premium {position.premium:,.0f}; implied correlation {stress.current_correlation:.1%}",
        file=out,
    )
    for note in notes:
        print(note, file=out)
    if modelled_vols(market.vol_source):
        print("NOTE: implied vols are MODELLED, not option quotes.", file=out)
    print("P&L of an instant shock (full repricing, no time decay); rows spot shock, columns correlation", file=out)
    frame = stress.to_frame()
    for vol in stress.vol_shocks:
        table = frame[frame["vol_shock"] == vol].pivot_table(index="spot_shock", columns="corr_level", values="pnl")
        table.index = [f"{s:+.0%}" for s in table.index]
        table.columns = [f"{c:.2f}" for c in table.columns]
        print(f"\nvol shock {100 * vol:+.0f} points:", file=out)
        print(table.to_string(float_format=lambda x: f"{x:,.0f}"), file=out)
    print(
        f"\nworst: P&L {worst['pnl']:,.0f} at spot {worst['spot_shock']:+.0%}, vol {100 * worst['vol_shock']:+.0f} "
        f"points, correlation {worst['corr_level']:.2f}; survivability {check.ratio:.3f} "
        f"({'pass' if check.passed else 'FAIL: ' + '; '.join(check.reasons)})",
        file=out,
    )
    if args.out:
        print(
            f"saved: {Path(args.out).resolve() / 'stress'}; heatmap {Path(args.out).resolve() / 'stress_heatmap.png'}",
            file=out,
        )
    return 0


# -- risk -------------------------------------------------------------------------------------

RISK_PATH_CHUNK = 2_000
"""Paths per step of the risk command's progress bar (the result does not depend on it)."""


def configure_risk(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser, required=False)
    parser.add_argument(
        "--date", type=date_argument("--date"), help="the trade date (default: the last date with data)"
    )
    parser.add_argument("--paths", type=int, default=10_000, help="simulated paths per scenario")
    parser.add_argument("--horizon", type=int, default=None, help="trading days to simulate (default: to expiry)")
    parser.add_argument(
        "--scenario", nargs="+", default=None, metavar="NAME",
        help=f"scenarios to run (default: all of {', '.join(NAMED_SCENARIOS)})",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="random seed (results depend on it and on nothing else)")
    parser.add_argument("--out", metavar="DIR", help="save the distribution (Parquet) and its figure here")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")


def run_risk(args, out) -> int:
    _, setup, market, notes, _, date = _one_date(args)
    if args.paths < 1:
        raise ValueError(f"--paths: must be >= 1, got {args.paths}")
    position = setup.trade.position(market, date, setup.capital)
    risk_setup = prepare_book_risk(
        position, market, date, horizon=args.horizon, scenario=args.scenario, policy=setup.policy, seed=args.seed
    )
    chunks = [(first, min(RISK_PATH_CHUNK, args.paths - first)) for first in range(0, args.paths, RISK_PATH_CHUNK)]
    parts = []
    with progress(len(chunks), "paths", quiet=args.quiet) as bar:
        for first, count in chunks:
            parts.append(risk_setup.run_paths(first, count))
            bar.step()
    risk = risk_setup.combine(parts)
    table, distribution = outputs.risk_tables(risk)
    if args.out:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        table.to_parquet(folder / "book_risk.parquet")
        distribution.to_parquet(folder / "book_risk_pnl.parquet")
        from ..report.figures import book_risk as risk_figure
        from ..report.html_page import figure_png

        title = f"Path risk of the book on {date.date()} by scenario"
        (folder / "book_risk.png").write_bytes(figure_png(risk_figure(distribution, title=title)))
    if args.json:
        check = risk.survivability(0.95)
        payload = {
            "date": date.date().isoformat(),
            "notes": notes,
            "vol_source": market.vol_source,
            "paths": risk.paths,
            "horizon_days": risk.horizon,
            "seed": risk.seed,
            "table": outputs.records(table),
            "scenarios": dict(zip(risk.scenarios, risk.descriptions)),
            "skipped": list(risk.skipped),
            "survivability": {"ratio": check.ratio, "passed": check.passed, "reasons": list(check.reasons)},
        }
        print(outputs.dumps(outputs.jsonable(payload)), file=out)
        return 0
    print(
        f"dispersionkit risk: {setup.trade.direction} dispersion on {date.date()}, capital {setup.capital:,.0f}",
        file=out,
    )
    for note in notes:
        print(note, file=out)
    if not market.vol_source.startswith("market"):
        print("NOTE: implied vols are MODELLED, not option quotes.", file=out)
    print(risk.text(), file=out)
    if args.out:
        print(f"saved: {Path(args.out).resolve()}", file=out)
    return 0


# -- report -----------------------------------------------------------------------------------


def configure_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="an output folder (--out of demo or backtest) or a saved result")
    parser.add_argument("--out", metavar="F.html", help="where to write the report (default: DIR/report.html)")
    parser.add_argument("--title", help="title of the report")


def run_report(args, out) -> int:
    folder = Path(args.folder)
    source = folder / outputs.RESULT_FOLDER if (folder / outputs.RESULT_FOLDER).is_dir() else folder
    kind = _persist.kind(source)
    if kind != "BacktestResult":
        raise ValueError(f"DIR: {source} holds a {kind}; a report is built from a BacktestResult")
    result = BacktestResult.load(source)
    with progress(2, "report", quiet=args.quiet) as bar:
        if args.out:
            from ..report import write_report

            path = write_report(result, args.out, title=args.title).resolve()
        else:
            path = outputs.write_outputs(result, folder, title=args.title, bar=bar)["report"]
    print(f"report: {path}", file=out)
    return 0


# -- bench ------------------------------------------------------------------------------------


def configure_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full", action="store_true", help="the large sizes too (minutes instead of seconds)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], metavar="N", help="thread counts of the core")
    parser.add_argument("--kernels", default=None, help="comma-separated subset (default: all)")


def run_bench(args, out) -> int:
    from .. import benchmark

    threads = tuple(args.threads)
    if any(t < 1 for t in threads):
        raise ValueError(f"--threads: expected positive integers, got {args.threads}")
    kernels = None if args.kernels is None else [k.strip() for k in args.kernels.split(",") if k.strip()]
    cases = benchmark.cases(full=args.full, kernels=kernels)
    with progress(len(cases), "bench", quiet=args.quiet) as bar:
        rows = benchmark.run(cases, threads=threads, on_case=lambda _: bar.step())
    print(benchmark.format_table(rows), file=out)
    print(f"\n{benchmark.machine_note()}", file=out)
    return 0
