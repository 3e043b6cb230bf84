"""The long format for option implied vols: reading it and sorting its rows into used and rejected.

One row per (date, underlying, expiry, strike, option type) with its implied vol
(docs/data-formats.md has the full description and an example):

====================  ======================================================================
column                meaning
====================  ======================================================================
date                  quote date (ISO 8601 text in files)
underlying            ticker; the index's options carry the name the market gives the index
expiry                expiry date; tau = (expiry - date) in days / 365
strike                strike in the underlying's price units (> 0)
option_type           "C" / "P" (also "call" / "put", any case)
implied_vol           Black-Scholes implied vol, decimal (0.25 = 25%)
bid_vol, ask_vol      optional: bid and ask implied vols, decimals (a crossed pair is rejected)
forward               optional: the forward price for the expiry (else S e^{(r - q) tau})
div_yield, rate       optional: continuous dividend yield and rate for the forward
====================  ======================================================================

Rows that cannot be used are never dropped silently: :func:`prepare_options` gives each a
reason (the first that applies, in the order of :data:`REASONS`) and the surface keeps them
in ``VolSurface.rejected`` and counts them in ``VolSurface.report``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import Locator, parse_dates, parse_numbers, read_raw_table

REQUIRED = ("date", "underlying", "expiry", "strike", "option_type", "implied_vol")
KEY_COLUMNS = REQUIRED
OPTIONAL = ("bid_vol", "ask_vol", "forward", "div_yield", "rate")
NUMERIC = ("strike", "implied_vol", *OPTIONAL)
MAX_VOL = 5.0
"""Implied vols above this (500%) are rejected as implausible (usually percent units)."""
PERCENT_MEDIAN = 3.0
"""A column whose median vol exceeds this (300%) is taken to be in percent: an error, not data."""
QUOTES = ("otm", "calls", "puts")

REASONS = (
    "missing date",
    "missing underlying",
    "missing expiry",
    "option_type not call or put",
    "missing strike",
    "strike not > 0",
    "missing implied vol",
    "implied vol not > 0",
    "implied vol above 5 (500%): percent units?",
    "expired: expiry on or before the date",
    "crossed quote: bid_vol > ask_vol",
    "underlying not in the market",
    "date not in the market calendar",
    "no spot price on the date",
    "forward not > 0",
    "strike more than 100x away from the forward: units?",
    "no rate or dividend yield for the forward",
    "duplicate key with different values",
    "exact duplicate of an earlier row",
    "forward differs from the expiry's first row",
    "in the money (quotes='otm' uses OTM puts below the forward, OTM calls at or above it)",
    "put (quotes='calls')",
    "call (quotes='puts')",
)
"""Every reason a row can be rejected for, in the order they are checked."""

OTM_REASON = "in the money (quotes='otm' uses OTM puts below the forward, OTM calls at or above it)"
_TYPES = {"c": "C", "call": "C", "p": "P", "put": "P"}


def read_options(path, *, date_format: str = "ISO8601") -> pd.DataFrame:
    """Read a long-format option file (CSV, optionally gzip'd, or Parquet).

    Returns a DataFrame with the columns of the format that the file has (unknown columns are
    left out), indexed by the 1-based data row ("row"), so rejected rows can be found in the
    file. Structural problems raise ValueError naming the file, column and row (and line for
    CSV): a missing required column, a date that does not parse, text in a numeric column,
    an option type that is not call or put, a blank underlying, implied vols in percent.
    Empty cells (and NA, NaN, null, ...) are missing values: kept here, rejected with a
    reason when a surface is built.
    """
    raw, where = read_raw_table(path, "options")
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{where.prefix}: missing columns {missing}; the file has {list(map(str, raw.columns))}")
    columns = {
        "date": parse_dates(raw["date"], "date", where, date_format),
        "underlying": _text(raw["underlying"], "underlying", where),
        "expiry": parse_dates(raw["expiry"], "expiry", where, date_format),
        "option_type": option_types(raw["option_type"], "option_type", where),
    }
    for name in NUMERIC:
        if name in raw.columns:
            columns[name] = parse_numbers(raw[name], name, where)
    frame = pd.DataFrame(columns)[[c for c in (*REQUIRED, *OPTIONAL) if c in columns]]
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    check_vol_units(frame["implied_vol"].to_numpy(), f"{where.prefix}: column 'implied_vol'")
    return frame


def option_types(column: pd.Series, name: str, where: Locator | None = None) -> pd.Series:
    """'C' / 'P' from C, P, call, put (any case); ValueError naming the first other value."""
    text = column.astype(str).str.strip().str.lower()
    mapped = text.map(_TYPES)
    bad = np.flatnonzero(mapped.isna().to_numpy())
    if bad.size:
        at = where(name, bad[0]) if where is not None else f"{name}: row {column.index[bad[0]]!r}"
        raise ValueError(f"{at}: option type {column.iloc[bad[0]]!r} is not C, P, call or put")
    return mapped.astype(object)


def check_vol_units(vols: np.ndarray, what: str) -> None:
    """ValueError if the vols look like percent (median above 300%)."""
    values = vols[np.isfinite(vols) & (vols > 0)]
    if values.size and np.median(values) > PERCENT_MEDIAN:
        raise ValueError(
            f"{what}: median implied vol {np.median(values):.4g} over {values.size} rows looks like percent "
            "(25 = 25%); implied vols are decimals (0.25): divide by 100"
        )


def _text(column: pd.Series, name: str, where: Locator) -> pd.Series:
    text = column.astype(str).str.strip()
    blank = np.flatnonzero((text == "").to_numpy())
    if blank.size:
        raise ValueError(f"{where(name, blank[0])}: blank {name}")
    return text.astype(object)


class PreparedOptions:
    """Rows of an option table split into used rows (arrays for the surface) and rejected ones.

    ``code``: per row 0 (used) or 1 + the position of its reason in :data:`REASONS`."""

    def __init__(self, table: pd.DataFrame, code: np.ndarray, arrays: dict):
        self.table = table
        self.code = code
        self.used = code == 0
        self.arrays = arrays

    def rejected(self) -> pd.DataFrame:
        keys = [c for c in (*KEY_COLUMNS, "source") if c in self.table]
        out = self.table.loc[~self.used, keys].copy()
        out["reason"] = np.asarray(REASONS, dtype=object)[self.code[~self.used] - 1]
        return out

    def report(self) -> pd.Series:
        counts = np.bincount(self.code, minlength=len(REASONS) + 1)
        rows = {"used": int(counts[0])}
        rows.update({reason: int(c) for reason, c in zip(REASONS, counts[1:]) if c})
        return pd.Series(rows, name="rows").rename_axis("reason")


def canonical_options(options) -> pd.DataFrame:
    """An in-memory option table checked for the format's columns and types (rows unchanged)."""
    if not isinstance(options, pd.DataFrame):
        raise TypeError(f"options: expected a pandas DataFrame in the long format, got {type(options).__name__}")
    missing = [c for c in REQUIRED if c not in options.columns]
    if missing:
        raise ValueError(f"options: missing columns {missing}; columns are {list(map(str, options.columns))}")
    frame = pd.DataFrame(index=options.index)
    for name in ("date", "expiry"):
        try:
            frame[name] = pd.to_datetime(options[name])
        except (TypeError, ValueError) as error:
            raise ValueError(f"options: column {name!r} does not convert to dates ({error})") from None
    # Text columns hold few distinct values: clean the distinct values, then expand.
    codes, uniques = pd.factorize(options["underlying"])
    names = pd.Index(uniques, dtype=object).astype(str).str.strip().to_numpy(dtype=object)
    text = np.where(codes < 0, "", names[np.maximum(codes, 0)]) if len(names) else np.full(len(codes), "")
    # object dtype: a str dtype would convert a million cells for nothing
    frame["underlying"] = pd.Series(text, index=frame.index, dtype=object)
    codes, uniques = pd.factorize(options["option_type"])
    types = pd.Index(uniques, dtype=object).astype(str).str.strip().str.lower().map(_TYPES)
    types = np.asarray(types.where(types.notna(), ""), dtype=object)
    text = np.where(codes < 0, "", types[np.maximum(codes, 0)]) if len(types) else np.full(len(codes), "")
    frame["option_type"] = pd.Series(text, index=frame.index, dtype=object)
    for name in NUMERIC:
        if name not in options.columns:
            continue
        column = options[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise TypeError(f"options: column {name!r} must hold numbers, got dtype {column.dtype}")
        frame[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if "source" in options.columns:
        frame["source"] = options["source"].astype(str).to_numpy()
    check_vol_units(frame["implied_vol"].to_numpy(), "options: column 'implied_vol'")
    return frame


def prepare_options(
    options, spots: pd.DataFrame, rate: pd.Series, div_yields: pd.DataFrame, *, quotes: str = "otm"
) -> PreparedOptions:
    """Check every row of ``options`` against the market and keep the usable ones.

    ``spots``: dates x underlyings (the market's calendar and names); ``rate``: Series by date;
    ``div_yields``: dates x underlyings. The arrays of used rows: group (date position x
    number of underlyings + underlying position), tau, k = ln(K/F), w = vol^2 tau,
    logfwd = ln(F/S), in table order.
    """
    if quotes not in QUOTES:
        raise ValueError(f"quotes: expected one of {QUOTES}, got {quotes!r}")
    table = canonical_options(options)
    n = len(table)
    code = np.zeros(n, dtype=np.int16)
    number = {reason: i + 1 for i, reason in enumerate(REASONS)}

    def reject(mask, text):
        code[mask & (code == 0)] = number[text]

    date = table["date"].to_numpy("datetime64[ns]")
    expiry = table["expiry"].to_numpy("datetime64[ns]")
    underlying = table["underlying"].to_numpy(dtype=object)
    is_call = (table["option_type"] == "C").to_numpy()
    strike = table["strike"].to_numpy()
    vol = table["implied_vol"].to_numpy()
    with np.errstate(invalid="ignore"):
        reject(np.isnat(date), "missing date")
        reject(underlying == "", "missing underlying")
        reject(np.isnat(expiry), "missing expiry")
        reject((table["option_type"] == "").to_numpy(), "option_type not call or put")
        reject(np.isnan(strike), "missing strike")
        reject(~(strike > 0), "strike not > 0")
        reject(np.isnan(vol), "missing implied vol")
        reject(~(vol > 0), "implied vol not > 0")
        reject(vol > MAX_VOL, "implied vol above 5 (500%): percent units?")
        reject(expiry <= date, "expired: expiry on or before the date")
        if "bid_vol" in table and "ask_vol" in table:
            reject(table["bid_vol"].to_numpy() > table["ask_vol"].to_numpy(), "crossed quote: bid_vol > ask_vol")

    u_pos = _positions(underlying, spots.columns)
    d_pos = _positions(date, spots.index)
    reject(u_pos < 0, "underlying not in the market")
    reject(d_pos < 0, "date not in the market calendar")
    known = (u_pos >= 0) & (d_pos >= 0)
    spot = np.full(n, np.nan)
    spot[known] = spots.to_numpy()[d_pos[known], u_pos[known]]
    with np.errstate(invalid="ignore"):
        reject(~(spot > 0), "no spot price on the date")
    tau = (expiry - date).astype("timedelta64[s]").astype(np.float64) / (365.0 * 86400.0)
    forward = _forwards(table, spot, tau, d_pos, u_pos, known, rate, div_yields)
    with np.errstate(invalid="ignore"):
        reject(forward <= 0, "forward not > 0")
    reject(~np.isfinite(forward), "no rate or dividend yield for the forward")

    group = d_pos * len(spots.columns) + u_pos
    _reject_duplicates(table, code, group, number)
    _reject_forward_mismatch(table, forward, code, number, group)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.log(strike / forward)
        reject(np.abs(k) > np.log(100.0), "strike more than 100x away from the forward: units?")
    if quotes == "otm":
        reject((is_call & (k < 0)) | (~is_call & (k >= 0)), OTM_REASON)
    elif quotes == "calls":
        reject(~is_call, "put (quotes='calls')")
    else:
        reject(is_call, "call (quotes='puts')")

    used = code == 0
    arrays = {
        "group": group[used].astype(np.int64),
        "tau": tau[used],
        "k": k[used],
        "w": vol[used] ** 2 * tau[used],
        "logfwd": np.log(forward[used] / spot[used]),
    }
    return PreparedOptions(table, code, arrays)


def _positions(values: np.ndarray, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 where absent), looked up once per distinct value."""
    codes, uniques = pd.factorize(values)
    found = index.get_indexer(pd.Index(uniques)) if len(uniques) else np.zeros(0, dtype=np.intp)
    return np.where(codes < 0, -1, found[np.maximum(codes, 0)] if len(found) else -1)


def _forwards(table, spot, tau, d_pos, u_pos, known, rate, div_yields):
    """The forward of each row: its own, else one given on another row of the same date,
    underlying and expiry, else S e^{(r - q) tau} with the row's rate and yield or the market's."""
    r = table["rate"].to_numpy(copy=True) if "rate" in table else np.full(len(table), np.nan)
    q = table["div_yield"].to_numpy(copy=True) if "div_yield" in table else np.full(len(table), np.nan)
    need_r, need_q = np.isnan(r) & known, np.isnan(q) & known
    r[need_r] = rate.to_numpy()[d_pos[need_r]]
    q[need_q] = div_yields.to_numpy()[d_pos[need_q], u_pos[need_q]]
    computed = spot * np.exp((r - q) * tau)
    if "forward" not in table:
        return computed
    own = table["forward"].to_numpy()
    if not np.isnan(own).any():
        return own
    group = np.where(known, d_pos * div_yields.shape[1] + u_pos, -1)
    expiry = table["expiry"].to_numpy("datetime64[ns]").view(np.int64)
    shared = pd.Series(own).groupby([group, expiry], sort=False).transform("first").to_numpy()
    return np.where(~np.isnan(own), own, np.where(~np.isnan(shared), shared, computed))


def _reject_duplicates(table: pd.DataFrame, code: np.ndarray, group: np.ndarray, number: dict) -> None:
    """Rows sharing (date, underlying, expiry, strike, option_type): if every copy is identical the
    first is used and the rest reported; if the copies disagree none is used (no choice is made).
    Keys are compared as numbers (the date and name as their position in the market)."""
    alive = np.flatnonzero(code == 0)
    keys = pd.DataFrame(
        {
            "group": group[alive],
            "expiry": table["expiry"].to_numpy("datetime64[ns]")[alive].view(np.int64),
            "strike": table["strike"].to_numpy()[alive],
            "call": (table["option_type"].to_numpy() == "C")[alive],
        }
    )
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return
    positions = alive[repeated]
    rows = table.iloc[positions].drop(columns=["source"], errors="ignore").reset_index(drop=True)
    row_keys = keys.iloc[np.flatnonzero(repeated)].reset_index(drop=True)
    exact_later = rows.duplicated(keep="first").to_numpy()
    distinct_keys = row_keys.iloc[np.flatnonzero(~exact_later)]
    clashing = distinct_keys[distinct_keys.duplicated(keep=False).to_numpy()]
    in_clash = pd.MultiIndex.from_frame(row_keys).isin(pd.MultiIndex.from_frame(clashing))
    code[positions[in_clash]] = number["duplicate key with different values"]
    code[positions[~in_clash & exact_later]] = number["exact duplicate of an earlier row"]


def _reject_forward_mismatch(
    table: pd.DataFrame, forward: np.ndarray, code: np.ndarray, number: dict, group: np.ndarray
) -> None:
    alive = np.flatnonzero(code == 0)
    if alive.size == 0:
        return
    expiry = table["expiry"].to_numpy("datetime64[ns]")[alive].view(np.int64)
    first = pd.Series(forward[alive]).groupby([group[alive], expiry], sort=False).transform("first").to_numpy()
    with np.errstate(invalid="ignore"):
        off = np.abs(forward[alive] / first - 1.0) > 1e-9
    code[alive[off]] = number["forward differs from the expiry's first row"]
