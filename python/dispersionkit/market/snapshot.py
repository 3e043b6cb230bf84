"""One date of a market as plain per-name arrays: what a trade needs to build its book."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .vol_surface import VolSurface

INDEX = "INDEX"
"""Column name of the index in books built by the strategy layer (hedged_pnl spots)."""


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Inputs on one date for the names with positive weight, as float64 arrays in ``names`` order.

    ``row`` is the date's position in the market's calendar and ``columns`` the names'
    positions among the market's tickers, so a caller holding the market's arrays can read
    later rows of the same names without looking anything up by label.
    ``index_div_yield`` is the weighted mean of the component yields: MarketData carries no
    separate index yield, and the weighted mean is what an index of these names would pay.
    ``surface``: the market's option surface when it has option data (each option is then
    priced at its own strike and tenor; the index is ``index_underlying`` there), else None
    (every option takes its name's vol, ``vols`` / ``index_vol``).
    """

    date: pd.Timestamp
    row: int
    names: tuple[str, ...]
    columns: np.ndarray
    spots: np.ndarray
    vols: np.ndarray
    weights: np.ndarray
    div_yields: np.ndarray
    index_spot: float
    index_vol: float
    index_div_yield: float
    rate: float
    surface: VolSurface | None = None
    index_underlying: str = "INDEX"


def take_snapshot(
    date: pd.Timestamp,
    row: int,
    tickers: tuple[str, ...],
    spots: np.ndarray,
    vols: np.ndarray,
    weights: np.ndarray,
    div_yields: np.ndarray,
    index_spot: float,
    index_vol: float,
    rate: float,
    *,
    surface: VolSurface | None = None,
    index_underlying: str = "INDEX",
) -> Snapshot:
    """The :class:`Snapshot` of one row of market arrays (each per-name argument (n,) over ``tickers``).

    ValueError naming the names whose spot or implied vol is missing or whose vol is 0, and
    when the index level, its vol, the rate or a dividend yield is missing.
    """
    if INDEX in tickers:
        raise ValueError(f"market: a ticker is named {INDEX!r}, the name reserved for the index")
    with np.errstate(invalid="ignore"):
        columns = np.flatnonzero(np.where(np.isnan(weights), 0.0, weights) > 0)
    names = tuple(tickers[k] for k in columns)
    s, v = spots[columns], vols[columns]
    missing = sorted(set(np.asarray(names, dtype=object)[np.isnan(s) | np.isnan(v)]))
    if missing:
        raise ValueError(f"market: spot or implied vol missing on {date.date()} for {missing}")
    # A zero vol puts an ATM option at infinite gamma: no book can be sized or hedged on it.
    flat = sorted(set(np.asarray(names, dtype=object)[v <= 0]))
    if flat:
        raise ValueError(f"market: implied vol is 0 on {date.date()} for {flat}; a book needs vols > 0")
    if not (np.isfinite(index_spot) and np.isfinite(index_vol) and index_vol > 0):
        raise ValueError(f"market: index level or index implied vol missing (or vol 0) on {date.date()}")
    q = div_yields[columns]
    if not np.isfinite(rate) or np.isnan(q).any():
        raise ValueError(f"market: rate or dividend yield missing on {date.date()}")
    w = weights[columns]
    return Snapshot(
        date,
        row,
        names,
        columns,
        s,
        v,
        w,
        q,
        float(index_spot),
        float(index_vol),
        float((w * q).sum() / w.sum()),
        float(rate),
        surface,
        index_underlying,
    )
