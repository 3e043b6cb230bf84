"""How a book's deltas are hedged and what trading costs: :class:`HedgePolicy`."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .._validation import as_real

_INSTRUMENTS = ("underlying", "none")


def _nonneg_real(value, name: str) -> float:
    value = as_real(value, name, finite=False)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name}: must be finite and >= 0, got {value}")
    return value


@dataclass(frozen=True)
class HedgePolicy:
    """Rebalancing rule and trading costs for :func:`dispersionkit.hedged_pnl`.

    every: rebalance each underlying's net delta to zero at every ``every``-th step
        (t % every == 0); ``None`` for no schedule (then ``band`` must be given).
    band: also rebalance an underlying when the absolute net delta of the book (options plus
        hedge) in that underlying exceeds ``band`` **shares**; ``None`` for no band. With both
        set, either trigger rebalances (schedule or band).
    hedge_cost_bps: cost of each hedge trade in basis points of traded notional
        (|shares traded| x spot x bps / 1e4), also charged when the hedge is unwound at the end.
    option_half_spread: half bid-ask spread of the options in **vol points** (0.5 = half a
        point), paid on entry (step 0) and on exit (end of the run) as |quantity| x vega x
        points / 100; legs that expire inside the run settle at intrinsic with no spread.
    hedge_instrument: "underlying" (trade the underlying itself) or "none" (options only,
        unhedged).

    The hedge is always set at step 0, and an underlying is always rebalanced at the step
    where one of its legs expires (the expired leg's hedge is unwound). A rebalance moves the
    hedge to minus the options' net delta; trades of 1e-12 shares or less are rounding noise
    and are neither executed nor counted.
    """

    every: int | None = 1
    band: float | None = None
    hedge_cost_bps: float = 0.0
    option_half_spread: float = 0.0
    hedge_instrument: str = "underlying"

    def __post_init__(self):
        if self.every is not None:
            if isinstance(self.every, bool) or not isinstance(self.every, numbers.Integral):
                raise TypeError(f"every: expected a positive int or None, got {type(self.every).__name__}")
            if self.every < 1:
                raise ValueError(f"every: must be >= 1 (or None for no schedule), got {self.every}")
        if self.band is not None:
            object.__setattr__(self, "band", _nonneg_real(self.band, "band"))
        if self.every is None and self.band is None and self.hedge_instrument != "none":
            raise ValueError("every and band are both None: give a schedule, a band, or hedge_instrument='none'")
        object.__setattr__(self, "hedge_cost_bps", _nonneg_real(self.hedge_cost_bps, "hedge_cost_bps"))
        object.__setattr__(self, "option_half_spread", _nonneg_real(self.option_half_spread, "option_half_spread"))
        if self.hedge_instrument not in _INSTRUMENTS:
            raise ValueError(f"hedge_instrument: expected one of {_INSTRUMENTS}, got {self.hedge_instrument!r}")

    def core_rules(self) -> tuple[bool, int, float, float, float]:
        """(hedge, every, band, cost_bps, half_spread_vol) as _core.hedged_pnl takes them; 0 / -1 mean 'none'."""
        return (
            self.hedge_instrument == "underlying",
            0 if self.every is None else int(self.every),
            -1.0 if self.band is None else self.band,
            self.hedge_cost_bps,
            self.option_half_spread,
        )
