"""Option positions: :class:`Leg`, :class:`Book` and the :func:`straddle` helper."""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_real

_DATE_TYPES = (_dt.date, np.datetime64, pd.Timestamp)
MAX_LEG_ROWS = 12
"""Reprs show at most this many legs (the first and last halves), then say how many are left out."""


def legs_text(table: pd.DataFrame, max_rows: int = MAX_LEG_ROWS) -> str:
    """A legs table as indented text, at most ``max_rows`` rows (first and last halves)."""
    text = table.to_string(max_rows=max_rows, float_format=lambda x: f"{x:,.6g}")
    return "\n".join("  " + line for line in text.splitlines())


@dataclass(frozen=True)
class Leg:
    """One European option position.

    underlying: spot column index (int >= 0) or column name (resolved against the names of
        the spots given to :func:`hedged_pnl`).
    strike: > 0, in the underlying's price units.
    expiry: years (ACT/365) from the first date of the run, > 0 (grid time: the leg settles at
        the first step t with t * dt >= expiry); or a date when the run has dates (calendar time:
        years = calendar days / 365 from the first date, and the leg settles on the first date
        on or after it).
    is_call: True for a call, False for a put (or 'call'/'put').
    quantity: signed number of options (negative = short); P&L is per option unit, no
        contract multiplier.
    """

    underlying: int | str
    strike: float
    expiry: float | _dt.date
    is_call: bool = True
    quantity: float = 1.0

    def __post_init__(self):
        if isinstance(self.underlying, bool) or not isinstance(self.underlying, (numbers.Integral, str)):
            raise TypeError(f"underlying: expected a column index or name, got {type(self.underlying).__name__}")
        if isinstance(self.underlying, numbers.Integral) and self.underlying < 0:
            raise ValueError(f"underlying: column index must be >= 0, got {self.underlying}")
        strike = as_real(self.strike, "strike", finite=False)
        if not (math.isfinite(strike) and strike > 0.0):
            raise ValueError(f"strike: must be finite and > 0, got {strike}")
        object.__setattr__(self, "strike", strike)
        if not isinstance(self.expiry, _DATE_TYPES):
            expiry = as_real(self.expiry, "expiry", finite=False)
            if not (math.isfinite(expiry) and expiry > 0.0):
                raise ValueError(f"expiry: must be finite and > 0 years after the start, got {expiry}")
            object.__setattr__(self, "expiry", expiry)
        flag = self.is_call
        if isinstance(flag, str):
            if flag.lower() not in ("call", "put", "c", "p"):
                raise ValueError(f"is_call: expected True/False or 'call'/'put', got {flag!r}")
            flag = flag.lower() in ("call", "c")
        elif not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"is_call: expected a bool or 'call'/'put', got {type(flag).__name__}")
        object.__setattr__(self, "is_call", bool(flag))
        quantity = as_real(self.quantity, "quantity", finite=False)
        if not math.isfinite(quantity):
            raise ValueError(f"quantity: must be finite, got {quantity}")
        object.__setattr__(self, "quantity", quantity)

    def label(self) -> str:
        kind = "C" if self.is_call else "P"
        return f"{self.underlying}:{kind}{self.strike:g}@{self.expiry}x{self.quantity:g}"


class Book:
    """An ordered, immutable collection of legs. ``Book([leg, other_book, ...])`` flattens
    nested books; ``book_a + book_b`` concatenates."""

    __slots__ = ("_legs",)

    def __init__(self, legs):
        flat: list[Leg] = []
        for item in legs:
            if isinstance(item, Book):
                flat.extend(item.legs)
            elif isinstance(item, Leg):
                flat.append(item)
            else:
                raise TypeError(f"legs: expected Leg or Book items, got {type(item).__name__}")
        if not flat:
            raise ValueError("legs: a book needs at least one leg")
        self._legs = tuple(flat)

    @property
    def legs(self) -> tuple[Leg, ...]:
        return self._legs

    def __len__(self) -> int:
        return len(self._legs)

    def __iter__(self):
        return iter(self._legs)

    def __add__(self, other: Book) -> Book:
        if not isinstance(other, Book):
            return NotImplemented
        return Book([self, other])

    def to_frame(self) -> pd.DataFrame:
        """One row per leg: underlying, type ("call"/"put"), strike, expiry, quantity."""
        return pd.DataFrame(
            {
                "underlying": [leg.underlying for leg in self._legs],
                "type": ["call" if leg.is_call else "put" for leg in self._legs],
                "strike": [leg.strike for leg in self._legs],
                "expiry": [leg.expiry for leg in self._legs],
                "quantity": [leg.quantity for leg in self._legs],
            },
            index=pd.RangeIndex(len(self._legs), name="leg"),
        )

    def __repr__(self) -> str:
        return f"Book({len(self._legs)} legs)\n" + legs_text(self.to_frame())

    def _repr_html_(self) -> str:
        return f"<b>Book ({len(self._legs)} legs)</b>" + self.to_frame().to_html(max_rows=MAX_LEG_ROWS)


def straddle(underlying, strike, expiry, quantity=1.0) -> Book:
    """A call and a put with the same underlying, strike, expiry and (signed) quantity."""
    return Book([Leg(underlying, strike, expiry, True, quantity), Leg(underlying, strike, expiry, False, quantity)])
