"""Turns hedged_pnl's arguments into the validated arrays both the core and the NumPy twin use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_float_array, as_real
from .book import Book
from .hedge_policy import HedgePolicy

_DETAILS = ("auto", "summary", "steps")
# Expiries within this many steps of a grid point settle on that step (float noise in expiry / dt).
_STEP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LegArrays:
    """One (L,) array per leg field, read by name by ``_core.hedged_pnl`` and the NumPy twin."""

    underlying: np.ndarray  # int64 spot column
    vol_column: np.ndarray  # int64 column of vols
    expiry_step: np.ndarray  # int64 first step on or after expiry (>= 1)
    strike: np.ndarray  # float64
    expiry: np.ndarray  # float64 years from the first date
    is_call: np.ndarray  # float64 0/1
    quantity: np.ndarray  # float64 signed


@dataclass(frozen=True)
class BookInputs:
    spots: np.ndarray  # (P, T+1, m) float64, C-contiguous
    vols: np.ndarray  # (P, T+1, K) float64 view, stride 0 on broadcast axes
    legs: LegArrays
    div_yield: np.ndarray  # (m,)
    rate: float
    dt: float
    policy: HedgePolicy
    steps: bool
    step_labels: pd.Index
    leg_labels: tuple[str, ...]


def _spots(spots, names, dates):
    if isinstance(spots, pd.DataFrame):
        names = list(spots.columns) if names is None else names
        dates = spots.index if dates is None else dates
        spots = spots.to_numpy()
    array = as_float_array(spots, "spots")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(
            f"spots: expected shape (steps + 1, underlyings) or (paths, steps + 1, underlyings), got {np.shape(spots)}"
        )
    P, T1, m = array.shape
    if P < 1 or m < 1:
        raise ValueError(f"spots: need at least one path and one underlying, got shape {array.shape}")
    if T1 < 2:
        raise ValueError(f"spots: need at least two dates (one step), got {T1}")
    if not (array.min() > 0.0 and array.max() < np.inf):  # two streaming passes; NaN fails both
        p, t, j = np.argwhere(~(np.isfinite(array) & (array > 0)))[0]
        raise ValueError(
            f"spots: {array[p, t, j]} at path {p}, step {t}, underlying {j}; spots must be finite and > 0 "
            "(a missing spot is not filled or skipped: forward-fill or drop the date first)"
        )
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != m:
            raise ValueError(f"names: {len(names)} names for {m} spot columns")
    if dates is not None:
        dates = pd.DatetimeIndex(dates)
        if len(dates) != T1:
            raise ValueError(f"dates: {len(dates)} dates for {T1} rows of spots")
    return np.ascontiguousarray(array), names, dates


def _vols(vols, shape, n_legs, vols_by, names, dates):
    P, T1, m = shape
    frame = vols if isinstance(vols, pd.DataFrame) else None
    array = as_float_array(vols.to_numpy() if frame is not None else vols, "vols")
    if vols_by is None:
        last = array.shape[-1] if array.ndim else 1
        vols_by = "leg" if (last == n_legs and last != m) else "underlying"
    elif vols_by not in ("underlying", "leg"):
        raise ValueError(f"vols_by: expected 'underlying', 'leg' or None, got {vols_by!r}")
    if frame is not None:
        _same_frame_labels(frame, names if vols_by == "underlying" else None, dates)
    columns = m if vols_by == "underlying" else n_legs
    if array.ndim > 3:
        raise ValueError(f"vols: at most 3 dimensions (paths, steps + 1, columns), got shape {array.shape}")
    try:
        view = np.broadcast_to(array, (P, T1, columns))
    except ValueError:
        raise ValueError(
            f"vols: shape {array.shape} does not broadcast to (paths, steps + 1, {vols_by}s) = {(P, T1, columns)}"
        ) from None
    if array.size and not (array.min() >= 0.0 and array.max() < np.inf):
        bad = array[~(np.isfinite(array) & (array >= 0))].ravel()[0]
        raise ValueError(f"vols: {bad} found; implied vols must be finite and >= 0")
    return view, vols_by


def _same_frame_labels(frame: pd.DataFrame, names, dates) -> None:
    """A vols DataFrame is read by position: its columns and dates must be the spots' own."""
    if names is not None and [str(c) for c in frame.columns] != names:
        raise ValueError(
            f"vols: columns {list(map(str, frame.columns))} differ from the spot names {names}; "
            "reindex vols to the spots' columns first"
        )
    if dates is not None and not (len(frame.index) == len(dates) and frame.index.equals(dates)):
        raise ValueError("vols: its dates differ from the spots' dates; reindex vols to the spots' index first")


def _resolve_underlying(leg, names, m):
    u = leg.underlying
    if isinstance(u, str):
        if names is None:
            raise ValueError(f"underlying: leg names {u!r} but spots have no column names (pass a DataFrame or names=)")
        if u not in names:
            raise ValueError(f"underlying: {u!r} is not a spot column (have {names})")
        return names.index(u)
    if u >= m:
        raise ValueError(f"underlying: column {u} out of range for {m} spot columns")
    return int(u)


def _expiry_years(leg, dates):
    if isinstance(leg.expiry, float):
        return leg.expiry
    if dates is None:
        raise ValueError(f"expiry: {leg.expiry} is a date but the run has no dates (pass a DataFrame or dates=)")
    years = (pd.Timestamp(leg.expiry) - dates[0]).days / 365.0
    if years <= 0.0:
        raise ValueError(f"expiry: {leg.expiry} is not after the first date {dates[0].date()}")
    return years


def prepare(book, spots, vols, *, rate, div_yield, dt, policy, detail, names, dates, vols_by) -> BookInputs:
    """Validates everything and returns core-ready arrays; raises TypeError/ValueError naming the argument."""
    if not isinstance(book, Book):
        raise TypeError(f"book: expected a dispersionkit.Book, got {type(book).__name__}")
    if not isinstance(policy, HedgePolicy):
        raise TypeError(f"policy: expected a dispersionkit.HedgePolicy, got {type(policy).__name__}")
    if detail not in _DETAILS:
        raise ValueError(f"detail: expected one of {_DETAILS}, got {detail!r}")
    single = isinstance(spots, pd.DataFrame) or np.ndim(spots) == 2
    spot_array, names, dates = _spots(spots, names, dates)
    _P, T1, m = spot_array.shape
    L = len(book)
    vol_view, vols_by = _vols(vols, spot_array.shape, L, vols_by, names, dates)

    rate = as_real(rate, "rate")
    dt = as_real(dt, "dt")
    if dt <= 0.0:
        raise ValueError(f"dt: must be > 0 years, got {dt}")
    div = as_float_array(div_yield, "div_yield")
    try:
        div = np.ascontiguousarray(np.broadcast_to(div, (m,)))
    except ValueError:
        raise ValueError(
            f"div_yield: expected a scalar or one value per underlying ({m}), got shape {div.shape}"
        ) from None
    if not np.isfinite(div).all():
        raise ValueError("div_yield: must be finite")

    underlying = np.array([_resolve_underlying(leg, names, m) for leg in book], dtype=np.int64)
    expiry = np.array([_expiry_years(leg, dates) for leg in book], dtype=np.float64)
    # Any step past the last (T) means "does not expire within the run"; clipping before the
    # cast keeps expiries like 1e300 years from overflowing int64.
    steps_to_expiry = np.minimum(np.ceil(expiry / dt - _STEP_TOLERANCE), T1)
    legs = LegArrays(
        underlying=underlying,
        vol_column=underlying.copy() if vols_by == "underlying" else np.arange(L, dtype=np.int64),
        expiry_step=np.maximum(steps_to_expiry, 1).astype(np.int64),
        strike=np.array([leg.strike for leg in book], dtype=np.float64),
        expiry=expiry,
        is_call=np.array([float(leg.is_call) for leg in book], dtype=np.float64),
        quantity=np.array([leg.quantity for leg in book], dtype=np.float64),
    )

    steps = detail == "steps" or (detail == "auto" and single)
    step_labels = pd.Index(dates[1:], name="date") if dates is not None else pd.RangeIndex(1, T1, name="step")
    leg_labels = tuple(leg.label() for leg in book)
    return BookInputs(spot_array, vol_view, legs, div, rate, dt, policy, steps, step_labels, leg_labels)
