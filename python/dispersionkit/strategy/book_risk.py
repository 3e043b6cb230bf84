"""Path risk of a live dispersion book: its P&L distribution to expiry (or a horizon) by scenario.

For each scenario the book's underlyings are simulated with :func:`~dispersionkit.simulate_market`
(or replayed from history), the book is delta hedged with its :class:`HedgePolicy` by
:func:`~dispersionkit.hedged_pnl`, and the P&L of every path is kept; the result reports the
distribution (mean, sd, value at risk and expected shortfall at 95 / 99%, probability of losing
the premium) beside the Greeks at the start and the instantaneous stress of the same move.

Model of one scenario (every choice is printed with the results):

- Components follow correlated GBM, one step per trading day (dt = 1/252), drift = rate minus
  dividend yield, realized vols = today's implied vols plus ``vol_shift``. Correlation: the
  trailing 63-day realized correlation matrix of the components on the date (repaired to the
  nearest valid matrix), moved to the average ``correlation`` by
  :func:`~dispersionkit.stress_correlation` when the scenario sets one, or switched by
  ``regimes``. The index is the basket of the components with constant shares (index weights
  of the date), starting at the index level of the date; optional market-wide ``jumps`` move
  every component (and so the index) by a common lognormal factor, not compensated.
- Implied vols marking the options: each leg's own (``Position.legs["vol"]``) on the first
  date; from the next date on, component legs at theirs + ``vol_shift`` and index legs scaled
  by the index vol re-implied from the shifted component vols at average correlation
  ``correlation`` (today's implied correlation when None) by the equicorrelation formula over
  today's, as the instantaneous stress grid does. So "correlation jumps to 0.9 and stays" marks
  the index up on day one and realizes 0.9 afterwards.
- Historical windows (``history``): daily log returns of the stocks and the index in the window,
  from the market itself (the bundled S&P 500 market covers 1990-2022) or from the caller's
  ``history=(prices, index)`` (e.g. ``dispersionkit.data.load_sp500()``), each series scaled by
  the book name's implied vol over the series' realized vol in the 252 days before the window
  (the crisis's vol multiple lands on today's level); a book name absent from that data takes
  another stock's returns, in turn. A default window the data does not cover is left out and
  listed in ``skipped``; one asked for by name raises. The
  distribution comes from a stationary block bootstrap of the window's days (mean block
  ``BLOCK_DAYS``), rows of all names together, so cross-correlation and fat tails are kept;
  ``replay`` is the P&L of the window's own first days in order. Implied vols stay at today's.

Random numbers are keyed by (seed, absolute path): :meth:`BookRiskSetup.run_paths` computes
paths [first_path, first_path + paths) and :meth:`BookRiskSetup.combine` joins any split of a
range, identical to one call for any thread count and any split (e.g. chunks on a cluster).
Every scenario uses the same path numbers (common random numbers), so scenarios compare
path by path.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .._validation import as_count, as_fraction, as_real, resolve_threads
from ..market.market_data import MarketData, snapshot
from ..market.snapshot import INDEX
from ..numeric.correlation import equicorrelation_values, index_vol
from ..numeric.correlation_matrix import stress_correlation_values
from ..numeric.hedge_policy import HedgePolicy
from ..numeric.hedged_pnl import hedged_pnl
from ..numeric.paths import simulate_market
from ..numeric.realized import TRADING_DAYS
from ..numeric.regimes import Regimes
from .position import Position
from .risk import Survivability, SurvivabilityLimits, survivability
from .stress import stress_grid
from .trade import DispersionTrade
from .variance_dispersion import trailing_correlation

DT = 1.0 / TRADING_DAYS
CORRELATION_WINDOW = 63
"""Trading days of the trailing realized correlation matrix the simulations start from."""
BLOCK_DAYS = 5.0
"""Mean block length (days) of the stationary bootstrap of historical windows."""
CALM_DAYS = 252
"""Days before a historical window whose realized vol sets the scale of its returns."""
LEVELS = (0.95, 0.99)
_BLOCK_PATHS = 4096  # paths per internal batch: bounds memory, results do not depend on it


@dataclass(frozen=True)
class Jumps:
    """Market-wide jumps: ``intensity`` expected jumps a year (at most one a day), each moving
    every component by exp(J), J normal with ``mean`` and ``sd`` (log terms, e.g. -0.08, 0.04)."""

    intensity: float
    mean: float
    sd: float

    def __post_init__(self):
        intensity = as_real(self.intensity, "jumps.intensity")
        if not 0 <= intensity * DT <= 1:
            raise ValueError(f"jumps.intensity: a rate per year in [0, 252], got {intensity}")
        as_real(self.mean, "jumps.mean")
        if as_real(self.sd, "jumps.sd") < 0:
            raise ValueError(f"jumps.sd: must be >= 0, got {self.sd}")


@dataclass(frozen=True)
class Scenario:
    """One world to simulate the book in (module docstring).

    name: the label in tables. correlation: average realized correlation (the trailing matrix
    moved there) and the level the index is re-implied at; None keeps both as they are.
    vol_shift: added to every component vol, realized and implied (decimals: 0.10 = 10 points).
    history: (first, last) dates of a window of daily closes to replay instead of GBM.
    regimes: correlation regimes (a :class:`Regimes` over the components) instead of one matrix.
    jumps: optional market-wide :class:`Jumps`.
    remark: True re-marks the implied vols from the next date (the market moves with the
    scenario); False keeps today's implied vols to the end, so the move is realized only.
    """

    name: str
    correlation: float | None = None
    vol_shift: float = 0.0
    history: tuple[str, str] | None = None
    regimes: Regimes | None = None
    jumps: Jumps | None = None
    remark: bool = True

    def __post_init__(self):
        if not isinstance(self.remark, bool):
            raise TypeError(f"remark: expected a bool, got {type(self.remark).__name__}")
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name: expected a non-empty str, got {self.name!r}")
        if self.correlation is not None:
            correlation = as_real(self.correlation, "correlation")
            if not -1.0 <= correlation <= 1.0:
                raise ValueError(f"correlation: must lie in [-1, 1], got {correlation}")
        as_real(self.vol_shift, "vol_shift")
        if self.history is not None:
            if not (isinstance(self.history, tuple) and len(self.history) == 2):
                raise TypeError(f"history: expected (first, last) dates, got {self.history!r}")
            first, last = (pd.Timestamp(d) for d in self.history)
            if not first < last:
                raise ValueError(f"history: first date {first.date()} is not before last {last.date()}")
            if self.correlation is not None or self.vol_shift or self.regimes is not None:
                raise ValueError("history: a replayed window sets returns itself; drop correlation/vol_shift/regimes")
        if self.regimes is not None and not isinstance(self.regimes, Regimes):
            raise TypeError(f"regimes: expected a dispersionkit.Regimes, got {type(self.regimes).__name__}")
        if self.jumps is not None and not isinstance(self.jumps, Jumps):
            raise TypeError(f"jumps: expected a Jumps, got {type(self.jumps).__name__}")

    def describe(self) -> str:
        """The scenario's assumptions in one line."""
        if self.history is not None:
            text = (
                f"bootstrap of daily returns {self.history[0]}..{self.history[1]}, scaled to the book's "
                "implied vols / pre-window realized vols; implied vols unchanged"
            )
        else:
            corr = (
                "trailing 63-day realized correlation matrix"
                if self.correlation is None
                else f"trailing matrix moved to average {self.correlation:.2f}"
            )
            if self.regimes is not None:
                corr = f"{self.regimes.count} correlation regimes"
            vols = "realized = implied vols" if not self.vol_shift else f"vols {self.vol_shift * 100:+g} points"
            moved = self.correlation is not None or self.vol_shift
            marks = (
                ("; implied vols re-marked to it from day 1" if self.remark else "; implied vols unchanged")
                if moved
                else ""
            )
            text = f"GBM, {vols}, {corr}{marks}"
        if self.jumps is not None:
            j = self.jumps
            text += f"; market jumps {j.intensity:g}/year, log size N({j.mean:g}, {j.sd:g}), not compensated"
        return text


NAMED_SCENARIOS: dict[str, Scenario] = {
    "base": Scenario("base"),
    "correlation 0.9": Scenario("correlation 0.9", correlation=0.9),
    "correlation 0.9, marks unchanged": Scenario("correlation 0.9, marks unchanged", correlation=0.9, remark=False),
    "vols +10": Scenario("vols +10", vol_shift=0.10),
    "2008-09/10": Scenario("2008-09/10", history=("2008-09-01", "2008-10-31")),
    "2020-02/03": Scenario("2020-02/03", history=("2020-02-01", "2020-03-31")),
}
"""The scenarios :func:`book_risk` runs by default, by name."""


def _scenarios(scenario) -> tuple[Scenario, ...]:
    if scenario is None:
        return tuple(NAMED_SCENARIOS.values())
    items = scenario if isinstance(scenario, (list, tuple)) else [scenario]
    if not items:
        raise ValueError("scenario: an empty list")
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in NAMED_SCENARIOS:
                raise ValueError(f"scenario: {item!r} is not a named scenario; names are {list(NAMED_SCENARIOS)}")
            item = NAMED_SCENARIOS[item]
        elif not isinstance(item, Scenario):
            raise TypeError(f"scenario: expected a name or a Scenario, got {type(item).__name__}")
        out.append(item)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario: names must be unique, got {names}")
    return tuple(out)


# ---- results -----------------------------------------------------------------------------------


def _tail(pnl: np.ndarray, level: float) -> tuple[float, float]:
    """(value at risk, expected shortfall) at ``level`` as positive losses: the k-th worst P&L
    and the mean of the k worst, k = ceil((1 - level) x paths)."""
    if pnl.size == 0:
        return math.nan, math.nan
    k = max(1, math.ceil(round((1.0 - level) * pnl.size, 9)))
    worst = np.partition(pnl, k - 1)[:k]
    return -float(worst.max()), -float(worst.mean())


@dataclass(frozen=True, eq=False)
class BookRisk:
    """P&L distribution of a book by scenario (money, the book's currency).

    pnl: (scenarios, paths) P&L to the horizon of paths [first_path, first_path + paths).
    scenarios / descriptions: names and assumptions. stress: instantaneous P&L of the same
    move from :func:`stress_grid` (NaN where a scenario has none). replay: P&L of a historical
    window's own days in order (NaN for simulated scenarios). greeks: net Greeks at the start
    (:meth:`Position.greeks`). premium: the premium at risk (``Position.premium_at_risk``,
    gross or net as the trade was budgeted); capital: the position's.
    vol_source: where the market's implied vols came from (``MarketData.vol_source``).
    skipped: default scenarios that could not run (a historical window the data does not cover).
    Value at risk and expected shortfall are positive losses: the k-th worst P&L and the mean of
    the k worst, k = ceil((1 - level) x paths).
    """

    scenarios: tuple[str, ...]
    descriptions: tuple[str, ...]
    pnl: np.ndarray
    first_path: int
    stress: pd.Series
    replay: pd.Series
    greeks: pd.Series
    premium: float
    capital: float
    date: pd.Timestamp
    horizon: int
    seed: int
    policy: HedgePolicy
    vol_source: str = ""
    skipped: tuple[str, ...] = ()

    @property
    def paths(self) -> int:
        return int(self.pnl.shape[1])

    def _row(self, scenario: str | None) -> int:
        if scenario is None:
            return 0
        if scenario not in self.scenarios:
            raise ValueError(f"scenario: {scenario!r} not run; have {list(self.scenarios)}")
        return self.scenarios.index(scenario)

    def distribution(self, scenario: str) -> np.ndarray:
        """The P&L of every path in ``scenario``."""
        return self.pnl[self._row(scenario)]

    def value_at_risk(self, level: float = 0.95, scenario: str | None = None) -> float:
        """Loss not exceeded with probability ``level`` (positive = loss); default the first scenario."""
        return _tail(self.pnl[self._row(scenario)], as_fraction(level, "level"))[0]

    def expected_shortfall(self, level: float = 0.95, scenario: str | None = None) -> float:
        """Mean loss in the worst 1 - ``level`` of paths (positive = loss); default the first scenario."""
        return _tail(self.pnl[self._row(scenario)], as_fraction(level, "level"))[1]

    def to_frame(self) -> pd.DataFrame:
        """One row per scenario: mean, sd, VaR and ES at 95 / 99%, P(loss), P(loss >= premium),
        the instantaneous stress, ES 95% / |stress|, and the historical replay."""
        rows = {}
        for k, name in enumerate(self.scenarios):
            pnl = self.pnl[k]
            row = {
                "mean": float(pnl.mean()) if pnl.size else math.nan,
                "sd": float(pnl.std(ddof=1)) if pnl.size > 1 else math.nan,
            }
            for level in LEVELS:
                var, es = _tail(pnl, level)
                row[f"VaR {level:.0%}"] = var
                row[f"ES {level:.0%}"] = es
            row["P(loss)"] = float(np.mean(pnl < 0)) if pnl.size else math.nan
            row["P(lose premium)"] = float(np.mean(pnl <= -self.premium)) if pnl.size else math.nan
            stress = float(self.stress[name])
            row["stress"] = stress
            row["ES 95% / |stress|"] = row["ES 95%"] / abs(stress) if stress < 0 else math.nan
            row["replay"] = float(self.replay[name])
            rows[name] = row
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scenario")

    def survivability(
        self, level: float = 0.95, scenario: str | None = None, limits: SurvivabilityLimits | None = None
    ) -> Survivability:
        """:func:`survivability` with the worst case = expected shortfall at ``level`` (of
        ``scenario``, or the worst over every scenario run), not the instantaneous stress."""
        level = as_fraction(level, "level")
        names = self.scenarios if scenario is None else (self.scenarios[self._row(scenario)],)
        loss = max(self.expected_shortfall(level, name) for name in names)
        return survivability(self.capital, max(loss, 0.0), self.premium, limits)

    def text(self) -> str:
        """The table with its assumptions, Greeks and survivability, as printed by the demo."""
        frame = self.to_frame()
        greeks = self.greeks
        lines = [
            f"Path risk on {self.date.date()}: {self.paths:,} paths x {self.horizon} trading days, seed {self.seed}, "
            f"hedge every {self.policy.every} day(s), costs {self.policy.hedge_cost_bps:g} bps + "
            f"{self.policy.option_half_spread:g} vol pt half-spread",
            f"Greeks at start: premium at risk {_whole(self.premium)}; net vega/pt {_whole(greeks['vega_per_point'])}; "
            f"theta/day {_whole(greeks['theta_per_day'])}; dollar gamma {_whole(greeks['dollar_gamma'])}; "
            f"dollar delta {_whole(greeks['dollar_delta'])}",
            "P&L to the horizon (money; VaR/ES are losses; stress = instantaneous repricing of the same move):",
            frame.to_string(float_format=_money),
        ]
        lines += [f"  {name}: {text}" for name, text in zip(self.scenarios, self.descriptions)]
        lines += [f"  {note}" for note in self.skipped]
        if self.vol_source:
            lines.append(f"  implied vols (starting marks, and realized vols where simulated): {self.vol_source}")
        check = self.survivability(0.95)
        verdict = "pass" if check.passed else "FAIL: " + "; ".join(check.reasons)
        lines.append(
            f"survivability at the worst 95% expected shortfall: {check.ratio:.3f} of capital {self.capital:,.0f} "
            f"({verdict})"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        worst = max(self.expected_shortfall(0.95, name) for name in self.scenarios)
        return (
            f"BookRisk({self.date.date()}, {len(self.scenarios)} scenarios x {self.paths:,} paths, "
            f"{self.horizon} days, worst ES 95% {worst:,.0f})"
        )


def _whole(value: float) -> str:
    """Money rounded to units, without the "-0" of a rounded tiny negative (a vega-neutral book)."""
    return f"{round(value):,}" if np.isfinite(value) else "n/a"


def _money(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


@dataclass(frozen=True, eq=False)
class BookRiskPaths:
    """P&L of paths [first_path, first_path + paths) of a :class:`BookRiskSetup`, per scenario
    (``pnl`` (scenarios, paths)); ``key`` identifies the setup so chunks of different setups
    are never combined."""

    first_path: int
    pnl: np.ndarray
    key: str

    @property
    def paths(self) -> int:
        return int(self.pnl.shape[1])


# ---- setup: everything a chunk of paths needs, validated once ------------------------------------


@dataclass(frozen=True, eq=False)
class _ScenarioModel:
    scenario: Scenario
    vols: np.ndarray  # (steps + 1, legs) implied vols marking each option
    sim_vols: np.ndarray | None  # (n,) realized component vols (GBM)
    corr: np.ndarray | None  # (n, n) realized correlation (GBM without regimes)
    history: tuple[np.ndarray, np.ndarray] | None  # scaled window returns: components (W, n), index (W,)
    tag: str  # the scenario's name, in the RNG key: its draws do not depend on the other scenarios run


@dataclass(frozen=True, eq=False)
class BookRiskSetup:
    """A book, its market inputs and its scenarios, ready to simulate any range of paths.

    Build with :func:`prepare_book_risk`; :meth:`run_paths` computes one range (e.g. on a
    worker), :meth:`combine` joins ranges into a :class:`BookRisk`. Picklable.
    """

    position: Position
    scenarios: tuple[Scenario, ...]
    models: tuple[_ScenarioModel, ...] = field(repr=False)
    names: tuple[str, ...]
    spot0: np.ndarray
    weights: np.ndarray
    index0: float
    rate: float
    div_yield: np.ndarray  # (m,) components then index
    horizon: int
    policy: HedgePolicy
    seed: int
    stress: pd.Series
    replay: pd.Series
    greeks: pd.Series
    key: str
    vol_source: str = ""
    skipped: tuple[str, ...] = ()

    def run_paths(self, first_path: int, paths: int, *, threads=None) -> BookRiskPaths:
        """P&L of paths [first_path, first_path + paths) in every scenario (C++ core)."""
        return self.run_paths_with(first_path, paths, simulate=simulate_market, hedge=hedged_pnl, threads=threads)

    def run_paths_with(self, first_path: int, paths: int, *, simulate, hedge, threads=None) -> BookRiskPaths:
        """:meth:`run_paths` with the path simulator and the hedging engine given (the NumPy twin
        in :mod:`dispersionkit.reference` runs the same setup through its own kernels)."""
        first_path = as_count(first_path, "first_path", 0, 2**63)
        paths = as_count(paths, "paths", 0, 2**63)
        resolve_threads(threads)  # a bad value fails before any work
        book = self.position.book()
        pnl = np.empty((len(self.models), paths))
        for start in range(0, paths, _BLOCK_PATHS):
            count = min(_BLOCK_PATHS, paths - start)
            for k, model in enumerate(self.models):
                spots = self._spots(model, first_path + start, count, simulate, threads)
                result = hedge(
                    book,
                    spots,
                    model.vols,
                    rate=self.rate,
                    div_yield=self.div_yield,
                    dt=DT,
                    policy=self.policy,
                    detail="summary",
                    names=list(self.names),
                    vols_by="leg",
                    threads=threads,
                )
                pnl[k, start : start + count] = result.summary.total
        return BookRiskPaths(first_path, pnl, self.key)

    def combine(self, chunks) -> BookRisk:
        """Join chunks covering one contiguous range of paths (any order, any split)."""
        chunks = sorted(chunks, key=lambda c: c.first_path)
        if not chunks:
            raise ValueError("chunks: nothing to combine")
        for chunk in chunks:
            if not isinstance(chunk, BookRiskPaths):
                raise TypeError(f"chunks: expected BookRiskPaths, got {type(chunk).__name__}")
            if chunk.key != self.key:
                raise ValueError("chunks: a chunk comes from a different setup (book, scenarios, seed or horizon)")
        for before, after in itertools.pairwise(chunks):
            end = before.first_path + before.paths
            if after.first_path != end:
                gap = "overlap" if after.first_path < end else "gap"
                raise ValueError(f"chunks: {gap} between paths {end} and {after.first_path}; ranges must tile")
        return BookRisk(
            scenarios=tuple(s.name for s in self.scenarios),
            descriptions=tuple(s.describe() for s in self.scenarios),
            pnl=np.concatenate([c.pnl for c in chunks], axis=1),
            first_path=chunks[0].first_path,
            stress=self.stress,
            replay=self.replay,
            greeks=self.greeks,
            premium=self.position.premium_at_risk,
            capital=self.position.capital,
            date=self.position.date,
            horizon=self.horizon,
            seed=self.seed,
            policy=self.policy,
            vol_source=self.vol_source,
            skipped=self.skipped,
        )

    # -- paths of one scenario ------------------------------------------------------------------

    def _spots(self, model: _ScenarioModel, first_path: int, paths: int, simulate, threads) -> np.ndarray:
        n = self.spot0.size
        if model.history is not None:
            components, index = self._bootstrap(model, first_path, paths)
        else:
            simulated = simulate(
                self.spot0,
                model.sim_vols,
                None if model.scenario.regimes is not None else model.corr,
                steps=self.horizon,
                paths=paths,
                drift=self.rate - self.div_yield[:n],
                index_weights=self.weights,
                index0=self.index0,
                regimes=model.scenario.regimes,
                seed=self.seed,
                first_path=first_path,
                threads=threads,
            )
            components, index = simulated.components, simulated.index
        if model.scenario.jumps is not None:
            factor = self._jump_factor(model, first_path, paths)
            components = components * factor[:, :, None]
            index = index * factor
        return np.concatenate([components, index[:, :, None]], axis=2)

    def _normals(self, tag: str, purpose: int, first_path: int, paths: int) -> np.ndarray:
        """(paths, horizon, 2) standard normals keyed by (seed, scenario, purpose, absolute path).

        Drawn by the project's counter-based generator through :func:`simulate_market` (two
        independent unit-vol names, dt = 1, drift cancelling the Ito term, so each log return is
        the normal itself) under a seed derived from the three keys: a path's draws never depend
        on the chunk, batch or thread that computes it, and never coincide with the GBM draws.
        """
        digest = hashlib.sha256(f"{self.seed}/{tag}/{purpose}".encode()).digest()
        seed = int.from_bytes(digest[:8], "little")
        unit = simulate_market(
            np.ones(2), 1.0, np.eye(2), steps=self.horizon, paths=paths, dt=1.0, drift=0.5, seed=seed,
            first_path=first_path,
        )  # fmt: skip
        return np.diff(np.log(unit.components), axis=1)

    def _bootstrap(self, model: _ScenarioModel, first_path: int, paths: int):
        assert model.history is not None
        window_c, window_i = model.history
        days = window_c.shape[0]
        uniform = _normal_cdf(self._normals(model.tag, 0, first_path, paths))
        steps = np.arange(self.horizon)
        restart = uniform[..., 0] < 1.0 / BLOCK_DAYS
        restart[:, 0] = True
        starts = np.minimum((uniform[..., 1] * days).astype(np.int64), days - 1)
        # Stationary bootstrap: each day continues its block (next window day, wrapping) unless
        # it restarts at a uniformly drawn day.
        block = np.maximum.accumulate(np.where(restart, steps, 0), axis=1)
        rows = (np.take_along_axis(starts, block, axis=1) + steps - block) % days
        components = _levels(self.spot0, window_c[rows])
        index = _levels(np.array([self.index0]), window_i[rows][..., None])[..., 0]
        return components, index

    def _jump_factor(self, model: _ScenarioModel, first_path: int, paths: int) -> np.ndarray:
        jumps = model.scenario.jumps
        assert jumps is not None
        z = self._normals(model.tag, 1, first_path, paths)
        hit = _normal_cdf(z[..., 0]) < jumps.intensity * DT
        size = jumps.mean + jumps.sd * z[..., 1]
        factor = np.ones((paths, self.horizon + 1))
        factor[:, 1:] = np.exp(np.cumsum(np.where(hit, size, 0.0), axis=1))
        return factor


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # SciPy loads on first use only

    return ndtr(z)


def _levels(start: np.ndarray, returns: np.ndarray) -> np.ndarray:
    """(paths, steps + 1, k) levels from (paths, steps, k) log returns."""
    paths, steps, k = returns.shape
    levels = np.empty((paths, steps + 1, k))
    levels[:, 0] = start
    levels[:, 1:] = start * np.exp(np.cumsum(returns, axis=1))
    return levels


# ---- preparation ------------------------------------------------------------------------------


def _position(position, market: MarketData, date) -> Position:
    if isinstance(position, DispersionTrade):
        if date is None:
            raise ValueError("date: required to build the book of a DispersionTrade")
        return position.position(market, date)
    if not isinstance(position, Position):
        raise TypeError(f"position: expected a Position (or a DispersionTrade), got {type(position).__name__}")
    if date is not None and pd.Timestamp(date) != position.date:
        raise ValueError(f"date: {pd.Timestamp(date).date()} differs from the position's date {position.date.date()}")
    return position


class _History:
    """Daily closes to replay windows from: dates (T,), prices (T, k) of ``tickers``, index (T,)."""

    def __init__(self, dates: pd.DatetimeIndex, tickers: list[str], prices: np.ndarray, index: np.ndarray):
        self.dates, self.tickers, self.prices, self.index = dates, tickers, prices, index

    @classmethod
    def of(cls, market: MarketData, history) -> _History:
        if history is None:
            arrays = market.arrays
            return cls(arrays.dates, list(arrays.tickers), arrays.spots, arrays.index)
        if not (isinstance(history, tuple) and len(history) == 2):
            raise TypeError(
                "history: expected (prices, index): a DataFrame of closes by ticker and a Series of index closes"
            )
        prices, index = history
        if not isinstance(prices, pd.DataFrame) or not isinstance(index, pd.Series):
            raise TypeError("history: expected (prices DataFrame, index Series), e.g. dispersionkit.data.load_sp500()")
        index = index.reindex(prices.index)
        return cls(
            pd.DatetimeIndex(prices.index),
            [str(c) for c in prices.columns],
            prices.to_numpy(np.float64),
            index.to_numpy(np.float64),
        )

    def returns(self, window: tuple[str, str], names: list[str], vols: np.ndarray, index_vol_today: float):
        """Scaled daily log returns of the window: (components (W, n), index (W,)); ValueError
        when the data does not cover the window and the year before it."""
        first, last = (pd.Timestamp(d) for d in window)
        covers = f"the history covers {self.dates[0].date()}..{self.dates[-1].date()}"
        inside = np.flatnonzero((self.dates >= first) & (self.dates <= last))
        if inside.size < 2:
            raise ValueError(f"history: fewer than 2 trading days in {first.date()}..{last.date()} ({covers})")
        calm = slice(max(1, inside[0] - CALM_DAYS), inside[0] + 1)
        if calm.stop - calm.start < 21:
            raise ValueError(f"history: fewer than 20 days before {first.date()} to scale the window by ({covers})")
        # A book name takes its own history when the data has it, else a history name in turn.
        source = [self.tickers.index(n) if n in self.tickers else k % len(self.tickers) for k, n in enumerate(names)]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_c = np.log(self.prices[1:, source] / self.prices[:-1, source])  # row t - 1: return into date t
            log_i = np.log(self.index[1:] / self.index[:-1])
        rows = inside - 1
        calm_rows = slice(calm.start - 1, calm.stop - 1)
        window_c, window_i = log_c[rows], log_i[rows]
        calm_c = log_c[calm_rows].std(axis=0, ddof=1) * math.sqrt(TRADING_DAYS)
        calm_i = log_i[calm_rows].std(ddof=1) * math.sqrt(TRADING_DAYS)
        if not (np.isfinite(window_c).all() and np.isfinite(window_i).all() and np.isfinite(calm_c).all()):
            raise ValueError(f"history: missing prices in or before {first.date()}..{last.date()}")
        return window_c * (vols / calm_c), window_i * (index_vol_today / calm_i)


def prepare_book_risk(
    position,
    market: MarketData,
    date=None,
    *,
    horizon=None,
    scenario=None,
    policy: HedgePolicy | None = None,
    seed: int = 0,
    history=None,
    threads=None,
) -> BookRiskSetup:
    """Validate and precompute everything :func:`book_risk` needs (same arguments)."""
    position = _position(position, market, date)
    scenarios = _scenarios(scenario)
    policy = HedgePolicy() if policy is None else policy
    if not isinstance(policy, HedgePolicy):
        raise TypeError(f"policy: expected a HedgePolicy, got {type(policy).__name__}")
    seed = as_count(seed, "seed", 0, 2**64 - 1)
    to_expiry = math.ceil(float(position.legs["tau"].max()) / DT - 1e-9)
    horizon = to_expiry if horizon is None else as_count(horizon, "horizon", 1, to_expiry)

    names = list(position.weights.index)
    n = len(names)
    if n < 2:
        raise ValueError("position: path risk of a dispersion book needs at least 2 components")
    weights = position.weights.to_numpy(np.float64)
    weights = weights / weights.sum()
    vols = position.vols.to_numpy(np.float64)
    legs = position.legs.drop_duplicates("underlying").set_index("underlying")
    div_yield = legs["div_yield"].reindex([*names, INDEX]).to_numpy(np.float64)
    rate = float(position.legs["rate"].iloc[0])
    current = float(equicorrelation_values(position.index_vol, vols, weights)[0])
    leg_vols = position.legs["vol"].to_numpy(np.float64)
    is_index_leg = (position.legs["underlying"] == INDEX).to_numpy()
    snap = snapshot(market, position.date)
    if list(snap.names) != names:
        raise ValueError(f"market: its names on {position.date.date()} are not the position's {names}")
    base = trailing_correlation(market, snap)
    closes = _History.of(market, history)

    models, stress, skipped = [], {}, []
    for sc in scenarios:
        if sc.regimes is not None and sc.regimes.n != n:
            raise ValueError(f"scenario {sc.name!r}: regimes cover {sc.regimes.n} names, the book has {n}")
        shifted = vols + sc.vol_shift
        if (shifted <= 0).any():
            raise ValueError(f"scenario {sc.name!r}: vol_shift {sc.vol_shift:+g} makes a component vol <= 0")
        history_returns = None
        if sc.history is not None:
            try:
                history_returns = closes.returns(sc.history, names, vols, position.index_vol)
            except ValueError as error:
                if scenario is not None:  # asked for by name: say why it cannot run
                    raise ValueError(f"scenario {sc.name!r}: {error}; pass history=(prices, index)") from None
                skipped.append(f"{sc.name}: not run, {error}; pass history=(prices, index)")
                continue
        level = current if sc.correlation is None else sc.correlation
        equi = np.full((n, n), level)
        np.fill_diagonal(equi, 1.0)
        marked_index = float(index_vol(weights, shifted, equi))
        # Each leg is marked at its own vol (a surface prices a strangle's legs apart): on day 0
        # the position's, from day 1 a component leg moves by the shift and an index leg by the
        # ratio of the re-implied index vol to today's.
        marks = np.tile(leg_vols, (horizon + 1, 1))
        if sc.remark:
            marks[1:] = np.where(is_index_leg, leg_vols * (marked_index / position.index_vol), leg_vols + sc.vol_shift)
        corr = base if sc.correlation is None else stress_correlation_values(base, sc.correlation, weights)
        models.append(_ScenarioModel(sc, marks, shifted, corr, history_returns, sc.name))
        moved = (sc.correlation is not None or sc.vol_shift != 0.0) and sc.history is None
        corr_levels = None if sc.correlation is None else [sc.correlation]
        stress[sc.name] = (
            float(stress_grid(position, [0.0], [sc.vol_shift], corr_levels).pnl[0, 0, 0]) if moved else math.nan
        )
    scenarios = tuple(m.scenario for m in models)
    greeks = position.greeks().loc["net"].drop(["underlying", "type", "strike", "quantity"]).astype(float)
    setup = BookRiskSetup(
        position=position,
        scenarios=scenarios,
        models=tuple(models),
        names=(*names, INDEX),
        spot0=position.spots.to_numpy(np.float64),
        weights=weights,
        index0=float(position.index_spot),
        rate=rate,
        div_yield=div_yield,
        horizon=horizon,
        policy=policy,
        seed=seed,
        stress=pd.Series(stress, name="stress", dtype=np.float64),
        replay=pd.Series(dtype=np.float64),
        greeks=greeks,
        key="",
        vol_source=market.vol_source,
        skipped=tuple(skipped),
    )
    replay_values = {m.scenario.name: _replay(setup, m, threads) if m.history is not None else math.nan for m in models}
    return replace(setup, replay=pd.Series(replay_values, name="replay"), key=_fingerprint(setup))


def _replay(setup: BookRiskSetup, model: _ScenarioModel, threads) -> float:
    """P&L of the window's first ``horizon`` days in order (NaN if the window is shorter)."""
    assert model.history is not None
    window_c, window_i = model.history
    if window_c.shape[0] < setup.horizon:
        return math.nan
    components = _levels(setup.spot0, window_c[None, : setup.horizon])
    index = _levels(np.array([setup.index0]), window_i[None, : setup.horizon, None])
    result = hedged_pnl(
        setup.position.book(),
        np.concatenate([components, index], axis=2),
        model.vols,
        rate=setup.rate,
        div_yield=setup.div_yield,
        dt=DT,
        policy=setup.policy,
        detail="summary",
        names=list(setup.names),
        vols_by="leg",
        threads=threads,
    )
    return float(result.summary.total[0])


def _fingerprint(setup: BookRiskSetup) -> str:
    digest = hashlib.sha256()
    digest.update(setup.position.legs.to_csv().encode())
    digest.update(repr((setup.scenarios, setup.horizon, setup.policy, setup.seed, setup.names)).encode())
    for model in setup.models:
        for array in (model.vols, model.sim_vols, model.corr, *(model.history or ())):
            if array is not None:
                digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def book_risk(
    position,
    market: MarketData,
    date=None,
    *,
    horizon=None,
    paths: int = 10_000,
    scenario=None,
    policy: HedgePolicy | None = None,
    seed: int = 0,
    history=None,
    threads=None,
) -> BookRisk:
    """P&L distribution of a delta-hedged dispersion book to expiry or ``horizon``, by scenario.

    Parameters
    ----------
    position : a :class:`Position` (``DispersionTrade.position``), or a :class:`DispersionTrade`
        built on ``date`` with its default capital.
    market : the :class:`MarketData` the position came from (trailing correlation matrix).
    date : optional; must be the position's date when given.
    horizon : trading days to simulate (1 .. days to the last expiry); default to expiry.
    paths : paths per scenario (the same path numbers in every scenario).
    scenario : a name of :data:`NAMED_SCENARIOS`, a :class:`Scenario`, or a list of them;
        default all named: "base", "correlation 0.9", "correlation 0.9, marks unchanged",
        "vols +10", "2008-09/10", "2020-02/03".
    policy : the book's :class:`HedgePolicy` (default daily delta hedge, no costs).
    seed : RNG seed; results depend only on (seed, path number), never on ``threads``.
    history : (prices DataFrame, index Series) of daily closes for the historical windows;
        default the market's own (the bundled market covers 2008 and 2020).

    Returns a :class:`BookRisk` (``to_frame()``, ``text()``, ``survivability()``). The model of
    each scenario is in the module docstring; for chunked runs (a cluster) use
    :func:`prepare_book_risk`, :meth:`BookRiskSetup.run_paths` and :meth:`BookRiskSetup.combine`.
    """
    setup = prepare_book_risk(
        position,
        market,
        date,
        horizon=horizon,
        scenario=scenario,
        policy=policy,
        seed=seed,
        history=history,
        threads=threads,
    )
    paths = as_count(paths, "paths", 1)
    return setup.combine([setup.run_paths(0, paths, threads=threads)])
