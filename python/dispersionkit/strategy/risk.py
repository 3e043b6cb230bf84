"""Position sizing, survivability and Greek limits (usual desk defaults, all configurable).

Money is in the book's currency. Greeks in are the library's conventions summed over the book
with signed quantities: vega per 1.00 of vol, theta per year, and gamma as **dollar gamma**
0.5 x Gamma x S^2 x q (P&L per unit squared return, the one gamma that adds up across
underlyings of different prices; raw gammas per unit of spot do not). Limits are quoted per
$100k of capital: vega per vol point, theta per calendar day, gamma as cash gamma per 1% move
(the P&L from gamma when every underlying moves 1%: dollar gamma x 0.01^2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .._validation import as_fraction, as_positive, as_real
from ..numeric.greeks import PER_CALENDAR_DAY, PER_VOL_POINT

LIMIT_CAPITAL_UNIT = 100_000.0
"""Greek limits are stated per this much capital."""

ONE_PERCENT_SQUARED = 1e-4
"""Dollar gamma (P&L per unit squared return) x this = P&L from gamma of a 1% move."""

_ROUNDING = 1e-9
"""Relative slack on "at most" limits: a premium sized to exactly 5% of capital computes as
50000.00000000001 and must not fail a 5% limit on float rounding."""


def position_size(capital, worst_case_loss_per_unit, risk_fraction: float = 0.05) -> float:
    """Units of a book such that its worst-case loss is ``risk_fraction`` of ``capital``.

    ``worst_case_loss_per_unit`` is the loss (a positive amount) of one unit of the book in the
    worst scenario (e.g. correlation to 0.9). Returns a real number; round as the
    instrument requires.
    """
    capital = as_positive(capital, "capital")
    loss = as_positive(worst_case_loss_per_unit, "worst_case_loss_per_unit")
    risk_fraction = as_fraction(risk_fraction, "risk_fraction")
    units = capital * risk_fraction / loss
    if not math.isfinite(units):  # e.g. capital 1e300 against a loss of 1e-300 per unit
        raise ValueError(f"capital, worst_case_loss_per_unit: {capital:g} x {risk_fraction:g} / {loss:g} overflows")
    return units


@dataclass(frozen=True)
class SurvivabilityLimits:
    """Usual limits: worst case loses < 5% of capital, survivability > 0.8, premium <= 5%."""

    max_worst_case_loss: float = 0.05
    min_survivability: float = 0.80
    max_premium_at_risk: float = 0.05

    def __post_init__(self):
        for name in ("max_worst_case_loss", "min_survivability", "max_premium_at_risk"):
            as_fraction(getattr(self, name), name)


@dataclass(frozen=True)
class Survivability:
    """Outcome of :func:`survivability`; ``reasons`` lists every failed check (empty if passed)."""

    capital: float
    worst_case_loss: float
    ratio: float
    loss_fraction: float
    premium_fraction: float | None
    passed: bool
    reasons: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        rows = {"survivability": self.ratio, "worst_case_loss / capital": self.loss_fraction}
        if self.premium_fraction is not None:
            rows["premium / capital"] = self.premium_fraction
        return pd.DataFrame({"value": pd.Series(rows)})


def survivability(
    capital, worst_case_loss, premium_at_risk=None, limits: SurvivabilityLimits | None = None
) -> Survivability:
    """Capital after the worst case / capital before, checked against ``limits``.

    ``worst_case_loss`` is a positive amount lost in the worst scenario (a gain is 0 loss, pass
    a negative number only if the worst case makes money). ``premium_at_risk`` optional.
    ``limits`` defaults to ``SurvivabilityLimits()``.
    """
    capital = as_positive(capital, "capital")
    loss = as_real(worst_case_loss, "worst_case_loss")
    limits = SurvivabilityLimits() if limits is None else limits
    if not isinstance(limits, SurvivabilityLimits):
        raise TypeError(f"limits: expected SurvivabilityLimits, got {type(limits).__name__}")
    ratio = (capital - loss) / capital
    loss_fraction = loss / capital
    reasons = []
    if loss_fraction >= limits.max_worst_case_loss:
        reasons.append(f"worst case loses {loss_fraction:.2%} of capital (limit < {limits.max_worst_case_loss:.2%})")
    if ratio <= limits.min_survivability:
        reasons.append(f"survivability {ratio:.3f} (limit > {limits.min_survivability:.3f})")
    premium_fraction = None
    if premium_at_risk is not None:
        premium_fraction = as_real(premium_at_risk, "premium_at_risk") / capital
        if premium_fraction < 0:
            raise ValueError(f"premium_at_risk: must be >= 0, got {premium_at_risk}")
        if premium_fraction > limits.max_premium_at_risk * (1.0 + _ROUNDING):
            limit = limits.max_premium_at_risk
            reasons.append(f"premium at risk {premium_fraction:.2%} of capital (limit <= {limit:.2%})")
    return Survivability(capital, loss, ratio, loss_fraction, premium_fraction, not reasons, tuple(reasons))


@dataclass(frozen=True)
class GreekLimits:
    """Net Greek limits per $100k of capital.

    ``max_abs_vega``: dollars per vol point (default 50). ``max_abs_gamma``: cash gamma, the
    dollars of P&L from gamma for a 1% move of every underlying (default 0.10; desks quote
    0.05-0.10 per $100k: a book kept close to gamma-neutral). ``min_theta``: dollars per
    calendar day, the most negative allowed (default -50; desks quote -30..-50).
    """

    max_abs_vega: float = 50.0
    max_abs_gamma: float = 0.10
    min_theta: float = -50.0

    def __post_init__(self):
        for name in ("max_abs_vega", "max_abs_gamma"):
            if as_real(getattr(self, name), name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        as_real(self.min_theta, "min_theta")


def check_greek_limits(
    *, net_vega, net_dollar_gamma, net_theta, capital, limits: GreekLimits | None = None
) -> pd.DataFrame:
    """Net book Greeks scaled per $100k of capital against ``limits`` (keywords only).

    ``net_vega`` per 1.00 of vol and ``net_theta`` per year, summed over legs (q x Greek);
    ``net_dollar_gamma`` = sum over legs of 0.5 x Gamma x S^2 x q (the ``dollar_gamma`` net row of
    :meth:`Position.greeks`), compared as cash gamma per 1% move (x 1e-4). Raw gammas per unit
    of spot are not accepted: summed across underlyings of different prices they mean nothing.
    Returns a DataFrame indexed vega/gamma/theta with columns unit, rule, limit, actual, passed.
    A NaN Greek fails its check. ``limits`` defaults to ``GreekLimits()``.
    """
    capital = as_positive(capital, "capital")
    limits = GreekLimits() if limits is None else limits
    if not isinstance(limits, GreekLimits):
        raise TypeError(f"limits: expected GreekLimits, got {type(limits).__name__}")
    per = LIMIT_CAPITAL_UNIT / capital
    vega = as_real(net_vega, "net_vega", finite=False) * PER_VOL_POINT * per
    gamma = as_real(net_dollar_gamma, "net_dollar_gamma", finite=False) * ONE_PERCENT_SQUARED * per
    theta = as_real(net_theta, "net_theta", finite=False) * PER_CALENDAR_DAY * per
    return pd.DataFrame(
        {
            "unit": ["$ per vol point per $100k", "$ per 1% move (cash gamma) per $100k", "$ per day per $100k"],
            "rule": ["|actual| < limit", "|actual| < limit", "actual > limit"],
            "limit": [limits.max_abs_vega, limits.max_abs_gamma, limits.min_theta],
            "actual": [vega, gamma, theta],
            "passed": [abs(vega) < limits.max_abs_vega, abs(gamma) < limits.max_abs_gamma, theta > limits.min_theta],
        },
        index=pd.Index(["vega", "gamma", "theta"], name="greek"),
    )
