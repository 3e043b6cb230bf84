"""A dispersion book on one date: its legs, market inputs, premium and Greeks (:class:`Position`)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..market.snapshot import INDEX
from ..numeric.book import MAX_LEG_ROWS, Book, Leg, legs_text
from ..numeric.greeks import PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks

LEG_COLUMNS = ("underlying", "is_call", "strike", "tau", "quantity", "spot", "vol", "rate", "div_yield", "price")


class _Premiums:
    """The premium views of a sized book (``value``: sum q x price; ``premium``: sum |q| x price)."""

    value: float
    premium: float
    budget_basis: str

    @property
    def net_premium(self) -> float:
        """|sum q x price|: the premium paid (or collected) net of the legs' signs."""
        return abs(self.value)

    @property
    def premium_at_risk(self) -> float:
        """The premium the budget and the profit / stop targets refer to: gross or net (``budget_basis``)."""
        return abs(self.value) if self.budget_basis == "net" else self.premium


@dataclass(frozen=True, eq=False)
class Position(_Premiums):
    """What :meth:`DispersionTrade.position` builds on one date (immutable).

    ``legs``: one row per option (columns :data:`LEG_COLUMNS`): underlying (a ticker or
    ``"INDEX"``), is_call, strike, tau (years to expiry, ACT/365), signed quantity (options,
    no multiplier; negative = short), the spot, implied vol, rate and dividend yield it is
    priced with, and its Black-Scholes-Merton price per option.
    ``weights``/``vols``/``spots``: the components in the book (positive weight) on ``date``;
    ``index_spot``/``index_vol``: the index. ``premium``: gross premium sum |q| x price, the
    premium at risk the budget refers to. ``value``: net mark sum q x price (negative when
    the book collected premium). ``budget_basis``: "gross" or "net", the premium the trade's
    budget was applied to (:attr:`premium_at_risk`).
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
    budget_basis: str = "gross"

    @cached_property
    def leg_arrays(self) -> LegArrays:
        """The legs as float64 / bool arrays (read once from ``legs``)."""
        legs = self.legs
        underlying = tuple(str(u) for u in legs["underlying"])
        return LegArrays(
            underlying=underlying,
            is_index=np.array([u == INDEX for u in underlying], dtype=bool),
            is_call=legs["is_call"].to_numpy(bool),
            **{name: legs[name].to_numpy(np.float64) for name in _NUMERIC_LEG_COLUMNS},
        )

    def book(self) -> Book:
        """The legs as a :class:`~dispersionkit.Book` (expiries in years from ``date``)."""
        return _book(self.leg_arrays)

    def greeks(self, *, threads=None) -> pd.DataFrame:
        """Per-leg and net Greeks in money (one row per option plus a ``"net"`` row).

        Columns: premium (q x price), dollar_delta (delta x S x q), dollar_gamma
        (0.5 x gamma x S^2 x q: P&L per unit squared return), cash_gamma_1pct (P&L of a 1%
        move from gamma, dollar_gamma x 1e-4), vega_per_point (vega x q / 100), theta_per_day
        (theta x q / 365), vanna and volga per unit x q. The net row sums each column over
        legs; summing dollar Greeks across underlyings is the usual book-level view.
        """
        legs = self.legs
        g = self.leg_arrays.greeks(threads=threads)
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
        return self.leg_arrays.is_index.copy()

    def _headline(self) -> str:
        n_names = len(self.weights)
        return (
            f"Position({self.direction} dispersion on {self.date.date()}, {self.tenor * 365:g}-day, "
            f"{n_names} components + index, {len(self.legs)} legs; premium {self.premium:,.0f} gross, "
            f"{self.net_premium:,.0f} net ({self.premium_at_risk / self.capital:.1%} of capital "
            f"{self.capital:,.0f} at risk), value {self.value:,.0f})"
        )

    def _leg_table(self) -> pd.DataFrame:
        legs = self.legs
        return pd.DataFrame(
            {
                "underlying": legs["underlying"].to_numpy(),
                "type": np.where(legs["is_call"].to_numpy(), "call", "put"),
                "strike": legs["strike"].to_numpy(),
                "quantity": legs["quantity"].to_numpy(),
                "spot": legs["spot"].to_numpy(),
                "vol": legs["vol"].to_numpy(),
                "price": legs["price"].to_numpy(),
            },
            index=pd.RangeIndex(len(legs), name="leg"),
        )

    def __repr__(self) -> str:
        return self._headline() + "\n" + legs_text(self._leg_table())

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(self._headline())}</b>" + self._leg_table().to_html(
            max_rows=MAX_LEG_ROWS, float_format=lambda x: f"{x:,.6g}"
        )


_NUMERIC_LEG_COLUMNS = ("strike", "tau", "quantity", "spot", "vol", "rate", "div_yield", "price")


@dataclass(frozen=True, eq=False)
class LegArrays:
    """A position's legs as arrays (one entry per option, :data:`LEG_COLUMNS` order); ``is_index``
    marks the index legs."""

    underlying: tuple[str, ...]
    is_index: np.ndarray
    is_call: np.ndarray
    strike: np.ndarray
    tau: np.ndarray
    quantity: np.ndarray
    spot: np.ndarray
    vol: np.ndarray
    rate: np.ndarray
    div_yield: np.ndarray
    price: np.ndarray

    def greeks(self, *, threads=None) -> Greeks:
        """Black-Scholes Greeks per unit of each leg at its own vol (:func:`~dispersionkit.bs_greeks`)."""
        return bs_greeks(
            self.spot, self.strike, self.tau, self.vol, self.rate, self.div_yield, self.is_call, threads=threads
        )


def _label(row) -> str:
    kind = "C" if row.is_call else "P"
    return f"{row.underlying}:{kind}{row.strike:.2f}"


def _book(a: LegArrays) -> Book:
    columns = (a.underlying, a.strike.tolist(), a.tau.tolist(), a.is_call.tolist(), a.quantity.tolist())
    return Book([Leg(u, k, tau, bool(c), q) for u, k, tau, c, q in zip(*columns)])


@dataclass(frozen=True, eq=False)
class SizedBook(_Premiums):
    """A dispersion book sized on one date, as arrays (what the backtest computes on); :meth:`position`
    is the same book labelled. Fields as :class:`Position`, with the components' ``weights``,
    ``spots`` and ``vols`` as arrays in ``names`` order and the legs as :class:`LegArrays`."""

    date: pd.Timestamp
    direction: str
    tenor: float
    names: tuple[str, ...]
    legs: LegArrays
    weights: np.ndarray
    spots: np.ndarray
    vols: np.ndarray
    index_spot: float
    index_vol: float
    capital: float
    premium: float
    value: float
    budget_basis: str

    def book(self) -> Book:
        return _book(self.legs)

    def position(self) -> Position:
        """The labelled :class:`Position`: legs as a DataFrame, per-name values as Series by ticker."""
        a = self.legs
        legs = pd.DataFrame(
            {
                "underlying": list(a.underlying),
                "is_call": a.is_call,
                "strike": a.strike,
                "tau": a.tau,
                "quantity": a.quantity,
                "spot": a.spot,
                "vol": a.vol,
                "rate": a.rate,
                "div_yield": a.div_yield,
                "price": a.price,
            },
            columns=list(LEG_COLUMNS),
        )
        names = pd.Index(self.names)
        return Position(
            date=self.date,
            direction=self.direction,
            tenor=self.tenor,
            legs=legs,
            weights=pd.Series(self.weights, index=names),
            spots=pd.Series(self.spots, index=names),
            vols=pd.Series(self.vols, index=names),
            index_spot=self.index_spot,
            index_vol=self.index_vol,
            capital=self.capital,
            premium=self.premium,
            value=self.value,
            budget_basis=self.budget_basis,
        )
