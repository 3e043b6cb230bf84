"""Performance metrics of a daily equity curve: returns, risk, drawdown, win rate, years.

Conventions: simple daily returns r_t = E_t / E_{t-1} - 1 between consecutive observations;
annualization with 252 trading days (vol = std(r, ddof=1) * sqrt(252)); Sharpe =
mean(r - rf/252) / std(r, ddof=1) * sqrt(252) with ``risk_free`` an annual simple rate;
CAGR over calendar time, years = (last date - first date) / 365.25 days. Max drawdown is
the most negative E_t / max_{s<=t} E_s - 1 (a fraction <= 0). Daily win rate = share of
return days with a gain (> 0); trade win rate = share of journal trades with pnl > 0. A
year's return chains from the last equity of the previous year (the first observation for
the first year), so the yearly returns compound to the total return.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..numeric.realized import TRADING_DAYS

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, eq=False)
class Metrics:
    """Summary statistics of one equity curve; ``per_year`` is a DataFrame indexed by year."""

    start: pd.Timestamp
    end: pd.Timestamp
    total_return: float
    cagr: float
    annual_vol: float
    sharpe: float
    risk_free: float
    max_drawdown: float
    drawdown_peak: pd.Timestamp
    drawdown_trough: pd.Timestamp
    drawdown_recovery: pd.Timestamp | None
    win_rate_days: float
    win_rate_trades: float | None
    n_trades: int | None
    best_year: int
    best_year_return: float
    worst_year: int
    worst_year_return: float
    per_year: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row per scalar metric (column "value"); per_year is left out (see the attribute)."""
        rows = {name: getattr(self, name) for name in _SCALARS}
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def __str__(self) -> str:
        lines = [f"{'period':<18}{self.start.date()} .. {self.end.date()}"]
        for name, label, kind in _DISPLAY:
            value = getattr(self, name)
            lines.append(f"{label:<18}{_format(value, kind)}")
        lines.append("")
        lines.append(self.per_year.to_string(float_format=lambda x: f"{x:.4f}"))
        return "\n".join(lines)


_SCALARS = [
    "start",
    "end",
    "total_return",
    "cagr",
    "annual_vol",
    "sharpe",
    "risk_free",
    "max_drawdown",
    "drawdown_peak",
    "drawdown_trough",
    "drawdown_recovery",
    "win_rate_days",
    "win_rate_trades",
    "n_trades",
    "best_year",
    "best_year_return",
    "worst_year",
    "worst_year_return",
]
_DISPLAY = [
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("annual_vol", "annual vol", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("drawdown_peak", "  peak", "date"),
    ("drawdown_trough", "  trough", "date"),
    ("drawdown_recovery", "  recovered", "date"),
    ("win_rate_days", "win rate (days)", "pct"),
    ("win_rate_trades", "win rate (trades)", "pct"),
    ("best_year", "best year", "int"),
    ("best_year_return", "  return", "pct"),
    ("worst_year", "worst year", "int"),
    ("worst_year_return", "  return", "pct"),
]


def compute_metrics(equity: pd.Series, *, risk_free: float = 0.0, journal: pd.DataFrame | None = None) -> Metrics:
    """Metrics of a daily equity Series (DatetimeIndex, sorted, unique, > 0, no NaN).

    ``journal``: optional DataFrame of closed trades with a numeric ``pnl`` column, for the
    trade win rate. See the module docstring for every definition.
    """
    equity = _check_equity(equity)
    if isinstance(risk_free, bool) or not isinstance(risk_free, numbers.Real) or not math.isfinite(risk_free):
        raise ValueError(f"risk_free: expected a finite annual rate, got {risk_free!r}")
    values = equity.to_numpy()
    returns = values[1:] / values[:-1] - 1.0
    annual_vol, sharpe = _vol_and_sharpe(returns, risk_free)
    total = values[-1] / values[0] - 1.0
    years = (equity.index[-1] - equity.index[0]).days / DAYS_PER_YEAR
    peak, trough, recovery, max_dd = _drawdown(equity)
    per_year = _per_year(equity, risk_free)
    best, worst = per_year["return"].idxmax(), per_year["return"].idxmin()
    win_trades, n_trades = _trade_win_rate(journal)
    return Metrics(
        start=equity.index[0],
        end=equity.index[-1],
        total_return=float(total),
        cagr=float((1.0 + total) ** (1.0 / years) - 1.0) if years > 0 else math.nan,
        annual_vol=annual_vol,
        sharpe=sharpe,
        risk_free=float(risk_free),
        max_drawdown=max_dd,
        drawdown_peak=peak,
        drawdown_trough=trough,
        drawdown_recovery=recovery,
        win_rate_days=float(np.mean(returns > 0)),
        win_rate_trades=win_trades,
        n_trades=n_trades,
        best_year=int(best),
        best_year_return=float(per_year.loc[best, "return"]),
        worst_year=int(worst),
        worst_year_return=float(per_year.loc[worst, "return"]),
        per_year=per_year,
    )


def _check_equity(equity) -> pd.Series:
    if not isinstance(equity, pd.Series):
        raise TypeError(f"equity: expected a pandas Series indexed by date, got {type(equity).__name__}")
    if not isinstance(equity.index, pd.DatetimeIndex):
        raise TypeError(f"equity: index must be a DatetimeIndex, got {type(equity.index).__name__}")
    if len(equity) < 2:
        raise ValueError(f"equity: need at least 2 observations, got {len(equity)}")
    if equity.index.has_duplicates:
        raise ValueError(f"equity: duplicate dates, first {equity.index[equity.index.duplicated()][0].date()}")
    if not equity.index.is_monotonic_increasing:
        raise ValueError("equity: dates not sorted increasing")
    if not pd.api.types.is_numeric_dtype(equity.dtype) or pd.api.types.is_bool_dtype(equity.dtype):
        raise TypeError(f"equity: expected real numbers, got dtype {equity.dtype}")
    equity = equity.astype(np.float64)
    bad = equity.isna() | ~np.isfinite(equity) | (equity <= 0)
    if bad.any():
        first = equity.index[bad.to_numpy()][0]
        raise ValueError(f"equity: must be finite and > 0 on every date, got {equity[first]} on {first.date()}")
    return equity


def _vol_and_sharpe(returns: np.ndarray, risk_free: float) -> tuple[float, float]:
    """Annualized vol and Sharpe; NaN with fewer than 2 returns, Sharpe NaN when vol is 0."""
    if returns.size < 2:
        return math.nan, math.nan
    sd = float(np.std(returns, ddof=1))
    if sd == 0:
        return 0.0, math.nan
    excess = float(np.mean(returns - risk_free / TRADING_DAYS))
    return sd * math.sqrt(TRADING_DAYS), excess / sd * math.sqrt(TRADING_DAYS)


def _drawdown(equity: pd.Series):
    running_max = equity.cummax()
    drawdown = equity / running_max - 1.0
    trough_at = int(np.argmin(drawdown.to_numpy()))
    max_dd = float(drawdown.iloc[trough_at])
    peak_at = int(np.argmax(equity.to_numpy()[: trough_at + 1]))
    after = equity.iloc[trough_at:]
    recovered = after.index[after.to_numpy() >= equity.iloc[peak_at]]
    recovery = recovered[0] if max_dd < 0 and len(recovered) else None
    return equity.index[peak_at], equity.index[trough_at], recovery, max_dd


def _per_year(equity: pd.Series, risk_free: float) -> pd.DataFrame:
    rows = {}
    years = equity.index.year
    previous_end = None
    for year in np.unique(years):
        inside = equity.to_numpy()[years == year]
        levels = inside if previous_end is None else np.concatenate([[previous_end], inside])
        returns = levels[1:] / levels[:-1] - 1.0
        vol, sharpe = _vol_and_sharpe(returns, risk_free)
        rows[int(year)] = {
            "return": levels[-1] / levels[0] - 1.0,
            "vol": vol,
            "sharpe": sharpe,
            "max_drawdown": float(np.min(levels / np.maximum.accumulate(levels) - 1.0)),
            "days": returns.size,
        }
        previous_end = inside[-1]
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "year"
    return table


def _trade_win_rate(journal):
    if journal is None:
        return None, None
    if not isinstance(journal, pd.DataFrame):
        raise TypeError(f"journal: expected a pandas DataFrame with a 'pnl' column, got {type(journal).__name__}")
    if "pnl" not in journal.columns:
        raise ValueError(f"journal: no 'pnl' column; columns are {list(journal.columns)}")
    pnl = journal["pnl"]
    if not pd.api.types.is_numeric_dtype(pnl.dtype) or pnl.isna().any():
        raise ValueError("journal: 'pnl' must be numbers without missing values")
    if len(pnl) == 0:
        return math.nan, 0
    return float((pnl > 0).mean()), len(pnl)


def _format(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "date":
        return str(value.date())
    if kind == "int":
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return f"{value:.2%}" if kind == "pct" else f"{value:.2f}"
