"""Variance dispersion: short index variance against long component variance, next to the
straddle version of the same trade; and the fair variance and correlation strikes of a date.

Fair strikes (:func:`fair_strikes`): every name's variance strike is replicated from a strip of
``STRIP_COUNT`` strikes spread ``STRIP_WIDTH`` standard deviations each side of the forward
(:func:`~dispersionkit.replication_strikes`), dense enough that both error estimates are below
2e-4 of the variance under a flat smile. The vols on the strip come from ``strips``: a
function ``(name, forward, tau, atm_vol) -> (strikes, vols[, forward])`` for any source, or a
vol surface (:func:`surface_strips`, the thin adapter); by default the market's option surface
when it has one, else its one implied vol per name, i.e. a flat surface, where the fair
strike is vol^2 and the variance-implied correlation equals the ATM implied correlation.

The trade (:class:`VarianceDispersion`): long dispersion = short ``index_vega_notional`` of
index variance, long component variance with vega notionals by the usual conventions:

- ``sizing="vega"``: V_i = w_i V_I (vega notional weighted by index weights);
- ``sizing="theta"`` (vol-neutral, also called correlation-weighted): V_i = w_i V_I K_I / sum_j
  w_j K_j with K the vol strikes, so that sum_i N_i K_i^2 = N_I K_I^2: a proportional move
  of every vol at the implied correlation leaves the P&L unchanged, only correlation remains.

Variance notionals are N = V / (2 x vol strike in points); each leg pays N x (realized -
strike) in variance points at expiry (cap optional). The straddle version holds ATM straddles
with the same vega per vol point on every leg, delta hedged by :func:`hedged_pnl`. Both earn
the gap between realized and implied variance, but a delta-hedged straddle earns it weighted by
its dollar gamma, 0.5 Gamma S^2, which is largest when the spot sits at the strike and decays
as the spot moves away or time passes, so the same realized variance pays differently along
different paths; a variance swap weights every day's squared return equally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_choice, as_count, as_positive, as_real
from ..market.market_data import MarketData, snapshot
from ..market.snapshot import INDEX
from ..numeric.book import Book, straddle
from ..numeric.correlation import implied_correlation
from ..numeric.correlation_matrix import nearest_correlation
from ..numeric.correlation_swap import correlation_swap_strike, swap_realized_correlation
from ..numeric.greeks import PER_VOL_POINT
from ..numeric.hedge_policy import HedgePolicy
from ..numeric.hedged_pnl import hedged_pnl
from ..numeric.paths import simulate_market
from ..numeric.realized import TRADING_DAYS, realized_correlation
from ..numeric.variance_swap import (
    realized_variance,
    replication_strikes,
    variance_notional,
    variance_swap_payoff,
    variance_swap_strike,
)
from .sizing import straddle_greeks

STRIP_COUNT = 400
STRIP_WIDTH = 6.0
DT = 1.0 / TRADING_DAYS
CORRELATION_WINDOW = 63
FLAT_SOURCE = "flat surface: the market's one implied vol per name at every strike"


def flat_strips(name, forward, tau, atm_vol):
    """The default strip source: ``STRIP_COUNT`` strikes (:func:`replication_strikes`) at one vol."""
    strikes = replication_strikes(forward, tau, atm_vol, count=STRIP_COUNT, width=STRIP_WIDTH)
    return strikes, np.full(strikes.shape, atm_vol)


def surface_strips(
    surface, date, *, index_underlying: str = INDEX, count: int = STRIP_COUNT, width: float = STRIP_WIDTH
):
    """A strip source reading a volatility surface on ``date`` (the thin adapter to surfaces).

    ``surface``: any object with the ``lookup(dates, underlyings, tenor_days, *, strike=...,
    log_moneyness=...)`` query of :class:`~dispersionkit.VolSurface`, returning points with
    ``vol`` and ``forward``. Each name's strip is ``count`` strikes over ``width`` standard
    deviations around the surface's own forward, priced at the surface's vol at each strike; the
    index is looked up as ``index_underlying``. Returns the function :func:`variance_strikes`
    takes, giving (strikes, vols, forward).
    """

    def strips(name, forward, tau, atm_vol):
        underlying = index_underlying if name == INDEX else name
        days = tau * 365.0
        at_the_money = surface.lookup(date, underlying, days, log_moneyness=0.0)
        surface_forward, surface_vol = float(np.asarray(at_the_money.forward)), float(np.asarray(at_the_money.vol))
        if not (np.isfinite(surface_forward) and np.isfinite(surface_vol) and surface_vol > 0):
            raise ValueError(f"strips: the surface has no smile for {underlying!r} on {pd.Timestamp(date).date()}")
        strikes = replication_strikes(surface_forward, tau, surface_vol, count=count, width=width)
        return strikes, np.asarray(surface.lookup(date, underlying, days, strike=strikes).vol), surface_forward

    return strips


def _strip_source(market: MarketData, date, strips):
    """(strip function, description): the caller's function, a surface, the market's option surface, or flat."""
    if strips is None:
        # A market built from option quotes carries their surface; one vol per name is flat.
        surface = getattr(market, "surface", None)
        if surface is not None and getattr(market, "options_report", None) is not None:
            index_name = getattr(market, "index_underlying", INDEX)
            return surface_strips(surface, date, index_underlying=index_name), f"vol surface: {surface.source}"
        return flat_strips, FLAT_SOURCE
    if callable(getattr(strips, "lookup", None)):
        index_name = getattr(market, "index_underlying", INDEX)
        return surface_strips(
            strips, date, index_underlying=index_name
        ), f"vol surface: {getattr(strips, 'source', '')}"
    if callable(strips):
        return strips, "strips from the caller"
    raise TypeError(
        f"strips: expected a vol surface or a function (name, forward, tau, atm_vol) -> (strikes, vols), got {strips!r}"
    )


def variance_strikes(market: MarketData, date, tenor, *, strips=None, threads=None) -> pd.DataFrame:
    """Fair variance strikes of every component (positive weight) and the index on ``date``.

    ``tenor`` years (ACT/365); forwards S exp((r - q) tau). ``strips``: where each name's strip
    comes from: a function ``(name, forward, tau, atm_vol) -> (strikes, vols)`` or
    ``(strikes, vols, forward)`` for any source (the index is named "INDEX"), or a vol surface
    (:func:`surface_strips`); default the market's option surface when it was built from option
    quotes, else :func:`flat_strips` (one vol per name: a flat surface). Returns a DataFrame
    indexed by name (components, then INDEX): weight, forward, atm_vol, variance_strike,
    vol_strike, truncation_error, discretisation_error (attrs["source"] says where the vols came
    from). All strips go to the C++ core in one call when they have the same length.
    """
    tenor = as_positive(tenor, "tenor")
    snap = snapshot(market, date)
    source, described = _strip_source(market, date, strips)
    names = [*snap.names, INDEX]
    spots = np.append(snap.spots, snap.index_spot)
    divs = np.append(snap.div_yields, snap.index_div_yield)
    atm = np.append(snap.vols, snap.index_vol)
    forwards = spots * np.exp((snap.rate - divs) * tenor)
    strikes, vols = [], []
    for k, (name, f, v) in enumerate(zip(names, forwards, atm)):
        strip = source(name, f, tenor, v)
        if not isinstance(strip, tuple) or len(strip) not in (2, 3):
            raise TypeError(
                f"strips: must return (strikes, vols) or (strikes, vols, forward), got {type(strip).__name__}"
            )
        strikes.append(np.asarray(strip[0], dtype=np.float64))
        vols.append(np.broadcast_to(np.asarray(strip[1], dtype=np.float64), strikes[-1].shape))
        if len(strip) == 3:
            forwards[k] = strip[2]
    if len({k.shape for k in strikes}) == 1:
        result = variance_swap_strike(np.stack(strikes), np.stack(vols), forwards, tenor, snap.rate, threads=threads)
        columns = [result.strike, result.truncation_error, result.discretisation_error]
    else:
        each = [variance_swap_strike(k, v, f, tenor, snap.rate) for k, v, f in zip(strikes, vols, forwards)]
        columns = [
            np.array([getattr(r, a) for r in each]) for a in ("strike", "truncation_error", "discretisation_error")
        ]
    weights = np.append(snap.weights / snap.weights.sum(), np.nan)
    table = pd.DataFrame(
        {
            "weight": weights,
            "forward": forwards,
            "atm_vol": atm,
            "variance_strike": columns[0],
            "vol_strike": np.sqrt(columns[0]),
            "truncation_error": columns[1],
            "discretisation_error": columns[2],
        },
        index=pd.Index(names, name="name"),
    )
    table.attrs["source"] = described
    return table


@dataclass(frozen=True, eq=False)
class FairStrikes:
    """Fair variance strikes by name and the fair correlation strikes of one date.

    variance: :func:`variance_strikes` table. correlation: Series with the correlation implied by
    the variance strikes ("from variance swaps") and by the ATM vols ("from ATM vols").
    source: where the strips' vols came from (the flat-surface default says so).
    """

    date: pd.Timestamp
    tenor: float
    variance: pd.DataFrame
    correlation: pd.Series
    source: str

    def text(self) -> str:
        table = self.variance[["weight", "atm_vol", "vol_strike", "variance_strike", "truncation_error"]].copy()
        table["discretisation_error"] = self.variance["discretisation_error"]
        lines = [
            f"Fair strikes on {self.date.date()}, {self.tenor * 365:.0f}-day tenor ({self.source}):",
            table.to_string(
                formatters={
                    "weight": lambda x: "" if np.isnan(x) else f"{x:.3f}",
                    "atm_vol": "{:.2%}".format,
                    "vol_strike": "{:.2%}".format,
                    "variance_strike": "{:.5f}".format,
                    "truncation_error": "{:+.1e}".format,
                    "discretisation_error": "{:+.1e}".format,
                }
            ),
            f"fair correlation strike from variance swaps {self.correlation['from variance swaps']:.1%}; "
            f"from ATM vols {self.correlation['from ATM vols']:.1%} (a correlation swap's fair strike is usually a "
            "few points below the variance-implied value: see docs/methodology.md)",
        ]
        if self.source == FLAT_SOURCE:
            lines.append(
                "NOTE: a flat surface makes every variance strike vol^2 and the two correlation strikes equal."
            )
        return "\n".join(lines)


def fair_strikes(market: MarketData, date, tenor, *, strips=None, source: str | None = None) -> FairStrikes:
    """Variance strikes by name (:func:`variance_strikes`, ``strips`` as there) and the fair
    correlation strikes. ``source`` describes the strips in the text (default: where
    :func:`variance_strikes` took them from)."""
    table = variance_strikes(market, date, tenor, strips=strips)
    components = table.drop(index=INDEX)
    weights = components["weight"].to_numpy()
    from_variance = correlation_swap_strike(
        table.loc[INDEX, "variance_strike"], components["variance_strike"].to_numpy(), weights
    )
    from_atm = implied_correlation(table.loc[INDEX, "atm_vol"], components["atm_vol"].to_numpy(), weights)
    correlation = pd.Series(
        {
            "from variance swaps": float(np.asarray(from_variance.value)),
            "from ATM vols": float(np.asarray(from_atm.value)),
        },
        name="correlation_strike",
    )
    return FairStrikes(pd.Timestamp(date), float(tenor), table, correlation, source or table.attrs["source"])


# ---- the trade -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarianceDispersion:
    """A variance dispersion trade recipe (module docstring).

    direction: "long" (short index variance, long components) or "short". tenor: years (ACT/365);
    the swaps observe ``days`` = ceil(tenor x 252) daily returns. sizing: "vega" or "theta".
    index_vega_notional: money per vol point of the index leg (> 0). cap: realized vol cap as a
    multiple of each leg's vol strike (2.5 usual; None uncapped).
    """

    direction: str = "long"
    tenor: float = 30.0 / 365.0
    sizing: str = "vega"
    index_vega_notional: float = 100_000.0
    cap: float | None = None

    def __post_init__(self):
        as_choice(self.direction, "direction", ("long", "short"))
        as_choice(self.sizing, "sizing", ("vega", "theta"))
        as_positive(self.tenor, "tenor")
        as_positive(self.index_vega_notional, "index_vega_notional")
        if self.cap is not None and as_real(self.cap, "cap") < 1.0:
            raise ValueError(f"cap: a multiple of the vol strike >= 1, got {self.cap}")

    @property
    def days(self) -> int:
        """Daily observations of the swaps: the trading days to expiry, ceil(tenor x 252)."""
        return math.ceil(self.tenor * TRADING_DAYS - 1e-9)

    def legs(self, market: MarketData, date, *, strips=None) -> pd.DataFrame:
        """:func:`variance_strikes` plus signed vega and variance notionals (+ = long variance)."""
        table = variance_strikes(market, date, self.tenor, strips=strips)
        components = table.index != INDEX
        w, k = table["weight"].to_numpy(), table["vol_strike"].to_numpy()
        vega = np.where(components, w * self.index_vega_notional, self.index_vega_notional)
        if self.sizing == "theta":
            scale = k[~components][0] / np.sum(w[components] * k[components])
            vega = np.where(components, vega * scale, vega)
        sign = np.where(components, 1.0, -1.0) * (1.0 if self.direction == "long" else -1.0)
        table["vega_notional"] = sign * vega
        table["variance_notional"] = sign * np.asarray(variance_notional(vega, k))
        return table

    def payoff(self, legs: pd.DataFrame, realized: np.ndarray) -> np.ndarray:
        """P&L of every leg (last axis, ``legs`` order) for realized variances (..., legs)."""
        return np.asarray(
            variance_swap_payoff(
                realized, legs["variance_strike"].to_numpy(), legs["variance_notional"].to_numpy(), cap=self.cap
            )
        )

    def straddle_book(self, legs: pd.DataFrame, market: MarketData, date) -> Book:
        """ATM straddles (strike = spot) with each leg's vega notional per vol point, sign and tenor."""
        snap = snapshot(market, date)
        spots = np.append(snap.spots, snap.index_spot)
        divs = np.append(snap.div_yields, snap.index_div_yield)
        unit = straddle_greeks(spots, spots, self.tenor, legs["atm_vol"].to_numpy(), snap.rate, divs)
        quantity = legs["vega_notional"].to_numpy() / (unit.vega * PER_VOL_POINT)
        return Book([straddle(name, s, self.tenor, q) for name, s, q in zip(legs.index, spots, quantity)])


# ---- comparison over a history and over paths -------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VarianceVsStraddles:
    """The variance and straddle versions of one dispersion trade, over a history and over paths.

    history: one row per non-overlapping period (entry, exit, index vol strike and realized
    vol, term-sheet realized correlation, variance_pnl, straddle_pnl). paths: one row per
    simulated path (variance_pnl, straddle_pnl, index_move = |ln(index_T / index_0)|).
    legs: the legs on the simulation date. notes: the modelling choices.
    """

    trade: VarianceDispersion
    history: pd.DataFrame
    paths: pd.DataFrame
    legs: pd.DataFrame
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Mean, sd, VaR and ES at 95% (positive losses: the k-th worst P&L and the mean of the k
        worst, k = ceil(5% of the count)) and the correlation of the two versions, history and paths."""
        rows = {}
        for where, frame in (("history", self.history), ("paths", self.paths)):
            if frame.empty:
                continue
            corr = (
                float(np.corrcoef(frame["variance_pnl"], frame["straddle_pnl"])[0, 1]) if len(frame) > 2 else math.nan
            )
            for version in ("variance", "straddle"):
                pnl = frame[f"{version}_pnl"].to_numpy()
                k = max(1, math.ceil(round(0.05 * pnl.size, 9)))
                worst = np.sort(pnl)[:k]
                rows[(where, version)] = {
                    "count": pnl.size,
                    "mean": pnl.mean(),
                    "sd": pnl.std(ddof=1) if pnl.size > 1 else math.nan,
                    "VaR 95%": -worst[-1],
                    "ES 95%": -worst.mean(),
                    "corr(variance, straddle)": corr,
                }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.names = ["sample", "version"]
        return frame

    def gamma_table(self) -> pd.DataFrame:
        """Paths grouped by quintile of the index's move: mean P&L of each version and the gap."""
        paths = self.paths
        quintile = pd.qcut(paths["index_move"], 5, labels=["Q1 (index stays)", "Q2", "Q3", "Q4", "Q5 (index moves)"])
        grouped = paths.groupby(quintile, observed=True)[["index_move", "variance_pnl", "straddle_pnl"]].mean()
        grouped["straddle - variance"] = grouped["straddle_pnl"] - grouped["variance_pnl"]
        return grouped

    def text(self) -> str:
        lines = [
            f"Variance vs straddle dispersion ({self.trade.direction}, {self.trade.sizing} sizing, index vega notional "
            f"{self.trade.index_vega_notional:,.0f} per vol point, {self.trade.days} trading days)",
            self.to_frame().to_string(float_format=lambda x: f"{x:,.2f}" if abs(x) < 10 else f"{x:,.0f}"),
        ]
        lines += [
            "Why they differ: a delta-hedged straddle earns each day's realized minus implied variance weighted by",
            "its dollar gamma, 0.5 Gamma S^2, which peaks with the spot at the strike, decays as the spot moves away",
            "and grows into expiry near the strike; a variance swap weights every day's squared return equally.",
            "So the straddle's P&L depends on where the spots travel, not only on how much variance they realize:",
        ]
        if not self.paths.empty:
            lines += [
                "simulated paths by quintile of the index's move |ln(I_T/I_0)| (mean P&L):",
                self.gamma_table().to_string(float_format=lambda x: f"{x:.4f}" if abs(x) < 1 else f"{x:,.0f}"),
            ]
        lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)


def trailing_correlation(market: MarketData, snap) -> np.ndarray:
    """The components' realized correlation matrix over the ``CORRELATION_WINDOW`` daily returns
    up to the snapshot's date, repaired to the nearest valid matrix; ValueError if undefined."""
    arrays = market.arrays
    first = snap.row - CORRELATION_WINDOW
    if first < 0:
        raise ValueError(
            f"market: {CORRELATION_WINDOW} daily returns before {snap.date.date()} are needed for the trailing "
            f"correlation matrix, the data starts {arrays.dates[0].date()}"
        )
    prices = arrays.spots[first : snap.row + 1][:, snap.columns]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.ascontiguousarray(np.log(prices[1:] / prices[:-1]))
    matrix = np.asarray(realized_correlation(returns, CORRELATION_WINDOW, method="matrix"))[-1]
    if not np.isfinite(matrix).all():
        raise ValueError(
            f"market: the trailing {CORRELATION_WINDOW}-day correlation matrix on {snap.date.date()} is undefined "
            "(missing returns)"
        )
    return nearest_correlation(matrix)


def _period_starts(market: MarketData, days: int, start, end) -> list[int]:
    dates = market.dates
    first = 0 if start is None else int(dates.searchsorted(pd.Timestamp(start)))
    last = len(dates) - 1 if end is None else int(dates.searchsorted(pd.Timestamp(end), side="right")) - 1
    return list(range(first, last - days + 1, days))


def _history(trade: VarianceDispersion, market: MarketData, start, end, policy, strips, threads):
    rows, skipped = [], []
    arrays = market.arrays
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = np.log(arrays.spots[1:] / arrays.spots[:-1])  # row t - 1 = return into date t
        log_i = np.log(arrays.index[1:] / arrays.index[:-1])
    for t in _period_starts(market, trade.days, start, end):
        date = arrays.dates[t]
        try:
            legs = trade.legs(market, date, strips=strips)
        except ValueError as error:  # missing spot or vol on the entry date: the period is reported as skipped
            skipped.append(f"{date.date()}: {error}")
            continue
        columns = arrays.snapshot(t).columns
        names = [n for n in legs.index if n != INDEX]
        held = slice(t, t + trade.days + 1)
        returns = log_c[t : t + trade.days][:, columns]
        index_returns = log_i[t : t + trade.days]
        vols = np.column_stack([arrays.vols[held][:, columns], arrays.index_vol[held]])
        if not (np.isfinite(returns).all() and np.isfinite(index_returns).all() and np.isfinite(vols).all()):
            skipped.append(f"{date.date()}: missing prices or vols inside the period")
            continue
        realized = np.append(realized_variance(returns), realized_variance(index_returns))
        spots = np.column_stack([arrays.spots[held][:, columns], arrays.index[held]])
        result = hedged_pnl(
            trade.straddle_book(legs, market, date),
            spots,
            vols,
            rate=float(arrays.rate[t]),
            div_yield=np.append(
                arrays.div_yields[t][columns], legs["weight"].iloc[:-1] @ arrays.div_yields[t][columns]
            ),
            policy=policy,
            detail="summary",
            names=[*names, INDEX],
            vols_by="underlying",
            threads=threads,
        )
        rows.append(
            {
                "entry": date,
                "exit": arrays.dates[t + trade.days],
                "index_vol_strike": legs.loc[INDEX, "vol_strike"],
                "index_realized_vol": math.sqrt(realized[-1]),
                "realized_correlation": swap_realized_correlation(returns, weights=legs["weight"].iloc[:-1].to_numpy()),
                "variance_pnl": float(trade.payoff(legs, realized).sum()),
                "straddle_pnl": float(result.summary.total[0]),
            }
        )
    return pd.DataFrame(rows), skipped


def compare_variance_and_straddles(
    market: MarketData,
    date,
    trade: VarianceDispersion | None = None,
    *,
    start=None,
    end=None,
    paths: int = 10_000,
    seed: int = 0,
    correlation: float | None = None,
    policy: HedgePolicy | None = None,
    strips=None,
    threads=None,
) -> VarianceVsStraddles:
    """The variance and straddle versions of ``trade`` over the market's history and over paths.

    History: non-overlapping periods of ``trade.days`` trading days from ``start`` to ``end``
    (default the whole market); each period's legs are sized on its entry date, the variance
    legs settle on the term-sheet realized variance of the period, the straddles are delta
    hedged by ``policy`` at the market's implied vols. Periods with missing data are skipped and
    listed in ``notes``. Paths: ``paths`` simulations from ``date`` (:func:`simulate_market`,
    realized vols = implied vols, correlation = the trailing 63-day realized matrix, or the
    equicorrelation ``correlation`` when given; the index is the basket of the components) with
    the legs of ``date``. Same ``seed``, same paths.
    """
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    trade = VarianceDispersion() if trade is None else trade
    if not isinstance(trade, VarianceDispersion):
        raise TypeError(f"trade: expected a VarianceDispersion, got {type(trade).__name__}")
    policy = HedgePolicy() if policy is None else policy
    paths = as_count(paths, "paths", 0)
    history, skipped = _history(trade, market, start, end, policy, strips, threads)
    legs = trade.legs(market, date, strips=strips)
    names = [n for n in legs.index if n != INDEX]
    snap = snapshot(market, date)
    n = len(names)
    if correlation is None:
        corr = trailing_correlation(market, snap)
        corr_note = f"path correlation: trailing {CORRELATION_WINDOW}-day realized matrix on {snap.date.date()}"
    else:
        correlation = as_real(correlation, "correlation")
        corr = np.full((n, n), correlation)
        np.fill_diagonal(corr, 1.0)
        corr_note = f"path correlation: equicorrelation {correlation:.2f}"
    simulated = simulate_market(
        snap.spots,
        snap.vols,
        corr,
        steps=trade.days,
        paths=paths,
        drift=snap.rate - snap.div_yields,
        index_weights=snap.weights,
        index0=snap.index_spot,
        seed=seed,
        threads=threads,
    )
    path_frame = pd.DataFrame(columns=["variance_pnl", "straddle_pnl", "index_move"])
    if paths:
        realized = np.concatenate(
            [
                realized_variance(simulated.log_returns(), axis=1),
                realized_variance(simulated.index_log_returns(), axis=1)[:, None],
            ],
            axis=1,
        )
        spots = np.concatenate([simulated.components, simulated.index[:, :, None]], axis=2)
        marks = np.append(snap.vols, snap.index_vol)
        result = hedged_pnl(
            trade.straddle_book(legs, market, date),
            spots,
            marks,
            rate=snap.rate,
            div_yield=np.append(snap.div_yields, snap.index_div_yield),
            policy=policy,
            detail="summary",
            names=[*names, INDEX],
            vols_by="underlying",
            threads=threads,
        )
        path_frame = pd.DataFrame(
            {
                "variance_pnl": trade.payoff(legs, realized).sum(axis=1),
                "straddle_pnl": result.summary.total,
                "index_move": np.abs(np.log(simulated.index[:, -1] / simulated.index[:, 0])),
            }
        )
    notes = [
        f"strikes: {legs.attrs.get('source', FLAT_SOURCE)}",
        f"implied vols: {market.vol_source}",
        f"paths from {snap.date.date()}: GBM at the implied vols, {corr_note}, index = basket of the components, "
        f"seed {seed}",
        f"straddles: ATM, delta hedged every {policy.every} day(s), costs {policy.hedge_cost_bps:g} bps + "
        f"{policy.option_half_spread:g} vol pt half-spread; variance swaps: no costs",
    ]
    if history.empty:
        notes.append("history: no complete period in the range")
    else:
        notes.append(
            f"history: {len(history)} periods {history['entry'].iloc[0].date()}..{history['exit'].iloc[-1].date()}"
        )
    if skipped:
        notes.append(f"history: {len(skipped)} periods skipped for missing data, first {skipped[0]}")
    return VarianceVsStraddles(trade, history, path_frame, legs, tuple(notes))
