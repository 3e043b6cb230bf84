"""NumPy twins of the correlation kernels (same signatures, shapes and NaN rules, plain arrays out).

Written as a careful NumPy user would: BLAS GEMM for the quadratic forms with shared matrices,
batched matmul for per-date matrices, O(n) formulas for the equicorrelation.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array
from ..numeric._correlation_inputs import check_weight_sums
from ..numeric.correlation import DEGENERATE_CROSS, CorrelationEstimate, cross_sum


def index_variance(weights, vols, corr, *, scenarios: bool = False, threads=None):
    """NumPy twin of :func:`dispersionkit.index_variance` (``threads`` ignored)."""
    w, s, R = (as_float_array(a, name) for a, name in ((weights, "weights"), (vols, "vols"), (corr, "corr")))
    with np.errstate(invalid="ignore"):
        U = np.atleast_2d(np.where(w == 0.0, 0.0, w * s))
    if R.ndim == 3 and not scenarios:
        U = np.broadcast_to(U, (R.shape[0], U.shape[-1]))
        return (np.matmul(R, U[:, :, None])[:, :, 0] * U).sum(-1)
    result = np.stack([((U @ Rs) * U).sum(-1) for Rs in np.atleast_3d(R).reshape((-1, *R.shape[-2:]))])
    if not scenarios:
        result = result[0]
    return result if (w.ndim == 2 or s.ndim == 2) else result[..., 0]


def index_vol(weights, vols, corr, *, scenarios: bool = False, threads=None):
    """NumPy twin of :func:`dispersionkit.index_vol`."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(index_variance(weights, vols, corr, scenarios=scenarios))


def _equicorrelation(index_vol_value, vols, weights) -> CorrelationEstimate:
    iv = as_float_array(index_vol_value, "index_vol")
    w = as_float_array(weights, "weights")
    check_weight_sums(w)
    s = as_float_array(vols, "vols")
    with np.errstate(invalid="ignore"):
        ws = np.where(w == 0.0, 0.0, w * s)
        missing = np.isnan(w) | (np.isnan(s) & (w != 0.0))
    sum_sq = (ws * ws).sum(-1)
    cross = cross_sum(ws)  # without the cancellation of (sum u)^2 - sum u^2
    with np.errstate(invalid="ignore", divide="ignore"):
        undefined = ~(np.abs(cross) > DEGENERATE_CROSS * np.abs(ws).sum(-1) ** 2)
        value = np.where(undefined, np.nan, (iv * iv - sum_sq) / cross)
        undefined = undefined & ~missing.any(-1) & ~np.isnan(iv)
        return CorrelationEstimate(value, np.abs(value) > 1.0, undefined)


def implied_correlation(index_vol, vols, weights, *, threads=None) -> CorrelationEstimate:
    """NumPy twin of :func:`dispersionkit.implied_correlation`."""
    return _equicorrelation(index_vol, vols, weights)


def breakeven_correlation(index_vol_paid, vols, weights, *, threads=None) -> CorrelationEstimate:
    """NumPy twin of :func:`dispersionkit.breakeven_correlation`."""
    return _equicorrelation(index_vol_paid, vols, weights)


def average_correlation(corr, weights=None, *, threads=None):
    """NumPy twin of :func:`dispersionkit.average_correlation`."""
    R = as_float_array(corr, "corr")
    n = R.shape[-1]
    w = np.ones(n) if weights is None else as_float_array(weights, "weights")
    pairs = np.outer(w, w)
    np.fill_diagonal(pairs, 0.0)
    return np.einsum("...ij,ij->...", R, pairs) / pairs.sum()
