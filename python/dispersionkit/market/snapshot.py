"""One date of a MarketData as plain per-name arrays: what a trade needs to build its book."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .market_data import MarketData

INDEX = "INDEX"
"""Column name of the index in books built by the strategy layer (hedged_pnl spots)."""


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Inputs on one date for the names with positive weight (Series indexed by ticker).

    ``index_div_yield`` is the weighted mean of the component yields: MarketData carries no
    separate index yield, and the weighted mean is what an index of these names would pay.
    """

    date: pd.Timestamp
    spots: pd.Series
    vols: pd.Series
    weights: pd.Series
    div_yields: pd.Series
    index_spot: float
    index_vol: float
    index_div_yield: float
    rate: float


def resolve_date(market: MarketData, date) -> pd.Timestamp:
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    try:
        stamp = pd.Timestamp(date)
    except (TypeError, ValueError) as error:
        raise ValueError(f"date: cannot read {date!r} as a date ({error})") from None
    if stamp not in market.dates:
        raise ValueError(
            f"date: {stamp.date()} is not a date of the market data "
            f"({market.dates[0].date()}..{market.dates[-1].date()}, trading days only)"
        )
    return stamp


def snapshot(market: MarketData, date) -> Snapshot:
    """The market on ``date``; ValueError naming the names whose spot or vol is missing."""
    stamp = resolve_date(market, date)
    if INDEX in market.tickers:
        raise ValueError(f"market: a ticker is named {INDEX!r}, the name reserved for the index")
    weights = market.weights_frame().loc[stamp]
    inside = weights.index[weights.fillna(0.0).to_numpy() > 0]
    spots = market.spots.loc[stamp, inside]
    vols = market.vols.loc[stamp, inside]
    missing = sorted(set(inside[spots.isna().to_numpy() | vols.isna().to_numpy()]))
    if missing:
        raise ValueError(f"market: spot or implied vol missing on {stamp.date()} for {missing}")
    # A zero vol puts an ATM option at infinite gamma: no book can be sized or hedged on it.
    flat = sorted(set(inside[vols.to_numpy() <= 0]))
    if flat:
        raise ValueError(f"market: implied vol is 0 on {stamp.date()} for {flat}; a book needs vols > 0")
    index_spot = float(market.index.loc[stamp])
    index_vol = float(market.index_vol.loc[stamp])
    if not (np.isfinite(index_spot) and np.isfinite(index_vol) and index_vol > 0):
        raise ValueError(f"market: index level or index implied vol missing (or vol 0) on {stamp.date()}")
    q = market.div_yields
    if isinstance(q, pd.DataFrame):
        q = q.loc[stamp, inside]
    elif isinstance(q, pd.Series):
        q = q.loc[inside]
    else:
        q = pd.Series(float(q), index=inside)
    rate = market.rate.loc[stamp] if isinstance(market.rate, pd.Series) else market.rate
    if not np.isfinite(rate) or q.isna().any():
        raise ValueError(f"market: rate or dividend yield missing on {stamp.date()}")
    w = weights.loc[inside]
    return Snapshot(stamp, spots, vols, w, q, index_spot, index_vol, float((w * q).sum() / w.sum()), float(rate))
