"""Rolling realized volatility and correlation of daily log returns (C++ core).

Conventions: ``returns`` are daily log returns, rows are dates (oldest first), columns names;
NaN marks a missing observation (+-inf is rejected). Windows are trailing and count rows, like
``DataFrame.rolling(window, min_periods)``: a statistic needs ``min_periods`` (default
``window``, and at least 2) observations, correlations use pairwise-complete observations, a
pair whose window has zero variance in either name is undefined (NaN). Vols use the sample
standard deviation (ddof = 1) annualized with 252 trading days. Results equal pandas'
``rolling().std()`` / ``rolling().corr()`` to ~1e-12 wherever both are defined.

Accuracy over speed: running sums are kept on data centred by a per-block column mean and are
recomputed from scratch every max(8 * window, 256) dates. Each running sum carries an estimate
of the rounding it has accumulated (a level shift or a spike that has left the window leaves
a residue far larger than a quiet window's own moments); a statistic whose estimated error
exceeds 1e-13 of its moments, whose one-pass moments cancel, or whose window has at most 16
rows is recomputed two-pass from the window's raw rows; values whose squares would under- or
overflow are scaled by a power of two first (exact). Measured against exact rational
arithmetic on adversarial series (level shifts and excursions of 1e3-1e8 over returns of 1e-2
or less, spikes, variances down to 1e-16, returns of 1e-250 or 1e200, constant stretches,
NaN holes, long series):
correlations within 3e-14 absolute, vols within 5e-14 relative. pandas' own running sums can
be 1e-11 off on ordinary data and far more after a level shift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _core
from .._labels import as_frame, as_series, columns_of, date_index, same_labels
from .._validation import as_float_array, as_scalar, check_allocation, resolve_threads
from ._correlation_inputs import check_weight_sums, non_negative, per_name, returns_matrix, same_names, window_args
from .correlation import power_of_two_scale

TRADING_DAYS = 252
"""Trading days per year used to annualize realized statistics."""

_METHODS = ("pairwise", "implied_formula", "matrix")


def realized_vol(returns, window, *, min_periods=None, annualization=TRADING_DAYS, threads=None):
    """Rolling annualized realized vol: sample std (ddof 1) of ``window`` rows * sqrt(annualization).

    ``returns``: (T,) or (T, n) daily log returns (Series/DataFrame keep their labels). Returns
    the input's shape; NaN where fewer than max(min_periods, 2) observations are in the window.
    """
    window, min_periods = window_args(window, min_periods)
    annualization = as_scalar(annualization, "annualization", positive=True)
    out = rolling_vol_values(returns_matrix(returns), window, min_periods, annualization=annualization, threads=threads)
    if np.ndim(returns) == 1:
        return as_series(out[:, 0], date_index(returns, per_date=(0,)), getattr(returns, "name", None))
    return as_frame(out, date_index(returns), columns_of(returns))


def rolling_vol_values(
    returns: np.ndarray, window: int, min_periods: int, *, annualization=TRADING_DAYS, threads=None
) -> np.ndarray:
    """Array-only core of :func:`realized_vol`: C-contiguous float64 (T, n) daily log returns
    (NaN = missing, no inf) and int ``window`` >= 2, 1 <= ``min_periods`` <= window, already
    checked; returns float64 (T, n), no labels. For callers that hold validated arrays."""
    check_allocation(returns.shape, "returns: one vol per date and name")
    out = np.empty_like(returns)
    _core.rolling_std(
        returns=returns,
        window=window,
        min_periods=min_periods,
        scale=float(np.sqrt(annualization)),
        out=out,
        threads=resolve_threads(threads),
    )
    return out


def _pair_weights(weights, n: int):
    if weights is None:
        return None
    w = per_name(weights, "weights", allow_dates=False)
    same_names({"weights": w, "returns": np.empty((0, n))})
    if not np.isfinite(w).all():
        raise ValueError("weights: contains NaN or inf")
    non_negative(w, "weights")
    return np.ascontiguousarray(w)


def _implied_formula(x, w, index_returns, window, min_periods, nthreads):
    T, n = x.shape
    w = np.full(n, 1.0 / n) if w is None else w
    check_weight_sums(w)
    if index_returns is None:
        # NaN in any name leaves that day's basket return missing. einsum, not BLAS: a
        # matrix-vector product is too small to pay for waking (and spinning) BLAS threads.
        index_x = np.einsum("tn,n->t", x, w)
    else:
        index_x = as_float_array(index_returns, "index_returns")
        if index_x.shape != (T,):
            raise ValueError(f"index_returns: expected shape ({T},) to match returns, got {index_x.shape}")
    if np.isinf(index_x).any():
        raise ValueError("index_returns: contains +-inf; mark missing data with NaN")
    check_allocation((2, T, n + 1), "returns: realized vols of the names and the index")
    both = np.empty((T, n + 1))
    both[:, :n], both[:, n] = x, index_x
    vols = np.empty_like(both)
    _core.rolling_std(
        returns=both,
        window=window,
        min_periods=min_periods,
        scale=float(np.sqrt(TRADING_DAYS)),
        out=vols,
        threads=nthreads,
    )
    out = np.empty(T)
    _core.equicorrelation(
        index_vol=vols[:, n], vols=vols[:, :n], weights=np.broadcast_to(w, (T, n)), out=out, threads=nthreads
    )
    return out


def realized_correlation(
    returns,
    window,
    *,
    weights=None,
    method: str = "pairwise",
    index_returns=None,
    min_periods=None,
    threads=None,
):
    """Rolling realized correlation of daily log returns (T, n), one of three measures.

    - ``"pairwise"``: mean of the defined off-diagonal rolling correlations, weighted by
      w_i w_j when ``weights`` (n,) is given; pairs undefined in a window (too few
      pairwise-complete observations, zero variance) are left out; NaN when none is defined.
      Returns (T,).
    - ``"implied_formula"``: the implied-correlation formula on realized vols:
      (s_I^2 - sum w_i^2 s_i^2) / ((sum w_i s_i)^2 - sum w_i^2 s_i^2), with s_I the realized
      vol of ``index_returns`` (T,) when given, else of the basket sum_i w_i r_i (a day with
      any missing name has no basket return). ``weights`` default to 1/n and should sum to 1
      (WeightsWarning otherwise). Unclipped: may leave [-1, 1]. Returns (T,).
    - ``"matrix"``: the full rolling matrices (T, n, n), diagonal 1 where defined; for a
      DataFrame input a DataFrame indexed by (date, name) like ``rolling().corr()``.

    Windows, ``min_periods`` and NaN rules are those of the module docstring. O(n^2) per date
    for "pairwise"/"matrix", O(n) for "implied_formula"; results do not depend on ``threads``.
    """
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {_METHODS}, got {method!r}")
    nthreads = resolve_threads(threads)
    window, min_periods = window_args(window, min_periods)
    x = returns_matrix(returns)
    T, n = x.shape
    if n < 2:
        raise ValueError("returns: need at least 2 names (columns) for a correlation")
    index = date_index(returns, index_returns, per_date=(0, 1))
    same_labels(
        {"returns": returns if isinstance(returns, pd.DataFrame) else None, "weights": weights},
        {"returns": returns, "index_returns": index_returns},
    )
    w = _pair_weights(weights, n)

    if method == "implied_formula":
        values = _implied_formula(x, w, index_returns, window, min_periods, nthreads)
        return as_series(values, index, f"realized_correlation_{method}_{window}d")
    if index_returns is not None:
        raise ValueError(f"index_returns: only used by method='implied_formula', not {method!r}")
    if method == "pairwise":
        avg = np.empty(T)
        pair_weights = None if w is None else power_of_two_scale(w)  # w_i w_j must not underflow
        _core.rolling_pairwise_corr(
            returns=x,
            window=window,
            min_periods=min_periods,
            weights=pair_weights,
            avg=avg,
            matrix=None,
            threads=nthreads,
        )
        return as_series(avg, index, f"realized_correlation_{method}_{window}d")
    check_allocation((T, n, n), "returns: method='matrix' (dates, names, names)")
    matrix = np.empty((T, n, n))
    _core.rolling_pairwise_corr(
        returns=x, window=window, min_periods=min_periods, weights=w, avg=None, matrix=matrix, threads=nthreads
    )
    if index is None:
        return matrix
    columns = columns_of(returns)
    names = columns if columns is not None else pd.RangeIndex(n)
    rows = pd.MultiIndex.from_product([index, names])
    return pd.DataFrame(matrix.reshape(T * n, n), index=rows, columns=names)
