"""Alignment checks for MarketData inputs; every error names the argument and the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import weight_sum_off


def dated_frame(value, name: str) -> pd.DataFrame:
    """The reference calendar: a non-empty float DataFrame, sorted unique dates, unique str tickers."""
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame (dates x tickers), got {type(value).__name__}")
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(f"{name}: is empty (shape {value.shape})")
    _check_dates(value.index, name)
    bad = [c for c in value.columns if not isinstance(c, str)]
    if bad:
        raise TypeError(f"{name}: ticker column labels must be str, got {bad[0]!r}")
    repeated = sorted(set(value.columns[value.columns.duplicated()]))
    if repeated:
        raise ValueError(f"{name}: duplicate tickers {repeated}")
    return _as_float(value, name)


def frame_like(value, name: str, dates: pd.DatetimeIndex, tickers: pd.Index) -> pd.DataFrame:
    """A dates x tickers DataFrame on exactly the reference calendar and ticker set, in spots' order."""
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame (dates x tickers), got {type(value).__name__}")
    _check_dates(value.index, name)
    same_calendar(value.index, dates, name)
    same_tickers(value.columns, tickers, name)
    return _as_float(value[list(tickers)], name)


def series_like(value, name: str, dates: pd.DatetimeIndex) -> pd.Series:
    """A Series on exactly the reference calendar."""
    if not isinstance(value, pd.Series):
        raise TypeError(f"{name}: expected a pandas Series indexed by date, got {type(value).__name__}")
    _check_dates(value.index, name)
    same_calendar(value.index, dates, name)
    return _as_float(value, name)


def ticker_series(value, name: str, tickers: pd.Index) -> pd.Series:
    """A Series indexed by exactly the tickers, in spots' order."""
    if not isinstance(value, pd.Series):
        raise TypeError(f"{name}: expected a pandas Series indexed by ticker, got {type(value).__name__}")
    if value.index.has_duplicates:
        raise ValueError(f"{name}: duplicate tickers {sorted(set(value.index[value.index.duplicated()]))}")
    same_tickers(value.index, tickers, name)
    return _as_float(value[list(tickers)], name)


def same_calendar(have: pd.Index, want: pd.DatetimeIndex, name: str) -> None:
    if have.equals(want):
        return
    extra = have.difference(want)
    absent = want.difference(have)
    parts = []
    if len(absent):
        parts.append(f"{len(absent)} spots dates missing (first {absent[0].date()})")
    if len(extra):
        parts.append(f"{len(extra)} dates not in spots (first {extra[0].date()})")
    detail = "; ".join(parts) or "different time zone or resolution"
    raise ValueError(f"{name}: calendar differs from spots: {detail}; reindex it to spots.index first")


def same_tickers(have: pd.Index, want: pd.Index, name: str) -> None:
    absent = [t for t in want if t not in set(have)]
    extra = [t for t in have if t not in set(want)]
    if absent or extra:
        raise ValueError(f"{name}: tickers differ from spots: missing {absent}, unexpected {extra}")


def positive_or_nan(value, name: str) -> None:
    """Prices must be > 0 where present; NaN is missing data, reported not rejected."""
    _reject(value, lambda a: a <= 0, name, "must be > 0")


def nonnegative_or_nan(value, name: str) -> None:
    _reject(value, lambda a: a < 0, name, "must be >= 0")


def finite_or_nan(value, name: str) -> None:
    _reject(value, np.isinf, name, "must be finite")


def weight_rows(weights: pd.DataFrame | pd.Series, name: str) -> None:
    """Weights are index weights: >= 0 and summing to 1 on every complete row (the rule:
    ``_validation.WEIGHT_SUM_TOLERANCE``)."""
    nonnegative_or_nan(weights, name)
    frame = weights.to_frame().T if isinstance(weights, pd.Series) else weights
    complete = frame.notna().all(axis=1)
    totals = frame[complete].sum(axis=1)
    off = totals[weight_sum_off(totals.to_numpy())]
    if len(off):
        where = "" if isinstance(weights, pd.Series) else f" on {off.index[0].date()}"
        raise ValueError(f"{name}: must sum to 1{where}, got {off.iloc[0]:.8g}; divide by the sum to normalize")


def missing_report(named: dict[str, pd.Series | pd.DataFrame]) -> pd.DataFrame:
    """One row per (field, column) with missing values: count, first and last date."""
    rows = []
    for field, value in named.items():
        frame = value.to_frame(name=field) if isinstance(value, pd.Series) else value
        mask = frame.isna()
        for column in frame.columns[mask.any(axis=0).to_numpy()]:
            hit = frame.index[mask[column].to_numpy()]
            rows.append((field, str(column), len(hit), hit[0], hit[-1]))
    return pd.DataFrame(rows, columns=["field", "column", "count", "first", "last"])


def _check_dates(index: pd.Index, name: str) -> None:
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"{name}: index must be a DatetimeIndex of dates, got {type(index).__name__}")
    if index.hasnans:
        raise ValueError(f"{name}: index has missing dates (NaT)")
    if index.has_duplicates:
        raise ValueError(f"{name}: duplicate dates, first {index[index.duplicated()][0].date()}")
    if not index.is_monotonic_increasing:
        position = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
        raise ValueError(f"{name}: dates not sorted: {index[position].date()} follows {index[position - 1].date()}")


def _as_float(value, name: str):
    kinds = value.dtypes if isinstance(value, pd.DataFrame) else pd.Series([value.dtype], index=[value.name])
    for label, dtype in kinds.items():
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            where = f" column {label!r}" if isinstance(value, pd.DataFrame) else ""
            raise TypeError(f"{name}:{where} expected real numbers, got dtype {dtype}")
    result = value.astype(np.float64)
    finite_or_nan(result, name)
    return result


def _reject(value, predicate, name: str, message: str) -> None:
    array = value.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        hit = predicate(array)
    if not hit.any():
        return
    if isinstance(value, pd.DataFrame):
        row, col = (int(i[0]) for i in np.nonzero(hit))
        where = f"{value.columns[col]!r} on {_label(value.index[row])}"
        bad = array[row, col]
    else:
        row = int(np.flatnonzero(hit)[0])
        where = _label(value.index[row])
        bad = array[row]
    raise ValueError(f"{name}: {message}, got {bad} at {where}")


def _label(key) -> str:
    return str(key.date()) if isinstance(key, pd.Timestamp) else repr(key)
