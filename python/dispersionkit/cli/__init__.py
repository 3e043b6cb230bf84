"""The ``dispersionkit`` command. Subcommands live in ``_COMMANDS``: add a (configure, run) pair
to extend it.

    dispersionkit demo [--start 2015-01-01] [--end 2018-12-31] [--direction long] [--capital 1e6]

``demo`` runs offline on the bundled S&P 500 data and prints, after what it assumes (implied
vols are modelled: VIX where available), the regime on the last date, implied vs realized and
forward-realized correlation, the last date's book, and the backtest under several assumed
correlation premia side by side, by sub-period, with its complete P&L explain
(:mod:`dispersionkit.demo`).
"""

from __future__ import annotations

import argparse
import sys

from .backtest.engine import DEFAULT_POLICY
from .demo import DemoSettings, demo_sections


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", default=None, help="first date of the backtest (default: first date of the data)")
    parser.add_argument("--end", default=None, help="last date of the backtest and the 'today' of the regime")
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


def _run_demo(args: argparse.Namespace, out) -> int:
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
    sections = demo_sections(settings)
    index = "S&P 500" if args.index == "sp500" else "basket of the 20 stocks (equal weights)"
    print(f"dispersionkit demo: bundled data (20 S&P 500 stocks, equal weights; traded index: {index})", file=out)
    for section in sections:
        print(f"\n== {section.title} ==", file=out)
        print(section.text, file=out)
    return 0


_COMMANDS = {
    "demo": ("backtest the bundled data and print regime, correlations, metrics", _configure_demo, _run_demo),
}


def main(argv: list[str] | None = None, out=None) -> int:
    """Entry point of the ``dispersionkit`` console script; returns the exit status."""
    parser = argparse.ArgumentParser(prog="dispersionkit", description="Equity dispersion trading toolkit.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (help_text, configure, _) in _COMMANDS.items():
        configure(commands.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command][2](args, sys.stdout if out is None else out)
    except ValueError as error:  # the library's named input errors (e.g. --budget 2): a message, not a traceback
        parser.exit(2, f"dispersionkit {args.command}: error: {error}\n")
