"""Implied-volatility surfaces per date and underlying: :class:`VolSurface`.

Built from option rows in the long format (:func:`VolSurface.from_options`) or from one vol
per date and name (:func:`VolSurface.flat`, the same vol at every strike and tenor). Queries
are constant-maturity: a tenor in calendar days (tau = days / 365) and a strike given as a
price, a moneyness K/S, a log-forward-moneyness ln(K/F) or a Black-Scholes delta. The
interpolation rules are those of :mod:`dispersionkit.numeric.surface` (docs/volatility-surfaces.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_float_array, as_real, resolve_threads
from ..numeric.surface import BUTTERFLY, CALENDAR, SurfaceGrid, build_surface_grid, delta_strike, query_surface
from . import _checks as checks
from .options import QUOTES, prepare_options

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, eq=False, repr=False)
class SurfacePoints:
    """Points of a surface (arrays of the broadcast query shape): vol (decimal), strike,
    forward, tau (years) and log_moneyness ln(K/F). NaN where the surface has no data."""

    vol: np.ndarray
    strike: np.ndarray
    forward: np.ndarray
    tau: np.ndarray
    log_moneyness: np.ndarray

    def __repr__(self) -> str:
        return f"SurfacePoints(shape {self.vol.shape}, {int(np.isnan(self.vol).sum())} NaN vols)"


@dataclass(frozen=True, eq=False, repr=False)
class VolSurface:
    """Implied vol by date, underlying, tenor and strike (immutable).

    Attributes
    ----------
    spots : DataFrame dates x underlyings, the spot each date's smiles are anchored to.
    rate : Series by date, continuous rate used to discount (delta conversions).
    nodes : the option rows in use: date, underlying, expiry, strike, option_type,
        implied_vol, tau, log_moneyness, total_variance, flags (1 calendar, 2 butterfly).
    rejected : rows that could not be used, with the reason (``options.REASONS``).
    report : Series reason -> rows ("used" first).
    source : where the vols come from ("options: ...", "flat: ...").
    grid : the :class:`~dispersionkit.numeric.surface.SurfaceGrid` the queries run on.
    """

    grid: SurfaceGrid
    spots: pd.DataFrame
    rate: pd.Series
    nodes: pd.DataFrame
    rejected: pd.DataFrame
    report: pd.Series
    source: str

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.spots.index

    @property
    def underlyings(self) -> pd.Index:
        return self.spots.columns

    @classmethod
    def from_options(
        cls,
        options,
        spots,
        *,
        rate=0.0,
        div_yields=0.0,
        quotes: str = "otm",
        tolerance: float = 1e-6,
        source: str | None = None,
        threads=None,
    ) -> VolSurface:
        """A surface from long-format option rows (:func:`dispersionkit.read_options` or a vendor reader).

        spots: DataFrame dates x underlyings (> 0 where present): the calendar and names of the
            surface; rows on other dates or names are rejected with a reason.
        rate: continuous rate, a number or a Series by date (forwards where the rows give no
            forward or rate, and discounting). div_yields: a number, a Series by underlying or
            a DataFrame like ``spots`` (forwards where the rows give neither forward nor yield).
        quotes: "otm" (default: puts below the forward, calls at or above it), "calls" or "puts".
        tolerance: slack of the arbitrage flags, in total variance (calendar) and in units of
            the forward (butterflies and call spreads).
        """
        spots, rate, div_yields = _market(spots, rate, div_yields)
        if quotes not in QUOTES:
            raise ValueError(f"quotes: expected one of {QUOTES}, got {quotes!r}")
        prepared = prepare_options(options, spots, rate, div_yields, quotes=quotes)
        a = prepared.arrays
        grid = build_surface_grid(
            a["group"], a["tau"], a["k"], a["w"], a["logfwd"], spots.size, tolerance=tolerance, threads=threads
        )
        used = prepared.table.loc[prepared.used]
        nodes = used.iloc[grid.node_row][
            [c for c in ("date", "underlying", "expiry", "strike", "option_type", "implied_vol") if c in used]
        ].copy()
        nodes["tau"] = a["tau"][grid.node_row]
        nodes["log_moneyness"] = grid.node_k
        nodes["total_variance"] = grid.node_w
        nodes["flags"] = grid.node_flags
        n_used = int(prepared.used.sum())
        described = source or f"options: {n_used} quotes ({quotes}), {int((~prepared.used).sum())} rejected"
        return cls(grid, spots, rate, nodes, prepared.rejected(), prepared.report(), described)

    @classmethod
    def flat(cls, vols, spots, *, rate=0.0, div_yields=0.0, source: str = "flat", threads=None) -> VolSurface:
        """The same vol at every strike and tenor: ``vols`` dates x underlyings like ``spots``.

        Forwards are S e^{(r - q) tau} with ``rate`` and ``div_yields`` as in :meth:`from_options`.
        A NaN vol (or spot) leaves that date and name without a surface (queries give NaN).
        """
        spots, rate, div_yields = _market(spots, rate, div_yields)
        vols = checks.frame_like(vols, "vols", spots.index, spots.columns)
        checks.nonnegative_or_nan(vols, "vols")
        sigma = vols.to_numpy()
        carry = rate.to_numpy()[:, None] - div_yields.to_numpy()
        have = np.isfinite(sigma) & np.isfinite(spots.to_numpy()) & np.isfinite(carry)
        d_pos, u_pos = np.nonzero(have)
        group = (d_pos * spots.shape[1] + u_pos).astype(np.int64)
        # One node per date and name at the forward, one year out: flat in strike and, by the
        # constant-vol extrapolation in tenor, the same vol at every tenor.
        grid = build_surface_grid(
            group,
            np.ones(len(group)),
            np.zeros(len(group)),
            sigma[have] ** 2,
            carry[have],
            spots.size,
            threads=threads,
        )
        nodes = pd.DataFrame(
            {
                "date": spots.index[d_pos],
                "underlying": spots.columns[u_pos],
                "implied_vol": sigma[have],
                "tau": 1.0,
                "log_moneyness": 0.0,
                "total_variance": sigma[have] ** 2,
                "flags": np.zeros(len(group), dtype=np.uint8),
            }
        ).iloc[grid.node_row]
        empty = pd.DataFrame(columns=["date", "underlying", "reason"])
        report = pd.Series({"used": len(group)}, name="rows").rename_axis("reason")
        return cls(grid, spots, rate, nodes.reset_index(drop=True), empty, report, source)

    # -- queries -------------------------------------------------------------------------

    def lookup(
        self,
        dates,
        underlyings,
        tenor_days,
        *,
        strike=None,
        moneyness=None,
        log_moneyness=None,
        delta=None,
        threads=None,
    ) -> SurfacePoints:
        """Vol, strike and forward at broadcast (dates, underlyings, tenor_days, strike spec).

        Exactly one strike spec: ``strike`` (price), ``moneyness`` (K/S), ``log_moneyness``
        (ln(K/F); 0 is at the money forward) or ``delta``: a Black-Scholes spot delta at the
        surface's own vol, e^{-q tau} N(d1) for calls (0 < delta < 1) and -e^{-q tau} N(-d1)
        for puts (-1 < delta < 0), q the dividend yield implied by the forward and ``rate``;
        the strike is solved so that dk.bs_greeks at (K, vol(K)) gives back ``delta``.
        ``tenor_days``: calendar days (> 0), tau = days / 365. Dates and underlyings must
        belong to the surface; where a date and name has no option data the result is NaN.
        """
        resolve_threads(threads)
        given = {
            k: v
            for k, v in dict(strike=strike, moneyness=moneyness, log_moneyness=log_moneyness, delta=delta).items()
            if v is not None
        }
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of strike, moneyness, log_moneyness, delta; got {sorted(given) or 'none'}"
            )
        ((kind, value),) = given.items()
        d_pos = _positions(self.dates, pd.DatetimeIndex(np.atleast_1d(pd.to_datetime(dates)).ravel()), "dates")
        d_pos = d_pos.reshape(np.shape(dates))
        u_pos = _positions(
            self.underlyings, pd.Index(np.atleast_1d(np.asarray(underlyings, dtype=object)).ravel()), "underlyings"
        )
        u_pos = u_pos.reshape(np.shape(underlyings))
        tenor = as_float_array(tenor_days, "tenor_days")
        if np.any(~(tenor > 0)):
            raise ValueError("tenor_days: must be > 0 (calendar days)")
        value = as_float_array(value, kind)
        try:
            d_pos, u_pos, tenor, value = np.broadcast_arrays(d_pos, u_pos, tenor, value)
        except ValueError:
            raise ValueError(f"dates, underlyings, tenor_days and {kind} do not broadcast together") from None
        group = d_pos * len(self.underlyings) + u_pos
        spot = self.spots.to_numpy()[d_pos, u_pos]
        tau = tenor / DAYS_PER_YEAR
        if kind == "delta":
            vol, k, logfwd = self._delta(group, tau, value, self.rate.to_numpy()[d_pos], threads)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.log(value / spot) if kind == "strike" else np.log(value) if kind == "moneyness" else value
            vol, logfwd = query_surface(
                self.grid, group, tau, x, log_spot_moneyness=kind != "log_moneyness", threads=threads
            )
            k = x - logfwd if kind != "log_moneyness" else x
        forward = spot * np.exp(logfwd)
        strike_out = forward * np.exp(k)
        missing = np.isnan(vol)
        return SurfacePoints(vol, np.where(missing, np.nan, strike_out), forward, tau, np.where(missing, np.nan, k))

    def otm_strip(self, date, underlying, tenor_days, strikes, *, threads=None) -> pd.DataFrame:
        """Out-of-the-money options at ``strikes`` for one date, underlying and tenor: the strip a
        variance-swap replication prices. Columns: strike, option_type ("P" below the forward,
        "C" at or above it), vol, forward, tau (years) and discount e^{-r tau} (the surface's
        rate on that date). For many dates or names at once, use :meth:`lookup`."""
        strikes = np.atleast_1d(as_float_array(strikes, "strikes"))
        if strikes.ndim != 1:
            raise ValueError(f"strikes: expected a 1-D array of strikes, got shape {strikes.shape}")
        points = self.lookup(date, underlying, tenor_days, strike=strikes, threads=threads)
        rate = float(self.rate.to_numpy()[_positions(self.dates, pd.DatetimeIndex([pd.Timestamp(date)]), "date")[0]])
        with np.errstate(invalid="ignore"):
            call = strikes >= points.forward
        return pd.DataFrame(
            {
                "strike": strikes,
                "option_type": np.where(call, "C", "P"),
                "vol": points.vol,
                "forward": points.forward,
                "tau": points.tau,
                "discount": np.exp(-rate * points.tau),
            }
        )

    def _delta(self, group, tau, delta, rate, threads):
        from scipy.special import ndtri

        if np.any((np.abs(delta) >= 1) | (delta == 0) | np.isnan(delta)):
            raise ValueError("delta: must lie in (0, 1) for calls or (-1, 0) for puts")
        _, logfwd = query_surface(
            self.grid, group, tau, np.zeros(group.shape), log_spot_moneyness=False, threads=threads
        )
        with np.errstate(invalid="ignore", over="ignore"):
            # N(d1) = delta e^{q tau} for calls, N(-d1) = -delta e^{q tau} for puts, with
            # e^{-q tau} = e^{-r tau} F / S.
            p = np.abs(delta) * np.exp(rate * tau - logfwd)
            d1 = np.where(delta > 0, ndtri(p), -ndtri(p))
            d1 = np.where(p < 1.0, d1, np.nan)
        k, vol, logfwd = delta_strike(self.grid, group, tau, d1, threads=threads)
        return vol, k, logfwd

    def _grid_query(self, tenor_days, threads, **spec) -> SurfacePoints:
        ((kind, value),) = spec.items()
        if isinstance(value, pd.DataFrame):
            value = value.reindex(index=self.dates, columns=self.underlyings).to_numpy(dtype=np.float64)
        return self.lookup(
            self.dates.to_numpy()[:, None],
            self.underlyings.to_numpy()[None, :],
            tenor_days,
            threads=threads,
            **{kind: value},
        )

    def _frame(self, values) -> pd.DataFrame:
        return pd.DataFrame(values, index=self.dates, columns=self.underlyings)

    def vol(
        self, tenor_days, *, strike=None, moneyness=None, log_moneyness=None, delta=None, threads=None
    ) -> pd.DataFrame:
        """Vols dates x underlyings at ``tenor_days`` and one strike spec (see :meth:`lookup`):
        a number for every date and name, or a DataFrame dates x underlyings."""
        spec = {
            k: v
            for k, v in dict(strike=strike, moneyness=moneyness, log_moneyness=log_moneyness, delta=delta).items()
            if v is not None
        }
        if len(spec) != 1:
            raise ValueError(
                f"give exactly one of strike, moneyness, log_moneyness, delta; got {sorted(spec) or 'none'}"
            )
        return self._frame(self._grid_query(tenor_days, threads, **spec).vol)

    def atm(self, tenor_days, *, threads=None) -> pd.DataFrame:
        """At-the-money-forward (K = F) vols, dates x underlyings, at ``tenor_days``."""
        return self._frame(self._grid_query(tenor_days, threads, log_moneyness=0.0).vol)

    def strike(self, tenor_days, *, delta, threads=None) -> pd.DataFrame:
        """Strikes at ``delta`` (signed: calls > 0, puts < 0), dates x underlyings."""
        return self._frame(self._grid_query(tenor_days, threads, delta=delta).strike)

    def forward(self, tenor_days, *, threads=None) -> pd.DataFrame:
        """Forward prices at ``tenor_days``, dates x underlyings (NaN without option data)."""
        return self._frame(self._grid_query(tenor_days, threads, log_moneyness=0.0).forward)

    @property
    def arbitrage(self) -> pd.DataFrame:
        """Input rows flagged for calendar or butterfly arbitrage (column ``kind``)."""
        flagged = self.nodes[self.nodes["flags"].to_numpy() != 0].copy()
        flags = flagged["flags"].to_numpy()
        kinds = np.where(
            (flags & CALENDAR) & (flags & BUTTERFLY),
            "calendar+butterfly",
            np.where(flags & CALENDAR, "calendar", "butterfly"),
        )
        flagged["kind"] = kinds
        return flagged

    def __repr__(self) -> str:
        flags = self.nodes["flags"].to_numpy()
        return (
            f"VolSurface({len(self.dates)} dates x {len(self.underlyings)} underlyings, {len(self.nodes)} quotes, "
            f"{len(self.rejected)} rejected, {int(np.count_nonzero(flags & CALENDAR))} calendar / "
            f"{int(np.count_nonzero(flags & BUTTERFLY))} butterfly flags; {self.source})"
        )


def _positions(have: pd.Index, want: pd.Index, name: str) -> np.ndarray:
    pos = have.get_indexer(want)
    if (pos < 0).any():
        bad = want[np.flatnonzero(pos < 0)[0]]
        shown = bad.date() if isinstance(bad, pd.Timestamp) else repr(bad)
        raise ValueError(f"{name}: {shown} is not in the surface")
    return pos


def _market(spots, rate, div_yields):
    spots = checks.dated_frame(spots, "spots")
    checks.positive_or_nan(spots, "spots")
    dates, names = spots.index, spots.columns
    if isinstance(rate, pd.Series):
        rate = checks.series_like(rate, "rate", dates)
    else:
        rate = pd.Series(as_real(rate, "rate"), index=dates)
    if isinstance(div_yields, pd.DataFrame):
        div_yields = checks.frame_like(div_yields, "div_yields", dates, names)
    elif isinstance(div_yields, pd.Series):
        div_yields = checks.ticker_series(div_yields, "div_yields", names)
        div_yields = pd.DataFrame(np.broadcast_to(div_yields.to_numpy(), spots.shape), index=dates, columns=names)
    else:
        div_yields = pd.DataFrame(as_real(div_yields, "div_yields"), index=dates, columns=names)
    return spots, rate.rename("rate"), div_yields


__all__ = ["SurfacePoints", "VolSurface"]
