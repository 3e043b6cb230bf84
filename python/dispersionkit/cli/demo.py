"""``dispersionkit demo``: the bundled data end to end (:mod:`dispersionkit.demo`), printed, then
the report, its figures and the saved result on disk."""

from __future__ import annotations

import argparse
import importlib.util

import pandas as pd

from ..backtest.engine import DEFAULT_POLICY
from ..backtest.periods import DEFAULT_PERIODS, period_metrics
from ..demo import DEFAULT_LABEL, DemoRun, DemoSettings, sections_of
from ..demo import run as run_demo
from . import outputs
from .config import date_argument
from .progress import progress

DEFAULT_OUT = "dispersionkit-demo"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start",
        type=date_argument("--start"),
        default=None,
        help="first date of the backtest (default: first date of the data)",
    )
    parser.add_argument(
        "--end",
        type=date_argument("--end"),
        default=None,
        help="last date of the backtest and the 'today' of the regime",
    )
    parser.add_argument("--direction", choices=("long", "short"), default="long", help="dispersion direction")
    parser.add_argument("--capital", type=float, default=1_000_000.0, help="starting capital (USD)")
    parser.add_argument("--budget", type=float, default=0.05, help="premium per trade as a fraction of equity")
    parser.add_argument(
        "--budget-basis", choices=("gross", "net"), default="gross", help="premium the budget applies to"
    )
    parser.add_argument("--tenor-days", type=float, default=30.0, help="option tenor in calendar days")
    parser.add_argument(
        "--cost-bps", type=float, default=DEFAULT_POLICY.hedge_cost_bps, help="hedge trading cost, bps of notional"
    )
    parser.add_argument(
        "--half-spread", type=float, default=DEFAULT_POLICY.option_half_spread, help="option half-spread, vol points"
    )
    parser.add_argument(
        "--index",
        choices=("sp500", "basket"),
        default="sp500",
        help="traded index: the S&P 500, or the equal-weighted basket of the 20 stocks as its own index",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help="folder for report.html, figures/ and the saved result"
    )
    parser.add_argument("--no-report", action="store_true", help="print only: write no report, figures or result")
    parser.add_argument(
        "--cost-multipliers",
        nargs="*",
        type=float,
        default=[0.5, 2.0, 3.0],
        metavar="M",
        help="cost-stress re-runs for the report (none: give the option without values)",
    )


def run(args: argparse.Namespace, out) -> int:
    multipliers = tuple(args.cost_multipliers)
    if any(not m >= 0 for m in multipliers):
        raise ValueError(f"--cost-multipliers: expected numbers >= 0, got {list(multipliers)}")
    settings = DemoSettings(
        start=args.start,
        end=args.end,
        direction=args.direction,
        capital=args.capital,
        budget=args.budget,
        budget_basis=args.budget_basis,
        tenor_days=args.tenor_days,
        cost_bps=args.cost_bps,
        half_spread=args.half_spread,
        index=args.index,
    )
    with progress(1, "backtests", quiet=args.quiet) as bar:
        demo = run_demo(settings, progress=lambda done, total: bar.to(done / total))
    sections = _run_demo(args, demo, out)
    if args.no_report:
        return 0
    missing = [name for name in ("matplotlib", "pyarrow") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"\n(no report: it needs {' and '.join(missing)}: pip install 'dispersionkit[plot]')", file=out)
        return 0
    with progress(len({1.0, *multipliers}) + 3, "report", quiet=args.quiet) as bar:
        result = outputs.analyse(
            _with_demo_tables(demo, sections),
            demo.default,
            settings.trade(),
            demo.rules,
            policy=settings.policy(),
            capital=settings.capital,
            start=settings.start,
            end=settings.end,
            multipliers=multipliers,
            bar=bar,
        )
        title = f"dispersionkit demo: {args.direction} dispersion on the bundled S&P 500 data"
        paths = outputs.write_outputs(result, args.out, title=title, bar=bar)
    print(f"\nreport: {paths['report']}", file=out)
    print(f"figures: {paths['figures']}; saved result: {paths['result']}", file=out)
    return 0


def _run_demo(args: argparse.Namespace, demo: DemoRun, out) -> list:
    """Print every section of the demo; returns them (their tables go into the report)."""
    sections = sections_of(demo)
    index = "S&P 500" if args.index == "sp500" else "basket of the 20 stocks (equal weights)"
    print(f"dispersionkit demo: bundled data (20 S&P 500 stocks, equal weights; traded index: {index})", file=out)
    for section in sections:
        print(f"\n== {section.title} ==", file=out)
        print(section.text, file=out)
    return sections


def _with_demo_tables(demo: DemoRun, sections: list):
    """The default model's backtest with the demo's tables and its assumptions as notes."""
    result = demo.results[DEFAULT_LABEL]
    by_title = {section.title: section for section in sections}
    tables = {
        "premium_sweep": by_title["Results by assumed correlation premium"].tables["sweep"],
        "premium_sweep_equity": pd.DataFrame({label: r.equity for label, r in demo.results.items()}),
        "sub_periods": period_metrics(result, DEFAULT_PERIODS),
    }
    for section in sections:
        if "forward_premium" in section.tables:
            tables["forward_premium"] = section.tables["forward_premium"]
            tables["forward_premium_by_year"] = section.tables["by_year"]
    # An indented line of the printed assumptions continues the line above it.
    notes: list[str] = []
    for line in by_title["Assumptions"].text.splitlines():
        if line.startswith(" ") and notes:
            notes[-1] += " " + line.strip()
        elif line.strip():
            notes.append(line.strip())
    return result.with_tables(**tables).with_notes(*notes)
