"""Readers for the option and index files desks have: OptionMetrics IvyDB, ORATS, CBOE.

Each option reader translates the vendor's columns into the long format of
:mod:`dispersionkit.market.options` (one row per date, underlying, expiry, strike and type),
with a ``source`` column "<file>:row <n>" so every rejected row can be found in its file, and
the spot prices the file carries. Translations that change a value (a vendor's missing-value
code read as missing, a negative IvyDB close read as the bid/ask midpoint it stands for) are
counted in ``OptionData.notes``. Structural problems (a missing column, a date or number that
does not parse, vols in percent, strikes 1000x the spot) raise ValueError naming the file,
column and row; row-level problems are left to the surface, which rejects and reports them.
Layouts and units of each vendor file are in docs/data-formats.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .options import check_vol_units, option_types
from .tables import Locator, parse_dates, parse_numbers, read_raw_table

OPTIONMETRICS_MISSING = -99.99
"""IvyDB's code for an implied vol it could not compute."""
STRIKE_SCALE_LIMIT = 100.0
"""Median strike / spot above this means strikes in 1/1000 units (IvyDB's option price file)."""


@dataclass(frozen=True, eq=False, repr=False)
class OptionData:
    """What a vendor reader returns.

    options : DataFrame in the long format (date, underlying, expiry, strike, option_type,
        implied_vol and the optional columns the vendor has) plus ``source``.
    spots : DataFrame dates x underlyings of the spot prices in the files (None if none).
    notes : translations that changed values, one sentence each.
    """

    options: pd.DataFrame
    spots: pd.DataFrame | None
    notes: tuple[str, ...]

    def __repr__(self) -> str:
        spots = "no spots" if self.spots is None else f"spots {self.spots.shape[0]} dates x {self.spots.shape[1]}"
        return f"OptionData({len(self.options)} option rows, {spots}, {len(self.notes)} notes)"


def _require(raw: pd.DataFrame, columns, where: Locator) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"{where.prefix}: missing columns {missing}; the file has {list(map(str, raw.columns))}")


def _source(path, n: int) -> np.ndarray:
    name = Path(path).name
    return np.array([f"{name}:row {i}" for i in range(1, n + 1)], dtype=object)


def _days(column: pd.Series, name: str, where: Locator) -> np.ndarray:
    values = parse_numbers(column, name, where)
    bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if bad.size:
        raise ValueError(f"{where(name, bad[0])}: expected a whole number of days, got {column.iloc[bad[0]]!r}")
    return values.astype(np.int64)


def _spot_table(dates, names, values, what: str) -> pd.DataFrame:
    """dates x names from long (date, name, value) rows; a (date, name) with two different
    values is an error (the files must agree on one spot)."""
    frame = pd.DataFrame({"date": dates, "underlying": names, "spot": values})
    frame = frame[np.isfinite(frame["spot"].to_numpy())]
    spread = frame.groupby(["date", "underlying"])["spot"].agg(["min", "max"])
    clash = spread[spread["max"] > spread["min"] * (1 + 1e-12)]
    if len(clash):
        (date, name), row = next(iter(clash.iterrows()))
        raise ValueError(
            f"{what}: {name} has two spot prices on {pd.Timestamp(date).date()}: {row['min']} and {row['max']}"
        )
    table = frame.groupby(["date", "underlying"])["spot"].first().unstack("underlying")
    table.index = pd.DatetimeIndex(table.index, name="date")
    table.columns.name = None
    return table.sort_index().astype(np.float64)


# -- OptionMetrics IvyDB ---------------------------------------------------------------


def read_optionmetrics(
    *, surface=None, standardized=None, prices=None, names=None, date_format: str = "ISO8601"
) -> OptionData:
    """IvyDB files as exported from WRDS (column names in lower case), CSV or Parquet.

    surface : the Volatility Surface file (vsurfd): secid, date, days, delta, impl_volatility,
        impl_strike, impl_premium, dispersion, cp_flag; each row becomes an option expiring
        ``days`` calendar days after ``date`` at strike ``impl_strike``.
    standardized : the Standardized Options file (stdopd): secid, date, days, forward_price,
        strike_price, premium, impl_volatility, delta, gamma, theta, vega, cp_flag; at-the-money
        forward options, so ``forward_price`` is kept as the forward.
    prices : the Security Prices file (secprd): secid, date, low, high, open, close, volume,
        return, cfadj, shrout, cfret; ``close`` gives the spots. IvyDB marks a close that is
        the bid/ask midpoint (no trade) with a minus sign: its absolute value is used.
    names : mapping secid -> underlying name (e.g. {108105: "SPX"}); a secid without a name
        becomes "secid <n>", which no market knows, so its rows are rejected with a reason.
    date_format : of the date columns (default ISO 8601; "%Y%m%d" for IvyDB's own flat files).

    impl_volatility -99.99 (IvyDB's "not computed") is read as missing. Vols in percent and
    strikes 1000x the spot (the option price file's convention) raise ValueError.
    """
    if surface is None and standardized is None and prices is None:
        raise ValueError("read_optionmetrics: give at least one of surface, standardized, prices")
    names = {} if names is None else dict(names)
    parts, notes = [], []
    spot_rows = []
    if prices is not None:
        raw, where = read_raw_table(prices, "prices")
        _require(raw, ("secid", "date", "close"), where)
        dates = parse_dates(raw["date"], "date", where, date_format)
        secid = _days(raw["secid"], "secid", where)
        close = parse_numbers(raw["close"], "close", where)
        negative = int(np.count_nonzero(close < 0))
        if negative:
            notes.append(f"prices: {negative} closes were bid/ask midpoints (negative in IvyDB): absolute value used")
        spot_rows.append((dates.to_numpy(), _names(secid, names), np.abs(close)))
    for path, kind in ((surface, "surface"), (standardized, "standardized")):
        if path is None:
            continue
        raw, where = read_raw_table(path, kind)
        if kind == "surface":
            _require(raw, ("secid", "date", "days", "impl_volatility", "impl_strike", "cp_flag"), where)
            strike_col = "impl_strike"
        else:
            _require(
                raw, ("secid", "date", "days", "forward_price", "strike_price", "impl_volatility", "cp_flag"), where
            )
            strike_col = "strike_price"
        dates = parse_dates(raw["date"], "date", where, date_format)
        days = _days(raw["days"], "days", where)
        secid = _days(raw["secid"], "secid", where)
        vol = parse_numbers(raw["impl_volatility"], "impl_volatility", where)
        coded = vol == OPTIONMETRICS_MISSING
        if coded.any():
            notes.append(
                f"{kind}: {int(coded.sum())} impl_volatility values were -99.99 (not computed): read as missing"
            )
            vol = np.where(coded, np.nan, vol)
        check_vol_units(vol, f"{where.prefix}: column 'impl_volatility'")
        part = pd.DataFrame(
            {
                "date": dates.to_numpy(),
                "underlying": _names(secid, names),
                "expiry": dates.to_numpy() + days.astype("timedelta64[D]"),
                "strike": parse_numbers(raw[strike_col], strike_col, where),
                "option_type": option_types(raw["cp_flag"], "cp_flag", where).to_numpy(),
                "implied_vol": vol,
                "source": _source(path, len(raw)),
            }
        )
        if kind == "standardized":
            part["forward"] = parse_numbers(raw["forward_price"], "forward_price", where)
        parts.append((part, where, strike_col))
    spots = None
    if spot_rows:
        d, u, v = (np.concatenate(x) for x in zip(*spot_rows))
        spots = _spot_table(d, u, v, "prices")
    for part, where, strike_col in parts:
        _check_strike_scale(part, spots, f"{where.prefix}: column {strike_col!r}")
    options = pd.concat([p for p, _, _ in parts], ignore_index=True) if parts else _empty_options()
    return OptionData(options, spots, tuple(notes))


def _names(secid: np.ndarray, names: dict) -> np.ndarray:
    return np.array([names.get(int(s), f"secid {int(s)}") for s in secid], dtype=object)


def _check_strike_scale(part: pd.DataFrame, spots: pd.DataFrame | None, what: str) -> None:
    """Strikes compared with the spot of the same date and name where the files give one,
    else with the forward where the file has it."""
    strike = part["strike"].to_numpy()
    if spots is not None:
        stacked = spots.stack()
        index = pd.MultiIndex.from_arrays([pd.DatetimeIndex(part["date"]), part["underlying"]])
        reference = stacked.reindex(index).to_numpy()
    elif "forward" in part:
        reference = part["forward"].to_numpy()
    else:
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = strike / reference
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    if ratio.size and np.median(ratio) > STRIKE_SCALE_LIMIT:
        raise ValueError(
            f"{what}: median strike is {np.median(ratio):.4g}x the spot: strikes look scaled by 1000 "
            "(IvyDB's option price file stores strike x 1000); divide by 1000"
        )


def _empty_options() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series(dtype="datetime64[ns]"),
            "underlying": pd.Series(dtype=object),
            "expiry": pd.Series(dtype="datetime64[ns]"),
            "strike": pd.Series(dtype=np.float64),
            "option_type": pd.Series(dtype=object),
            "implied_vol": pd.Series(dtype=np.float64),
        }
    )


# -- ORATS -----------------------------------------------------------------------------

ORATS_SUMMARY_TENORS = {"iv10d": 10, "iv20d": 20, "iv30d": 30, "iv60d": 60, "iv90d": 90, "iv6m": 182, "iv1y": 365}
"""ORATS summary columns of constant-maturity at-the-money implied vol, and their days."""


def read_orats(*, strikes=None, summaries=None, vol: str = "mid") -> OptionData:
    """ORATS end-of-day files (the API's CSV layout), CSV or Parquet.

    strikes : the strikes file, one row per (ticker, tradeDate, expirDate, strike) with both
        the call and the put: ticker, tradeDate, expirDate, dte, strike, stockPrice, ...,
        callBidIv, callMidIv, callAskIv, smvVol, putBidIv, putMidIv, putAskIv, ..., spotPrice.
        Each row gives a call row and a put row: implied_vol = callMidIv / putMidIv
        (``vol="mid"``) or smvVol, ORATS' smoothed vol, for both (``vol="smv"``), with the
        bid and ask IVs. ORATS writes 0 where a side has no quote: such rows are rejected by
        the surface ("implied vol not > 0"). stockPrice gives the spots.
    summaries : the summaries file, one row per (ticker, tradeDate) with constant-maturity
        at-the-money IVs iv10d, iv20d, iv30d, iv60d, iv90d, iv6m, iv1y (the columns present
        are used). Each becomes an at-the-money-forward quote: the file gives no forward,
        so the reader sets forward = strike = stockPrice (the vol sits at k = 0).
    """
    if strikes is None and summaries is None:
        raise ValueError("read_orats: give strikes, summaries or both")
    if vol not in ("mid", "smv"):
        raise ValueError(f"vol: expected 'mid' or 'smv', got {vol!r}")
    parts, spot_rows = [], []
    if strikes is not None:
        raw, where = read_raw_table(strikes, "strikes")
        needed = ["ticker", "tradeDate", "expirDate", "strike", "stockPrice"]
        needed += ["smvVol"] if vol == "smv" else ["callMidIv", "putMidIv"]
        _require(raw, needed, where)
        dates = parse_dates(raw["tradeDate"], "tradeDate", where).to_numpy()
        expiry = parse_dates(raw["expirDate"], "expirDate", where).to_numpy()
        ticker = _tickers(raw["ticker"], where)
        strike = parse_numbers(raw["strike"], "strike", where)
        spot = parse_numbers(raw["stockPrice"], "stockPrice", where)
        spot_rows.append((dates, ticker, spot))
        source = _source(strikes, len(raw))
        for side, flag in (("call", "C"), ("put", "P")):
            column = "smvVol" if vol == "smv" else f"{side}MidIv"
            iv = parse_numbers(raw[column], column, where)
            check_vol_units(iv, f"{where.prefix}: column {column!r}")
            part = pd.DataFrame(
                {
                    "date": dates,
                    "underlying": ticker,
                    "expiry": expiry,
                    "strike": strike,
                    "option_type": flag,
                    "implied_vol": iv,
                    "source": source,
                }
            )
            for quote in ("Bid", "Ask"):
                name = f"{side}{quote}Iv"
                if name in raw.columns:
                    part[f"{quote.lower()}_vol"] = parse_numbers(raw[name], name, where)
            parts.append(part)
    if summaries is not None:
        raw, where = read_raw_table(summaries, "summaries")
        _require(raw, ["ticker", "tradeDate", "stockPrice"], where)
        tenors = {c: d for c, d in ORATS_SUMMARY_TENORS.items() if c in raw.columns}
        if not tenors:
            raise ValueError(
                f"{where.prefix}: no at-the-money IV column; expected some of {list(ORATS_SUMMARY_TENORS)}"
            )
        dates = parse_dates(raw["tradeDate"], "tradeDate", where).to_numpy()
        ticker = _tickers(raw["ticker"], where)
        spot = parse_numbers(raw["stockPrice"], "stockPrice", where)
        spot_rows.append((dates, ticker, spot))
        source = _source(summaries, len(raw))
        for column, days in tenors.items():
            iv = parse_numbers(raw[column], column, where)
            check_vol_units(iv, f"{where.prefix}: column {column!r}")
            parts.append(
                pd.DataFrame(
                    {
                        "date": dates,
                        "underlying": ticker,
                        "expiry": dates + np.timedelta64(days, "D"),
                        "strike": spot,
                        "option_type": "C",
                        "implied_vol": iv,
                        "forward": spot,
                        "source": np.array([f"{s} {column}" for s in source], dtype=object),
                    }
                )
            )
    d, u, v = (np.concatenate(x) for x in zip(*spot_rows))
    spots = _spot_table(d, u, v, "stockPrice")
    return OptionData(pd.concat(parts, ignore_index=True), spots, ())


def _tickers(column: pd.Series, where: Locator) -> np.ndarray:
    text = column.astype(str).str.strip()
    blank = np.flatnonzero((text == "").to_numpy())
    if blank.size:
        raise ValueError(f"{where('ticker', blank[0])}: blank ticker")
    return text.to_numpy(dtype=object)


# -- CBOE ------------------------------------------------------------------------------


def read_cboe(path, *, date_format: str = "%m/%d/%Y") -> pd.Series:
    """A CBOE index history CSV (VIX_History.csv, VIX3M, COR1M, COR3M, COR6M, DSPX, ...).

    CBOE publishes ``DATE,OPEN,HIGH,LOW,CLOSE`` (the close is used) or ``DATE,<SYMBOL>``,
    dates as MM/DD/YYYY. Returns a float Series of the closes in the index's own points
    (VIX 18.5 = 18.5% vol; COR1M 35.2 = implied correlation 0.352; DSPX in vol points),
    indexed by date ("date"), named after the symbol (the file name before "_History", or
    the value column). Empty cells are missing (NaN, kept); a repeated or out-of-order date,
    an unparseable date or number raises ValueError naming the file, column and row.
    """
    raw, where = read_raw_table(path, "cboe")
    columns = [str(c).strip() for c in raw.columns]
    raw.columns = columns
    upper = {c.upper(): c for c in columns}
    if "DATE" not in upper:
        raise ValueError(f"{where.prefix}: no DATE column; the file has {columns}")
    date_col = upper["DATE"]
    if "CLOSE" in upper:
        value_col = upper["CLOSE"]
    else:
        others = [c for c in columns if c != date_col]
        if len(others) != 1:
            raise ValueError(f"{where.prefix}: expected DATE,OPEN,HIGH,LOW,CLOSE or DATE,<SYMBOL>; got {columns}")
        value_col = others[0]
    dates = parse_dates(raw[date_col], date_col, where, date_format)
    values = parse_numbers(raw[value_col], value_col, where)
    stamps = dates.to_numpy()
    back = np.flatnonzero(stamps[1:] <= stamps[:-1])
    if back.size:
        i = back[0] + 1
        kind = "repeats" if stamps[i] == stamps[i - 1] else "is earlier than"
        raise ValueError(f"{where(date_col, i)}: date {dates.iloc[i].date()} {kind} the previous row's")
    match = re.match(r"(.+?)_History", Path(path).name, flags=re.IGNORECASE)
    name = match.group(1) if match else (value_col if value_col != upper.get("CLOSE") else Path(path).stem)
    return pd.Series(values, index=pd.DatetimeIndex(stamps, name="date"), name=name)
