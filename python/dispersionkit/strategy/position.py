"""A dispersion book on one date: its legs, market inputs, premium and Greeks (:class:`Position`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..market.snapshot import INDEX
from ..numeric.book import Book, Leg
from ..numeric.greeks import PER_CALENDAR_DAY, PER_VOL_POINT, bs_greeks

LEG_COLUMNS = ("underlying", "is_call", "strike", "tau", "quantity", "spot", "vol", "rate", "div_yield", "price")


@dataclass(frozen=True, eq=False)
class Position:
    """What :meth:`DispersionTrade.position` builds on one date (immutable).

    ``legs``: one row per option (columns :data:`LEG_COLUMNS`): underlying (a ticker or
    ``"INDEX"``), is_call, strike, tau (years to expiry, ACT/365), signed quantity (options,
    no multiplier; negative = short), the spot, implied vol, rate and dividend yield it is
    priced with, and its Black-Scholes-Merton price per option.
    ``weights``/``vols``/``spots``: the components in the book (positive weight) on ``date``;
    ``index_spot``/``index_vol``: the index. ``premium``: gross premium sum |q| x price, the
    premium at risk the budget refers to. ``value``: net mark sum q x price (negative when
    the book collected premium).
    """

    date: pd.Timestamp
    direction: str
    tenor: float
    legs: pd.DataFrame
    weights: pd.Series
    spots: pd.Series
    vols: pd.Series
    index_spot: float
    index_vol: float
    capital: float
    premium: float
    value: float

    def book(self) -> Book:
        """The legs as a :class:`~dispersionkit.Book` (expiries in years from ``date``)."""
        columns = (self.legs[c].tolist() for c in ("underlying", "strike", "tau", "is_call", "quantity"))
        return Book([Leg(u, k, tau, bool(c), q) for u, k, tau, c, q in zip(*columns)])

    def greeks(self, *, threads=None) -> pd.DataFrame:
        """Per-leg and net Greeks in money (one row per option plus a ``"net"`` row).

        Columns: premium (q x price), dollar_delta (delta x S x q), dollar_gamma
        (0.5 x gamma x S^2 x q: P&L per unit squared return), cash_gamma_1pct (P&L of a 1%
        move from gamma, dollar_gamma x 1e-4), vega_per_point (vega x q / 100), theta_per_day
        (theta x q / 365), vanna and volga per unit x q. The net row sums each column over
        legs; summing dollar Greeks across underlyings is the usual book-level view.
        """
        legs = self.legs
        g = bs_greeks(
            legs["spot"].to_numpy(),
            legs["strike"].to_numpy(),
            legs["tau"].to_numpy(),
            legs["vol"].to_numpy(),
            legs["rate"].to_numpy(),
            legs["div_yield"].to_numpy(),
            legs["is_call"].to_numpy(),
            threads=threads,
        )
        q, spot = legs["quantity"].to_numpy(), legs["spot"].to_numpy()
        table = pd.DataFrame(
            {
                "underlying": legs["underlying"].to_numpy(),
                "type": np.where(legs["is_call"].to_numpy(), "call", "put"),
                "strike": legs["strike"].to_numpy(),
                "quantity": q,
                "premium": g.price * q,
                "dollar_delta": g.delta * spot * q,
                "dollar_gamma": 0.5 * g.gamma * spot * spot * q,
                "cash_gamma_1pct": 0.5 * g.gamma * spot * spot * q * 1e-4,
                "vega_per_point": g.vega * q * PER_VOL_POINT,
                "theta_per_day": g.theta * q * PER_CALENDAR_DAY,
                "vanna": g.vanna * q,
                "volga": g.volga * q,
            },
            index=pd.Index([_label(r) for r in legs.itertuples(index=False)], name="leg"),
        )
        # skipna=False: a leg with a NaN Greek makes the net unknown, not silently smaller.
        net = table.drop(columns=["underlying", "type", "strike", "quantity"]).sum(skipna=False)
        table.loc["net"] = {**net.to_dict(), "underlying": "", "type": "", "strike": np.nan, "quantity": np.nan}
        return table

    def index_mask(self) -> np.ndarray:
        return (self.legs["underlying"] == INDEX).to_numpy()


def _label(row) -> str:
    kind = "C" if row.is_call else "P"
    return f"{row.underlying}:{kind}{row.strike:.2f}"
