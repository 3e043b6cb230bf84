"""Checks shared by the correlation functions: shapes, names, weights that should sum to 1."""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import as_count, as_float_array, check_allocation, unbroadcast, weight_sum_off


class WeightsWarning(UserWarning):
    """Index weights that do not sum to 1; they are used as given (never renormalized)."""


def per_name(value, name: str, *, allow_dates: bool = True) -> np.ndarray:
    """Per-name input as float64 of shape (n,) or, when allowed, (T, n)."""
    array = as_float_array(value, name)
    allowed = (1, 2) if allow_dates else (1,)
    if array.ndim not in allowed:
        shapes = "(n,) or (T, n)" if allow_dates else "(n,)"
        raise ValueError(f"{name}: expected shape {shapes}, got {array.shape}")
    if array.shape[-1] == 0:
        raise ValueError(f"{name}: needs at least one name")
    return array


def same_names(arrays: dict[str, np.ndarray]) -> int:
    """The common number of names (last axis); ValueError naming the mismatch otherwise."""
    sizes = {name: a.shape[-1] for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        detail = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"number of names differs: {detail}")
    return next(iter(sizes.values()))


def same_dates(arrays: dict[str, np.ndarray], date_axis_ndim: dict[str, int]) -> int | None:
    """The common number of dates among inputs that have a date axis, None if none has one."""
    sizes = {name: a.shape[0] for name, a in arrays.items() if a.ndim == date_axis_ndim[name]}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"number of dates differs: {detail}")
    return next(iter(sizes.values()), None)


def non_negative(array: np.ndarray, name: str) -> None:
    """Negative values are errors; NaN is allowed (missing data propagates)."""
    array = unbroadcast(array)  # a broadcast view is checked once per distinct element
    if (array < 0).any():
        raise ValueError(f"{name}: must be >= 0 (NaN marks missing data), found {array[array < 0].flat[0]!r}")


def check_weight_sums(weights: np.ndarray, name: str = "weights") -> None:
    """Warn (WeightsWarning) when a finite row of index weights does not sum to 1 (the rule:
    ``_validation.WEIGHT_SUM_TOLERANCE``)."""
    rows = unbroadcast(weights, axes=(0,)) if weights.ndim == 2 else weights  # one row repeated over dates: once
    sums = np.atleast_1d(rows.sum(axis=-1))
    off = weight_sum_off(sums)
    if off.any():
        warnings.warn(
            f"{name}: {int(off.sum())} row(s) do not sum to 1 (e.g. {sums[off][0]:.6g}); used as given",
            WeightsWarning,
            stacklevel=3,
        )


# Window lengths are int64 in the core; a window longer than the data covers every row so far.
_MAX_WINDOW = 2**63 - 1


def window_args(window, min_periods) -> tuple[int, int]:
    """(window, min_periods) as ints: 2 <= window <= 2**63 - 1, 1 <= min_periods <= window (default window)."""
    window = as_count(window, "window", 2)
    if window > _MAX_WINDOW:
        raise ValueError(f"window: must be <= 2**63 - 1 rows, got {window}")
    if min_periods is None:
        return window, window
    min_periods = as_count(min_periods, "min_periods", 1)
    if min_periods > window:
        raise ValueError(f"min_periods: must be in [1, window={window}], got {min_periods}")
    return window, min_periods


def returns_matrix(returns, name: str = "returns") -> np.ndarray:
    """Daily log returns as C-contiguous float64 (T, n); NaN = missing, +-inf rejected."""
    array = as_float_array(returns, name)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name}: expected shape (T,) or (T, n), got {array.shape}")
    if not array.flags.c_contiguous:
        check_allocation(array.shape, name)  # the kernels read a C-contiguous copy
    if np.isinf(unbroadcast(array)).any():
        raise ValueError(f"{name}: contains +-inf; mark missing data with NaN")
    return np.ascontiguousarray(array)
