"""NumPy twin of dispersionkit.simulate_market: same model, same Philox stream, same paths.

Vectorized over paths, looping over steps; agrees with the C++ core to rounding (~1e-12),
and exactly in the regime sequences. Arrays in the result are (paths, ...) views of
time-major storage, so they are not C-contiguous.
"""

from __future__ import annotations

import numpy as np

from ..numeric._path_model import MarketModel, prepare
from ..numeric.paths import MarketPaths, wrap
from ._philox import box_muller, open_unit, philox4x32_10

_REGIME_BLOCK = 0xFFFFFFFF


def _normals(model: MarketModel, step: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    n = model.spot0.size
    blocks = np.arange((n + 3) // 4, dtype=np.uint64)
    words = philox4x32_10(blocks[None, :], step, lo[:, None], hi[:, None], model.seed & 0xFFFFFFFF, model.seed >> 32)
    return box_muller(words).reshape(lo.size, 4 * blocks.size)[:, :n]


def _next_regime(model: MarketModel, step: int, previous: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    words = philox4x32_10(_REGIME_BLOCK, step, lo, hi, model.seed & 0xFFFFFFFF, model.seed >> 32)
    u = open_unit(words[0], words[1])
    assert model.cum_transition is not None  # only Markov regimes draw the next regime
    return np.argmax(u[:, None] < model.cum_transition[previous], axis=1).astype(np.int32)


def _regime(model: MarketModel, step: int, previous: np.ndarray, lo, hi) -> np.ndarray:
    if model.schedule is not None:
        return np.full(previous.shape, model.schedule[step], dtype=np.int32)
    if model.cum_transition is None or step == 0:
        return np.full(previous.shape, model.initial, dtype=np.int32)
    return _next_regime(model, step, previous, lo, hi)


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
    """NumPy twin of :func:`dispersionkit.simulate_market` (``threads`` is accepted and ignored)."""
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
    n, count = model.spot0.size, model.paths
    absolute = np.uint64(model.first_path) + np.arange(count, dtype=np.uint64)
    lo, hi = absolute & np.uint64(0xFFFFFFFF), absolute >> np.uint64(32)

    # Time-major storage: each step writes one contiguous block; the result is returned as a
    # (paths, steps + 1, n) view, which is what a NumPy user would do rather than copy.
    log_prices = np.empty((model.steps + 1, count, n))
    log_prices[0] = model.log_spot0
    regime = np.zeros(count, dtype=np.int32)
    history = None if model.regimes is None else np.empty((model.steps, count), dtype=np.int32)
    per_step = model.drift_term.shape[0] > 1
    with np.errstate(invalid="ignore"):
        for t in range(model.steps):
            regime = _regime(model, t, regime, lo, hi)
            if history is not None:
                history[t] = regime
            eps = _normals(model, t, lo, hi)
            z = np.empty_like(eps)
            for r in np.unique(regime):
                rows = regime == r
                z[rows] = eps[rows] @ model.chol[r].T
            row = t if per_step else 0
            np.add(log_prices[t], model.drift_term[row] + model.diffusion[row] * z, out=log_prices[t + 1])
        components = np.exp(log_prices, out=log_prices)
        components[0] = model.spot0
        index = components @ model.shares
    return wrap(model, components.transpose(1, 0, 2), index.T, None if history is None else history.T)
