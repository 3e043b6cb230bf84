"""Calendar dispersion: one dispersion book in two tenors, opposite directions."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from ..market.market_data import MarketData, snapshot
from ..market.snapshot import Snapshot
from ..numeric.book import Book
from .position import LegArrays, Position, SizedBook
from .trade import DispersionTrade


@dataclass(frozen=True)
class CalendarDispersion:
    """``front`` and ``back`` dispersion trades with opposite directions and different tenors.

    E.g. ``CalendarDispersion.from_tenors(30/365, 91/365, front_direction="long")`` sells
    front-month index options against components and buys the back month. Each side is sized
    and budgeted on its own (its ``budget`` is its share of capital).
    """

    front: DispersionTrade
    back: DispersionTrade

    def __post_init__(self):
        for name in ("front", "back"):
            if not isinstance(getattr(self, name), DispersionTrade):
                raise TypeError(f"{name}: expected a DispersionTrade, got {type(getattr(self, name)).__name__}")
        if self.front.direction == self.back.direction:
            raise ValueError(f"back: direction must be opposite to front's ({self.front.direction!r})")
        if not self.front.tenor < self.back.tenor:
            raise ValueError(f"back: tenor must exceed front's ({self.front.tenor:g} years), got {self.back.tenor:g}")

    @classmethod
    def from_tenors(
        cls, front_tenor: float, back_tenor: float, front_direction: str = "long", **trade_options
    ) -> CalendarDispersion:
        front = DispersionTrade(direction=front_direction, tenor=front_tenor, **trade_options)
        back = replace(front, direction="short" if front_direction == "long" else "long", tenor=back_tenor)
        return cls(front, back)

    @property
    def direction(self) -> str:
        """The front side's direction: what entry rules and default exit rules act on."""
        return self.front.direction

    @property
    def tenor(self) -> float:
        """The front tenor (years): the calendar is held until the front expires."""
        return self.front.tenor

    def positions(self, market: MarketData, date, capital: float = 1_000_000.0) -> tuple[Position, Position]:
        return self.front.position(market, date, capital), self.back.position(market, date, capital)

    def position(self, market: MarketData, date, capital: float = 1_000_000.0, *, threads=None) -> Position:
        """Both sides as one :class:`Position` (:meth:`position_on`)."""
        return self.position_on(snapshot(market, date), capital, threads=threads)

    def position_on(self, snap: Snapshot, capital: float = 1_000_000.0, *, threads=None) -> Position:
        """Both sides as one :class:`Position` (:meth:`size`, labelled)."""
        return self.size(snap, capital, threads=threads).position()

    def size(self, snap: Snapshot, capital: float = 1_000_000.0, *, threads=None) -> SizedBook:
        """Both sides sized on a snapshot as one book: the legs of the front then the back (each
        leg keeps its own tenor, strike and vol), premium and value summed, ``direction``,
        ``tenor`` and budget basis of the front. What :func:`dispersionkit.backtest` holds."""
        front = self.front.size(snap, capital, threads=threads)
        back = self.back.size(snap, capital, threads=threads)
        a, b = front.legs, back.legs
        legs = LegArrays(
            underlying=a.underlying + b.underlying,
            **{
                f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
                for f in fields(LegArrays)
                if f.name != "underlying"
            },
        )
        return replace(front, legs=legs, premium=front.premium + back.premium, value=front.value + back.value)

    def book(self, market: MarketData, date, capital: float = 1_000_000.0) -> Book:
        front, back = self.positions(market, date, capital)
        return front.book() + back.book()

    def greeks(self, market: MarketData, date, capital: float = 1_000_000.0) -> pd.DataFrame:
        """Per-leg Greeks of both sides (index level "front"/"back") and a net row."""
        front, back = (p.greeks().drop(index="net") for p in self.positions(market, date, capital))
        table = pd.concat({"front": front, "back": back})
        numeric = table.select_dtypes("number").drop(columns=["strike", "quantity"]).sum(skipna=False)
        table.loc[("net", "net"), numeric.index] = numeric.to_numpy()
        return table
