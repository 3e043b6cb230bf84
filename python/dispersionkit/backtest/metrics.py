"""Performance metrics of a daily equity curve: returns, risk, drawdown, tails, win rate, years.

Conventions: simple daily returns r_t = E_t / E_{t-1} - 1 between consecutive observations;
annualization with 252 trading days (vol = std(r, ddof=1) * sqrt(252)); Sharpe =
mean(r - rf/252) / std(r, ddof=1) * sqrt(252) with ``risk_free`` an annual simple rate;
CAGR over calendar time, years = (last date - first date) / 365.25 days. Max drawdown is
the most negative E_t / max_{s<=t} E_s - 1 (a fraction <= 0). Daily win rate = share of
return days with a gain (> 0); the active-day win rate leaves out the days with no P&L
(flat, no position); trade win rate = share of journal trades with pnl > 0. A year's return
chains from the last equity of the previous year (the first observation for the first year),
so the yearly returns compound to the total return.

Beyond these (docs/methodology.md, "Performance metrics", writes each out):

- Sortino = mean(e) / sqrt(mean(min(e, 0)^2)) * sqrt(252), e = r - rf/252 over all days;
- Calmar = CAGR / |max drawdown|;
- VaR and expected shortfall of the daily P&L E_t - E_{t-1} (money, positive = a loss) at
  95% and 99%, historical: with the n P&Ls sorted ascending and k = ceil(n (1 - level)),
  VaR = -(k-th smallest), ES = -(mean of the k smallest), so ES >= VaR;
- a moving-block bootstrap confidence interval of the Sharpe ratio (blocks of ``block``
  days, ``samples`` resamples, percentile interval, NumPy generator seeded with ``seed``);
- the deflated Sharpe ratio: the probability that the true Sharpe exceeds the best Sharpe
  ``trials`` unskilled strategies would show by luck, after skewness and kurtosis.
"""

from __future__ import annotations

import math
import numbers
import statistics
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_count, as_float_array, as_fraction, as_non_negative, overflow_is_error
from ..numeric.realized import TRADING_DAYS

DAYS_PER_YEAR = 365.25
EULER_GAMMA = 0.5772156649015329
_NORMAL = statistics.NormalDist()


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
    sortino: float = math.nan
    calmar: float = math.nan
    var_95: float = math.nan
    es_95: float = math.nan
    var_99: float = math.nan
    es_99: float = math.nan
    sharpe_ci_low: float = math.nan
    sharpe_ci_high: float = math.nan
    sharpe_ci_level: float = 0.95
    deflated_sharpe: float = math.nan
    trials: int = 1
    win_rate_active_days: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """One row per scalar metric (column "value"); per_year is left out (see the attribute)."""
        rows = {name: getattr(self, name) for name in _SCALARS}
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def __str__(self) -> str:
        lines = [f"{'period':<18}{self.start.date()} .. {self.end.date()}"]
        for name, label, kind in _DISPLAY:
            if kind == "ci":
                text = f"[{_format(self.sharpe_ci_low, 'num')}, {_format(self.sharpe_ci_high, 'num')}] "
                text += f"({self.sharpe_ci_level:.0%}, block bootstrap)"
            elif kind == "deflated":
                against = "0" if self.trials == 1 else f"the luckiest of {self.trials} trials"
                text = f"{_format(self.deflated_sharpe, 'prob')} (probability the true Sharpe > {against})"
            else:
                text = _format(getattr(self, name), kind)
            lines.append(f"{label:<18}{text}")
        lines.append("")
        lines.append(self.per_year.to_string(float_format=lambda x: f"{x:.4f}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Metrics({self.start.date()}..{self.end.date()}: total return {self.total_return:.2%}, "
            f"CAGR {self.cagr:.2%}, Sharpe {self.sharpe:.2f} [{self.sharpe_ci_low:.2f}, {self.sharpe_ci_high:.2f}], "
            f"max drawdown {self.max_drawdown:.2%}, {len(self.per_year)} years)"
        )

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda x: f"{x:.4g}")


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
    "sortino",
    "calmar",
    "var_95",
    "es_95",
    "var_99",
    "es_99",
    "sharpe_ci_low",
    "sharpe_ci_high",
    "sharpe_ci_level",
    "deflated_sharpe",
    "trials",
    "win_rate_active_days",
]
_DISPLAY = [
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("annual_vol", "annual vol", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sharpe_ci", "  bootstrap CI", "ci"),
    ("deflated_sharpe", "  deflated", "deflated"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("drawdown_peak", "  peak", "date"),
    ("drawdown_trough", "  trough", "date"),
    ("drawdown_recovery", "  recovered", "date"),
    ("var_95", "daily VaR 95%", "money"),
    ("es_95", "daily ES 95%", "money"),
    ("var_99", "daily VaR 99%", "money"),
    ("es_99", "daily ES 99%", "money"),
    ("win_rate_days", "win rate (days)", "pct"),
    ("win_rate_active_days", "  active days", "pct"),
    ("win_rate_trades", "win rate (trades)", "pct"),
    ("best_year", "best year", "int"),
    ("best_year_return", "  return", "pct"),
    ("worst_year", "worst year", "int"),
    ("worst_year_return", "  return", "pct"),
]


def _cagr(total: float, years: float) -> float:
    """(1 + total) ** (1 / years) - 1 in log space; +inf where the growth rate exceeds the float
    range (a short history with a large return), NaN for an empty period."""
    if not years > 0:
        return math.nan
    log_growth = math.log1p(total) / years
    return math.expm1(log_growth) if log_growth < math.log(sys.float_info.max) else math.inf


def compute_metrics(
    equity: pd.Series,
    *,
    risk_free: float = 0.0,
    journal: pd.DataFrame | None = None,
    trials: int = 1,
    bootstrap_samples: int = 1000,
    bootstrap_block: int = 21,
    confidence: float = 0.95,
    seed: int = 0,
) -> Metrics:
    """Metrics of a daily equity Series (DatetimeIndex, sorted, unique, > 0, no NaN).

    ``journal``: optional DataFrame of closed trades with a numeric ``pnl`` column, for the
    trade win rate. ``trials``: how many strategy variants were tried before this one (for
    the deflated Sharpe ratio; 1 = no selection). ``bootstrap_samples`` resamples of
    ``bootstrap_block``-day blocks give the ``confidence`` interval of the Sharpe ratio,
    drawn from ``numpy.random.default_rng(seed)`` (the same inputs give the same interval).
    See the module docstring for every definition.
    """
    equity = _check_equity(equity)
    risk_free = _risk_free(risk_free)
    trials = as_count(trials, "trials", 1)
    samples = as_count(bootstrap_samples, "bootstrap_samples", 0)
    block = as_count(bootstrap_block, "bootstrap_block", 1)
    confidence = as_fraction(confidence, "confidence")
    if confidence == 1.0:
        raise ValueError("confidence: must be < 1 (a 100% interval is unbounded)")
    seed = as_count(seed, "seed", 0)
    values = equity.to_numpy()
    returns = values[1:] / values[:-1] - 1.0
    daily_pnl = np.diff(values)
    annual_vol, sharpe = _vol_and_sharpe(returns, risk_free)
    total = values[-1] / values[0] - 1.0
    years = (equity.index[-1] - equity.index[0]).days / DAYS_PER_YEAR
    cagr = _cagr(total, years)
    peak, trough, recovery, max_dd = _drawdown(equity)
    per_year = _per_year(equity, risk_free)
    best, worst = per_year["return"].idxmax(), per_year["return"].idxmin()
    win_trades, n_trades = _trade_win_rate(journal)
    var_95, es_95 = value_at_risk(daily_pnl, 0.95)
    var_99, es_99 = value_at_risk(daily_pnl, 0.99)
    ci_low, ci_high = sharpe_confidence_interval(returns, risk_free, samples, block, confidence, seed)
    active = returns[returns != 0.0]
    return Metrics(
        start=equity.index[0],
        end=equity.index[-1],
        total_return=float(total),
        cagr=cagr,
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
        sortino=_sortino(returns, risk_free),
        calmar=cagr / abs(max_dd) if max_dd < 0 else math.nan,
        var_95=var_95,
        es_95=es_95,
        var_99=var_99,
        es_99=es_99,
        sharpe_ci_low=ci_low,
        sharpe_ci_high=ci_high,
        sharpe_ci_level=confidence,
        deflated_sharpe=deflated_sharpe(returns, trials, risk_free=risk_free),
        trials=trials,
        win_rate_active_days=float(np.mean(active > 0)) if active.size else math.nan,
    )


def value_at_risk(pnl, level: float = 0.95) -> tuple[float, float]:
    """(VaR, expected shortfall) of P&L outcomes at ``level``, historical, as positive losses.

    With the n outcomes sorted ascending and k = ceil(n (1 - level)) (at least 1), VaR is
    minus the k-th smallest and ES minus the mean of the k smallest; NaN without outcomes.
    """
    level = as_fraction(level, "level")
    x = np.sort(as_float_array(pnl, "pnl").ravel())
    if x.size == 0:
        return math.nan, math.nan
    if np.isnan(x).any():
        raise ValueError("pnl: contains NaN")
    # round() first: 1 - 0.95 is 0.050000000000000044, and ceil(n x that) would take one outcome too many.
    k = max(1, math.ceil(round(x.size * (1.0 - level), 9)))
    with overflow_is_error("pnl: the expected shortfall"):
        shortfall = -np.mean(x[:k])
    return float(-x[k - 1]), float(shortfall)


def _daily_returns(returns) -> np.ndarray:
    """``returns`` as float64, checked: real, 1-D, NaN allowed (it propagates), and every other
    value within +-MAX_DAILY_RETURN, where the moments below stay in the float range."""
    r = as_float_array(returns, "returns")
    if r.ndim > 1:
        raise ValueError(f"returns: expected one series of daily returns (1-D), got shape {r.shape}")
    with np.errstate(invalid="ignore"):
        beyond = np.flatnonzero(np.abs(r) > MAX_DAILY_RETURN)
    if beyond.size:
        at = int(beyond[0])
        raise ValueError(f"returns: {r.flat[at]:g} at position {at} is beyond +-{MAX_DAILY_RETURN:g} (a daily return)")
    return r.ravel()


def _risk_free(risk_free) -> float:
    if isinstance(risk_free, bool) or not isinstance(risk_free, numbers.Real) or not math.isfinite(risk_free):
        raise ValueError(f"risk_free: expected a finite annual rate, got {risk_free!r}")
    return float(risk_free)


def sharpe_confidence_interval(
    returns, risk_free: float = 0.0, samples: int = 1000, block: int = 21, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Moving-block bootstrap percentile interval of the annualized Sharpe ratio of daily ``returns``.

    Each resample strings together ceil(n / block) blocks of ``block`` consecutive days with
    uniformly drawn starts (a block never wraps around) and keeps the first n days, so
    autocorrelation within a block survives. Blocks longer than n / 2 are cut to n // 2.
    NaN with fewer than 3 returns, with ``samples`` = 0, or when every resample is flat.
    """
    r = _daily_returns(returns)
    risk_free = _risk_free(risk_free)
    n = r.size
    if n < 3 or samples == 0:
        return math.nan, math.nan
    block = max(1, min(block, n // 2))
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block)
    excess = r - risk_free / TRADING_DAYS
    sharpes = np.empty(samples)
    offsets = np.arange(block)
    for lo in range(0, samples, 100):  # 100 resamples at a time: memory O(100 n)
        hi = min(samples, lo + 100)
        starts = rng.integers(0, n - block + 1, size=(hi - lo, n_blocks))
        picked = excess[(starts[:, :, None] + offsets).reshape(hi - lo, -1)[:, :n]]
        sd = picked.std(axis=1, ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sharpes[lo:hi] = np.where(sd > 0, picked.mean(axis=1) / sd, np.nan) * math.sqrt(TRADING_DAYS)
    sharpes = sharpes[np.isfinite(sharpes)]
    if sharpes.size == 0:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(sharpes, [tail, 1.0 - tail])
    return float(low), float(high)


def deflated_sharpe(
    returns, trials: int = 1, *, risk_free: float = 0.0, trials_sharpe_std: float | None = None
) -> float:
    """Deflated Sharpe ratio (Bailey and López de Prado, 2014) of daily ``returns``: a probability.

    P[true Sharpe > SR0] = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2)),
    per-period (daily, not annualized) SR of the excess returns, T returns, g3 skewness, g4
    kurtosis (3 for a normal). SR0 is the Sharpe the best of ``trials`` independent
    unskilled strategies would reach by luck: s ((1 - gamma) z(1 - 1/N) + gamma z(1 - 1/(N e))),
    gamma = Euler's constant, z the standard normal quantile, s the standard deviation of the
    trials' Sharpe ratios: ``trials_sharpe_std`` (annualized) when known, else the standard
    error of this Sharpe estimate. With ``trials`` = 1, SR0 = 0 (the probabilistic Sharpe
    ratio against zero). NaN with fewer than 3 returns or no variation.
    """
    trials = as_count(trials, "trials", 1)
    excess = _daily_returns(returns) - _risk_free(risk_free) / TRADING_DAYS
    n = excess.size
    if n < 3:
        return math.nan
    sd = float(np.std(excess, ddof=1))
    if sd == 0:
        return math.nan
    sr = float(np.mean(excess)) / sd
    centred = excess - excess.mean()
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5
    kurt = float(np.mean(centred**4)) / m2**2
    std = None if trials_sharpe_std is None else as_non_negative(trials_sharpe_std, "trials_sharpe_std")
    return deflated_sharpe_from_moments(
        sr, n, skew, kurt, trials, None if std is None else std / math.sqrt(TRADING_DAYS)
    )


def deflated_sharpe_from_moments(
    sharpe: float, n: int, skew: float, kurtosis: float, trials: int = 1, trials_sharpe_std: float | None = None
) -> float:
    """The deflated Sharpe ratio from a per-period Sharpe ratio and the return moments.

    ``sharpe`` and ``trials_sharpe_std`` per period (not annualized), ``n`` returns,
    ``kurtosis`` not in excess (3 for a normal). See :func:`deflated_sharpe`.
    """
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if not spread > 0 or n < 3:
        return math.nan
    if trials == 1:
        threshold = 0.0
    else:
        std = math.sqrt(spread / (n - 1)) if trials_sharpe_std is None else trials_sharpe_std
        threshold = std * (
            (1.0 - EULER_GAMMA) * _NORMAL.inv_cdf(1.0 - 1.0 / trials)
            + EULER_GAMMA * _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
        )
    return float(_NORMAL.cdf((sharpe - threshold) * math.sqrt(n - 1) / math.sqrt(spread)))


def _sortino(returns: np.ndarray, risk_free: float) -> float:
    if returns.size < 2:
        return math.nan
    excess = returns - risk_free / TRADING_DAYS
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0:
        return math.nan
    return float(np.mean(excess)) / downside * math.sqrt(TRADING_DAYS)


MAX_DAILY_RETURN = 1e50
"""The largest daily return :func:`compute_metrics` accepts (skewness and kurtosis take fourth powers)."""
_MAX_LOG_DAILY_GROWTH = math.log1p(MAX_DAILY_RETURN)


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
    log_growth = np.diff(np.log(equity.to_numpy()))
    beyond = np.flatnonzero(log_growth > _MAX_LOG_DAILY_GROWTH)
    if beyond.size:
        at = int(beyond[0])
        start, end = equity.index[at].date(), equity.index[at + 1].date()
        raise ValueError(
            f"equity: grows by a factor of about 1e{log_growth[at] / math.log(10):.0f} from {start} to {end}; "
            f"daily returns above {MAX_DAILY_RETURN:g} are beyond what the "
            "metrics compute in float64 (their fourth powers overflow)"
        )
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
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "prob":
        return f"{value:.3f}"
    return f"{value:.2%}" if kind == "pct" else f"{value:.2f}"
