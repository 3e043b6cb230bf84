"""NumPy twins of the rolling realized statistics (same rules as dispersionkit.realized).

Written as a careful NumPy user would, on mean-centred data so sums do not cancel:
- vols from rolling sums (cumulative sums differenced at the window lag);
- average correlation of data without gaps from the identity
  sum_{i!=j} w_i w_j r_ij = Var(sum_i w_i x_i / sd_i) - sum_i w_i^2, O(window * n) per date;
- otherwise (gaps, constant stretches, or the full matrices) per-pair window sums over
  pairwise-complete rows, from cumulative sums of row outer products in batches of dates.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import as_float_array
from ..numeric._correlation_inputs import returns_matrix, window_args
from ..numeric.realized import TRADING_DAYS
from .correlation import implied_correlation

_DATES_PER_BATCH = 128


def _centred(x: np.ndarray):
    """(x minus its column means, 0 where missing; 1/0 observed mask)."""
    valid = ~np.isnan(x)
    count = valid.sum(0)
    centre = np.where(count > 0, np.where(valid, x, 0.0).sum(0) / np.maximum(count, 1), 0.0)
    return np.where(valid, x - centre, 0.0), valid.astype(np.float64)


def _rolling_sum(a: np.ndarray, window: int) -> np.ndarray:
    c = np.cumsum(np.vstack([np.zeros((1, *a.shape[1:])), a]), axis=0)
    lagged = np.vstack([np.zeros((window, *a.shape[1:])), c[:-window]])[: c.shape[0]]
    return (c - lagged)[1:]


def _constant(x: np.ndarray, window: int) -> np.ndarray:
    """True where all observed values of a name in the window are equal (pandas: variance 0)."""
    with np.errstate(invalid="ignore"):
        hi = np.nan_to_num(x, nan=-np.inf)
        lo = np.nan_to_num(x, nan=np.inf)
    pad = window - 1
    hi = sliding_window_view(np.vstack([np.full((pad, x.shape[1]), -np.inf), hi]), window, axis=0).max(-1)
    lo = sliding_window_view(np.vstack([np.full((pad, x.shape[1]), np.inf), lo]), window, axis=0).min(-1)
    return hi == lo


def _moments(x: np.ndarray, window: int):
    xc, m = _centred(x)
    count, sx, sxx = _rolling_sum(m, window), _rolling_sum(xc, window), _rolling_sum(xc * xc, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sx / count
        var = np.where(_constant(x, window), 0.0, (sxx - sx * mean) / (count - 1.0))
    return xc, count, mean, var


def realized_vol(returns, window, *, min_periods=None, annualization=TRADING_DAYS, threads=None):
    """NumPy twin of :func:`dispersionkit.realized_vol` (arrays in, arrays out)."""
    window, min_periods = window_args(window, min_periods)
    x = returns_matrix(returns)
    _, count, _, var = _moments(x, window)
    vol = np.sqrt(np.maximum(var, 0.0) * annualization)
    vol[count < max(min_periods, 2)] = np.nan
    return vol[:, 0] if np.ndim(returns) == 1 else vol


def _correlation_batches(x: np.ndarray, window: int, min_periods: int):
    """Yield (first date, rolling correlation matrices (k, n, n)) for batches of dates."""
    T, n = x.shape
    xc, m = _centred(x)
    constant = _constant(x, window)
    diagonal = np.arange(n)
    for b in range(0, T, _DATES_PER_BATCH):
        e = min(T, b + _DATES_PER_BATCH)
        lo = max(0, b - window)
        X, M = xc[lo:e], m[lo:e]
        sums = [
            _rolling_sum(p, window)[b - lo :]
            for p in (
                M[:, :, None] * M[:, None, :],
                X[:, :, None] * M[:, None, :],
                (X * X)[:, :, None] * M[:, None, :],
                X[:, :, None] * X[:, None, :],
            )
        ]
        count, sx, sxx, sxy = sums
        sy, syy = np.swapaxes(sx, 1, 2), np.swapaxes(sxx, 1, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            vx, vy = sxx - sx * sx / count, syy - sy * sy / count
            corr = (sxy - sx * sy / count) / np.sqrt(vx * vy)
        flat = constant[b:e]
        undefined = (count < max(min_periods, 2)) | ~(vx > 0) | ~(vy > 0) | flat[:, :, None] | flat[:, None, :]
        corr[undefined] = np.nan
        corr[:, diagonal, diagonal] = np.where(np.isnan(corr[:, diagonal, diagonal]), np.nan, 1.0)
        yield b, corr


def _complete_average(x: np.ndarray, w: np.ndarray, window: int, min_periods: int):
    """Average correlation by the variance identity, or None where it does not apply."""
    T, n = x.shape
    xc, count, mean, var = _moments(x, window)
    usable = count >= max(min_periods, 2)
    if not (var[usable] > 0).all():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        a = w / np.sqrt(var)
    pad = np.vstack([np.zeros((window - 1, n)), xc])
    rows = sliding_window_view(pad, window, axis=0)  # (T, n, W)
    a = np.where(usable, a, 0.0)  # dates too short for a statistic: their z is discarded
    z = np.empty((T, window))
    for b in range(0, T, 1024):
        block = np.ascontiguousarray(np.swapaxes(rows[b : b + 1024], 1, 2))  # (k, W, n)
        z[b : b + 1024] = (block @ a[b : b + 1024, :, None])[:, :, 0]
    z -= (a * np.where(usable, mean, 0.0)).sum(1, keepdims=True)
    z[np.arange(window)[None, :] < (window - count)[:, :1]] = 0.0  # rows before the first date
    c = count[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = ((z * z).sum(1) - z.sum(1) ** 2 / c) / (c - 1.0)
        avg = (total - (w * w).sum()) / (w.sum() ** 2 - (w * w).sum())
    return np.where(usable[:, 0], avg, np.nan)


def realized_correlation(
    returns, window, *, weights=None, method="pairwise", index_returns=None, min_periods=None, threads=None
):
    """NumPy twin of :func:`dispersionkit.realized_correlation` (arrays in, arrays out)."""
    window, min_periods = window_args(window, min_periods)
    x = returns_matrix(returns)
    T, n = x.shape
    if method == "implied_formula":
        w = np.full(n, 1.0 / n) if weights is None else as_float_array(weights, "weights")
        index_x = x @ w if index_returns is None else as_float_array(index_returns, "index_returns")
        vols = realized_vol(x, window, min_periods=min_periods)
        index_vol = realized_vol(index_x, window, min_periods=min_periods)
        return implied_correlation(index_vol, vols, w).value
    if method == "matrix":
        out = np.empty((T, n, n))
        for b, corr in _correlation_batches(x, window, min_periods):
            out[b : b + corr.shape[0]] = corr
        return out
    w = np.ones(n) if weights is None else as_float_array(weights, "weights")
    if w.max(initial=0.0) > 0:
        w = w / w.max()  # a weighted mean is scale-free; products of tiny weights would underflow
    # The variance identity cancels when one name carries almost all the weight.
    if not np.isnan(x).any() and (w.sum() ** 2 - (w * w).sum()) * 1e3 > w.sum() ** 2:
        avg = _complete_average(x, w, window, min_periods)
        if avg is not None:
            return avg
    pair_w = np.outer(w, w)
    np.fill_diagonal(pair_w, 0.0)
    num, den = np.empty(T), np.empty(T)
    for b, corr in _correlation_batches(x, window, min_periods):
        k = corr.shape[0]
        defined = ~np.isnan(corr)
        num[b : b + k] = np.where(defined, corr, 0.0).reshape(k, -1) @ pair_w.ravel()
        den[b : b + k] = defined.reshape(k, -1) @ pair_w.ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)
