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
    """Rows of an option table split into used rows (arrays for the surface) and rejected ones."""

    def __init__(self, table: pd.DataFrame, used: np.ndarray, reason: np.ndarray, arrays: dict):
        self.table = table
        self.used = used
        self.reason = reason
        self.arrays = arrays

    def rejected(self) -> pd.DataFrame:
        keys = [c for c in (*KEY_COLUMNS, "source") if c in self.table]
        out = self.table.loc[~self.used, keys].copy()
        out["reason"] = self.reason[~self.used]
        return out

    def report(self) -> pd.Series:
        counts = pd.Series(self.reason[~self.used]).value_counts()
        ordered = [r for r in REASONS if r in counts.index]
        report = pd.concat([pd.Series({"used": int(self.used.sum())}), counts.reindex(ordered).astype(int)])
        return report.rename("rows").rename_axis("reason")


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
    underlying = options["underlying"]
    frame["underlying"] = underlying.where(underlying.notna(), "").astype(str).str.strip().astype(object)
    known = options["option_type"].astype(str).str.strip().str.lower().map(_TYPES)
    frame["option_type"] = known.where(known.notna(), "").astype(object)
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
    reason = np.full(n, "", dtype=object)

    def reject(mask, text):
        hit = mask & (reason == "")
        reason[hit] = text

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

    u_pos = spots.columns.get_indexer(pd.Index(underlying))
    d_pos = spots.index.get_indexer(pd.DatetimeIndex(date))
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

    _reject_duplicates(table, reason)
    _reject_forward_mismatch(table, forward, reason)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.log(strike / forward)
        reject(np.abs(k) > np.log(100.0), "strike more than 100x away from the forward: units?")
    if quotes == "otm":
        reject((is_call & (k < 0)) | (~is_call & (k >= 0)), OTM_REASON)
    elif quotes == "calls":
        reject(~is_call, "put (quotes='calls')")
    else:
        reject(is_call, "call (quotes='puts')")

    used = reason == ""
    arrays = {
        "group": (d_pos[used] * len(spots.columns) + u_pos[used]).astype(np.int64),
        "tau": tau[used],
        "k": k[used],
        "w": vol[used] ** 2 * tau[used],
        "logfwd": np.log(forward[used] / spot[used]),
    }
    return PreparedOptions(table, used, reason, arrays)


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
    given = table["forward"].reset_index(drop=True)
    keys = table[["date", "underlying", "expiry"]].reset_index(drop=True)
    shared = given.groupby([keys[c] for c in keys.columns], dropna=False).transform("first").to_numpy()
    own = given.to_numpy()
    return np.where(~np.isnan(own), own, np.where(~np.isnan(shared), shared, computed))


def _reject_duplicates(table: pd.DataFrame, reason: np.ndarray) -> None:
    """Rows sharing (date, underlying, expiry, strike, option_type): if every copy is identical the
    first is used and the rest reported; if the copies disagree none is used (no choice is made)."""
    alive = np.flatnonzero(reason == "")
    keys = ["date", "underlying", "expiry", "strike", "option_type"]
    live = table.iloc[alive]
    repeated = live.duplicated(keys, keep=False).to_numpy()
    if not repeated.any():
        return
    rows = live.iloc[repeated]
    positions = alive[repeated]
    exact_later = rows.drop(columns=["source"], errors="ignore").duplicated(keep="first").to_numpy()
    distinct = rows.drop(columns=["source"], errors="ignore").iloc[~exact_later]
    clashing = distinct.loc[distinct.duplicated(keys, keep=False).to_numpy(), keys]
    in_clash = pd.MultiIndex.from_frame(rows[keys]).isin(pd.MultiIndex.from_frame(clashing))
    reason[positions[in_clash]] = "duplicate key with different values"
    reason[positions[~in_clash & exact_later]] = "exact duplicate of an earlier row"


def _reject_forward_mismatch(table: pd.DataFrame, forward: np.ndarray, reason: np.ndarray) -> None:
    alive = np.flatnonzero(reason == "")
    if alive.size == 0:
        return
    keys = table.iloc[alive][["date", "underlying", "expiry"]].reset_index(drop=True)
    first = pd.Series(forward[alive]).groupby([keys[c] for c in keys.columns]).transform("first")
    with np.errstate(invalid="ignore"):
        off = np.abs(forward[alive] / first.to_numpy() - 1.0) > 1e-9
    reason[alive[off]] = "forward differs from the expiry's first row"
