"""Correlated market paths: GBM components, the index built from them, correlation regimes.

Model (log-Euler, exact for GBM): for component i at step t (time t*dt to (t+1)*dt)

    S[t+1, i] = S[t, i] * exp((mu_i - sigma[t, i]^2 / 2) dt + sigma[t, i] sqrt(dt) Z[t, i])

with Z[t] = L[r_t] eps[t], eps standard normal, L[r] the Cholesky factor of the correlation
matrix of the step's regime r_t. Conventions: dt in years (1/252 = one trading day), vols and
drift as annualized decimals (0.20 = 20%), drift is the continuously compounded mu.

Index: constant shares fixed at t = 0, shares_i = weights_i * index0 / spot0_i, and
index[t] = sum_i shares_i S[t, i]; so index[0] = index0 and ``index_weights`` are the index
weights at t = 0 (they drift with prices afterwards, as in a price-weighted basket held
unchanged). Weights not summing to 1 are normalized (only their ratios matter).

Random numbers: Philox4x32-10 keyed by ``seed`` with counter (block, step, path), four
normals per block by Box-Muller on 32-bit uniforms (dispersionkit/rng.hpp; |normal| <= 6.76,
a cut N(0, 1) crosses with probability 1.4e-11). A path depends only on (seed, absolute
path index), so any thread count, any chunking and any split into ``first_path`` ranges
(e.g. Dask workers each simulating paths [a, b)) reproduce the same paths bit for bit.

NaN policy: NaN in ``spot0``, ``vols`` or ``drift`` propagates to that component's path and
to the index; non-positive prices, negative vols and invalid correlation matrices raise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core
from .._validation import resolve_threads
from ._path_model import MarketModel, prepare
from .regimes import Regimes


@dataclass(frozen=True)
class MarketPaths:
    """Simulated prices, with the inputs that produced them.

    ``components`` (paths, steps + 1, n) prices, row 0 = ``spot0``; ``index`` (paths, steps + 1)
    index levels, column 0 = ``index0``; ``regime`` (paths, steps) int32 correlation regime of
    each step, or None without regimes. Echoed inputs: ``spot0`` (n,), ``vols`` ((n,) or
    (steps, n)), ``drift`` (n,), ``corr`` ((n, n), None with regimes), ``regimes``,
    ``weights`` (normalized index weights at t = 0), ``shares`` (constant index shares),
    ``index0``, ``dt`` (years per step), ``seed`` and ``first_path`` (absolute index of row 0).
    """

    components: np.ndarray
    index: np.ndarray
    regime: np.ndarray | None
    spot0: np.ndarray
    vols: np.ndarray
    drift: np.ndarray
    corr: np.ndarray | None
    regimes: Regimes | None
    weights: np.ndarray
    shares: np.ndarray
    index0: float
    dt: float
    seed: int
    first_path: int

    @property
    def paths(self) -> int:
        return self.components.shape[0]

    @property
    def steps(self) -> int:
        return self.components.shape[1] - 1

    @property
    def n(self) -> int:
        return self.components.shape[2]

    @property
    def times(self) -> np.ndarray:
        """Time of each row in years, (steps + 1,)."""
        return np.arange(self.steps + 1) * self.dt

    def log_returns(self) -> np.ndarray:
        """Component log returns per step, (paths, steps, n)."""
        return np.diff(np.log(self.components), axis=1)

    def index_log_returns(self) -> np.ndarray:
        """Index log returns per step, (paths, steps)."""
        return np.diff(np.log(self.index), axis=1)


def wrap(model: MarketModel, components: np.ndarray, index: np.ndarray, regime: np.ndarray | None) -> MarketPaths:
    """Package results of either implementation with the echoed inputs."""
    return MarketPaths(
        components=components,
        index=index,
        regime=regime,
        spot0=model.spot0,
        vols=model.vols,
        drift=model.drift,
        corr=model.corr,
        regimes=model.regimes,
        weights=model.weights,
        shares=model.shares,
        index0=model.index0,
        dt=model.dt,
        seed=model.seed,
        first_path=model.first_path,
    )


def simulate_market(
    spot0,
    vols,
    corr,
    *,
    steps,
    paths,
    dt=1.0 / 252.0,
    drift=0.0,
    index_weights=None,
    index0=100.0,
    regimes=None,
    seed=0,
    first_path=0,
    threads=None,
) -> MarketPaths:
    """Simulate correlated GBM paths of n components and the index built from them.

    ``spot0`` (n,) prices at t = 0. ``vols`` annualized vols: scalar or (n,) constant over
    steps, or (steps, n) per step. ``corr`` (n, n) correlation matrix (symmetric, unit
    diagonal, PSD; singular is fine), or None when ``regimes`` (a :class:`Regimes`) switches
    between several matrices. ``steps`` steps of ``dt`` years (default one trading day, 1/252). ``drift`` scalar or (n,)
    annualized mu. ``index_weights`` (n,) index weights at t = 0 (default equal), ``index0``
    the index level at t = 0. ``seed`` (0 <= seed < 2**64) and ``first_path`` select the
    paths: this call returns absolute paths [first_path, first_path + paths) of the stream
    ``seed``. ``threads=None`` uses every core; results are identical for any thread count.

    Returns a :class:`MarketPaths`. Model, index construction, RNG and NaN policy are in the
    module docstring. Ctrl-C stops a long simulation within about 0.1 s with KeyboardInterrupt.
    """
    nthreads = resolve_threads(threads)
    model = prepare(
        spot0,
        vols,
        corr,
        steps=steps,
        paths=paths,
        dt=dt,
        drift=drift,
        index_weights=index_weights,
        index0=index0,
        regimes=regimes,
        seed=seed,
        first_path=first_path,
    )
    n = model.spot0.size
    components = np.empty((model.paths, model.steps + 1, n))
    index = np.empty((model.paths, model.steps + 1))
    regime = None if model.regimes is None else np.empty((model.paths, model.steps), dtype=np.int32)
    _core.simulate_market(model=model, components=components, index=index, regime=regime, threads=nthreads)
    return wrap(model, components, index, regime)
