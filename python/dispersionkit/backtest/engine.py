"""Backtest a dispersion trade over a MarketData: enter by rule, delta-hedge, exit by rule, roll.

Timeline (closes): on an entry date the trade's book is built (sized on the equity of that
date x the trade's budget) and hedged by :func:`~dispersionkit.hedged_pnl` (C++ engine) over
the following trading days; each day's close is checked against the exit rules with the P&L
the trade would have if it were closed at that close, i.e. after the exit costs (options'
half-spread, hedge unwind); the first rule that fires closes the book there (the engine is
re-run to that date, so exit costs are charged there and the rule is checked once more on the
exact P&L) and its reason is journalled. A "roll" exit opens the next book at the same close if
the entry rule fires there (or there is none); an "exit" waits for the entry rule from the next
date. A book is never held past its expiry (reason "expiry") or the last date ("end of data"),
nor through a date with missing spots or vols ("missing data").

Time: option expiries are calendar time. A book entered on date d expires on d + tenor x 365
days and settles at the first close on or after that date, however many rows of data lie in
between (weekends, holidays, gaps). Its run steps from row to row with dt = tenor / k years per
step, k the number of rows to expiry, so the options decay exactly their calendar life over the
rows they are held (dt is about 1/252 for an ordinary calendar). For the last book of a run,
rows beyond the data are counted as business days.

Trades: a :class:`DispersionTrade` (long or short dispersion) or a
:class:`CalendarDispersion` (both tenors entered together and held until the front expires;
its direction is the front's). On a market with option data (``MarketData(options=...)``)
every leg is priced, sized and hedged at its own vol: the surface's vol at the leg's strike
and remaining tenor on each date of the run (sticky strike; the tenor is the leg's years to
expiry less the elapsed calendar time, at least one day), passed to ``hedged_pnl`` per leg
(``vols_by="leg"``); a date where the surface has no vol for a leg ends the trade ("missing
data"). Without option data every leg on an underlying takes that underlying's vol. The
explain's vol-level / implied-correlation split of the index vega P&L uses the market's
at-the-money vols (``MarketData.vols`` / ``index_vol``) either way.

Conventions: idle capital earns nothing (the engine's cash account earns the entry date's
market rate while a book is open); rules see VIX in points = index implied vol x 100 (the
market's VIX, or its vol model where it has none: see ``vol_source``). Entry rule ``None`` enters
on every flat date. Default costs (``DEFAULT_POLICY``): hedge every close, 1 bp of traded
notional, options at half a vol point of half-spread, the same as ``dispersionkit demo``. A run
whose equity reaches 0 stops and raises ValueError (returns are undefined past ruin).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import cast

import numpy as np
import pandas as pd

from .._validation import as_count, as_real
from ..market.market_data import MarketArrays, MarketData
from ..market.signal_series import signal_arrays
from ..market.snapshot import INDEX, Snapshot
from ..market.vol_surface import DAYS_PER_YEAR, VolSurface
from ..numeric.greeks import Greeks
from ..numeric.hedge_policy import HedgePolicy
from ..numeric.hedged_pnl import hedged_pnl
from ..numeric.pnl_result import PnLSteps
from ..numeric.realized import TRADING_DAYS
from ..strategy.calendar_dispersion import CalendarDispersion
from ..strategy.position import SizedBook
from ..strategy.signals import MarketState, PositionState, default_exit_rules, evaluate_rules, first_firing
from ..strategy.trade import DispersionTrade
from .attribution import (
    EXPLAIN_COLUMNS,
    GREEK_COLUMNS,
    SPLIT_COLUMNS,
    explain_lines,
    greek_lines,
    leg_greeks,
    run_terms,
    sample_moves,
    trailing_moves,
)
from .market_view import market_view
from .metrics import compute_metrics
from .result import BacktestResult

DT = 1.0 / TRADING_DAYS
"""One trading day in years: the length of a backtest step on an ordinary calendar."""
DEFAULT_POLICY = HedgePolicy(every=1, hedge_cost_bps=1.0, option_half_spread=0.5)
"""Hedging and costs of :func:`backtest` when none is given (and of ``dispersionkit demo``)."""
GREEK_STATE = ("dollar_delta", "dollar_gamma", "vega", "theta")
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class BacktestRules:
    """entry: a rule (e.g. LongDispersionEntry()), a list of rules (first firing wins) or None
    (enter on every flat date). An entry whose action names the other direction
    ("enter_short" for a long trade) is ignored. exit: rule(s) or None for
    ``default_exit_rules(trade.direction)``. window: trading days of realized correlation and of
    the causal realized moves of the P&L explain (int >= 2); vix_lookback: rows of the VIX trend
    (int >= 1: the change is from a past row)."""

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
    trade: DispersionTrade | CalendarDispersion,
    rules: BacktestRules | None = None,
    *,
    policy: HedgePolicy | None = None,
    capital: float = 1_000_000.0,
    start=None,
    end=None,
    threads=None,
    progress=None,
) -> BacktestResult:
    """Run ``trade`` over ``market`` between ``start`` and ``end`` (module docstring).

    ``policy`` None means :data:`DEFAULT_POLICY` (daily hedge, 1 bp, half a vol point of
    option half-spread); pass ``HedgePolicy()`` for a cost-free run. ``progress``: optional
    callable(done, total), called as the run walks the dates (done of total trading days),
    e.g. to drive a progress bar; it does not change the result.
    """
    if not isinstance(trade, (DispersionTrade, CalendarDispersion)):
        raise TypeError(f"trade: expected a DispersionTrade or CalendarDispersion, got {type(trade).__name__}")
    rules = BacktestRules() if rules is None else rules
    if not isinstance(rules, BacktestRules):
        raise TypeError(f"rules: expected a BacktestRules, got {type(rules).__name__}")
    policy = DEFAULT_POLICY if policy is None else policy
    if not isinstance(policy, HedgePolicy):
        raise TypeError(f"policy: expected a HedgePolicy, got {type(policy).__name__}")
    if not as_real(capital, "capital") > 0:
        raise ValueError(f"capital: must be > 0, got {capital!r}")
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    exit_rules = default_exit_rules(trade.direction) if rules.exit is None else rules.exit
    arrays = market.arrays
    first, last = _window(arrays.dates, start, end)
    _check_tenor(trade.tenor, arrays.dates[last])
    # Signals and realized moves over the whole history (trailing windows reach back before
    # ``start``), then the window.
    signals = signal_arrays(arrays, rules.window, rules.vix_lookback)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = np.vstack([np.full((1, len(arrays.tickers)), np.nan), arrays.spots[1:] / arrays.spots[:-1] - 1.0])
    moves, bias = trailing_moves(returns, arrays.weights, rules.window)
    rows = slice(first, last + 1)
    run = _Run(
        arrays.window(first, last),
        trade,
        rules,
        exit_rules,
        policy,
        {name: values[rows] for name, values in signals.items()},
        (moves[rows], bias[rows]),
        float(capital),
        market.vol_source,
        threads,
    )
    run.progress = progress
    result = run.execute()
    return replace(result, signals=market_view(arrays, signals, first, last, rules.window))


def _window(dates: pd.DatetimeIndex, start, end) -> tuple[int, int]:
    """First and last row of the backtest (inclusive)."""
    lo = dates[0] if start is None else pd.Timestamp(start)
    hi = dates[-1] if end is None else pd.Timestamp(end)
    first, last = int(dates.searchsorted(lo, "left")), int(dates.searchsorted(hi, "right")) - 1
    if last - first + 1 < 2:
        raise ValueError(f"start, end: fewer than 2 trading days between {lo.date()} and {hi.date()}")
    return first, last


def _check_tenor(tenor: float, last: pd.Timestamp) -> None:
    """A tenor must outlast one step (a trading day: at least one calendar day) and its expiry
    must be a date the calendar can hold."""
    days = tenor * 365.0
    if days < 1.0:
        raise ValueError(
            f"tenor: {tenor:.6g} years ({days:.3g} calendar days) is shorter than one step of the backtest "
            "(a trading day, at least one calendar day): the options would expire before the next close"
        )
    if days > (pd.Timestamp.max - last).days:
        raise ValueError(
            f"tenor: {tenor:.6g} years from {last.date()} overflows the calendar "
            f"(the last representable date is {pd.Timestamp.max.date()})"
        )


@dataclass(frozen=True, eq=False)
class _TradeRun:
    """One hedged_pnl run of a book over rows t..end of the backtest, and its legs' Greeks."""

    t: int
    end: int
    dt: float
    expiry_step: int
    steps: PnLSteps
    spots: np.ndarray  # (1, T+1, n+1): the components, then the index
    vols: np.ndarray
    columns: np.ndarray  # (L,) each leg's column in spots
    greeks: Greeks  # (1, T+1, L), 0 once the legs settled


class _Run:
    """State of one backtest; ``execute`` walks the dates once, a trade at a time."""

    def __init__(
        self, arrays: MarketArrays, trade, rules, exit_rules, policy, signals, moves, capital, vol_source, threads
    ):
        self.arrays, self.trade, self.rules, self.exit_rules, self.policy = arrays, trade, rules, exit_rules, policy
        self.dates, self.sig, self.capital, self.threads = arrays.dates, signals, capital, threads
        self.moves, self.bias = moves
        self.vol_source = vol_source
        # Calendar days as numbers: the per-day rule checks would otherwise box Timestamps.
        self.day = self.dates.to_numpy().astype("datetime64[D]").astype(np.int64)
        n = len(self.dates)
        self.pnl = np.zeros(n)
        self.lines = {name: np.zeros(n) for name in GREEK_COLUMNS + SPLIT_COLUMNS}
        self.explain = {name: np.zeros(n) for name in EXPLAIN_COLUMNS}
        self.state = {name: np.zeros(n) for name in GREEK_STATE}
        self.positions: list[tuple] = []
        self.journal: list[dict] = []
        self.usable = self._usable()
        self.progress = None

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
            reason = self._entry(t)
            if reason is not None and roll:
                reason = "roll" if self.rules.entry is None else f"roll: {reason}"
            if reason is None:
                # A roll whose entry rule does not fire leaves the book closed at this close.
                t, roll = t + 1, False
                continue
            t, roll = self._hold(t, equity, reason)
            if self.progress is not None:
                self.progress(min(t, n - 1), n - 1)
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

    def _expiry(self, t: int) -> tuple[int, pd.Timestamp]:
        """(rows from t to the first close on or after the expiry date, the expiry date)."""
        expiry = self.dates[t] + pd.Timedelta(days=self.trade.tenor * 365.0)
        row = int(self.dates.searchsorted(expiry, "left"))
        if row < len(self.dates):
            return row - t, expiry
        last = self.dates[-1]
        beyond = int(np.busday_count((last + _DAY).date(), (expiry.ceil("D") + _DAY).date()))
        return len(self.dates) - 1 - t + max(beyond, 1), expiry

    def _hold(self, t: int, equity: float, entry_reason: str) -> tuple[int, bool]:
        snap = self.arrays.snapshot(t)
        sized = self.trade.size(snap, equity, threads=self.threads)
        to_expiry, expiry = self._expiry(t)
        horizon = min(t + to_expiry, len(self.dates) - 1)
        gap = np.flatnonzero(~self.usable[t + 1 : horizon + 1])
        end = horizon if gap.size == 0 else t + int(gap[0])
        if end == t:
            return t + 1, False
        dt = self.trade.tenor / to_expiry
        if self.arrays.surface is not None:
            priced = np.all(self._leg_vols(sized, t, end, dt) > 0, axis=1)
            unpriced = np.flatnonzero(~priced[1:])
            if unpriced.size and (gap.size == 0 or unpriced[0] < gap[0]):
                gap, end = unpriced, t + int(unpriced[0])
                if end == t:
                    return t + 1, False
        book = sized.book()
        run = self._run(snap, sized, book, t, end, dt, to_expiry)
        run, rule = self._first_exit(snap, sized, book, run, expiry)
        if rule is None:
            label = "missing data" if gap.size else "expiry" if horizon == t + to_expiry else "end of data"
            rule = ("Horizon", label, "exit")
        self._record(snap, sized, run, entry_reason, rule, expiry)
        if rule[2] == "roll":
            return run.end, True
        return run.end + 1, False  # flat at this close: the entry rule is next asked on the next date

    def _leg_vols(self, sized: SizedBook, t: int, end: int, dt: float) -> np.ndarray:
        """Vols (end - t + 1, legs) of every leg at its strike and remaining tenor on the market's
        surface (NaN where it has none)."""
        legs, surface = sized.legs, cast(VolSurface, self.arrays.surface)  # called only when the market has one
        names = np.array(legs.underlying, dtype=object)
        names[legs.is_index] = self.arrays.index_underlying
        rows = np.arange(end - t + 1)[:, None]
        tau = np.maximum(legs.tau[None, :] - rows * dt, 1.0 / DAYS_PER_YEAR)
        dates = self.dates.to_numpy()[t : end + 1, None]
        return surface.lookup(dates, names[None, :], tau * DAYS_PER_YEAR, strike=legs.strike).vol

    def _run(self, snap: Snapshot, sized: SizedBook, book, t: int, end: int, dt: float, to_expiry: int, greeks=None):
        """hedged_pnl over rows t..end with spots and vols (end - t + 1, names + index) as arrays,
        and each leg's own vol when the market has a surface."""
        a, rows = self.arrays, slice(t, end + 1)
        spots = np.column_stack([a.spots[rows, snap.columns], a.index[rows]])[None]
        vols = np.column_stack([a.vols[rows, snap.columns], a.index_vol[rows]])[None]
        leg_vols = None if a.surface is None else self._leg_vols(sized, t, end, dt)[None]
        div_yield = np.append(snap.div_yields, snap.index_div_yield)
        result = hedged_pnl(
            book,
            spots[0],
            vols[0] if leg_vols is None else leg_vols[0],
            rate=snap.rate,
            div_yield=div_yield,
            dt=dt,
            policy=self.policy,
            detail="steps",
            names=[*snap.names, INDEX],
            vols_by="underlying" if leg_vols is None else "leg",
            threads=self.threads,
        )
        columns = _leg_columns(sized.legs, snap)
        if greeks is None:
            # Legs of the trade's tenor settle at its expiry row; longer legs (a calendar's back
            # month) at the first row their own time to expiry runs out, beyond this run.
            own = np.ceil(sized.legs.tau / dt - 1e-9).astype(np.int64)
            expiry_step = np.where(sized.legs.tau == self.trade.tenor, to_expiry, own)
            greeks = leg_greeks(
                sized.legs,
                columns,
                spots,
                vols,
                rate=snap.rate,
                div_yield=div_yield,
                dt=dt,
                expiry_step=expiry_step,
                leg_vols=leg_vols,
            )
        else:  # a shorter run of the same book: the first rows of the longer run's Greeks
            greeks = Greeks(*(g[:, : end - t + 1] for g in greeks.arrays()))
        steps = cast(PnLSteps, result.steps)  # detail="steps" always stores them
        return _TradeRun(t, end, dt, to_expiry, steps, spots, vols, columns, greeks)

    def _exit_costs(self, sized: SizedBook, run: _TradeRun) -> np.ndarray:
        """Cost of closing the book at the close ending each step (1..T): the options'
        half-spread on the legs still alive and the unwind of the hedge set at the close before,
        as the engine charges them at the end of a run. The hedge is the one of a rebalance at
        every close; other policies are checked by the re-run."""
        q, g = sized.legs.quantity, run.greeks
        cost = g.vega[0, 1:] @ np.abs(q) * (self.policy.option_half_spread * 0.01)
        if self.policy.hedge_instrument == "underlying" and self.policy.hedge_cost_bps > 0:
            hedge = np.zeros((run.end - run.t, run.spots.shape[2]))
            np.add.at(hedge.T, run.columns, (g.delta[0, :-1] * q).T)
            cost = cost + self.policy.hedge_cost_bps * 1e-4 * np.sum(np.abs(hedge) * run.spots[0, 1:], axis=1)
        cost[-1] = 0.0  # the run's own last step already paid its closing costs
        return cost

    def _first_exit(self, snap: Snapshot, sized: SizedBook, book, run: _TradeRun, expiry: pd.Timestamp):
        """The first close at which an exit rule fires on the P&L after exit costs: (run, rule)."""
        t, sig, day = run.t, self.sig, self.day
        liquidation = run.steps.cumulative[0] - self._exit_costs(sized, run)
        tenor_days = self.trade.tenor * 365.0
        expiry_day = (expiry - self.dates[0]) / _DAY + day[0]
        premium = sized.premium_at_risk

        def state(k: int) -> PositionState:
            return PositionState(
                pnl=float(liquidation[k - 1]),
                premium=premium,
                elapsed=float(day[t + k] - day[t]) / tenor_days,
                implied_correlation=float(sig["implied_correlation"][t + k]),
                realized_correlation=float(sig["realized_correlation"][t + k]),
                vix_at_entry=float(sig["vix"][t]),
                vix=float(sig["vix"][t + k]),
                days_to_expiry=float(expiry_day - day[t + k]),
            )

        first = 1
        while first <= run.end - t:
            hit = first_firing(self.exit_rules, (state(k) for k in range(first, run.end - t + 1)))
            if hit is None:
                return run, None
            k = first + hit[0]
            if t + k == run.end:
                return run, (hit[1].rule, hit[1].reason, hit[1].action)
            shorter = self._shorter(snap, sized, book, run, k, liquidation[k - 1] - run.steps.cumulative[0, k - 1])
            exact = replace(state(k), pnl=float(shorter.steps.cumulative[0, -1]))
            again = evaluate_rules(self.exit_rules, exact)
            if again.fired:
                return shorter, (again.rule, again.reason, again.action)
            first = k + 1  # the exit costs were misjudged (a policy that does not rebalance daily): look on
        return run, None

    def _shorter(self, snap: Snapshot, sized: SizedBook, book, run: _TradeRun, k: int, exit_pnl: float) -> _TradeRun:
        """The run closed at the end of its k-th step. With a rebalance at every close, the engine's
        run to that date equals the first k steps of the longer run with the exit costs added to
        the last one (the trades before are the same; only the closing differs), so it is built
        from them; any other policy is re-run."""
        rebalanced_daily = self.policy.every == 1 and self.policy.band is None
        if not (rebalanced_daily or self.policy.hedge_instrument == "none"):
            return self._run(snap, sized, book, run.t, run.t + k, run.dt, run.expiry_step, run.greeks)
        first = {f.name: getattr(run.steps, f.name)[:, :k].copy() for f in fields(PnLSteps)}
        first["costs"][:, -1] -= exit_pnl
        first["net"][:, -1] += exit_pnl
        first["cumulative"][:, -1] += exit_pnl
        greeks = Greeks(*(g[:, : k + 1] for g in run.greeks.arrays()))
        return replace(
            run,
            end=run.t + k,
            steps=PnLSteps(**first),
            spots=run.spots[:, : k + 1],
            vols=run.vols[:, : k + 1],
            greeks=greeks,
        )

    def _record(self, snap: Snapshot, sized: SizedBook, run: _TradeRun, entry_reason, rule, expiry):
        t, exit_at = run.t, run.end
        steps = run.steps
        span = slice(t + 1, exit_at + 1)
        self.pnl[span] = steps.net[0]
        lines = greek_lines(steps)
        legs, columns = sized.legs, snap.columns
        terms = run_terms(
            legs,
            run.columns,
            run.spots,
            run.vols,
            self.arrays.weights[t : exit_at + 1, columns],
            steps,
            run.greeks,
            dt=run.dt,
        )
        daily = explain_lines(terms, self.moves[t:exit_at, columns][None], self.bias[t:exit_at][None])
        own_moves, own_bias = sample_moves(terms.r, terms.weights)
        at_close = explain_lines(terms, own_moves[:, None, :], own_bias[:, None])
        gamma_theta = steps.gamma_theta_legs[0].sum(axis=1)
        lines["gamma_theta"] = gamma_theta
        lines["basis"] = daily["basis"][0]
        lines["correlation"] = daily["correlation"][0]
        lines["volatility"] = gamma_theta - lines["basis"] - lines["correlation"]
        for name, values in lines.items():
            self.lines[name][span] = values
        for name, values in daily.items():
            self.explain[name][span] = values[0]
        held = slice(t, exit_at)
        for name in GREEK_STATE:
            self.state[name][held] = getattr(steps, name)[0]
        trade_id = len(self.journal)
        index_qty = float(legs.quantity[legs.is_index][0])
        self.positions += [(d, trade_id, len(legs.strike), index_qty, sized.premium) for d in self.dates[held]]
        sig = self.sig
        self.journal.append(
            {
                "trade": trade_id,
                "entry_date": self.dates[t],
                "exit_date": self.dates[exit_at],
                "expiry_date": expiry,
                "days": exit_at - t,
                "entry_reason": entry_reason,
                "exit_rule": rule[0],
                "exit_reason": rule[1],
                "action": rule[2],
                "capital": sized.capital,
                "premium": sized.premium,
                "net_premium": sized.net_premium,
                "pnl": float(steps.net[0].sum()),
                "implied_corr_entry": sig["implied_correlation"][t],
                "realized_corr_entry": sig["realized_correlation"][t],
                "implied_corr_exit": sig["implied_correlation"][exit_at],
                "realized_corr_exit": sig["realized_correlation"][exit_at],
                **{f"pnl_{name}": float(values.sum()) for name, values in lines.items()},
                **{f"explain_{name}": float(values[0].sum()) for name, values in at_close.items()},
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
            journal = journal.astype({c: np.float64 for c in _JOURNAL_COLUMNS if c.startswith(("pnl", "explain_"))})
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
            explain=pd.DataFrame(self.explain, index=dates),
        )


def _leg_columns(legs, snap: Snapshot) -> np.ndarray:
    """Each leg's column in the run's spots: the components in the snapshot's order, then the index."""
    position = {name: k for k, name in enumerate(snap.names)}
    n = len(snap.names)
    return np.array([n if u == INDEX else position[u] for u in legs.underlying], dtype=np.int64)


_JOURNAL_COLUMNS = [
    "trade",
    "entry_date",
    "exit_date",
    "expiry_date",
    "days",
    "entry_reason",
    "exit_rule",
    "exit_reason",
    "action",
    "capital",
    "premium",
    "net_premium",
    "pnl",
    "implied_corr_entry",
    "realized_corr_entry",
    "implied_corr_exit",
    "realized_corr_exit",
    *[f"pnl_{name}" for name in GREEK_COLUMNS + SPLIT_COLUMNS],
    *[f"explain_{name}" for name in EXPLAIN_COLUMNS],
]
