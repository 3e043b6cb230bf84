"""Turns hedged_pnl's arguments into the validated arrays both the core and the NumPy twin use."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_float_array, as_real, check_allocation, unbroadcast
from .book import Book
from .hedge_policy import HedgePolicy

_DETAILS = ("auto", "summary", "steps")
# Expiries within this many steps of a grid point settle on that step (float noise in expiry / dt).
_STEP_TOLERANCE = 1e-9
# A dated step is a gap when it is longer than dt plus this many calendar days (weekends,
# holidays and exchange closures of up to a week stay below it), or shorter than this fraction
# of dt (two rows of one day, e.g. the same close with and without a time).
_GAP_SLACK_DAYS = 6.0
_SHORT_STEP = 0.1
_DAYS_PER_YEAR = 365.0


class CalendarGapWarning(UserWarning):
    """A step of a dated hedged_pnl run whose calendar length is far from ``dt``.

    The engine prices every step as ``dt`` years: across a hole in the data (a missing week or
    month of closes) the whole move lands in one step charged one step of theta and financing,
    and rows closer than ``dt`` are charged a full step. The run goes on; the warning names the
    dates so the data can be fixed (fill or drop the gap, or pass the ``dt`` of the data).
    """


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


def _dates(value, what: str, rows: int):
    """A DatetimeIndex of ``rows`` strictly increasing dates, or None when there are none.

    ``what`` is "dates" (the argument) or "spots" (a DataFrame's index). A DataFrame whose index
    is not made of dates (e.g. a RangeIndex) has no dates, rather than being read as nanoseconds
    since 1970.
    """
    index = value if isinstance(value, pd.Index) else pd.Index(value)
    if not isinstance(index, pd.DatetimeIndex):
        if index.dtype.kind in "biuf":
            if what == "spots":
                return None
            raise TypeError(f"dates: expected dates (datetime-like), got {index.dtype} values")
        try:
            index = pd.DatetimeIndex(index)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{what}: cannot read the dates ({error})") from None
    label = "dates" if what == "dates" else "spots index"
    if len(index) != rows:
        raise ValueError(f"{label}: {len(index)} dates for {rows} rows of spots")
    if index.hasnans:
        raise ValueError(f"{label}: missing date (NaT) at row {int(np.flatnonzero(index.isna())[0])}")
    step = index[1:] - index[:-1]
    bad = np.flatnonzero(step <= pd.Timedelta(0))
    if bad.size:
        row = int(bad[0]) + 1
        problem = "repeats the previous date" if index[row] == index[row - 1] else f"comes after {index[row - 1]}"
        raise ValueError(
            f"{label}: date {index[row]} at row {row} {problem}; dates must be strictly increasing "
            "(sort them and drop duplicates first)"
        )
    return index


def _check_gaps(dates: pd.DatetimeIndex, dt: float) -> None:
    """CalendarGapWarning naming the steps whose calendar length is far from dt."""
    days = np.asarray((dates[1:] - dates[:-1]) / pd.Timedelta(days=1), dtype=np.float64)
    nominal = dt * _DAYS_PER_YEAR
    far = np.flatnonzero((days > nominal + _GAP_SLACK_DAYS) | (days < _SHORT_STEP * nominal))
    if not far.size:
        return
    first = int(far[0])
    listed = ", ".join(f"{dates[k]} -> {dates[k + 1]} ({days[k]:.3g} days)" for k in far[:5])
    more = f" and {far.size - 5} more" if far.size > 5 else ""
    warnings.warn(
        f"dates: {far.size} step(s) far from dt = {nominal:.3g} calendar days: {listed}{more}; each is "
        f"priced as one step of dt (the first, step {first}, spans {days[first]:.3g} days). Fill or drop "
        "the gap, or pass the dt of the data.",
        CalendarGapWarning,
        stacklevel=4,
    )


def _spots(spots, names, dates):
    frame_dates = None
    if isinstance(spots, pd.DataFrame):
        names = list(spots.columns) if names is None else names
        frame_dates = spots.index
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
    # The core reads spots C-contiguous: a broadcast input is copied, so its full size must fit.
    if not array.flags.c_contiguous:
        check_allocation(array.shape, "spots")
    distinct = unbroadcast(array)  # a spot broadcast over paths is checked once, not per path
    if not (distinct.min() > 0.0 and distinct.max() < np.inf):  # two streaming passes; NaN fails both
        p, t, j = np.argwhere(~(np.isfinite(distinct) & (distinct > 0)))[0]
        raise ValueError(
            f"spots: {distinct[p, t, j]} at path {p}, step {t}, underlying {j}; spots must be finite and > 0 "
            "(a missing spot is not filled or skipped: forward-fill or drop the date first)"
        )
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != m:
            raise ValueError(f"names: {len(names)} names for {m} spot columns")
    if dates is not None:
        dates = _dates(dates, "dates", T1)
    elif frame_dates is not None:
        dates = _dates(frame_dates, "spots", T1)
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
    distinct = unbroadcast(array)  # a vol broadcast over paths and steps is checked once
    if distinct.size and not (distinct.min() >= 0.0 and distinct.max() < np.inf):
        bad = distinct[~(np.isfinite(distinct) & (distinct >= 0))].ravel()[0]
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


def _expiry_timestamp(leg, dates: pd.DatetimeIndex) -> pd.Timestamp:
    stamp = pd.Timestamp(leg.expiry)
    if dates.tz is not None and stamp.tz is None:
        stamp = stamp.tz_localize(dates.tz)  # a plain date is read in the dates' own time zone
    elif dates.tz is None and stamp.tz is not None:
        raise ValueError(f"expiry: {leg.expiry} has a time zone but the dates do not")
    return stamp


def _expiries(book, dates, dt: float, T1: int) -> tuple[np.ndarray, np.ndarray]:
    """(expiry in years, settlement step) per leg.

    An expiry in years is grid time: the leg settles at the first step t with t * dt on or after
    it. An expiry given as a date is calendar time: years = calendar days / 365 from the first
    date, and the leg settles at the first date on or after its expiry date, wherever the rows
    fall (a gap in the data moves the settlement to the first date after it). Either way a leg
    must expire after the first step; one expiring after the last step (however far: 1e300
    years) never settles within the run (its step is T + 1).
    """
    years = np.empty(len(book))
    steps = np.empty(len(book), dtype=np.int64)
    for k, leg in enumerate(book):
        if isinstance(leg.expiry, float):
            years[k] = leg.expiry
            count = leg.expiry / dt  # may be inf (dt denormal): clipped below, never cast
            if count < 1.0 - _STEP_TOLERANCE:
                raise ValueError(
                    f"expiry: leg {k} ({leg.label()}) expires {leg.expiry:g} years out, before the first step "
                    f"(dt = {dt:g} years): its tenor is below one step"
                )
            # Any step past the last (T) means "does not expire within the run": clipping before
            # the cast keeps counts like 1e300 years / dt from overflowing int64.
            steps[k] = int(min(math.ceil(min(count, T1 + 1.0) - _STEP_TOLERANCE), T1))
            continue
        if dates is None:
            raise ValueError(f"expiry: {leg.expiry} is a date but the run has no dates (pass a DataFrame or dates=)")
        stamp = _expiry_timestamp(leg, dates)
        years[k] = (stamp - dates[0]) / pd.Timedelta(days=_DAYS_PER_YEAR)
        if years[k] <= 0.0:
            raise ValueError(f"expiry: {leg.expiry} is not after the first date {dates[0]}")
        if stamp < dates[1]:
            raise ValueError(
                f"expiry: leg {k} ({leg.label()}) expires on {stamp}, before the first step's date {dates[1]}: "
                "its tenor is below one step"
            )
        step = min(int(dates.searchsorted(stamp, side="left")), T1)  # T1: expires after the run
        # The grid prices the leg with time to expiry years - t * dt up to its last live step: that
        # must not run out before the expiry date, as it does when rows are closer together than dt.
        last = step - 1
        if last * dt > years[k] * (1.0 + _STEP_TOLERANCE):
            raise ValueError(
                f"expiry: leg {k} ({leg.label()}) is live until {dates[last]} (row {last}), but {last} steps of "
                f"dt = {dt:g} ({last * dt:.4g} years) are already past its expiry on {stamp} ({years[k]:.4g} years "
                f"after {dates[0]}): the rows are closer together than dt; pass the dt of the data"
            )
        steps[k] = step
    return years, steps


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
    if dates is not None:
        _check_gaps(dates, dt)
    expiry, expiry_step = _expiries(book, dates, dt, T1)
    legs = LegArrays(
        underlying=underlying,
        vol_column=underlying.copy() if vols_by == "underlying" else np.arange(L, dtype=np.int64),
        expiry_step=expiry_step,
        strike=np.array([leg.strike for leg in book], dtype=np.float64),
        expiry=expiry,
        is_call=np.array([float(leg.is_call) for leg in book], dtype=np.float64),
        quantity=np.array([leg.quantity for leg in book], dtype=np.float64),
    )

    steps = detail == "steps" or (detail == "auto" and single)
    # Outputs: per path and leg, and with steps per path, step and (17 rows + legs).
    P = spot_array.shape[0]
    check_allocation((P, L + 14), "spots, book: the summary of (paths, legs)")
    if steps:
        check_allocation((P, T1 - 1, L + 17), "detail='steps': the per-step outputs of (paths, steps, legs)")
    step_labels = pd.Index(dates[1:], name="date") if dates is not None else pd.RangeIndex(1, T1, name="step")
    leg_labels = tuple(leg.label() for leg in book)
    return BookInputs(spot_array, vol_view, legs, div, rate, dt, policy, steps, step_labels, leg_labels)
