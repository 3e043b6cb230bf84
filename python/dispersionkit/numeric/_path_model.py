"""Validation of simulate_market's inputs into the arrays the C++ core and the NumPy twin share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_count, as_float_array, as_scalar
from .correlation_matrix import check_correlation, psd_cholesky
from .regimes import Regimes

_MAX_U32 = 2**32 - 1
_MAX_U64 = 2**64 - 1


@dataclass(frozen=True)
class MarketModel:
    """Everything a simulation needs, validated; both implementations consume exactly this
    (``_core.simulate_market`` reads its fields by name)."""

    spot0: np.ndarray  # (n,)
    log_spot0: np.ndarray  # (n,)
    vols: np.ndarray  # (n,) or (steps, n)
    drift: np.ndarray  # (n,)
    drift_term: np.ndarray  # (1 or steps, n): (mu - vol^2 / 2) dt
    diffusion: np.ndarray  # (1 or steps, n): vol sqrt(dt)
    corr: np.ndarray | None  # (n, n) when no regimes
    regimes: Regimes | None
    chol: np.ndarray  # (k, n, n) lower Cholesky factors
    cum_transition: np.ndarray | None  # (k, k), +inf from each row's last reachable regime
    schedule: np.ndarray | None  # (steps,) int32
    initial: int
    weights: np.ndarray  # (n,) index weights at t = 0, summing to 1
    shares: np.ndarray  # (n,) constant index shares
    index0: float
    steps: int
    paths: int
    dt: float
    seed: int
    first_path: int


def _contiguous(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float64)


def _spot(value) -> np.ndarray:
    spot0 = as_float_array(value, "spot0")
    if spot0.ndim != 1 or spot0.size == 0:
        raise ValueError(f"spot0: expected shape (n,) with n >= 1, got {spot0.shape}")
    if np.isinf(spot0).any() or (spot0 <= 0).any():
        raise ValueError("spot0: prices must be > 0 and finite (NaN marks a missing name)")
    return _contiguous(spot0)


def _vols(value, n: int, steps: int) -> np.ndarray:
    vols = as_float_array(value, "vols")
    if vols.ndim == 0:
        vols = np.full(n, vols)
    if vols.shape not in ((n,), (steps, n)):
        raise ValueError(f"vols: expected a scalar, shape ({n},) or (steps, n) = ({steps}, {n}), got {vols.shape}")
    if np.isinf(vols).any() or (vols < 0).any():
        raise ValueError("vols: must be >= 0 and finite (decimals, 0.20 = 20%; NaN propagates)")
    return vols


def _drift(value, n: int) -> np.ndarray:
    drift = as_float_array(value, "drift")
    if drift.shape not in ((), (n,)):
        raise ValueError(f"drift: expected a scalar or shape ({n},), got {drift.shape}")
    if np.isinf(drift).any():
        raise ValueError("drift: must be finite (NaN propagates)")
    return _contiguous(np.broadcast_to(drift, (n,)))


def _weights(value, n: int) -> np.ndarray:
    if value is None:
        return np.full(n, 1.0 / n)
    weights = as_float_array(value, "index_weights")
    if weights.shape != (n,):
        raise ValueError(f"index_weights: expected shape ({n},), got {weights.shape}")
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("index_weights: must be finite, >= 0 and not all zero")
    return _contiguous(weights / weights.sum())


def _correlation(corr, regimes, n: int, steps: int):
    if regimes is None:
        if corr is None:
            raise ValueError("corr: required (an (n, n) correlation matrix) unless regimes is given")
        matrix = as_float_array(corr, "corr")
        if matrix.shape != (n, n):
            raise ValueError(f"corr: expected shape ({n}, {n}) to match spot0, got {matrix.shape}")
        check_correlation(matrix, name="corr")
        return _contiguous(matrix), _contiguous(psd_cholesky(matrix)[None]), None, None, 0
    if not isinstance(regimes, Regimes):
        raise TypeError(f"regimes: expected a dispersionkit.Regimes, got {type(regimes).__name__}")
    if corr is not None:
        raise ValueError("corr: must be None when regimes is given (regimes.matrices replace it)")
    if regimes.n != n:
        raise ValueError(f"regimes.matrices: cover {regimes.n} components, spot0 has {n}")
    chol = _contiguous(np.stack([psd_cholesky(m) for m in regimes.matrices]))
    if regimes.schedule is not None:
        if regimes.schedule.shape != (steps,):
            raise ValueError(f"regimes.schedule: expected shape ({steps},) = (steps,), got {regimes.schedule.shape}")
        return None, chol, None, np.ascontiguousarray(regimes.schedule, dtype=np.int32), 0
    assert regimes.transition is not None  # Regimes holds exactly one of schedule and transition
    cum = np.cumsum(regimes.transition, axis=1)
    # Past each row's last reachable regime, +inf: rounding in the cumulative sum can then
    # never send a path to a regime of probability zero.
    for row, probabilities in zip(cum, regimes.transition):
        row[np.flatnonzero(probabilities > 0)[-1] :] = np.inf
    return None, chol, _contiguous(cum), None, regimes.initial


def prepare(
    spot0, vols, corr, *, steps, paths, dt, drift, index_weights, index0, regimes, seed, first_path
) -> MarketModel:
    """Validate every input (errors name the argument) and precompute the shared model arrays."""
    steps = as_count(steps, "steps", 1, _MAX_U32 - 1)
    paths = as_count(paths, "paths", 0, _MAX_U64)
    seed = as_count(seed, "seed", 0, _MAX_U64)
    first_path = as_count(first_path, "first_path", 0, _MAX_U64 - paths)
    dt = as_scalar(dt, "dt", positive=True)
    index0 = as_scalar(index0, "index0", positive=True)
    spot0 = _spot(spot0)
    n = spot0.size
    vols = _vols(vols, n, steps)
    drift = _drift(drift, n)
    weights = _weights(index_weights, n)
    corr, chol, cum, schedule, initial = _correlation(corr, regimes, n, steps)

    sigma = vols.reshape(-1, n)
    with np.errstate(invalid="ignore"):
        log_spot0 = np.log(spot0)
        drift_term = _contiguous((drift - 0.5 * sigma * sigma) * dt)
        diffusion = _contiguous(sigma * np.sqrt(dt))
        shares = _contiguous(weights * index0 / spot0)
    return MarketModel(
        spot0=spot0,
        log_spot0=log_spot0,
        vols=vols,
        drift=drift,
        drift_term=drift_term,
        diffusion=diffusion,
        corr=corr,
        regimes=regimes,
        chol=chol,
        cum_transition=cum,
        schedule=schedule,
        initial=initial,
        weights=weights,
        shares=shares,
        index0=index0,
        steps=steps,
        paths=paths,
        dt=dt,
        seed=seed,
        first_path=first_path,
    )
