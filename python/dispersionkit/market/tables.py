"""Read dated tables (dates x columns) from CSV or Parquet with errors naming file, column, row.

Rows are numbered from 1 over the data (the header is not a row); for CSV the error also
gives the line of the file. Empty cells and the tokens in MISSING_TOKENS are missing values
(NaN), kept and reported by MarketData, never dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

MISSING_TOKENS = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "#N/A"})
_CSV = {".csv", ".txt"}
_PARQUET = {".parquet", ".pq"}
_COMPRESSED = {".gz", ".bz2", ".xz", ".zip", ".zst"}


def read_dated_table(path, what: str, date_column: str | None = None) -> pd.DataFrame:
    """A float64 DataFrame indexed by a sorted, unique DatetimeIndex named "date".

    ``date_column`` defaults to the first column (CSV) or, for Parquet written from a
    DataFrame with a DatetimeIndex, that index. Text dates must be ISO 8601 (2022-01-31,
    optionally with a time). ``what`` names the argument in errors.
    """
    raw, where = read_raw_table(path, what)
    dates = _parse_dates(raw, date_column, where)
    values = raw.drop(columns=[dates.name])
    if values.shape[1] == 0:
        raise ValueError(f"{what}: {path}: no value columns besides the date column {dates.name!r}")
    duplicated = [str(c) for c in values.columns[values.columns.duplicated()]]
    if duplicated:
        raise ValueError(f"{what}: {path}: duplicate column names {duplicated}")
    table = pd.DataFrame(
        {str(c): parse_numbers(values[c], str(c), where) for c in values.columns}, index=pd.DatetimeIndex(dates)
    )
    table.index.name = "date"
    _check_dates(table.index, where, str(dates.name))
    return table


def read_raw_table(path, what: str, *, sep: str = ",") -> tuple[pd.DataFrame, Locator]:
    """The cells of a CSV (text, compressed by suffix: .csv.gz etc.) or Parquet file, and a
    :class:`Locator` naming its rows in errors. CSV cells are str, empty cells ""."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what}: expected a file path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what}: file not found: {path}")
    suffixes = [x.lower() for x in path.suffixes]
    suffix = suffixes[-2] if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSED else path.suffix.lower()
    if suffix in _CSV:
        return _read_csv(path, what, sep), Locator(what, path, 2)
    if suffix in _PARQUET:
        return _read_parquet(path, what), Locator(what, path, None)
    raise ValueError(f"{what}: {path}: unsupported file type {path.suffix!r}; use .csv (optionally .gz) or .parquet")


class Locator:
    """Names a cell in errors: "<what>: <path>: column 'x', row 5 (line 6)"."""

    def __init__(self, what: str, path: Path, line_offset: int | None):
        self.prefix = f"{what}: {path}"
        self.line_offset = line_offset

    def __call__(self, column: str, position: int) -> str:
        row = f"row {position + 1}"
        if self.line_offset is not None:
            row += f" (line {position + self.line_offset})"
        return f"{self.prefix}: column {column!r}, {row}"


def _read_csv(path: Path, what: str, sep: str = ",") -> pd.DataFrame:
    try:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, sep=sep).iloc[0]
        repeated = sorted(set(header[header.duplicated()]))
        if repeated:
            raise ValueError(f"{what}: {path}: duplicate column names {repeated}")
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: {path}: cannot parse as CSV: {exc}") from None


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (ImportError, OSError, ValueError) as exc:
        raise ValueError(f"{what}: {path}: cannot read as Parquet: {exc}") from None
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(names=frame.index.name or "date")
    return frame


def _parse_dates(raw: pd.DataFrame, date_column: str | None, where: Locator) -> pd.Series:
    if raw.shape[1] == 0:
        raise ValueError(f"{where.prefix}: the file has no columns")
    name = raw.columns[0] if date_column is None else date_column
    if name not in raw.columns:
        raise ValueError(f"{where.prefix}: no date column {name!r}; columns are {list(map(str, raw.columns))}")
    return parse_dates(raw[name], str(name), where).rename(name)


def parse_dates(column: pd.Series, name: str, where: Locator, date_format: str = "ISO8601") -> pd.Series:
    """Dates of a column (datetime already, or text in ``date_format``); ValueError naming the
    first cell that does not parse. The default is ISO 8601 only: guessing day/month order or
    reading "5" as a date would corrupt silently."""
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column)
    else:
        text = column.astype(str).str.strip()
        parsed = pd.to_datetime(text, errors="coerce", format=date_format)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        expected = "ISO 8601, e.g. 2022-01-31" if date_format == "ISO8601" else f"format {date_format!r}"
        raise ValueError(f"{where(name, bad[0])}: cannot parse {column.iloc[bad[0]]!r} as a date ({expected})")
    return parsed


def parse_numbers(column: pd.Series, name: str, where: Locator) -> np.ndarray:
    """float64 values of a column; empty cells and MISSING_TOKENS are NaN, any other text is a
    ValueError naming the cell."""
    types = pd.api.types
    if types.is_bool_dtype(column) or not (
        types.is_numeric_dtype(column) or types.is_object_dtype(column) or types.is_string_dtype(column)
    ):
        raise ValueError(f"{where.prefix}: column {name!r}: expected numbers, got dtype {column.dtype}")
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    text = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    missing = text.isin(MISSING_TOKENS).to_numpy()
    numbers = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numbers) & ~missing)
    if bad.size:
        raise ValueError(f"{where(name, bad[0])}: non-numeric value {column.iloc[bad[0]]!r}")
    return numbers


def _check_dates(dates: pd.DatetimeIndex, where: Locator, name: str) -> None:
    values = dates.to_numpy()
    repeated = np.flatnonzero(values[1:] == values[:-1])
    if repeated.size:
        i = repeated[0] + 1
        raise ValueError(f"{where(name, i)}: date {dates[i].date()} repeats the previous row")
    backwards = np.flatnonzero(values[1:] < values[:-1])
    if backwards.size:
        i = backwards[0] + 1
        earlier = f"date {dates[i].date()} is earlier than the previous row's {dates[i - 1].date()}"
        raise ValueError(f"{where(name, i)}: {earlier}")
