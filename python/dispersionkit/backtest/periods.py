"""Results of one backtest over sub-periods (decades, crises) next to the full period."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..numeric.realized import TRADING_DAYS
from .result import BacktestResult

DEFAULT_PERIODS: tuple[tuple[str, str, str], ...] = (
    ("1990s", "1990-01-01", "1999-12-31"),
    ("2000s", "2000-01-01", "2009-12-31"),
    ("2010s", "2010-01-01", "2019-12-31"),
    ("2020s", "2020-01-01", "2029-12-31"),
    ("2008 crisis (2007-07..2009-06)", "2007-07-01", "2009-06-30"),
    ("2020 crash (2020-02..2020-06)", "2020-02-01", "2020-06-30"),
)
"""(label, first date, last date) of the sub-periods :func:`period_metrics` reports by default."""

PERIOD_COLUMNS = ("start", "end", "days", "return", "annual_vol", "sharpe", "max_drawdown", "pnl", "trades")


def period_metrics(result: BacktestResult, periods=DEFAULT_PERIODS) -> pd.DataFrame:
    """One row for the full run ("full period") and one per period that overlaps it.

    Columns: start, end (the run's dates inside the period), days (daily returns), return (the
    equity at the period's last close over the equity at the close before its first date, so
    consecutive periods compound), annual_vol and sharpe (daily returns, 252 days a year, no
    risk-free rate), max_drawdown (within the period, from the equity at its start), pnl, and
    trades (entered in the period); plus the explain's lines summed over the period when the
    result has them. Periods with no date of the run are left out.
    """
    if not isinstance(result, BacktestResult):
        raise TypeError(f"result: expected a BacktestResult, got {type(result).__name__}")
    equity = result.equity
    dates = equity.index
    rows = {"full period": _row(result, 0, len(dates) - 1)}
    for label, first, last in periods:
        lo = int(dates.searchsorted(pd.Timestamp(first), "left"))
        hi = int(dates.searchsorted(pd.Timestamp(last), "right")) - 1
        if hi >= lo:
            rows[label] = _row(result, lo, hi)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "period"
    return table


def _row(result: BacktestResult, lo: int, hi: int) -> dict:
    equity = result.equity.to_numpy()
    dates = result.equity.index
    # The period starts from the equity at the close before its first date (the run's first
    # close when the period starts with the run): its first day's P&L counts.
    base = lo - 1 if lo > 0 else 0
    levels = equity[base : hi + 1]
    returns = levels[1:] / levels[:-1] - 1.0
    sd = float(np.std(returns, ddof=1)) if returns.size > 1 else math.nan
    sharpe = float(np.mean(returns)) / sd * math.sqrt(TRADING_DAYS) if sd > 0 else math.nan
    entered = result.journal["entry_date"] if len(result.journal) else pd.Series([], dtype="datetime64[ns]")
    row = {
        "start": dates[lo],
        "end": dates[hi],
        "days": int(returns.size),
        "return": float(levels[-1] / levels[0] - 1.0),
        "annual_vol": sd * math.sqrt(TRADING_DAYS),
        "sharpe": sharpe,
        "max_drawdown": float(np.min(levels / np.maximum.accumulate(levels) - 1.0)),
        "pnl": float(result.pnl.iloc[lo : hi + 1].sum()),
        "trades": int(((entered >= dates[lo]) & (entered <= dates[hi])).sum()),
    }
    if result.explain is not None:
        inside = result.explain.iloc[lo : hi + 1].sum()
        row.update({f"explain_{name}": float(value) for name, value in inside.items()})
    return row
