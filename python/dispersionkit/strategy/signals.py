"""Regime classification and entry/exit rules for dispersion trades.

Units: VIX in index points (23.5, not 0.235); correlations and fractions as decimals
(0.60 = 60%, a "10 point" premium is 0.10). Every rule is a small frozen dataclass whose
``evaluate(state)`` returns a :class:`RuleResult` (fired or not, and why). Rules combine with
:func:`any_of` (or by passing a list to :func:`evaluate_rules`): the first rule that fires wins and
its reason is recorded.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import pandas as pd

from .._validation import as_choice, as_positive, as_real

_DIRECTIONS = ("long", "short")
# Differences of decimal quotes (0.75 - 0.60) are not exact in binary floating point; this
# slack keeps a "moved by N points" threshold where the user wrote it.
_SLACK = 1e-9


@dataclass(frozen=True)
class RuleResult:
    """``action`` is what a firing rule asks for ("enter_long", "enter_short", "exit", "roll"),
    None when it did not fire; ``reason`` explains either outcome."""

    fired: bool
    reason: str
    rule: str
    action: str | None = None


@dataclass(frozen=True)
class MarketState:
    """What entry rules and the regime classifier look at on one date.

    ``vix_change`` is VIX now minus VIX ``lookback`` trading days earlier (points); the
    premium is implied minus realized correlation. NaN inputs make conditions on them false.
    """

    vix: float
    vix_change: float
    implied_correlation: float
    realized_correlation: float

    def __post_init__(self):
        _reals(self)

    @property
    def premium(self) -> float:
        return self.implied_correlation - self.realized_correlation

    @classmethod
    def from_series(
        cls, vix: pd.Series, implied_correlation: pd.Series, realized_correlation: pd.Series, date, lookback: int = 5
    ) -> MarketState:
        """The state on ``date`` from dated Series (VIX trend over ``lookback`` rows of ``vix``)."""
        if isinstance(lookback, bool) or not isinstance(lookback, numbers.Integral) or lookback < 1:
            raise ValueError(f"lookback: expected an int >= 1, got {lookback!r}")
        named = {"vix": vix, "implied_correlation": implied_correlation, "realized_correlation": realized_correlation}
        for name, series in named.items():
            if not isinstance(series, pd.Series):
                raise TypeError(f"{name}: expected a pandas Series indexed by date, got {type(series).__name__}")
            if date not in series.index:
                raise ValueError(f"{name}: no value on {date}")
        position = vix.index.get_loc(date)
        if not isinstance(position, numbers.Integral):
            raise ValueError(f"vix: date {date} is not unique in the index")
        previous = vix.iloc[position - lookback] if position >= lookback else math.nan
        return cls(
            vix=float(vix.iloc[position]),
            vix_change=float(vix.iloc[position]) - float(previous),
            implied_correlation=float(implied_correlation.loc[date]),
            realized_correlation=float(realized_correlation.loc[date]),
        )


@dataclass(frozen=True)
class PositionState:
    """What exit rules look at for an open position on one date.

    ``pnl`` and ``premium`` in currency (premium > 0: the premium at risk the targets refer
    to); ``elapsed`` is the fraction of the holding period gone (0..1); VIX in points.
    """

    pnl: float
    premium: float
    elapsed: float
    implied_correlation: float
    realized_correlation: float
    vix_at_entry: float
    vix: float
    days_to_expiry: float

    def __post_init__(self):
        _reals(self)
        if not self.premium > 0:
            raise ValueError(f"premium: must be > 0 (the premium at risk), got {self.premium}")


@dataclass(frozen=True)
class Regime:
    """A regime label (calm, normal, elevated, high, crisis) with the VIX trend and the reasons."""

    label: str
    vix_trend: str
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.label} (VIX {self.vix_trend}): " + "; ".join(self.reasons)


@dataclass(frozen=True)
class RegimeClassifier:
    """VIX bands after the usual rule of thumb (VIX 12: corr 15-20%, 15-20: 25-35%, 25-35: 40-60%, 50+: 70-90%).

    ``vix_bands`` are the upper VIX bounds of calm, normal, elevated and high; above the last
    is crisis. The trend is "rising"/"falling" when |vix_change| >= ``trend_points``, else
    "flat". The reasons also place the implied correlation against the band typical of the
    VIX level and state the premium. The typical ranges are the usual rule of thumb, widened to cover
    each band's edges; the "high" band (VIX 35-50), which the rule of thumb does not quote, is
    interpolated between its neighbours.
    """

    vix_bands: tuple[float, float, float, float] = (15.0, 25.0, 35.0, 50.0)
    trend_points: float = 1.0
    typical_correlation: tuple[tuple[float, float], ...] = (
        (0.15, 0.25),
        (0.25, 0.40),
        (0.40, 0.60),
        (0.55, 0.75),
        (0.70, 0.95),
    )

    _LABELS = ("calm", "normal", "elevated", "high", "crisis")

    def __post_init__(self):
        if len(self.vix_bands) != 4 or list(self.vix_bands) != sorted(self.vix_bands):
            raise ValueError(f"vix_bands: expected 4 increasing VIX levels, got {self.vix_bands}")
        if len(self.typical_correlation) != 5 or any(lo > hi for lo, hi in self.typical_correlation):
            raise ValueError("typical_correlation: expected 5 (low, high) pairs, one per regime")
        if not self.trend_points >= 0:
            raise ValueError(f"trend_points: must be >= 0, got {self.trend_points}")

    def classify(self, state: MarketState) -> Regime:
        if not isinstance(state, MarketState):
            raise TypeError(f"state: expected a MarketState, got {type(state).__name__}")
        if math.isnan(state.vix):
            return Regime("unknown", "unknown", ("VIX missing",))
        band = sum(state.vix >= bound for bound in self.vix_bands)
        label = self._LABELS[band]
        trend = _trend(state.vix_change, self.trend_points)
        reasons = [f"VIX {state.vix:.1f} in the {label} band", f"VIX {trend} ({_signed(state.vix_change)} points)"]
        lo, hi = self.typical_correlation[band]
        rho = state.implied_correlation
        if math.isnan(rho):
            reasons.append("implied correlation missing")
        else:
            where = "below" if rho < lo else "above" if rho > hi else "within"
            reasons.append(f"implied correlation {rho:.0%} {where} the typical {lo:.0%}-{hi:.0%} for this band")
        if not math.isnan(state.premium):
            reasons.append(f"dispersion premium {state.premium * 100:+.1f} correlation points")
        return Regime(label, trend, tuple(reasons))


@dataclass(frozen=True)
class LongDispersionEntry:
    """The usual long entry: VIX > 30 and falling, implied correlation > 60%, premium > 10 points; never
    when a crisis is starting (VIX up at least ``crisis_jump`` points over the lookback).

    The usual "avoid when VIX < 20 or implied correlation < 40%" are implied by these defaults.
    """

    min_vix: float = 30.0
    require_falling_vix: bool = True
    min_implied_correlation: float = 0.60
    min_premium: float = 0.10
    crisis_jump: float = 10.0

    def __post_init__(self):
        _finite_param(self, "min_vix", "min_implied_correlation", "min_premium", "crisis_jump")

    def evaluate(self, state: MarketState) -> RuleResult:
        _expect(state, MarketState)
        name = type(self).__name__
        if state.vix_change >= self.crisis_jump:
            return RuleResult(False, f"crisis starting: VIX up {state.vix_change:.1f} points", name)
        failed = []
        if not state.vix > self.min_vix:
            failed.append(f"VIX {state.vix:.1f} <= {self.min_vix:g}")
        if self.require_falling_vix and not state.vix_change < 0:
            failed.append(f"VIX not falling ({_signed(state.vix_change)} points)")
        if not state.implied_correlation > self.min_implied_correlation:
            failed.append(f"implied correlation {state.implied_correlation:.0%} <= {self.min_implied_correlation:.0%}")
        # Strictly above, by more than rounding: a premium equal to the threshold up to the last bit
        # (e.g. implied correlation modelled as realized + exactly the threshold) does not fire.
        if not state.premium > self.min_premium + _SLACK:
            failed.append(f"premium {state.premium * 100:.1f} <= {self.min_premium * 100:g} points")
        if failed:
            return RuleResult(False, "; ".join(failed), name)
        reason = (
            f"VIX {state.vix:.1f} > {self.min_vix:g} ({_signed(state.vix_change)} points), implied correlation "
            f"{state.implied_correlation:.0%}, premium {state.premium * 100:.1f} points"
        )
        return RuleResult(True, reason, name, "enter_long")


@dataclass(frozen=True)
class ShortDispersionEntry:
    """The usual short entry: VIX < 15 and implied correlation < 25%."""

    max_vix: float = 15.0
    max_implied_correlation: float = 0.25

    def __post_init__(self):
        _finite_param(self, "max_vix", "max_implied_correlation")

    def evaluate(self, state: MarketState) -> RuleResult:
        _expect(state, MarketState)
        name = type(self).__name__
        failed = []
        if not state.vix < self.max_vix:
            failed.append(f"VIX {state.vix:.1f} >= {self.max_vix:g}")
        if not state.implied_correlation < self.max_implied_correlation:
            failed.append(f"implied correlation {state.implied_correlation:.0%} >= {self.max_implied_correlation:.0%}")
        if failed:
            return RuleResult(False, "; ".join(failed), name)
        reason = f"VIX {state.vix:.1f} < {self.max_vix:g}, implied correlation {state.implied_correlation:.0%}"
        return RuleResult(True, reason, name, "enter_short")


@dataclass(frozen=True)
class ProfitTarget:
    """Exit when P&L >= ``fraction`` of the premium (desks use 40-60%)."""

    fraction: float = 0.50

    def __post_init__(self):
        _positive_param(self, "fraction")

    def evaluate(self, state: PositionState) -> RuleResult:
        _expect(state, PositionState)
        target = self.fraction * state.premium
        fired = state.pnl >= target
        relation = ">=" if fired else "<"
        reason = f"P&L {state.pnl:,.2f} {relation} target {target:,.2f} ({self.fraction:.0%} of premium)"
        return _exit(self, fired, reason)


@dataclass(frozen=True)
class StopLoss:
    """Exit when P&L <= -``fraction`` of the premium (desks use 20-30%)."""

    fraction: float = 0.25

    def __post_init__(self):
        _positive_param(self, "fraction")

    def evaluate(self, state: PositionState) -> RuleResult:
        _expect(state, PositionState)
        stop = -self.fraction * state.premium
        fired = state.pnl <= stop
        relation = "<=" if fired else ">"
        return _exit(self, fired, f"P&L {state.pnl:,.2f} {relation} stop {stop:,.2f} ({self.fraction:.0%} of premium)")


@dataclass(frozen=True)
class TimeStop:
    """Exit when ``elapsed`` of the holding period has passed without a profit (P&L <= 0)."""

    elapsed: float = 0.50

    def __post_init__(self):
        _positive_param(self, "elapsed")

    def evaluate(self, state: PositionState) -> RuleResult:
        _expect(state, PositionState)
        late = state.elapsed >= self.elapsed
        fired = late and state.pnl <= 0
        if fired:
            reason = f"{state.elapsed:.0%} of the time elapsed without profit (P&L {state.pnl:,.2f})"
        elif late:
            reason = f"{state.elapsed:.0%} elapsed but in profit"
        else:
            reason = f"only {state.elapsed:.0%} of the time elapsed (stop at {self.elapsed:.0%})"
        return _exit(self, fired, reason)


@dataclass(frozen=True)
class CorrelationExit:
    """Exit when realized correlation moves against the position by ``points`` (desks use 15).

    Long dispersion (short correlation) exits when realized - implied >= points; short
    dispersion when implied - realized >= points.
    """

    points: float = 0.15
    direction: str = "long"

    def __post_init__(self):
        _positive_param(self, "points")
        _direction(self.direction)

    def evaluate(self, state: PositionState) -> RuleResult:
        _expect(state, PositionState)
        gap = state.realized_correlation - state.implied_correlation
        fired, sign = _moved_against(gap, self.direction, self.points)
        reason = f"realized - implied correlation {gap * 100:+.1f} points (exit at {sign}{self.points * 100:g})"
        return _exit(self, fired, reason)


@dataclass(frozen=True)
class VixExit:
    """Exit when VIX moves against the position by ``points`` since entry (desks use +10 for long)."""

    points: float = 10.0
    direction: str = "long"

    def __post_init__(self):
        _positive_param(self, "points")
        _direction(self.direction)

    def evaluate(self, state: PositionState) -> RuleResult:
        _expect(state, PositionState)
        move = state.vix - state.vix_at_entry
        fired, sign = _moved_against(move, self.direction, self.points)
        return _exit(self, fired, f"VIX {_signed(move)} points since entry (exit at {sign}{self.points:g})")


@dataclass(frozen=True)
class ExpiryExit:
    """Roll or close when ``days`` or fewer calendar days remain to expiry."""

    days: float = 5.0
    action: str = "roll"

    def __post_init__(self):
        _finite_param(self, "days")
        if self.action not in ("roll", "close"):
            raise ValueError(f"action: expected 'roll' or 'close', got {self.action!r}")

    def evaluate(self, state: PositionState) -> RuleResult:
        _expect(state, PositionState)
        fired = bool(state.days_to_expiry <= self.days)
        reason = f"{state.days_to_expiry:g} days to expiry ({self.action} at <= {self.days:g})"
        action = ("roll" if self.action == "roll" else "exit") if fired else None
        return RuleResult(fired, reason, type(self).__name__, action)


@dataclass(frozen=True)
class AnyOf:
    """Fires when any member fires; the result is the first firing member's (in order)."""

    rules: tuple

    def __post_init__(self):
        if not self.rules:
            raise ValueError("rules: need at least one rule")
        for rule in self.rules:
            if not callable(getattr(rule, "evaluate", None)):
                raise TypeError(f"rules: {rule!r} has no evaluate(state) method")

    def evaluate(self, state) -> RuleResult:
        for rule in self.rules:
            result = rule.evaluate(state)
            if result.fired:
                return result
        return RuleResult(False, "no rule fired", "AnyOf")


def any_of(*rules) -> AnyOf:
    return AnyOf(tuple(rules))


def evaluate_rules(rules, state) -> RuleResult:
    """Evaluate one rule, or a list/tuple of rules as :func:`any_of`."""
    if isinstance(rules, (list, tuple)):
        return AnyOf(tuple(rules)).evaluate(state)
    if not callable(getattr(rules, "evaluate", None)):
        raise TypeError(f"rules: expected a rule or a list of rules, got {type(rules).__name__}")
    return rules.evaluate(state)


def first_firing(rules, states) -> tuple[int, RuleResult] | None:
    """(position, result) of the first state in ``states`` on which ``rules`` fire, else None."""
    for position, state in enumerate(states):
        result = evaluate_rules(rules, state)
        if result.fired:
            return position, result
    return None


def default_exit_rules(direction: str = "long") -> AnyOf:
    """The usual exits in priority order: stop, profit target, correlation, VIX, time, expiry."""
    _direction(direction)
    return any_of(
        StopLoss(),
        ProfitTarget(),
        CorrelationExit(direction=direction),
        VixExit(direction=direction),
        TimeStop(),
        ExpiryExit(),
    )


def _reals(state) -> None:
    """Every field a real number (NaN allowed: conditions on it are false), stored as a plain
    float: arithmetic on extreme values (1e308 - -1e308) then gives inf, not a numpy warning."""
    for field in fields(state):
        value = getattr(state, field.name)
        if type(value) is not float:  # plain floats, what a backtest passes per day, need no check
            object.__setattr__(state, field.name, as_real(value, field.name, finite=False))


def _exit(rule, fired: bool, reason: str) -> RuleResult:
    return RuleResult(bool(fired), reason, type(rule).__name__, "exit" if fired else None)


def _moved_against(move: float, direction: str, points: float) -> tuple[bool, str]:
    """(fired, sign of the threshold) for a move that hurts long dispersion when it is up."""
    against = move if direction == "long" else -move
    return bool(against >= points - _SLACK), "+" if direction == "long" else "-"


def _trend(change: float, threshold: float) -> str:
    if math.isnan(change):
        return "unknown"
    if change >= threshold:
        return "rising"
    if change <= -threshold:
        return "falling"
    return "flat"


def _signed(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:+.1f}"


def _direction(direction) -> None:
    as_choice(direction, "direction", _DIRECTIONS)


def _expect(state, kind) -> None:
    if not isinstance(state, kind):
        raise TypeError(f"state: expected a {kind.__name__}, got {type(state).__name__}")


def _finite_param(rule, *names) -> None:
    for name in names:
        as_real(getattr(rule, name), name)


def _positive_param(rule, name) -> None:
    as_positive(getattr(rule, name), name)
