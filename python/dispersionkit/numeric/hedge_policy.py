"""How a book's deltas are hedged and what trading costs: :class:`HedgePolicy`."""

from __future__ import annotations

from dataclasses import dataclass

from .. import _core
from .._validation import as_count, as_non_negative

_INSTRUMENTS = ("underlying", "none")
_MAX_EVERY = 2**63 - 1  # steps are int64 in the core


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
            object.__setattr__(self, "every", as_count(self.every, "every", 1, _MAX_EVERY))
        if self.band is not None:
            object.__setattr__(self, "band", as_non_negative(self.band, "band"))
        if self.every is None and self.band is None and self.hedge_instrument != "none":
            raise ValueError("every and band are both None: give a schedule, a band, or hedge_instrument='none'")
        object.__setattr__(self, "hedge_cost_bps", as_non_negative(self.hedge_cost_bps, "hedge_cost_bps"))
        object.__setattr__(self, "option_half_spread", as_non_negative(self.option_half_spread, "option_half_spread"))
        if self.hedge_instrument not in _INSTRUMENTS:
            raise ValueError(f"hedge_instrument: expected one of {_INSTRUMENTS}, got {self.hedge_instrument!r}")

    def core_rules(self) -> _core.HedgeRules:
        """The rules as ``_core.hedged_pnl`` takes them."""
        return _core.HedgeRules(
            hedge=self.hedge_instrument == "underlying",
            every=self.every,
            band=self.band,
            cost_bps=self.hedge_cost_bps,
            half_spread_vol=self.option_half_spread,
        )
