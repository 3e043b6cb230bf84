"""NumPy twins of the correlation kernels (same signatures, shapes and NaN rules, plain arrays out).

Written as a careful NumPy user would: BLAS for the quadratic forms, batched matmul for
per-date matrices, and for rolling correlations batched GEMMs over sliding windows of
mean-centred data with pairwise-complete masks (no Python loop over dates or pairs).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._corr_inputs import check_weight_sums, returns_matrix, window_args
from .._validation import as_float_array
from ..correlation import CorrelationEstimate
from ..realized import TRADING_DAYS

_DATES_PER_BATCH = 256


def index_variance(weights, vols, corr, *, scenarios: bool = False, threads=None):
    """NumPy twin of :func:`dispersionkit.index_variance` (``threads`` ignored)."""
    w, s, R = (as_float_array(a, name) for a, name in ((weights, "weights"), (vols, "vols"), (corr, "corr")))
    U = np.atleast_2d(w * s)
    if R.ndim == 3 and not scenarios:
        U = np.broadcast_to(U, (R.shape[0], U.shape[-1]))
        return (np.matmul(R, U[:, :, None])[:, :, 0] * U).sum(-1)
    result = np.stack([((U @ Rs) * U).sum(-1) for Rs in np.atleast_3d(R).reshape((-1,) + R.shape[-2:])])
    if not scenarios:
        result = result[0]
    return result if (w.ndim == 2 or s.ndim == 2) else result[..., 0]


def index_vol(weights, vols, corr, *, scenarios: bool = False, threads=None):
    """NumPy twin of :func:`dispersionkit.index_vol`."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(index_variance(weights, vols, corr, scenarios=scenarios))


def _equicorrelation(index_vol_value, vols, weights) -> CorrelationEstimate:
    iv = as_float_array(index_vol_value, "index_vol")
    ws = as_float_array(weights, "weights") * as_float_array(vols, "vols")
    check_weight_sums(as_float_array(weights, "weights"))
    sum_sq = (ws * ws).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (iv * iv - sum_sq) / (ws.sum(-1) ** 2 - sum_sq)
        return CorrelationEstimate(value, np.abs(value) > 1.0)


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
    off = np.einsum("...ij,i,j->...", R, w, w) - np.einsum("...ii,i->...", R, w * w)
    return off / (w.sum() ** 2 - (w * w).sum())


def _centred(x: np.ndarray):
    """(x minus its column means, 0 where missing; 1/0 observed mask): sums on it do not cancel."""
    valid = ~np.isnan(x)
    count = valid.sum(0)
    centre = np.where(count > 0, np.where(valid, x, 0.0).sum(0) / np.maximum(count, 1), 0.0)
    return np.where(valid, x - centre, 0.0), valid.astype(np.float64)


def realized_vol(returns, window, *, min_periods=None, annualization=TRADING_DAYS, threads=None):
    """NumPy twin of :func:`dispersionkit.realized_vol` (arrays in, arrays out), via cumulative sums."""
    window, min_periods = window_args(window, min_periods)
    x = returns_matrix(returns)
    xc, m = _centred(x)

    def rolling_sum(a):
        c = np.vstack([np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)])
        lag = np.vstack([np.zeros((window, a.shape[1])), c[:-window]])[: c.shape[0]]
        return (c - lag)[1:]

    count, sx, sxx = rolling_sum(m), rolling_sum(xc), rolling_sum(xc * xc)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (sxx - sx * sx / count) / (count - 1.0)
    vol = np.sqrt(np.maximum(var, 0.0) * annualization)
    vol[count < max(min_periods, 2)] = np.nan
    return vol[:, 0] if np.ndim(returns) == 1 else vol


def _window_sums(x: np.ndarray, window: int):
    """Per-date sums over each trailing window's pairwise-complete rows, by batched GEMMs.

    Returns count, sx, sy, sxx, syy, sxy as (T, n, n) arrays; pair (i, j) uses the rows where
    both names are observed (rows before the first date count as missing).
    """
    T, n = x.shape
    xc, m = _centred(x)
    pad = np.zeros((window - 1, n))
    xw = sliding_window_view(np.vstack([pad, xc]), window, axis=0)  # (T, n, W) views, no copy
    mw = sliding_window_view(np.vstack([pad, m]), window, axis=0)
    out = [np.empty((T, n, n)) for _ in range(6)]
    for b in range(0, T, _DATES_PER_BATCH):
        X, M = xw[b : b + _DATES_PER_BATCH], mw[b : b + _DATES_PER_BATCH]
        Mt = np.swapaxes(M, 1, 2)
        sx, sxx = X @ Mt, (X * X) @ Mt
        values = (M @ Mt, sx, np.swapaxes(sx, 1, 2), sxx, np.swapaxes(sxx, 1, 2), X @ np.swapaxes(X, 1, 2))
        for dest, value in zip(out, values):
            dest[b : b + _DATES_PER_BATCH] = value
    return out


def _rolling_matrices(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    count, sx, sy, sxx, syy, sxy = _window_sums(x, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        vx, vy = sxx - sx * sx / count, syy - sy * sy / count
        corr = (sxy - sx * sy / count) / np.sqrt(vx * vy)
    corr[(count < max(min_periods, 2)) | ~(vx > 0) | ~(vy > 0)] = np.nan
    n = x.shape[1]
    diag = np.diagonal(corr, axis1=1, axis2=2)
    corr[:, np.arange(n), np.arange(n)] = np.where(np.isnan(diag), np.nan, 1.0)
    return corr


def realized_correlation(returns, window, *, weights=None, method="pairwise", index_returns=None,
                         min_periods=None, threads=None):
    """NumPy twin of :func:`dispersionkit.realized_correlation` (arrays in, arrays out)."""
    window, min_periods = window_args(window, min_periods)
    x = returns_matrix(returns)
    T, n = x.shape
    if method == "implied_formula":
        w = np.full(n, 1.0 / n) if weights is None else as_float_array(weights, "weights")
        index_x = x @ w if index_returns is None else as_float_array(index_returns, "index_returns")
        vols = realized_vol(x, window, min_periods=min_periods)
        index_vol_value = realized_vol(index_x, window, min_periods=min_periods)
        return _equicorrelation(index_vol_value, vols, w).value
    corr = _rolling_matrices(x, window, min_periods)
    if method == "matrix":
        return corr
    w = np.ones(n) if weights is None else as_float_array(weights, "weights")
    pair_w = np.outer(w, w)
    np.fill_diagonal(pair_w, 0.0)
    defined = ~np.isnan(corr)
    num = np.where(defined, corr, 0.0).reshape(T, -1) @ pair_w.ravel()
    den = defined.reshape(T, -1).astype(np.float64) @ pair_w.ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)
