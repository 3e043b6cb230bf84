"""P&L profile of a dispersion position against the correlation realized over its life.

For each level rho of a grid, the components are simulated to the position's expiry with
:func:`~dispersionkit.simulate_market` (GBM, each name realizing its own implied vol, constant
equicorrelation rho, no drift), the index is their basket (so there is no index-vs-basket
basis), and the book is delta-hedged every step by :func:`~dispersionkit.hedged_pnl` at
unchanged implied vols. Every level uses the same random numbers (same seed), so the curve
is smooth in rho and its slope is the correlation exposure.

The ``expected`` column is the gamma-theta approximation at unchanged spots: the book earns
1/2 x cash gamma x (realized - implied variance) per unit time, and with every name realizing
its implied vol only the index leg is left,

    expected(rho) = 1/2 (sum_i w_i^2 s_i^2 + rho sum_{i != j} w_i w_j s_i s_j - s_I^2) x sum_t CG_I(t) dt

where s are the implied vols, s_I the index implied vol and CG_I(t) = Gamma S^2 q of the index
legs with t steps gone (at the entry spot: gamma grows as expiry nears). It is zero at the
implied correlation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._validation import as_count, as_float_array
from ..market.snapshot import INDEX
from ..numeric.greeks import bs_greeks
from ..numeric.hedge_policy import HedgePolicy
from ..numeric.hedged_pnl import hedged_pnl
from ..numeric.paths import simulate_market
from ..numeric.realized import TRADING_DAYS
from .position import Position

DEFAULT_LEVELS = tuple(np.round(np.linspace(0.0, 0.9, 10), 10))


def correlation_profile(
    position: Position,
    corr_levels=DEFAULT_LEVELS,
    *,
    paths: int = 200,
    seed: int = 0,
    policy: HedgePolicy = HedgePolicy(),
    threads=None,
) -> pd.DataFrame:
    """P&L to expiry of ``position`` against the realized correlation (module docstring).

    Returns a DataFrame indexed by ``realized_correlation`` (the levels, decimals) with
    columns expected, mean, p05, p95 (simulated, currency) and the constant implied (the
    position's implied correlation, where ``expected`` is 0: with every name at its implied
    vol, that is the break-even). ``paths`` = 0 leaves out the simulated columns.
    """
    if not isinstance(position, Position):
        raise TypeError(f"position: expected a dispersionkit Position, got {type(position).__name__}")
    levels = np.atleast_1d(as_float_array(corr_levels, "corr_levels"))
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels >= 0.0) & (levels <= 1.0)):
        raise ValueError(f"corr_levels: expected correlations in [0, 1], got {corr_levels!r}")
    paths = as_count(paths, "paths", 0)
    if not isinstance(policy, HedgePolicy):
        raise TypeError(f"policy: expected a HedgePolicy, got {type(policy).__name__}")
    dt = 1.0 / TRADING_DAYS
    steps = max(1, math.ceil(position.tenor / dt - 1e-9))
    w = position.weights.to_numpy(np.float64)
    sigma = position.vols.reindex(position.weights.index).to_numpy(np.float64)
    own = float(np.sum((w * sigma) ** 2))
    cross = float(np.sum(w * sigma) ** 2) - own
    index_gamma_time = _index_cash_gamma_time(position, steps, dt)
    expected = 0.5 * (own + levels * cross - position.index_vol**2) * index_gamma_time
    table = pd.DataFrame({"expected": expected}, index=pd.Index(levels, name="realized_correlation"))
    if paths:
        simulated = np.array([_simulate(position, rho, steps, dt, paths, seed, policy, threads) for rho in levels])
        table["mean"] = simulated.mean(axis=1)
        table["p05"] = np.quantile(simulated, 0.05, axis=1)
        table["p95"] = np.quantile(simulated, 0.95, axis=1)
    table["implied"] = (position.index_vol**2 - own) / cross if cross else math.nan
    return table


def _index_cash_gamma_time(position: Position, steps: int, dt: float) -> float:
    """sum over steps of the index legs' cash gamma (Gamma S^2 q) x dt, at the entry spot."""
    legs = position.legs[position.index_mask()]
    tau = legs["tau"].to_numpy()[None, :] - dt * np.arange(steps)[:, None]
    alive = tau > 0
    g = bs_greeks(
        legs["spot"].to_numpy(),
        legs["strike"].to_numpy(),
        np.where(alive, tau, 1.0),
        legs["vol"].to_numpy(),
        legs["rate"].to_numpy(),
        legs["div_yield"].to_numpy(),
        legs["is_call"].to_numpy(),
    )
    cash = np.where(alive, g.gamma * legs["spot"].to_numpy() ** 2 * legs["quantity"].to_numpy(), 0.0)
    return float(cash.sum() * dt)


def _simulate(position, rho, steps, dt, paths, seed, policy, threads) -> np.ndarray:
    names = list(position.weights.index)
    n = len(names)
    corr = np.full((n, n), rho) + (1.0 - rho) * np.eye(n)
    vols = position.vols.reindex(names).to_numpy(np.float64)
    market = simulate_market(
        position.spots.reindex(names).to_numpy(np.float64),
        vols,
        corr,
        steps=steps,
        paths=paths,
        dt=dt,
        index_weights=position.weights.to_numpy(np.float64),
        index0=position.index_spot,
        seed=seed,
        threads=threads,
    )
    spots = np.concatenate([market.components, market.index[..., None]], axis=-1)
    div = position.legs.drop_duplicates("underlying").set_index("underlying")["div_yield"]
    result = hedged_pnl(
        position.book(),
        spots,
        np.append(vols, position.index_vol),
        rate=float(position.legs["rate"].iloc[0]),
        div_yield=div.reindex([*names, INDEX]).to_numpy(),
        dt=dt,
        policy=policy,
        detail="summary",
        names=[*names, INDEX],
        vols_by="underlying",
        threads=threads,
    )
    return result.summary.total
