"""Index variance from correlation matrices, implied and break-even correlation (C++ core).

Conventions (see docs/methodology.md): vols are annualized decimals
(0.20 = 20%), weights are index weights meant to sum to 1. Weights whose rows do not sum to 1
(beyond 1e-6) raise a :class:`WeightsWarning` and are used as given, never renormalized, so a
caller passing notional-style weights gets exactly the arithmetic they asked for. Negative
vols or index vols are errors; NaN (missing data) propagates to the dates it touches, except
that a name with weight exactly 0 does not enter at all (its vol may be NaN, e.g. before listing).

pandas inputs are accepted; outputs carry the date index of the first pandas input that has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _core
from .._labels import as_series, date_index, same_labels
from .._validation import as_float_array, check_allocation, resolve_threads, unbroadcast
from ._correlation_inputs import check_weight_sums, non_negative, per_name, same_dates, same_names


@dataclass(frozen=True)
class CorrelationEstimate:
    """An equicorrelation estimate per date, unclipped.

    ``value`` is the formula's result (float64, or a pandas Series on the input dates);
    ``out_of_range`` is True where ``value`` lies outside [-1, 1] (bad or stale quotes), False
    elsewhere including NaN dates. ``undefined`` is True where ``value`` is NaN although no
    input is missing: fewer than two names carry non-zero weight x vol (one stock, zero
    weights, halted names with zero vol), so the denominator sum_{i!=j} w_i s_i w_j s_j is 0
    within rounding (see :data:`DEGENERATE_CROSS`). Values are never clipped: use
    ``clipped()`` if you must.
    """

    value: float | np.ndarray | pd.Series
    out_of_range: np.ndarray
    undefined: np.ndarray

    def clipped(self):
        """``value`` clipped to [-1, 1] (NaN stays NaN)."""
        return np.clip(self.value, -1.0, 1.0)


DEGENERATE_CROSS = 4.0 * np.finfo(np.float64).eps
"""The equicorrelation formula is undefined (NaN) where its denominator
sum_{i!=j} u_i u_j (u_i = w_i s_i) is within ``DEGENERATE_CROSS * (sum_i |u_i|)^2`` of 0: below
the rounding of its own inputs, i.e. fewer than two names carry weight x vol."""


def cross_sum(u: np.ndarray) -> np.ndarray:
    """sum_{i!=j} u_i u_j over the last axis, as 2 sum_i u_i (u_0 + ... + u_{i-1}).

    Without the cancellation of (sum u)^2 - sum u^2: for terms of one sign it is accurate to
    ~n eps of itself even when one term carries almost all of the sum.
    """
    prefix = np.cumsum(u, axis=-1)
    before = np.concatenate([np.zeros_like(prefix[..., :1]), prefix[..., :-1]], axis=-1)
    return 2.0 * (u * before).sum(-1)


def pair_cross(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum_{i!=j} u_i u_j, (sum_i |u_i|)^2) over the last axis, as the core computes them:
    (sum u)^2 - sum u^2, recomputed by :func:`cross_sum` where that loses more than three
    digits. The cross sum is undefined (0 within rounding) where
    ``abs(cross) <= DEGENERATE_CROSS * scale``."""
    total = u.sum(-1)
    cross = total * total - (u * u).sum(-1)
    scale = np.abs(u).sum(-1) ** 2
    with np.errstate(invalid="ignore"):
        redo = ~(cross > 1e-3 * scale)
    if np.any(redo):
        cross = np.where(redo, cross_sum(u), cross)
    return cross, scale


def power_of_two_scale(weights: np.ndarray) -> np.ndarray:
    """Weights times the power of two that puts the largest in [0.5, 1): exact, so weighted
    means keep their bits, and products w_i w_j of tiny weights do not underflow to 0."""
    largest = float(np.max(weights, initial=0.0))
    if not (largest > 0.0 and np.isfinite(largest)):
        return weights
    return np.ldexp(weights, -np.frexp(largest)[1])


def _date_rows(array: np.ndarray) -> np.ndarray:
    """A (T, n) input whose rows repeat one row (stride 0 over dates) as that one row (1, n):
    nothing of size T * n is scanned or copied; the kernels take a row stride of 0."""
    return unbroadcast(array, axes=(0,)) if array.ndim == 2 else array


def _corr_matrices(corr) -> np.ndarray:
    array = as_float_array(corr, "corr")
    if array.ndim not in (2, 3) or array.shape[-1] != array.shape[-2]:
        raise ValueError(f"corr: expected shape (n, n), (T, n, n) or (S, n, n), got {array.shape}")
    return array


def _dated(**named) -> dict:
    """The inputs whose rows are dates: DataFrames (a Series of vols or weights is per name)."""
    return {name: value for name, value in named.items() if isinstance(value, pd.DataFrame)}


def _check_shared(corr: np.ndarray, threads: int) -> None:
    """Matrices shared by many dates, (n, n) or (S, n, n): finite and symmetric (the kernel reads
    one triangle). Checked in the core, tile against mirrored tile, in one pass over the distinct
    matrices (a stack broadcast over S is checked once)."""
    distinct = unbroadcast(corr, axes=(0,)) if corr.ndim == 3 else corr[None]
    finite, gap = _core.symmetry_gap(corr=np.ascontiguousarray(distinct), threads=threads)
    if not finite:
        raise ValueError("corr: contains NaN or inf")
    if gap > 1e-10:
        raise ValueError(f"corr: not symmetric (max |R - R'| = {gap:.3g})")


def index_variance(weights, vols, corr, *, scenarios: bool = False, threads=None):
    """Index variance u'Ru with u = weights * vols, batched over dates and scenarios.

    Shapes (n names, T dates, S scenarios):

    - ``weights``, ``vols``: (n,) or (T, n).
    - ``corr``: (n, n) for every date; (T, n, n) one matrix per date (the default reading of a
      3-D ``corr``); or, with ``scenarios=True``, (S, n, n) stress scenarios applied to every
      date. The keyword, not the shape, decides, so S == T is never ambiguous.

    Returns a float for all-1-D inputs with one matrix; (T,) over dates; (S, T) for scenarios
    ((S,) when there is no date axis). A pandas date index on ``weights``/``vols`` is kept
    (Series for (T,), DataFrame with scenarios as rows and dates as columns for (S, T)).

    Units: variance of the annualized index return in decimals squared (vols in decimals).
    Shared matrices (2-D, or scenarios) must be finite and symmetric (ValueError otherwise);
    per-date matrices are used as given: NaN propagates to its date, and a non-symmetric
    matrix gives u'((R + R')/2)u. A matrix that is not PSD can give a negative variance.
    Nothing of size T * n * n is built: memory is O(T n + matrices).
    """
    nthreads = resolve_threads(threads)
    index = date_index(weights, vols)
    same_labels({"weights": weights, "vols": vols, "corr": corr}, _dated(weights=weights, vols=vols))
    w = per_name(weights, "weights")
    s = per_name(vols, "vols")
    R = _corr_matrices(corr)
    n = same_names({"weights": w, "vols": s, "corr": R})
    non_negative(s, "vols")
    check_weight_sums(w)

    per_date = R.ndim == 3 and not scenarios
    if scenarios and R.ndim != 3:
        raise ValueError(f"corr: scenarios=True needs shape (S, n, n), got {R.shape}")
    dims = {"weights": w, "vols": s}
    if per_date:
        dims["corr"] = R
    dates = same_dates(dims, {"weights": 2, "vols": 2, "corr": 3})
    has_dates = dates is not None
    T = 1 if dates is None else dates
    w, s = _date_rows(w), _date_rows(s)
    # u = w * s (0 where w == 0: a zero-weight name is absent, even with a NaN vol) is formed
    # in the core while it packs the dates; rows repeated over dates are passed once (stride 0).
    rows = dict(
        weights=np.broadcast_to(np.ascontiguousarray(w), (T, n)),
        vols=np.broadcast_to(np.ascontiguousarray(s), (T, n)),
    )

    if per_date:
        check_allocation((T,), "weights, vols, corr: one variance per date")
        if not R.flags.c_contiguous:
            check_allocation(R.shape, "corr")  # the kernel reads a contiguous copy
        out = np.empty(T)
        _core.quadform_per_date(corr=np.ascontiguousarray(R), **rows, out=out, threads=nthreads)
        return as_series(out, index)
    _check_shared(R, nthreads)
    if R.ndim == 3 and not R.flags.c_contiguous:
        check_allocation(R.shape, "corr")
    shared = np.ascontiguousarray(R if R.ndim == 3 else R[None])
    check_allocation((shared.shape[0], T), "corr, weights, vols: one variance per scenario and date")
    out = np.empty((shared.shape[0], T))
    _core.quadform_shared(corr=shared, **rows, out=out, threads=nthreads)
    if not scenarios:
        return as_series(out[0], index) if has_dates else float(out[0, 0])
    if not has_dates:
        return out[:, 0]
    if index is not None:
        return pd.DataFrame(out, columns=index)
    return out


def index_vol(weights, vols, corr, *, scenarios: bool = False, threads=None):
    """Index volatility sqrt(u'Ru): :func:`index_variance`'s shapes, labels and rules.

    Annualized decimal vol. Rounding can leave the variance of a singular PSD matrix (e.g.
    perfect negative correlation) a hair below 0; within 1e-12 (sum_i |w_i| s_i)^2 of 0 that
    reads as vol 0. A truly negative variance (corr not PSD) gives NaN, never a made-up vol.
    """
    var = index_variance(weights, vols, corr, scenarios=scenarios, threads=threads)
    values = np.asarray(var, dtype=np.float64)
    if np.any(values < 0):  # the scale is a pass over every (date, name): only when needed
        scale = (np.abs(as_float_array(weights, "weights")) * as_float_array(vols, "vols")).sum(-1) ** 2
        values = np.where((values < 0) & (values >= -1e-12 * scale), 0.0, values)
    with np.errstate(invalid="ignore"):
        vol = np.sqrt(values)
    if isinstance(var, float):
        return float(vol)
    if hasattr(var, "index"):
        return type(var)(vol, index=var.index, **({"columns": var.columns} if vol.ndim == 2 else {}))
    return vol


def equicorrelation_values(index_vol, vols, weights, *, threads=None) -> np.ndarray:
    """Array-only core of :func:`implied_correlation` and :func:`breakeven_correlation`.

    ``index_vol`` a float or float64 (T,); ``vols`` and ``weights`` float64 (n,) or (T, n),
    already checked (vols >= 0 or NaN, weights as the caller wants them). Returns the
    equicorrelation per date as float64 (T,), (1,) when no input has a date axis: no labels,
    no range flags, no weight-sum warning. For callers that hold validated arrays (the strategy
    and backtest layers); everyone else calls the labelled functions.
    """
    iv = np.asarray(index_vol, dtype=np.float64)
    s = np.asarray(vols, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    T = iv.shape[0] if iv.ndim == 1 else s.shape[0] if s.ndim == 2 else w.shape[0] if w.ndim == 2 else 1
    n = s.shape[-1]
    check_allocation((T,), "index_vol, vols, weights: one correlation per date")
    # A row repeated over dates (stride 0) stays one row: the kernel takes a row stride of 0.
    s, w, iv = _date_rows(s), _date_rows(w), unbroadcast(iv)
    for array, name in ((s, "vols"), (w, "weights")):
        if not array.flags.c_contiguous:
            check_allocation(array.shape, name)
    out = np.empty(T)
    _core.equicorrelation(
        index_vol=np.broadcast_to(iv, (T,)),
        vols=np.broadcast_to(np.ascontiguousarray(s), (T, n)),
        weights=np.broadcast_to(np.ascontiguousarray(w), (T, n)),
        out=out,
        threads=resolve_threads(threads),
    )
    return out


def _equicorrelation(index_vol_value, vols, weights, vol_name: str, threads) -> CorrelationEstimate:
    resolve_threads(threads)
    index = date_index(index_vol_value, vols, weights, per_date=(0,))
    same_labels({"vols": vols, "weights": weights}, {vol_name: index_vol_value, **_dated(vols=vols, weights=weights)})
    iv = as_float_array(index_vol_value, vol_name)
    if iv.ndim > 1:
        raise ValueError(f"{vol_name}: expected a scalar or shape (T,), got {iv.shape}")
    s = per_name(vols, "vols")
    w = per_name(weights, "weights")
    same_names({"vols": s, "weights": w})
    non_negative(s, "vols")
    non_negative(iv, vol_name)
    check_weight_sums(w)
    T = same_dates({vol_name: iv, "vols": s, "weights": w}, {vol_name: 1, "vols": 2, "weights": 2})
    scalar = T is None
    out = equicorrelation_values(iv, s, w, threads=threads)
    with np.errstate(invalid="ignore"):
        flags = np.abs(out) > 1.0
    dates = out.shape[0]
    undefined = np.zeros(dates, dtype=bool)
    if np.isnan(out).any():  # tell an undefined formula from missing inputs
        with np.errstate(invalid="ignore"):
            missing = np.isnan(w) | (np.isnan(s) & (w != 0.0))
        undefined = (
            np.isnan(out) & ~np.broadcast_to(np.isnan(iv), (dates,)) & ~np.broadcast_to(missing.any(-1), (dates,))
        )
    if scalar:
        return CorrelationEstimate(float(out[0]), flags[:1].reshape(()), undefined[:1].reshape(()))
    return CorrelationEstimate(as_series(out, index), flags, undefined)


def implied_correlation(
    index_vol, vols=None, weights=None, *, tenor_days=None, delta=None, moneyness=None, threads=None
) -> CorrelationEstimate:
    """CBOE implied (equi)correlation from index and component implied vols.

        rho = (s_I^2 - sum w_i^2 s_i^2) / ((sum w_i s_i)^2 - sum w_i^2 s_i^2)

    ``index_vol``: scalar or (T,); ``vols``, ``weights``: (n,) or (T,n). O(n) per date.
    Returns a :class:`CorrelationEstimate`: values outside [-1, 1] (inconsistent quotes) are
    returned as computed and flagged in ``out_of_range``, never clipped. NaN propagates.
    Where fewer than two names carry non-zero weight x vol the formula is undefined: NaN,
    flagged in ``undefined`` (like the pairwise average, which has no pair there).

    By tenor and strike: ``implied_correlation(market, tenor_days=30, delta=-0.25)`` with a
    :class:`~dispersionkit.MarketData` as the only positional argument takes the vols from
    its volatility surface (``MarketData.implied_correlation``: at-the-money forward, or at
    each name's own ``delta`` strike, or at ``moneyness`` K/S); ``value`` is a Series by date.
    """
    if vols is None and weights is None:
        by_surface = getattr(index_vol, "implied_correlation", None)
        if not callable(by_surface):
            raise TypeError(
                "vols, weights: needed unless the first argument is a market with a volatility surface "
                f"(dispersionkit.MarketData), got {type(index_vol).__name__}"
            )
        return by_surface(tenor_days, delta=delta, moneyness=moneyness, estimate=True)
    if tenor_days is not None or delta is not None or moneyness is not None:
        raise TypeError(
            "tenor_days, delta, moneyness: only with a market (dk.implied_correlation(market, tenor_days=...)); "
            "with vols and weights, pass the vols of that tenor and strike"
        )
    if vols is None or weights is None:
        raise TypeError("vols, weights: both are needed with an index vol")
    return _equicorrelation(index_vol, vols, weights, "index_vol", threads)


def breakeven_correlation(index_vol_paid, vols, weights, *, threads=None) -> CorrelationEstimate:
    """Realized correlation at which the short-index leg breaks even.

        rho_be = (s_paid^2 - sum w_i^2 s_i^2) / sum_{i!=j} w_i w_j s_i s_j

    with ``vols`` the realized (or expected realized) component vols and ``index_vol_paid`` the
    index implied vol sold. Long dispersion's index leg profits when realized correlation is
    below rho_be. Shapes, flags and NaN rules as :func:`implied_correlation`.
    """
    return _equicorrelation(index_vol_paid, vols, weights, "index_vol_paid", threads)


def average_correlation(corr, weights=None, *, threads=None):
    """Mean off-diagonal correlation of (..., n, n) matrices, batched over leading axes.

    Equal weights by default; with ``weights`` (n,) the w_i w_j weighted mean
    sum_{i!=j} w_i w_j R_ij / sum_{i!=j} w_i w_j (weights need not sum to 1 here: the mean
    normalizes). Returns a float for one matrix, else an array of the leading shape. NaN in
    a matrix propagates to its result. n must be >= 2.
    """
    nthreads = resolve_threads(threads)
    R = as_float_array(corr, "corr")
    if R.ndim < 2 or R.shape[-1] != R.shape[-2]:
        raise ValueError(f"corr: expected shape (..., n, n), got {R.shape}")
    n = R.shape[-1]
    if n < 2:
        raise ValueError("corr: needs n >= 2 names for an off-diagonal mean")
    if weights is None:
        w = np.ones(n)
    else:
        w = per_name(weights, "weights", allow_dates=False)
        same_names({"weights": w, "corr": R})
        same_labels({"corr": corr if isinstance(corr, pd.DataFrame) else None, "weights": weights}, {})
        if not np.isfinite(w).all():
            raise ValueError("weights: contains NaN or inf")
        non_negative(w, "weights")
        w = power_of_two_scale(w)
    if not cross_sum(w) > 0.0:
        raise ValueError("weights: need at least two names with positive weight")
    lead = R.shape[:-2]
    if not R.flags.c_contiguous:
        check_allocation(R.shape, "corr")  # the kernel reads a contiguous copy
    flat = np.ascontiguousarray(R.reshape((-1, n, n)))
    pair_weight = w.sum() ** 2 - (w * w).sum()
    if pair_weight * 1e3 > w.sum() ** 2:
        total = np.empty(flat.shape[0])
        _core.quadform_per_date(
            corr=flat,
            weights=np.broadcast_to(w, (flat.shape[0], n)),
            vols=np.broadcast_to(np.ones(n), (flat.shape[0], n)),  # u = w
            out=total,
            threads=nthreads,
        )
        diagonal = np.diagonal(flat, axis1=-2, axis2=-1) @ (w * w)
        result = ((total - diagonal) / pair_weight).reshape(lead)
    else:
        # One name carries almost all the weight: w'Rw - sum w_i^2 R_ii would cancel, so the
        # off-diagonal terms are summed directly.
        pairs = np.outer(w, w)
        np.fill_diagonal(pairs, 0.0)
        off = np.einsum("tij,ij->t", flat, pairs)
        result = (off / cross_sum(w)).reshape(lead)
    return float(result) if result.ndim == 0 else result
