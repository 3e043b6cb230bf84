"""Dispersion trades: an index option structure against the same structure on every component.

``DispersionTrade`` is a recipe (direction, tenor, sizing, budget, strikes, structure); its
methods take the market and the date and build what is asked for, so one trade can be priced
on any date of any :class:`MarketData`. Long dispersion = short index options, long component
options; short dispersion is the reverse. Quantities: the neutral sizings of docs/methodology.md with the
market's index weights on that date, then one common scale so the gross premium is
``budget`` x ``capital``. Vols: on a market with option data (``MarketData(options=...)``)
each option takes the surface's vol at its own strike and tenor (a strangle's put and call
differ); otherwise every option on a name takes that name's implied vol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_choice, as_positive
from ..market.market_data import MarketData, snapshot
from ..market.snapshot import INDEX, Snapshot
from ..market.vol_surface import DAYS_PER_YEAR
from ..numeric.book import Book
from ..numeric.correlation import equicorrelation_values
from ..numeric.greeks import bs_greeks
from .breakeven import BreakevenCorrelation, breakeven_from_position
from .position import LegArrays, Position, SizedBook
from .sizing import gamma_neutral, notional_weighted, scale_to_budget, theta_neutral, vega_neutral
from .stress import StressResult, stress_grid

_DIRECTIONS = ("long", "short")
_SIZINGS = ("vega", "theta", "gamma", "notional")
_STRUCTURES = ("straddle", "strangle", "call", "put")
_BUDGET_BASES = ("gross", "net")


@dataclass(frozen=True)
class DispersionTrade:
    """A dispersion trade recipe.

    direction: "long" (short index, long components) or "short".
    tenor: years to expiry at entry (ACT/365), default 30 calendar days.
    sizing: "vega" (sum_i q_i Vega_i = q_I Vega_I, allocated by weight: vega-neutral),
        "theta", "gamma" (cash gamma Gamma S^2) or "notional" (q_i = w_i S_I / S_i per index
        unit).
    budget: premium as a fraction of capital (the usual limit: <= 5%), on ``budget_basis``;
        None keeps the index quantity at ``index_quantity``.
    budget_basis: "gross" (default: sum |q| x price, every leg's premium counted, the
        conservative reading) or "net" (|sum q x price|: premium paid net of premium collected,
        the usual reading of the 5% rule). A dispersion book's net premium is a fraction of its
        gross, so a net budget makes a larger book; one whose gross premium would exceed the
        capital is refused (ValueError naming the date).
    strikes: "atm" (strike = spot) or a moneyness K/S > 0 for every option.
    structure: "straddle" (call + put), "strangle" (call at moneyness x (1 + width), put at
        moneyness x (1 - width)), "call" or "put".
    Each option is priced at the market surface's vol at its strike and tenor when the market
    has option data, else at its underlying's vol (``Position.legs["vol"]`` shows which).
    """

    direction: str = "long"
    tenor: float = 30.0 / 365.0
    sizing: str = "vega"
    budget: float | None = 0.05
    strikes: str | float = "atm"
    structure: str = "straddle"
    strangle_width: float = 0.05
    index_quantity: float = 1.0
    budget_basis: str = "gross"

    def __post_init__(self):
        as_choice(self.direction, "direction", _DIRECTIONS)
        as_choice(self.sizing, "sizing", _SIZINGS)
        as_choice(self.structure, "structure", _STRUCTURES)
        as_choice(self.budget_basis, "budget_basis", _BUDGET_BASES)
        as_positive(self.tenor, "tenor")
        if self.budget is not None:
            as_positive(self.budget, "budget")
            if self.budget > 1:
                raise ValueError(f"budget: a fraction of capital in (0, 1], got {self.budget}")
        if isinstance(self.strikes, str):
            if self.strikes != "atm":
                raise ValueError(f"strikes: expected 'atm' or a moneyness K/S > 0, got {self.strikes!r}")
        else:
            as_positive(self.strikes, "strikes")
        as_positive(self.strangle_width, "strangle_width")
        if self.strangle_width >= 1:
            raise ValueError(f"strangle_width: must be < 1, got {self.strangle_width}")
        as_positive(self.index_quantity, "index_quantity")

    def options(self) -> tuple[tuple[bool, float], ...]:
        """(is_call, moneyness K/S) of the options in one unit of the structure."""
        k = 1.0 if self.strikes == "atm" else float(self.strikes)
        if self.structure == "straddle":
            return (True, k), (False, k)
        if self.structure == "strangle":
            return (True, k * (1.0 + self.strangle_width)), (False, k * (1.0 - self.strangle_width))
        return ((self.structure == "call", k),)

    def position(self, market: MarketData, date, capital: float = 1_000_000.0, *, threads=None) -> Position:
        """The sized book on ``date`` (a trading day of ``market``); see :class:`Position`."""
        return self.position_on(snapshot(market, date), capital, threads=threads)

    def position_on(self, snap: Snapshot, capital: float = 1_000_000.0, *, threads=None) -> Position:
        """The sized book on the date of a :class:`~dispersionkit.market.Snapshot`, labelled."""
        return self.size(snap, capital, threads=threads).position()

    def size(self, snap: Snapshot, capital: float = 1_000_000.0, *, threads=None) -> SizedBook:
        """The book sized on a :class:`~dispersionkit.market.Snapshot` (arrays in, arrays out): what
        :meth:`position` labels and the backtest hedges."""
        capital = as_positive(capital, "capital")
        return self._size(snap, capital, threads)

    def book(self, market: MarketData, date, capital: float = 1_000_000.0) -> Book:
        """The legs as a :class:`~dispersionkit.Book` (expiry = ``tenor`` years from ``date``)."""
        return self.position(market, date, capital).book()

    def greeks(self, market: MarketData, date, capital: float = 1_000_000.0) -> pd.DataFrame:
        """Per-leg and net dollar Greeks on ``date`` (:meth:`Position.greeks`)."""
        return self.position(market, date, capital).greeks()

    def implied_correlation(self, market: MarketData, date) -> float:
        """Implied correlation on ``date`` from the market's vols and weights."""
        snap = snapshot(market, date)
        return float(equicorrelation_values(snap.index_vol, snap.vols, snap.weights)[0])

    def breakeven_correlation(
        self, market: MarketData, date, realized_vols=None, capital: float = 1_000_000.0, *, window: int = 63
    ) -> BreakevenCorrelation:
        """Index-leg and book-level break-even correlations on ``date``.

        ``realized_vols``: expected realized component vols (Series by ticker, annualized);
        default: trailing ``window``-day realized vols of the components up to ``date``.
        """
        return breakeven_from_position(self.position(market, date, capital), market, realized_vols, window)

    def stress(
        self,
        market: MarketData,
        date,
        spot_shocks=(0.0,),
        vol_shocks=(0.0,),
        corr_levels=None,
        capital: float = 1_000_000.0,
        *,
        threads=None,
    ) -> StressResult:
        """Full repricing of every leg on a spot x vol x correlation grid (:func:`stress_grid`)."""
        return stress_grid(self.position(market, date, capital), spot_shocks, vol_shocks, corr_levels, threads=threads)

    def _size(self, snap: Snapshot, capital: float, threads) -> SizedBook:
        names = [*snap.names, INDEX]
        spots = np.append(snap.spots, snap.index_spot)
        divs = np.append(snap.div_yields, snap.index_div_yield)
        options = self.options()
        is_call = np.array([c for c, _ in options])
        strikes = spots[:, None] * np.array([k for _, k in options])[None, :]
        vols = self._leg_vols(snap, strikes)
        unit = bs_greeks(
            spots[:, None],
            strikes,
            self.tenor,
            vols,
            snap.rate,
            divs[:, None],
            is_call[None, :],
            threads=threads,
        )
        per_unit = {name: getattr(unit, name).sum(axis=1) for name in ("price", "vega", "theta", "gamma")}
        qty = self._quantities(snap, per_unit, spots)
        sign = -1.0 if self.direction == "long" else 1.0
        signed = np.append(-sign * qty, sign * 1.0) * self.index_quantity
        if self.budget is not None:
            signed = scale_to_budget(signed, per_unit["price"], capital, self.budget, self.budget_basis).quantities
            gross = float(np.abs(signed) @ per_unit["price"])
            if gross > capital:
                raise ValueError(
                    f"budget: a {self.budget:.2%} {self.budget_basis} premium on {snap.date.date()} needs a gross "
                    f"premium of {gross / capital:.1f}x the capital (the legs' premiums nearly cancel); "
                    "use budget_basis='gross' or a smaller budget"
                )
        n_opt = len(options)
        n_names = len(names)
        underlying = tuple(np.repeat(np.array(names, dtype=object), n_opt))
        legs = LegArrays(
            underlying=underlying,
            is_index=np.repeat(np.arange(n_names) == n_names - 1, n_opt),
            is_call=np.tile(is_call, n_names),
            strike=strikes.ravel(),
            tau=np.full(n_names * n_opt, float(self.tenor)),
            quantity=np.repeat(signed, n_opt),
            spot=np.repeat(spots, n_opt),
            vol=vols.ravel(),
            rate=np.full(n_names * n_opt, float(snap.rate)),
            div_yield=np.repeat(divs, n_opt),
            price=unit.price.ravel(),
        )
        q, price = legs.quantity, legs.price
        return SizedBook(
            date=snap.date,
            direction=self.direction,
            tenor=self.tenor,
            names=snap.names,
            legs=legs,
            weights=snap.weights,
            spots=snap.spots,
            vols=snap.vols,
            index_spot=snap.index_spot,
            index_vol=snap.index_vol,
            capital=capital,
            premium=float(np.abs(q) @ price),
            value=float(q @ price),
            budget_basis=self.budget_basis,
        )

    def _leg_vols(self, snap: Snapshot, strikes: np.ndarray) -> np.ndarray:
        """Implied vol of every option, shaped like ``strikes`` (rows: the components, then the
        index; columns: the options of one unit of the structure). The one place a leg's vol is
        chosen: on a market with option data, the surface's vol at the option's own strike and
        tenor (``tenor`` x 365 calendar days); otherwise the underlying's implied vol."""
        if snap.surface is None:
            return np.broadcast_to(np.append(snap.vols, snap.index_vol)[:, None], strikes.shape)
        names = np.array([*snap.names, snap.index_underlying], dtype=object)[:, None]
        vols = snap.surface.lookup(snap.date, names, self.tenor * DAYS_PER_YEAR, strike=strikes).vol
        bad = ~(vols > 0)
        if bad.any():
            missing = sorted({str(n) for n in np.broadcast_to(names, strikes.shape)[bad]})
            days = self.tenor * DAYS_PER_YEAR
            raise ValueError(f"market: no option-implied vol on {snap.date.date()} at {days:g} days for {missing}")
        return vols

    def _quantities(self, snap: Snapshot, unit: dict, spots: np.ndarray) -> np.ndarray:
        """Unsigned component quantities per index unit."""
        w = snap.weights
        if self.sizing == "vega":
            return vega_neutral(1.0, unit["vega"][-1], unit["vega"][:-1], w)
        if self.sizing == "theta":
            return theta_neutral(1.0, unit["theta"][-1], unit["theta"][:-1], w)
        if self.sizing == "gamma":
            return gamma_neutral(1.0, unit["gamma"][-1], spots[-1], unit["gamma"][:-1], spots[:-1], w)
        return notional_weighted(spots[-1], spots[:-1], w)
