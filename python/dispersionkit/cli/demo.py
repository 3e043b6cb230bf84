"""``dispersionkit demo``: the bundled data end to end, printed, then figures and a report on disk."""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
import pandas as pd

from ..backtest.engine import BacktestRules, backtest
from ..data import sample_market
from ..market.signal_series import signal_series
from ..numeric.hedge_policy import HedgePolicy
from ..strategy.risk import survivability
from ..strategy.signals import MarketState, RegimeClassifier
from ..strategy.trade import DispersionTrade
from . import outputs
from .progress import progress

DEFAULT_OUT = "dispersionkit-demo"
DATA_NOTE = (
    "Data: bundled daily closes of the S&P 500 price index and of 20 large S&P 500 stocks "
    "(dividend-adjusted), 1990-2022; VIX 2014-2019. The 20 names are a fixed sample with equal "
    "weights, not the index's constituents, so the traded index is not their basket."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", default=None, help="first date of the backtest (default: first date of the data)")
    parser.add_argument("--end", default=None, help="last date of the backtest and the 'today' of the regime")
    parser.add_argument("--direction", choices=("long", "short"), default="long", help="dispersion direction")
    parser.add_argument("--capital", type=float, default=1_000_000.0, help="starting capital (USD)")
    parser.add_argument("--budget", type=float, default=0.05, help="premium per trade as a fraction of equity")
    parser.add_argument("--tenor-days", type=float, default=30.0, help="option tenor in calendar days")
    parser.add_argument("--cost-bps", type=float, default=1.0, help="hedge trading cost, bps of notional")
    parser.add_argument("--half-spread", type=float, default=0.5, help="option half-spread, vol points")
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
    with progress(1, "backtest", quiet=args.quiet) as bar:
        context = _compute(args, bar.days())
    status = _run_demo(args, context, out)
    if args.no_report or status != 0:
        return status
    missing = [name for name in ("matplotlib", "pyarrow") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"\n(no report: it needs {' and '.join(missing)}: pip install 'dispersionkit[plot]')", file=out)
        return status
    with progress(len({1.0, *multipliers}) + 3, "report", quiet=args.quiet) as bar:
        result = outputs.analyse(
            context["result"].with_notes(DATA_NOTE),
            context["market"],
            context["trade"],
            context["rules"],
            policy=context["policy"],
            capital=args.capital,
            start=args.start,
            end=args.end,
            multipliers=multipliers,
            bar=bar,
        )
        title = f"dispersionkit demo: {args.direction} dispersion on the bundled S&P 500 data"
        paths = outputs.write_outputs(result, args.out, title=title, bar=bar)
    print(f"\nreport: {paths['report']}", file=out)
    print(f"figures: {paths['figures']}; saved result: {paths['result']}", file=out)
    return status


def _compute(args: argparse.Namespace, progress_days) -> dict:
    market = sample_market()
    trade = DispersionTrade(direction=args.direction, tenor=args.tenor_days / 365.0, budget=args.budget)
    policy = HedgePolicy(every=1, hedge_cost_bps=args.cost_bps, option_half_spread=args.half_spread)
    rules = BacktestRules()
    result = backtest(
        market,
        trade,
        rules,
        policy=policy,
        capital=args.capital,
        start=args.start,
        end=args.end,
        progress=progress_days,
    )
    return {"market": market, "trade": trade, "policy": policy, "rules": rules, "result": result}


def _run_demo(args: argparse.Namespace, context: dict, out) -> int:
    """Print the demo (regime, correlations, today's trade, backtest, attribution); the exit status."""
    market, trade, rules, result = context["market"], context["trade"], context["rules"], context["result"]
    signals = signal_series(market, rules.window, rules.vix_lookback).loc[result.equity.index]
    today = signals.index[-1]
    row = signals.iloc[-1]
    state = MarketState(
        float(row.vix), float(row.vix_change), float(row.implied_correlation), float(row.realized_correlation)
    )
    origin = market.index_vol_origin.loc[today]

    def section(title: str) -> None:
        print(f"\n== {title} ==", file=out)

    print("dispersionkit demo: bundled S&P 500 data (20 stocks, equal weights, index = S&P 500)", file=out)
    print(f"implied vols: {market.vol_source}", file=out)
    print("NOTE: implied vols are MODELLED (VIX only where available), not option quotes.", file=out)
    section(f"Regime on {today.date()}")
    print(str(RegimeClassifier().classify(state)), file=out)
    print(f"index implied vol source on this date: {origin}", file=out)
    section("Implied vs realized correlation")
    print(f"implied correlation   {state.implied_correlation:7.1%}", file=out)
    print(
        f"realized correlation  {state.realized_correlation:7.1%}  "
        f"({rules.window}-day, implied formula on realized vols)",
        file=out,
    )
    print(f"dispersion premium    {state.premium * 100:+6.1f} points", file=out)
    yearly = signals[["implied_correlation", "realized_correlation"]].groupby(signals.index.year).mean()
    print(yearly.to_string(float_format=lambda x: f"{x:.3f}"), file=out)
    section(f"The trade on {today.date()} (capital {args.capital:,.0f})")
    _print_risk(trade, market, today, args.capital, out)
    section(
        f"Backtest: {args.direction} dispersion, {args.tenor_days:g}-day straddles, vega-neutral, "
        f"budget {args.budget:.0%} of equity"
    )
    print(str(result.metrics), file=out)
    section("Trades and attribution")
    print(f"trades: {len(result.journal)}", file=out)
    for rule, count in result.journal["exit_rule"].value_counts().items():
        print(f"  exits by {rule}: {count}", file=out)
    totals = result.attribution.sum()
    print(pd.DataFrame({"pnl": totals}).to_string(float_format=lambda x: f"{x:,.0f}"), file=out)
    print(f"total P&L {result.pnl.sum():,.0f}; final equity {result.equity.iloc[-1]:,.0f}", file=out)
    return 0 if np.isfinite(result.equity.iloc[-1]) else 1


def _print_risk(trade: DispersionTrade, market, date, capital: float, out) -> None:
    """Premium, net Greeks, break-even correlations and the correlation stress of today's book."""
    position = trade.position(market, date, capital)
    net = position.greeks().loc["net"]
    breakeven = trade.breakeven_correlation(market, date, capital=capital)
    stress = trade.stress(market, date, [-0.10, 0.0, 0.10], [0.0, 0.10], [0.9, 0.95], capital)
    worst = stress.worst()
    check = survivability(capital, max(0.0, -float(worst["pnl"])), position.premium)
    print(
        f"premium {position.premium:,.0f}; net vega/pt {net['vega_per_point']:,.0f}; "
        f"net theta/day {net['theta_per_day']:,.0f}; net dollar gamma {net['dollar_gamma']:,.0f}",
        file=out,
    )
    print(
        f"break-even correlation: index leg {breakeven.index_leg:.1%}, book {breakeven.book:.1%} "
        f"(implied {breakeven.implied:.1%})",
        file=out,
    )
    print(
        f"stress worst case (corr {worst['corr_level']:.2f}, spot {worst['spot_shock']:+.0%}, "
        f"vol {worst['vol_shock']:+.2f}): P&L {worst['pnl']:,.0f}; survivability {check.ratio:.3f} "
        f"({'pass' if check.passed else 'FAIL: ' + '; '.join(check.reasons)})",
        file=out,
    )
