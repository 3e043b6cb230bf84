"""Backtest a dispersion trade over a MarketData: enter by rule, delta-hedge, exit by rule, roll.

Timeline (closes): on an entry date the trade's book is built (sized on the equity of that
date x the trade's budget) and hedged by :func:`~dispersionkit.hedged_pnl` (C++ engine) over
the following trading days; each day's close is checked against the exit rules with the
trade's P&L so far; the first rule that fires closes the book at that close (the engine is
re-run to that date so exit costs are charged there) and its reason is journalled. A "roll"
exit opens the next book at the same close; an "exit" waits for the entry rule from the next
date. A book is never held past its expiry (reason "expiry") or the last date ("end of data"),
nor through a date with missing spots or vols ("missing data").

Conventions: steps of dt = 1/252 years per trading day; option expiries in years (ACT/365);
idle capital earns nothing (the engine's cash account earns the entry date's market rate
while a book is open); rules see VIX in points = index implied vol x 100 (the market's VIX,
or its vol model where it has none: see ``vol_source``). Entry rule ``None`` enters on every flat date.
A run whose equity reaches 0 stops and raises ValueError (returns are undefined past ruin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_count, as_real
from ..market.market_data import MarketArrays, MarketData
from ..market.signal_series import signal_arrays
from ..market.snapshot import INDEX
from ..numeric.hedge_policy import HedgePolicy
from ..numeric.hedged_pnl import hedged_pnl
from ..numeric.realized import TRADING_DAYS
from ..strategy.signals import MarketState, PositionState, default_exit_rules, evaluate_rules, first_firing
from ..strategy.trade import DispersionTrade
from .attribution import GREEK_COLUMNS, SPLIT_COLUMNS, correlation_split, greek_lines
from .metrics import compute_metrics
from .result import BacktestResult

DT = 1.0 / TRADING_DAYS
GREEK_STATE = ("dollar_delta", "dollar_gamma", "vega", "theta")


@dataclass(frozen=True)
class BacktestRules:
    """entry: a rule (e.g. LongDispersionEntry()), a list of rules (first firing wins) or None
    (enter on every flat date). An entry whose action names the other direction
    ("enter_short" for a long trade) is ignored. exit: rule(s) or None for
    ``default_exit_rules(trade.direction)``. window: trading days of realized correlation
    (int >= 2); vix_lookback: rows of the VIX trend (int >= 1: the change is from a past row)."""

    entry: object = None
    exit: object = None
    window: int = 63
    vix_lookback: int = 5

    def __post_init__(self):
        for name in ("entry", "exit"):
            _check_rules(getattr(self, name), name)
        as_count(self.window, "window", 2)
        as_count(self.vix_lookback, "vix_lookback", 1)


def _check_rules(rules, name: str) -> None:
    if rules is None:
        return
    members = rules if isinstance(rules, (list, tuple)) else (rules,)
    if not members:
        raise ValueError(f"{name}: an empty list of rules never fires; pass None for the default")
    for rule in members:
        if not callable(getattr(rule, "evaluate", None)):
            raise TypeError(f"{name}: {rule!r} is not a rule (it has no evaluate(state) method)")


def backtest(
    market: MarketData,
    trade: DispersionTrade,
    rules: BacktestRules | None = None,
    *,
    policy: HedgePolicy = HedgePolicy(),
    capital: float = 1_000_000.0,
    start=None,
    end=None,
    threads=None,
) -> BacktestResult:
    """Run ``trade`` over ``market`` between ``start`` and ``end`` (module docstring)."""
    if not isinstance(trade, DispersionTrade):
        raise TypeError(f"trade: expected a DispersionTrade, got {type(trade).__name__}")
    rules = BacktestRules() if rules is None else rules
    if not isinstance(rules, BacktestRules):
        raise TypeError(f"rules: expected a BacktestRules, got {type(rules).__name__}")
    if not isinstance(policy, HedgePolicy):
        raise TypeError(f"policy: expected a HedgePolicy, got {type(policy).__name__}")
    if not as_real(capital, "capital") > 0:
        raise ValueError(f"capital: must be > 0, got {capital!r}")
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    exit_rules = default_exit_rules(trade.direction) if rules.exit is None else rules.exit
    arrays = market.arrays
    first, last = _window(arrays.dates, start, end)
    window = arrays.window(first, last)
    # Signals over the whole history (trailing windows reach back before ``start``), then the window.
    signals = signal_arrays(arrays, rules.window, rules.vix_lookback)
    signals = {name: values[first : last + 1] for name, values in signals.items()}
    run = _Run(window, trade, rules, exit_rules, policy, signals, float(capital), market.vol_source, threads)
    return run.execute()


def _window(dates: pd.DatetimeIndex, start, end) -> tuple[int, int]:
    """First and last row of the backtest (inclusive)."""
    lo = dates[0] if start is None else pd.Timestamp(start)
    hi = dates[-1] if end is None else pd.Timestamp(end)
    first, last = int(dates.searchsorted(lo, "left")), int(dates.searchsorted(hi, "right")) - 1
    if last - first + 1 < 2:
        raise ValueError(f"start, end: fewer than 2 trading days between {lo.date()} and {hi.date()}")
    return first, last


class _Run:
    """State of one backtest; ``execute`` walks the dates once, a trade at a time."""

    def __init__(self, arrays: MarketArrays, trade, rules, exit_rules, policy, signals, capital, vol_source, threads):
        self.arrays, self.trade, self.rules, self.exit_rules, self.policy = arrays, trade, rules, exit_rules, policy
        self.dates, self.sig, self.capital, self.threads = arrays.dates, signals, capital, threads
        self.vol_source = vol_source
        n = len(self.dates)
        self.pnl = np.zeros(n)
        self.lines = {name: np.zeros(n) for name in GREEK_COLUMNS + SPLIT_COLUMNS}
        self.state = {name: np.zeros(n) for name in GREEK_STATE}
        self.positions: list[tuple] = []
        self.journal: list[dict] = []
        self.usable = self._usable()

    def _usable(self) -> np.ndarray:
        a = self.arrays
        with np.errstate(invalid="ignore"):
            weights = np.where(np.isnan(a.weights), 0.0, a.weights) > 0
            priced = np.isfinite(a.spots) & (a.vols > 0)
            have = np.where(weights, priced, True).all(axis=1)
            have &= np.isfinite(a.index) & (a.index_vol > 0)
        return have & np.isfinite(self.sig["implied_correlation"]) & np.isfinite(self.sig["realized_correlation"])

    def execute(self) -> BacktestResult:
        t, n, roll = 0, len(self.dates), False
        while t < n - 1:
            equity = self.capital + self.pnl[: t + 1].sum()
            if equity <= 0:
                break
            if not self.usable[t]:
                t, roll = t + 1, False
                continue
            reason = "roll" if roll else self._entry(t)
            if reason is None:
                t += 1
                continue
            t, roll = self._hold(t, equity, reason)
        return self._result()

    def _entry(self, t: int) -> str | None:
        if self.rules.entry is None:
            return "flat (no entry rule)"
        sig = self.sig
        state = MarketState(
            float(sig["vix"][t]),
            float(sig["vix_change"][t]),
            float(sig["implied_correlation"][t]),
            float(sig["realized_correlation"][t]),
        )
        result = evaluate_rules(self.rules.entry, state)
        if result.fired and result.action in (None, f"enter_{self.trade.direction}"):
            return result.reason
        return None

    def _hold(self, t: int, equity: float, entry_reason: str) -> tuple[int, bool]:
        snap = self.arrays.snapshot(t)
        position = self.trade.position_on(snap, equity, threads=self.threads)
        horizon = min(t + max(1, math.ceil(self.trade.tenor / DT - 1e-9)), len(self.dates) - 1)
        gap = np.flatnonzero(~self.usable[t + 1 : horizon + 1])
        end = horizon if gap.size == 0 else t + int(gap[0])
        if end == t:
            return t + 1, False
        book = position.book()
        result, spots, vols = self._run(snap, book, t, end)
        exit_at, rule = self._first_exit(position, t, end, result.steps.cumulative[0])
        if rule is None:
            label = (
                "missing data"
                if gap.size
                else "expiry"
                if horizon - t >= self.trade.tenor / DT - 1e-9
                else "end of data"
            )
            rule = ("Horizon", label, "exit")
        elif exit_at < end:
            result, spots, vols = self._run(snap, book, t, exit_at)
        self._record(position, t, exit_at, result, spots, vols, entry_reason, rule)
        if rule[2] == "roll":
            return exit_at, True
        return exit_at + 1, False  # flat at this close: the entry rule is next asked on the next date

    def _run(self, snap, book, t: int, end: int):
        """hedged_pnl over rows t..end; spots and vols (end - t + 1, names + index) as arrays."""
        a, rows, columns = self.arrays, slice(t, end + 1), snap.columns
        spots = np.column_stack([a.spots[rows, columns], a.index[rows]])
        vols = np.column_stack([a.vols[rows, columns], a.index_vol[rows]])
        names = [*snap.names, INDEX]
        result = hedged_pnl(
            book,
            spots,
            vols,
            rate=snap.rate,
            div_yield=np.append(snap.div_yields, snap.index_div_yield),
            dt=DT,
            policy=self.policy,
            detail="steps",
            names=names,
            dates=self.dates[rows],
            vols_by="underlying",
            threads=self.threads,
        )
        return result, spots, vols

    def _first_exit(self, position, t: int, end: int, cumulative: np.ndarray):
        vix, implied, realized = self.sig["vix"], self.sig["implied_correlation"], self.sig["realized_correlation"]
        states = (
            PositionState(
                pnl=float(cumulative[k - 1]),
                premium=position.premium,
                elapsed=k * DT / self.trade.tenor,
                implied_correlation=float(implied[t + k]),
                realized_correlation=float(realized[t + k]),
                vix_at_entry=float(vix[t]),
                vix=float(vix[t + k]),
                days_to_expiry=(self.trade.tenor - k * DT) * 365.0,
            )
            for k in range(1, end - t + 1)
        )
        hit = first_firing(self.exit_rules, states)
        if hit is None:
            return end, None
        k, result = hit
        return t + k + 1, (result.rule, result.reason, result.action)

    def _record(self, position, t, exit_at, result, spots, vols, entry_reason, rule):
        steps = result.steps
        span = slice(t + 1, exit_at + 1)
        self.pnl[span] = steps.net[0]
        lines = greek_lines(steps)
        implied = self.sig["implied_correlation"][t : exit_at + 1]
        lines.update(correlation_split(position, steps, spots, vols, implied, DT))
        for name, values in lines.items():
            self.lines[name][span] = values
        at_close = slice(t, exit_at)
        for name in GREEK_STATE:
            self.state[name][at_close] = getattr(steps, name)[0]
        trade_id = len(self.journal)
        index_qty = float(position.legs.loc[position.index_mask(), "quantity"].iloc[0])
        self.positions += [(d, trade_id, len(position.legs), index_qty, position.premium) for d in self.dates[at_close]]
        sig = self.sig
        self.journal.append(
            {
                "trade": trade_id,
                "entry_date": self.dates[t],
                "exit_date": self.dates[exit_at],
                "days": exit_at - t,
                "entry_reason": entry_reason,
                "exit_rule": rule[0],
                "exit_reason": rule[1],
                "action": rule[2],
                "capital": position.capital,
                "premium": position.premium,
                "pnl": float(steps.net[0].sum()),
                "implied_corr_entry": sig["implied_correlation"][t],
                "realized_corr_entry": sig["realized_correlation"][t],
                "implied_corr_exit": sig["implied_correlation"][exit_at],
                "realized_corr_exit": sig["realized_correlation"][exit_at],
                **{f"pnl_{name}": float(values.sum()) for name, values in lines.items()},
            }
        )

    def _result(self) -> BacktestResult:
        dates = self.dates
        pnl = pd.Series(self.pnl, index=dates, name="pnl")
        equity = (self.capital + pnl.cumsum()).rename("equity")
        ruined = equity.to_numpy() <= 0
        if ruined.any():
            at = dates[np.argmax(ruined)]
            raise ValueError(
                f"backtest: equity fell to {equity[at]:,.2f} on {at.date()}: the trade lost all the "
                "capital (lower the budget or add exit rules); returns are undefined past that"
            )
        journal = pd.DataFrame(self.journal, columns=_JOURNAL_COLUMNS)
        if journal.empty:  # no trades: keep the numeric columns numeric
            journal = journal.astype({c: np.float64 for c in _JOURNAL_COLUMNS if c == "pnl" or c.startswith("pnl_")})
        positions = pd.DataFrame(
            self.positions, columns=["date", "trade", "n_legs", "index_quantity", "premium"]
        ).set_index("date")
        return BacktestResult(
            equity=equity,
            pnl=pnl,
            attribution=pd.DataFrame(self.lines, index=dates),
            greeks=pd.DataFrame(self.state, index=dates),
            positions=positions,
            journal=journal,
            metrics=compute_metrics(equity, journal=journal),
            vol_source=self.vol_source,
            capital=self.capital,
        )


_JOURNAL_COLUMNS = [
    "trade",
    "entry_date",
    "exit_date",
    "days",
    "entry_reason",
    "exit_rule",
    "exit_reason",
    "action",
    "capital",
    "premium",
    "pnl",
    "implied_corr_entry",
    "realized_corr_entry",
    "implied_corr_exit",
    "realized_corr_exit",
] + [f"pnl_{name}" for name in GREEK_COLUMNS + SPLIT_COLUMNS]
