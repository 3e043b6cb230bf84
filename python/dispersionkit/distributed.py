"""Scale-out on a dask.distributed cluster: ``pip install 'dispersionkit[dask]'``.

- :func:`monte_carlo_pnl`: delta-hedged P&L of a book on simulated markets, split by paths.
  Paths are keyed by (seed, absolute path index) in :func:`~dispersionkit.simulate_market`
  (``first_path``) and each path's hedged P&L depends only on that path, so the result is
  bit-identical to the single-process call :func:`monte_carlo_pnl` with ``client=None`` and
  to one ``simulate_market`` + ``hedged_pnl`` call over all paths, for any chunk size and any
  number of workers.
- :func:`book_risk`: the path risk of a live book (every scenario), split by paths; the same
  bits as :func:`~dispersionkit.book_risk` in one process (its paths are keyed by path too).
- :func:`stress_grid`: a position's stress grid split by spot scenario.
- :func:`sweep`: backtests over trades x rules x universes, one task each, with a metrics table.

Every function takes ``client``: a ``dask.distributed.Client`` (local or remote), or None to
run the same tasks in this process. Work goes out in tasks of plain data (arrays, frozen
dataclasses, MarketData), results come back as arrays and are put together here.

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
    result = dk.distributed.monte_carlo_pnl(book, spot0, vols, corr, steps=63, paths=100_000,
                                            implied_vols=implied, client=client)

On a real cluster, start a scheduler and workers with the same dispersionkit installed
(``dask scheduler`` on one host, ``dask worker tcp://HOST:8786`` on each other) and pass
``Client("tcp://HOST:8786")``; docs/distributed.md has the details.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import as_count
from .backtest.engine import BacktestRules, backtest
from .market.market_data import MarketData
from .market.snapshot import INDEX
from .numeric.hedge_policy import HedgePolicy
from .numeric.hedged_pnl import hedged_pnl
from .numeric.paths import simulate_market
from .numeric.pnl_result import PnLResult, PnLSummary
from .strategy import stress as _stress
from .strategy.book_risk import BookRisk, prepare_book_risk
from .strategy.position import Position
from .strategy.stress import StressResult
from .strategy.trade import DispersionTrade

__all__ = ["book_risk", "monte_carlo_pnl", "stress_grid", "sweep"]

DEFAULT_CHUNK_PATHS = 10_000


def _client(client):
    if client is None:
        return None
    try:
        from dask.distributed import Client
    except ImportError:
        raise ImportError("client: dask.distributed is not installed: pip install 'dispersionkit[dask]'") from None
    if not isinstance(client, Client):
        raise TypeError(f"client: expected a dask.distributed.Client or None, got {type(client).__name__}")
    return client


def _map(client, function, shared, items: list) -> list:
    """[function(shared, item) for item in items], on the cluster when there is one (in order)."""
    if client is None:
        return [function(shared, item) for item in items]
    [remote] = client.scatter([shared], broadcast=True, hash=False)
    futures = client.map(function, [remote] * len(items), items, pure=False)
    return client.gather(futures)


# -- Monte Carlo ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _MonteCarlo:
    """Everything a task needs besides its path range."""

    book: object
    spot0: np.ndarray
    vols: np.ndarray
    corr: np.ndarray | None
    regimes: object
    steps: int
    dt: float
    drift: object
    index_weights: np.ndarray | None
    index0: float
    seed: int
    implied_vols: np.ndarray
    vols_by: str | None
    rate: float
    div_yield: object
    policy: HedgePolicy
    names: list
    threads: int | None


def _monte_carlo_chunk(spec: _MonteCarlo, paths: tuple[int, int]) -> PnLResult:
    first, count = paths
    market = simulate_market(
        spec.spot0,
        spec.vols,
        spec.corr,
        steps=spec.steps,
        paths=count,
        dt=spec.dt,
        drift=spec.drift,
        index_weights=spec.index_weights,
        index0=spec.index0,
        regimes=spec.regimes,
        seed=spec.seed,
        first_path=first,
        threads=spec.threads,
    )
    spots = np.concatenate([market.components, market.index[..., None]], axis=-1)
    return hedged_pnl(
        spec.book,
        spots,
        spec.implied_vols,
        rate=spec.rate,
        div_yield=spec.div_yield,
        dt=spec.dt,
        policy=spec.policy,
        detail="summary",
        names=spec.names,
        vols_by=spec.vols_by,
        threads=spec.threads,
    )


def monte_carlo_pnl(
    book,
    spot0,
    vols,
    corr,
    *,
    steps: int,
    paths: int,
    implied_vols,
    seed: int = 0,
    dt: float = 1.0 / 252.0,
    drift=0.0,
    index_weights=None,
    index0: float = 100.0,
    regimes=None,
    rate: float = 0.0,
    div_yield=0.0,
    policy: HedgePolicy = HedgePolicy(),
    names=None,
    vols_by: str | None = None,
    chunk_paths: int = DEFAULT_CHUNK_PATHS,
    client=None,
    threads=None,
) -> PnLResult:
    """Hedged P&L of ``book`` on ``paths`` simulated markets, ``chunk_paths`` paths per task.

    The market is :func:`~dispersionkit.simulate_market` (``spot0``, ``vols``, ``corr``,
    ``steps``, ``dt``, ``drift``, ``index_weights``, ``index0``, ``regimes``, ``seed``: its
    arguments); the book is hedged by :func:`~dispersionkit.hedged_pnl` on the spots
    (components, then the index as the last column) with ``implied_vols`` (per underlying in
    that order, or per leg), ``rate``, ``div_yield``, ``policy``. Legs name columns by
    position or by ``names`` (default: "0", "1", ... for the components and "INDEX").

    Returns a summary-only :class:`~dispersionkit.PnLResult` over all paths in path order,
    bit-identical to one single-process call with the same seed (module docstring).
    ``threads`` is each task's thread count (None: every core of its worker).
    """
    client = _client(client)
    paths = as_count(paths, "paths", 1)
    chunk_paths = as_count(chunk_paths, "chunk_paths", 1)
    spot0 = np.asarray(spot0, dtype=np.float64)
    n = spot0.size
    if names is None:
        names = [str(k) for k in range(n)] + [INDEX]
    names = list(names)
    if len(names) != n + 1:
        raise ValueError(f"names: expected {n + 1} names (the components, then the index), got {len(names)}")
    spec = _MonteCarlo(
        book=book,
        spot0=spot0,
        vols=np.asarray(vols, dtype=np.float64),
        corr=None if corr is None else np.asarray(corr, dtype=np.float64),
        regimes=regimes,
        steps=steps,
        dt=dt,
        drift=drift,
        index_weights=None if index_weights is None else np.asarray(index_weights, dtype=np.float64),
        index0=index0,
        seed=seed,
        implied_vols=np.asarray(implied_vols, dtype=np.float64),
        vols_by=vols_by,
        rate=rate,
        div_yield=div_yield,
        policy=policy,
        names=names,
        threads=threads,
    )
    # A small probe in this process checks every argument before any task is sent.
    _monte_carlo_chunk(dataclasses.replace(spec, threads=1), (0, 1))
    chunks = [(first, min(chunk_paths, paths - first)) for first in range(0, paths, chunk_paths)]
    parts = _map(client, _monte_carlo_chunk, spec, chunks)
    return _concatenate(parts)


def _concatenate(parts: list[PnLResult]) -> PnLResult:
    summary = PnLSummary(
        **{
            f.name: np.concatenate([getattr(part.summary, f.name) for part in parts], axis=0)
            for f in dataclasses.fields(PnLSummary)
        }
    )
    first = parts[0]
    return PnLResult(summary=summary, steps=None, step_labels=first.step_labels, leg_labels=first.leg_labels)


# -- book risk --------------------------------------------------------------------------------


def _book_risk_chunk(shared: tuple, paths: tuple[int, int]):
    setup, threads = shared
    first, count = paths
    return setup.run_paths(first, count, threads=threads)


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
    chunk_paths: int = DEFAULT_CHUNK_PATHS,
    client=None,
    threads=None,
) -> BookRisk:
    """:func:`~dispersionkit.book_risk` with the paths split into tasks of ``chunk_paths``
    (arguments as there); bit-identical to the one-process call with the same seed."""
    client = _client(client)
    paths = as_count(paths, "paths", 1)
    chunk_paths = as_count(chunk_paths, "chunk_paths", 1)
    setup = prepare_book_risk(
        position, market, date, horizon=horizon, scenario=scenario, policy=policy, seed=seed, history=history,
        threads=threads,
    )  # fmt: skip
    chunks = [(first, min(chunk_paths, paths - first)) for first in range(0, paths, chunk_paths)]
    return setup.combine(_map(client, _book_risk_chunk, (setup, threads), chunks))


# -- stress grids -----------------------------------------------------------------------------


def _stress_chunk(spec: tuple, spot_shocks: np.ndarray) -> StressResult:
    position, vol_shocks, corr_levels, threads = spec
    return _stress.stress_grid(position, spot_shocks, vol_shocks, corr_levels, threads=threads)


def stress_grid(
    position: Position,
    spot_shocks=(0.0,),
    vol_shocks=(0.0,),
    corr_levels=None,
    *,
    chunks: int | None = None,
    client=None,
    threads=None,
) -> StressResult:
    """:func:`~dispersionkit.stress_grid` with the spot scenarios split into ``chunks`` tasks
    (default: one per worker, or 1 without a client); the result has the grid's own order."""
    client = _client(client)
    if not isinstance(position, Position):
        raise TypeError(f"position: expected a dispersionkit Position, got {type(position).__name__}")
    spots = np.atleast_1d(np.asarray(spot_shocks, dtype=np.float64))
    if chunks is None:
        chunks = 1 if client is None else max(1, len(client.scheduler_info()["workers"]))
    chunks = min(as_count(chunks, "chunks", 1), spots.size)
    # Validate the whole grid here, so a bad shock is one error, not a failed task.
    _stress.prepare_grid(position, spots, vol_shocks, corr_levels)
    pieces = [piece for piece in np.array_split(spots, chunks) if piece.size]
    parts = _map(client, _stress_chunk, (position, vol_shocks, corr_levels, threads), pieces)
    first = parts[0]
    return StressResult(
        spot_shocks=np.concatenate([p.spot_shocks for p in parts]),
        vol_shocks=first.vol_shocks,
        corr_levels=first.corr_levels,
        pnl=np.concatenate([p.pnl for p in parts], axis=0),
        index_vols=first.index_vols,
        base_value=first.base_value,
        current_correlation=first.current_correlation,
    )


# -- backtest sweeps --------------------------------------------------------------------------


SWEEP_COLUMNS = (
    "total_return",
    "cagr",
    "annual_vol",
    "sharpe",
    "sortino",
    "max_drawdown",
    "n_trades",
    "win_rate_trades",
    "final_equity",
)


def _named(values, what: str, kind) -> dict:
    if isinstance(values, Mapping):
        items = dict(values)
    elif isinstance(values, Sequence) and not isinstance(values, str):
        items = {f"{what}{k}": v for k, v in enumerate(values)}
    else:
        items = {what: values}
    if not items:
        raise ValueError(f"{what}s: give at least one")
    for name, value in items.items():
        if kind is not None and not isinstance(value, kind):
            raise TypeError(f"{what}s: {name!r} is a {type(value).__name__}, not a {kind.__name__}")
    return items


def restrict(market: MarketData, tickers) -> MarketData:
    """``market`` on a subset of its components, weights renormalized over them.

    Model vols are rebuilt by the market's own vol model on the subset (the model's component
    vols depend on the basket); market vols are kept as given. A market whose vols are part
    quoted and part modelled cannot be split reliably and raises ValueError.
    """
    tickers = list(tickers)
    missing = sorted(set(tickers) - set(market.tickers))
    if missing:
        raise ValueError(f"universe: tickers not in the market: {missing}")
    if len(tickers) < 2:
        raise ValueError(f"universe: a dispersion trade needs at least 2 components, got {tickers}")
    weights = market.weights
    if isinstance(weights, pd.DataFrame):
        sub = weights[tickers]
        weights = sub.div(sub.sum(axis=1), axis=0)
    else:
        weights = weights[tickers] / float(weights[tickers].sum())
    div = market.div_yields
    if isinstance(div, (pd.DataFrame, pd.Series)):
        div = div[tickers]
    source = market.vol_source
    if source.startswith("market"):
        return MarketData(
            market.spots[tickers], market.index, market.vols[tickers], market.index_vol, weights, market.rate, div
        )
    if source.startswith("model") and market.vol_model is not None:
        return MarketData(
            market.spots[tickers], market.index, None, None, weights, market.rate, div,
            vix=market.vix, vol_model=market.vol_model,
        )  # fmt: skip
    raise ValueError(f"universe: cannot split a market whose vols are {source!r}; build each universe's MarketData")


def _sweep_task(shared: tuple, job: tuple) -> dict:
    markets, trades, rules, options = shared
    universe, trade_name, rules_name = job
    result = backtest(markets[universe], trades[trade_name], rules[rules_name], **options)
    m = result.metrics
    row = {name: getattr(m, name) for name in SWEEP_COLUMNS if hasattr(m, name)}
    row["final_equity"] = float(result.equity.iloc[-1])
    return row


def sweep(
    market: MarketData,
    trades,
    rules=None,
    *,
    universes=None,
    policy: HedgePolicy | None = None,
    capital: float = 1_000_000.0,
    start=None,
    end=None,
    client=None,
) -> pd.DataFrame:
    """Backtests of every (universe, trade, rules) combination, one task each.

    ``trades``, ``rules`` and ``universes`` are each a dict {name: value} or a list (named by
    position) or a single value. A universe is a MarketData or a list of tickers of
    ``market`` (see :func:`restrict`); default: the whole market. ``rules`` default:
    ``BacktestRules()``; ``policy`` None: the backtest's default costs. Returns one row per
    combination (index universe, trade, rules) with the columns :data:`SWEEP_COLUMNS`; a run
    that loses all its capital is a row of NaN with final_equity 0.
    """
    client = _client(client)
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit MarketData, got {type(market).__name__}")
    trades = _named(trades, "trade", DispersionTrade)
    rules = _named(BacktestRules() if rules is None else rules, "rules", BacktestRules)
    universes = _named({"all": market} if universes is None else universes, "universe", None)
    markets = {
        name: value if isinstance(value, MarketData) else restrict(market, value) for name, value in universes.items()
    }
    jobs = [(u, t, r) for u in markets for t in trades for r in rules]
    options = dict(policy=policy, capital=capital, start=start, end=end)
    rows = _map(client, _safe_sweep_task, (markets, trades, rules, options), jobs)
    table = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(jobs, names=["universe", "trade", "rules"]))
    return table.reindex(columns=list(SWEEP_COLUMNS))


def _safe_sweep_task(shared: tuple, job: tuple) -> dict:
    try:
        return _sweep_task(shared, job)
    except ValueError as error:
        if "lost all the capital" not in str(error):
            raise
        return {**dict.fromkeys(SWEEP_COLUMNS, math.nan), "final_equity": 0.0}
