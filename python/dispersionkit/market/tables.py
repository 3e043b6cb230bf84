"""Read tables from CSV or Parquet with errors naming file, line, column and row.

CSV files (optionally compressed: .csv.gz, .bz2, .xz, .zip, .zst) are read record by record
with Python's csv module, so nothing is guessed or repaired: every record must have exactly
as many fields as the header (a missing last field is an error, not a NaN), header names are
stripped of surrounding spaces and must be non-empty and unique (a trailing comma or a
repeated name is an error, not a column ``Unnamed: 4`` or ``A.1``), the text must be UTF-8
(a byte-order mark is allowed), and blank lines carry no data and are skipped. Rows are
numbered from 1 over the data (the header is not a row); for CSV errors also give the line of
the file. Empty cells and the tokens in MISSING_TOKENS are missing values (NaN), kept and
reported by MarketData, never dropped.

Dates are ISO 8601 (2022-01-31, optionally with a time and a UTC offset) unless a reader
says otherwise, in one time zone: UTC offsets that differ between rows, or appear on some
rows only, are an error rather than a conversion that could move a close to another day. A
dated table (:func:`read_dated_table`) has strictly increasing dates, one per day unless every
date carries a time ("2022-01-03" next to "2022-01-03 16:00" is an error naming both lines).
Parquet files get the same checks on their column names and dates.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

MISSING_TOKENS = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "#N/A"})
_CSV = {".csv", ".txt"}
_PARQUET = {".parquet", ".pq"}
_COMPRESSED = {".gz", ".bz2", ".xz", ".zip", ".zst"}
# A date alone (no time of day) in ISO 8601, and the UTC offset that may end a timestamp.
_DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}(?::?\d{2})?)$")


def read_dated_table(path, what: str, date_column: str | None = None) -> pd.DataFrame:
    """A float64 DataFrame indexed by a strictly increasing DatetimeIndex named "date".

    ``date_column`` defaults to the first column (CSV) or, for Parquet written from a
    DataFrame with a DatetimeIndex, that index. ``what`` names the argument in errors. Rules
    in the module docstring.
    """
    raw, where = read_raw_table(path, what)
    if raw.shape[1] == 0:
        raise ValueError(f"{where.prefix}: the file has no columns")
    name = raw.columns[0] if date_column is None else date_column
    if name not in raw.columns:
        raise ValueError(f"{where.prefix}: no date column {name!r}; columns are {list(map(str, raw.columns))}")
    values = raw.drop(columns=[name])
    if values.shape[1] == 0:
        raise ValueError(f"{where.prefix}: no value columns besides the date column {name!r}")
    dates = pd.DatetimeIndex(parse_dates(raw[name], str(name), where))
    _check_dated_rows(dates, raw[name], str(name), where)
    table = pd.DataFrame({str(c): parse_numbers(values[c], str(c), where) for c in values.columns}, index=dates)
    table.index.name = "date"
    return table


def read_raw_table(path, what: str, *, sep: str = ",") -> tuple[pd.DataFrame, Locator]:
    """The cells of a CSV (text, compressed by suffix: .csv.gz etc.) or Parquet file, and a
    :class:`Locator` naming its rows in errors. CSV cells are str (surrounding spaces kept),
    empty cells ""; column names are stripped, non-empty and unique (module docstring)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what}: expected a file path, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what}: {path} is a folder; expected a file")
    if not path.is_file():
        raise FileNotFoundError(f"{what}: file not found: {path}")
    suffixes = [x.lower() for x in path.suffixes]
    compression = suffixes[-1] if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSED else None
    suffix = suffixes[-2] if compression else path.suffix.lower()
    if suffix in _CSV:
        frame, lines = _read_csv(path, what, sep, compression)
        return frame, Locator(what, path, lines)
    if suffix in _PARQUET:
        return _read_parquet(path, what), Locator(what, path, None)
    raise ValueError(f"{what}: {path}: unsupported file type {path.suffix!r}; use .csv (optionally .gz) or .parquet")


class Locator:
    """Names a cell in errors: "<what>: <path>: column 'x', row 5 (line 6)".

    ``lines`` is the file line of each data row (CSV), an offset such that row r (0-based) is
    on line r + offset, or None (Parquet: rows only).
    """

    def __init__(self, what: str, path: Path, lines: Sequence[int] | int | None):
        self.prefix = f"{what}: {path}"
        self.lines = lines

    def _line(self, position: int) -> int | None:
        if self.lines is None:
            return None
        if isinstance(self.lines, int):
            return position + self.lines
        return self.lines[position]

    def __call__(self, column: str, position: int) -> str:
        line = self._line(int(position))
        suffix = "" if line is None else f" (line {line})"
        return f"{self.prefix}: column {column!r}, row {int(position) + 1}{suffix}"

    def row(self, position: int) -> str:
        """ "row r, line l" (CSV) or "row r" (Parquet)."""
        line = self._line(int(position))
        return f"row {int(position) + 1}" + ("" if line is None else f", line {line}")


def _header(names: list[str], where: str) -> list[str]:
    """Column names stripped of surrounding spaces; empty or repeated names are errors."""
    stripped = [name.strip() for name in names]
    for position, name in enumerate(stripped):
        if not name:
            hint = " (a trailing comma?)" if position == len(stripped) - 1 else ""
            raise ValueError(f"{where}: column {position + 1} of the header has no name{hint}")
    seen: dict[str, int] = {}
    for position, name in enumerate(stripped):
        if name in seen:
            first = seen[name]
            spelled = "" if names[position] == names[first] else f", written {names[first]!r} and {names[position]!r}"
            raise ValueError(
                f"{where}: duplicate column names [{name!r}] (columns {first + 1} and {position + 1}{spelled})"
            )
        seen[name] = position
    return stripped


def _open_text(path: Path, compression: str | None):
    """The file as text (UTF-8, a byte-order mark dropped), decompressed by its suffix."""
    if compression is None:
        return open(path, newline="", encoding="utf-8-sig")
    if compression == ".gz":
        return gzip.open(path, "rt", newline="", encoding="utf-8-sig")
    if compression == ".bz2":
        return bz2.open(path, "rt", newline="", encoding="utf-8-sig")
    if compression == ".xz":
        return lzma.open(path, "rt", newline="", encoding="utf-8-sig")
    if compression == ".zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise ValueError(f"{path}: a .zip must hold exactly one file, found {len(members)}")
        return io.TextIOWrapper(archive.open(members[0]), newline="", encoding="utf-8-sig")
    try:
        import zstandard  # optional, as for pandas
    except ImportError:
        raise ValueError(f"{path}: reading .zst needs the zstandard package") from None
    return io.TextIOWrapper(zstandard.open(path, "rb"), newline="", encoding="utf-8-sig")


def _read_csv(path: Path, what: str, sep: str, compression: str | None) -> tuple[pd.DataFrame, list[int]]:
    """(cells as str with stripped unique column names, file line of each data row)."""
    prefix = f"{what}: {path}"
    header: list[str] | None = None
    names: list[str] = []
    records: list[list[str]] = []
    lines: list[int] = []
    line = 1  # the line on which the next record starts
    try:
        with _open_text(path, compression) as handle:
            reader = csv.reader(handle, delimiter=sep, skipinitialspace=True, strict=True)
            for record in reader:
                start, line = line, reader.line_num + 1
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # a blank line carries no data
                if header is None:
                    header, names = record, _header(record, f"{prefix}: line {start}")
                    continue
                if len(record) != len(header):
                    if len(record) < len(header):
                        detail = f"column {names[len(record)]!r} (column {len(record) + 1}) is missing"
                    else:
                        detail = f"column {len(header) + 1} has no header"
                    raise ValueError(
                        f"{prefix}: line {start}: {len(record)} fields where the header has {len(header)}: {detail}"
                    )
                records.append(record)
                lines.append(start)
    except UnicodeDecodeError as error:
        raise ValueError(f"{prefix}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ValueError(f"{prefix}: line {line}: cannot parse as CSV ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as error:
        raise ValueError(f"{prefix}: cannot read the file ({error})") from None
    if header is None:
        raise ValueError(f"{prefix}: the file has no header line")
    columns = {name: [record[k] for record in records] for k, name in enumerate(names)}
    return pd.DataFrame(columns, dtype=object) if records else pd.DataFrame({n: [] for n in names}, dtype=object), lines


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (ImportError, OSError, ValueError) as exc:
        raise ValueError(f"{what}: {path}: cannot read as Parquet: {exc}") from None
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(names=frame.index.name or "date")
    if frame.shape[1] == 0:
        return frame
    names = _header([str(c) for c in frame.columns], f"{what}: {path}")
    unnamed = [n for n in names if re.fullmatch(r"Unnamed: \d+|__index_level_\d+__", n)]
    if unnamed:
        raise ValueError(f"{what}: {path}: column {unnamed[0]!r} has no real name (an index written as a column?)")
    return frame.set_axis(names, axis=1)


def parse_dates(column: pd.Series, name: str, where: Locator, date_format: str = "ISO8601") -> pd.Series:
    """Dates of a column (datetime already, or text in ``date_format``); ValueError naming the
    first cell that does not parse, or the first whose UTC offset differs from the first row's.
    The default is ISO 8601 only: guessing day/month order or reading "5" as a date would
    corrupt silently."""
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column)
        missing = np.flatnonzero(parsed.isna().to_numpy())
        if missing.size:
            raise ValueError(f"{where(name, missing[0])}: missing date")
        return parsed
    text = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    _same_offsets(text.tolist(), name, where)
    parsed = pd.to_datetime(text, errors="coerce", format=date_format)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        expected = "ISO 8601, e.g. 2022-01-31" if date_format == "ISO8601" else f"format {date_format!r}"
        raise ValueError(f"{where(name, bad[0])}: cannot parse {column.iloc[bad[0]]!r} as a date ({expected})")
    return parsed


def _offset(text: str) -> str | None:
    """The UTC offset written at the end of an ISO 8601 timestamp, normalized, or None."""
    if len(text) <= 10:  # a date alone
        return None
    match = _OFFSET.search(text)
    if not match:
        return None
    offset = match.group(1)
    if offset == "Z":
        return "+00:00"
    digits = offset[1:].replace(":", "")
    return f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"


def _same_offsets(text: list[str], name: str, where: Locator) -> None:
    offsets = [_offset(t) for t in text]
    for position, offset in enumerate(offsets):
        if offset != offsets[0]:

            def describe(o):
                return f"UTC offset {o}" if o else "no UTC offset"

            raise ValueError(
                f"{where(name, position)}: {text[position]!r} has {describe(offset)} but {text[0]!r} "
                f"({where.row(0)}) has {describe(offsets[0])}; write every date in one time zone (e.g. UTC)"
            )


def _check_dated_rows(dates: pd.DatetimeIndex, column: pd.Series, name: str, where: Locator) -> None:
    """Strictly increasing, and one row per day unless every row carries a time of day."""
    if pd.api.types.is_datetime64_any_dtype(column):
        timed = np.asarray(dates != dates.normalize())
        text = [str(d) if t else str(d.date()) for d, t in zip(dates, timed)]
    else:
        text = [str(v).strip() for v in column.tolist()]
        timed = np.array([not _DATE_ONLY.match(t) for t in text], dtype=bool)
    values = dates.asi8
    repeated = np.flatnonzero(values[1:] == values[:-1])
    if repeated.size:
        i = int(repeated[0]) + 1
        previous = f"{where.row(i - 1)}: {text[i - 1]}"
        raise ValueError(f"{where(name, i)}: date {text[i]} repeats the previous row ({previous})")
    backwards = np.flatnonzero(values[1:] < values[:-1])
    if backwards.size:
        i = int(backwards[0]) + 1
        raise ValueError(
            f"{where(name, i)}: date {text[i]} is earlier than the previous row's {text[i - 1]} ({where.row(i - 1)})"
        )
    if not timed.all():
        days = dates.normalize()
        same = np.flatnonzero(days[1:] == days[:-1])
        if same.size:
            i = int(same[0]) + 1
            raise ValueError(
                f"{where(name, i)}: {text[i]!r} falls on the same day as {text[i - 1]!r} ({where.row(i - 1)}); "
                "one date per day (a date with and without a time of day is two dates)"
            )


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
