"""Market data for the strategy layer: spots, index, implied vols, weights, rates, on one calendar.

Conventions: dates are a sorted, unique DatetimeIndex shared by every input; vols, rates and
dividend yields are decimals (0.20 = 20%), continuous compounding; weights are index weights
(>= 0, each complete row summing to 1). Missing values are NaN: they are kept, reported in
``MarketData.missing`` and propagate through every computation; nothing is dropped or filled
except implied vols, and those only by an explicit :class:`ImpliedVolModel` that is recorded
in ``vol_source`` / ``index_vol_origin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .._validation import as_real
from ..numeric.correlation import CorrelationEstimate
from ..numeric.correlation import implied_correlation as _implied_correlation
from . import _checks as checks
from .options import read_options
from .snapshot import Snapshot, take_snapshot
from .tables import read_dated_table
from .vol_model import ImpliedVolModel
from .vol_surface import VolSurface

DEFAULT_TENOR_DAYS = 30


@dataclass(frozen=True, eq=False)
class MarketArrays:
    """A :class:`MarketData` as float64 arrays on its calendar: row t is ``dates[t]``, column k
    is ``tickers[k]``; what the strategy and backtest layers compute on (pandas stays at the edge).

    spots, vols, weights, div_yields: (T, n); index, index_vol, rate: (T,). Constant weights,
    rates and yields are repeated as read-only broadcast views (no copies). NaN = missing.
    surface: the market's option surface when it was built from option data (legs are then
    priced at their own strike and tenor), None when every option takes its name's vol;
    index_underlying: the index's name in that surface.
    """

    dates: pd.DatetimeIndex
    tickers: tuple[str, ...]
    spots: np.ndarray
    index: np.ndarray
    vols: np.ndarray
    index_vol: np.ndarray
    weights: np.ndarray
    rate: np.ndarray
    div_yields: np.ndarray
    surface: VolSurface | None = None
    index_underlying: str = "INDEX"

    def row(self, date) -> int:
        """Position of ``date`` in ``dates``; ValueError when it is not a date of the market."""
        try:
            stamp = pd.Timestamp(date)
        except (TypeError, ValueError) as error:
            raise ValueError(f"date: cannot read {date!r} as a date ({error})") from None
        position = self.dates.searchsorted(stamp)
        if position == len(self.dates) or self.dates[position] != stamp:
            raise ValueError(
                f"date: {stamp.date()} is not a date of the market data "
                f"({self.dates[0].date()}..{self.dates[-1].date()}, trading days only)"
            )
        return int(position)

    def window(self, first: int, last: int) -> MarketArrays:
        """Rows ``first..last`` (inclusive) as views of these arrays."""
        rows = slice(first, last + 1)
        return MarketArrays(
            dates=self.dates[rows],
            tickers=self.tickers,
            spots=self.spots[rows],
            index=self.index[rows],
            vols=self.vols[rows],
            index_vol=self.index_vol[rows],
            weights=self.weights[rows],
            rate=self.rate[rows],
            div_yields=self.div_yields[rows],
            surface=self.surface,
            index_underlying=self.index_underlying,
        )

    def snapshot(self, row: int) -> Snapshot:
        """The names with positive weight on ``dates[row]`` (:func:`~dispersionkit.market.snapshot.take_snapshot`)."""
        return take_snapshot(
            self.dates[row],
            row,
            self.tickers,
            self.spots[row],
            self.vols[row],
            self.weights[row],
            self.div_yields[row],
            self.index[row],
            self.index_vol[row],
            self.rate[row],
            surface=self.surface,
            index_underlying=self.index_underlying,
        )


@dataclass(frozen=True, eq=False, init=False, repr=False)
class MarketData:
    """Validated, aligned market data (immutable after construction).

    Parameters
    ----------
    spots : DataFrame, dates x tickers, component prices (> 0 where present).
    index : Series by date, index level (> 0 where present).
    vols : DataFrame like ``spots``, component implied vols, or None to use ``vol_model``.
    index_vol : Series by date, index implied vol, or None to use ``vol_model`` (and ``vix``).
    weights : Series by ticker (constant) or DataFrame like ``spots`` (per date); None means
        equal weights 1/n. Each complete row must sum to 1.
    rate : continuously compounded risk-free rate, a number or a Series by date.
    div_yields : continuous dividend yields, a number, a Series by ticker or a DataFrame like ``spots``.
    vix : optional Series by date in VIX points (e.g. 23.5), only used by the vol model for the
        index implied vol; so it must be on the same calendar and is only accepted when
        ``index_vol`` is None.
    vix_reference : optional Series by date, the level of the index the VIX is quoted on when
        ``index`` is another one (e.g. a basket of the components, see :func:`basket_index`):
        the vol model then scales VIX by the ratio of the two indices' realized vols. Only with ``vix``.
    vol_model : the :class:`ImpliedVolModel` filling absent vols (default ``ImpliedVolModel()``);
        only accepted when ``vols`` or ``index_vol`` is None and no ``options`` are given.
    options : optional option implied vols in the long format (a DataFrame, e.g. from
        :func:`dispersionkit.read_options` or a vendor reader): they build :attr:`surface`,
        and absent ``vols`` / ``index_vol`` become its ``vol_tenor_days`` at-the-money-forward
        vols. The index's options carry the underlying name ``index_underlying``.
    index_underlying : the name of the index in ``options`` and in :attr:`surface` (default
        "INDEX"); no ticker may have it.
    option_quotes : which options make the smiles: "otm" (default), "calls" or "puts".
    vol_tenor_days : tenor (calendar days) of the vols taken from the surface (default 30).

    Attributes beyond the inputs
    ----------------------------
    vol_source : "market" when both vols were given, else "model: ..." or "mixed: ..." naming
        the model and its parameters.
    index_vol_origin : Series by date: "market", "vix", "vix-scaled", "model" or "missing".
    missing : DataFrame (field, column, count, first, last), one row per input column with
        NaNs, including model vols that are NaN during the realized-vol warm-up.
    surface : :class:`VolSurface` over the tickers and the index: from ``options`` when given,
        else flat at ``vols`` / ``index_vol`` (one vol per name and date for every strike and
        tenor; its ``source`` says so).
    options_report : rows of ``options`` used and rejected by reason (None without options);
        the rejected rows themselves are ``surface.rejected``.
    """

    spots: pd.DataFrame
    index: pd.Series
    vols: pd.DataFrame
    index_vol: pd.Series
    weights: pd.Series | pd.DataFrame
    rate: float | pd.Series
    div_yields: float | pd.Series | pd.DataFrame
    vix: pd.Series | None
    vix_reference: pd.Series | None
    vol_model: ImpliedVolModel | None
    vol_source: str
    index_vol_origin: pd.Series
    missing: pd.DataFrame
    _given: tuple  # (vols, index_vol) as given, None where modelled: what with_vol_model keeps
    index_underlying: str
    options_report: pd.Series | None

    def __init__(
        self,
        spots,
        index,
        vols=None,
        index_vol=None,
        weights=None,
        rate=0.0,
        div_yields=0.0,
        *,
        vix=None,
        vix_reference=None,
        vol_model: ImpliedVolModel | None = None,
        options=None,
        index_underlying: str = "INDEX",
        option_quotes: str = "otm",
        vol_tenor_days: float = DEFAULT_TENOR_DAYS,
    ):
        spots = checks.dated_frame(spots, "spots")
        checks.positive_or_nan(spots, "spots")
        dates, tickers = spots.index, spots.columns
        index = checks.series_like(index, "index", dates).rename("index")
        checks.positive_or_nan(index, "index")
        weights = _weights(weights, dates, tickers)
        rate = _rate(rate, dates)
        div_yields = _div_yields(div_yields, dates, tickers)

        if vols is not None:
            vols = checks.frame_like(vols, "vols", dates, tickers)
            checks.nonnegative_or_nan(vols, "vols")
        if index_vol is not None:
            index_vol = checks.series_like(index_vol, "index_vol", dates).rename("index_vol")
            checks.nonnegative_or_nan(index_vol, "index_vol")
            if vix is not None:
                raise ValueError("vix: only used to model an absent index_vol; index_vol was given")
        if vix is not None:
            vix = checks.series_like(vix, "vix", dates).rename("vix")
            checks.nonnegative_or_nan(vix, "vix")
        if vix_reference is not None:
            if vix is None:
                raise ValueError("vix_reference: only used to scale a vix; no vix was given")
            vix_reference = checks.series_like(vix_reference, "vix_reference", dates).rename("vix_reference")
            checks.positive_or_nan(vix_reference, "vix_reference")
        given = (vols, index_vol)
        if not isinstance(index_underlying, str) or not index_underlying:
            raise TypeError(f"index_underlying: expected a non-empty str, got {index_underlying!r}")
        if index_underlying in set(tickers):
            raise ValueError(f"index_underlying: {index_underlying!r} is also a ticker; name the index differently")
        surface = None
        if options is not None:
            if vol_model is not None:
                raise ValueError("vol_model: unused because options give the implied vols")
            if vix is not None:
                raise ValueError("vix: only used to model an absent index_vol; options give it")
            surface = VolSurface.from_options(
                options,
                _with_index(spots, index, index_underlying),
                rate=rate if isinstance(rate, pd.Series) else float(rate),
                div_yields=_with_index_yield(div_yields, _weights_frame(weights, dates), index_underlying),
                quotes=option_quotes,
            )
            if vols is None or index_vol is None:
                vols, index_vol, origin, source = _surface_vols(
                    surface, vols, index_vol, tickers, index_underlying, vol_tenor_days
                )
            else:
                origin = pd.Series(np.where(index_vol.notna(), "market", "missing"), index=dates)
                source = "market"
        elif vols is not None and index_vol is not None:
            if vol_model is not None:
                raise ValueError("vol_model: unused because vols and index_vol were both given")
            origin = pd.Series(np.where(index_vol.notna(), "market", "missing"), index=dates)
            source = "market"
        else:
            if vol_model is None:
                vol_model = ImpliedVolModel()
            elif not isinstance(vol_model, ImpliedVolModel):
                raise TypeError(f"vol_model: expected an ImpliedVolModel, got {type(vol_model).__name__}")
            vols, index_vol, origin, source = _model_vols(
                vol_model, spots, index, vols, index_vol, vix, vix_reference, _weights_frame(weights, dates)
            )

        missing_inputs = {"spots": spots, "index": index, "vols": vols, "index_vol": index_vol}
        for field, value in (
            ("weights", weights),
            ("rate", rate),
            ("div_yields", div_yields),
            ("vix", vix),
            ("vix_reference", vix_reference),
        ):
            if isinstance(value, (pd.Series, pd.DataFrame)):
                missing_inputs[field] = value
        for name, value in (
            ("spots", spots),
            ("index", index),
            ("vols", vols),
            ("index_vol", index_vol),
            ("weights", weights),
            ("rate", rate),
            ("div_yields", div_yields),
            ("vix", vix),
            ("vix_reference", vix_reference),
            ("vol_model", vol_model),
            ("vol_source", source),
            ("index_vol_origin", origin.rename("index_vol_origin")),
            ("missing", checks.missing_report(missing_inputs)),
            ("index_underlying", index_underlying),
            ("options_report", None if surface is None else surface.report),
        ):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_given", given)
        if surface is not None:
            self.__dict__["surface"] = surface

    @classmethod
    def from_files(
        cls,
        spots,
        index,
        vols=None,
        index_vol=None,
        weights=None,
        rate=0.0,
        div_yields=0.0,
        *,
        vix=None,
        vol_model: ImpliedVolModel | None = None,
        date_column: str | None = None,
        index_column: str | None = None,
        options=None,
        index_underlying: str = "INDEX",
        option_quotes: str = "otm",
        vol_tenor_days: float = DEFAULT_TENOR_DAYS,
    ) -> MarketData:
        """Load from CSV (.csv) or Parquet (.parquet) files, one table per argument.

        ``spots``, ``vols`` and ``weights`` files are dates x tickers; ``index``, ``index_vol``
        and ``vix`` files hold a date column and one value column (or name it with
        ``index_column`` for the index file). The date column is ``date_column`` or else the
        first column (a Parquet DatetimeIndex also works). Any argument may instead be an
        in-memory pandas object, passed through as is; ``rate`` and ``div_yields`` are never
        read from files. Errors name the file, the column and the row (1-based over data rows)
        and, for CSV, the line. ``options`` is a long-format option file
        (:func:`dispersionkit.read_options`) or a DataFrame; the other option arguments are those
        of :class:`MarketData`.

        Nothing is repaired or guessed: a CSV record with fewer or more fields than the header,
        an empty or repeated header name (a trailing comma, ``A`` and `` A``), a date that is not
        ISO 8601, dates out of order or repeated, two rows on one day (a date with and without a
        time of day), or UTC offsets that differ between rows are errors. Empty cells and
        ``NA``-like tokens are missing values, kept and reported in ``missing``.
        """

        def frame(value, what):
            if value is None or isinstance(value, (pd.Series, pd.DataFrame)):
                return value
            return read_dated_table(value, what, date_column)

        def series(value, what, column=None):
            table = frame(value, what)
            if not isinstance(table, pd.DataFrame):
                return table
            if column is not None:
                if column not in table.columns:
                    raise ValueError(f"{what}: {value}: no column {column!r}; columns are {list(table.columns)}")
                return table[column]
            if table.shape[1] != 1:
                raise ValueError(
                    f"{what}: {value}: expected one value column besides the date, got {list(table.columns)}"
                )
            return table.iloc[:, 0]

        return cls(
            frame(spots, "spots"),
            series(index, "index", index_column),
            vols=frame(vols, "vols"),
            index_vol=series(index_vol, "index_vol"),
            weights=frame(weights, "weights"),
            rate=rate,
            div_yields=div_yields,
            vix=series(vix, "vix"),
            vol_model=vol_model,
            options=options if options is None or isinstance(options, pd.DataFrame) else read_options(options),
            index_underlying=index_underlying,
            option_quotes=option_quotes,
            vol_tenor_days=vol_tenor_days,
        )

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.spots.index

    @cached_property
    def arrays(self) -> MarketArrays:
        """The market as :class:`MarketArrays` (built on first use, then kept)."""
        dates = self.dates
        T, n = self.spots.shape

        def per_date(value) -> np.ndarray:
            if isinstance(value, pd.Series):
                return value.to_numpy(np.float64)
            return np.broadcast_to(np.float64(value), (T,))

        def per_name(value) -> np.ndarray:
            if isinstance(value, pd.DataFrame):
                return value.to_numpy(np.float64)
            if isinstance(value, pd.Series):
                return np.broadcast_to(value.to_numpy(np.float64), (T, n))
            return np.broadcast_to(np.float64(value), (T, n))

        return MarketArrays(
            dates=dates,
            tickers=tuple(str(t) for t in self.tickers),
            spots=self.spots.to_numpy(np.float64),
            index=self.index.to_numpy(np.float64),
            vols=self.vols.to_numpy(np.float64),
            index_vol=self.index_vol.to_numpy(np.float64),
            weights=per_name(self.weights),
            rate=per_date(self.rate),
            div_yields=per_name(self.div_yields),
            surface=self.surface if self.options_report is not None else None,
            index_underlying=self.index_underlying,
        )

    @property
    def tickers(self) -> pd.Index:
        return self.spots.columns

    def weights_frame(self) -> pd.DataFrame:
        """Weights as dates x tickers (a constant Series repeated on every date)."""
        return _weights_frame(self.weights, self.dates)

    def log_returns(self) -> pd.DataFrame:
        """Daily component log returns; first row NaN, NaN next to any missing price."""
        return _log_returns(self.spots)

    def index_log_returns(self) -> pd.Series:
        return _log_returns(self.index)

    @cached_property
    def surface(self) -> VolSurface:
        """The volatility surface of the tickers and the index (``index_underlying``)."""
        names = [*self.tickers, self.index_underlying]
        vols = pd.concat([self.vols, self.index_vol.rename(self.index_underlying)], axis=1)[names]
        return VolSurface.flat(
            vols,
            _with_index(self.spots, self.index, self.index_underlying),
            rate=self.rate,
            div_yields=_with_index_yield(self.div_yields, self.weights_frame(), self.index_underlying),
            source=f"flat: one vol per name and date at every strike and tenor ({self.vol_source})",
        )

    def implied_correlation(self, tenor_days=None, *, delta=None, moneyness=None, estimate: bool = False):
        """Equicorrelation (implied correlation) per date, from the index vol, the component
        vols and the weights of each date.

        Without arguments: from ``index_vol`` and ``vols``. With ``tenor_days`` (calendar
        days): from :attr:`surface` at that constant maturity, at the money forward by
        default; ``delta`` (signed, e.g. -0.25 for 25-delta puts) takes the index's vol at its
        own 25-delta strike and each component's vol at *its own* 25-delta strike;
        ``moneyness`` (K/S) takes every vol at the same moneyness. Values outside [-1, 1]
        (inconsistent quotes) are returned as they are, not clipped; dates where fewer than two
        names carry weight x vol are NaN (the formula is undefined there). With ``estimate``
        the whole :class:`~dispersionkit.CorrelationEstimate` (range and undefined flags, the
        Series as ``value``) is returned instead of the Series.
        """
        if tenor_days is None:
            if delta is not None or moneyness is not None:
                raise ValueError("tenor_days: needed with delta or moneyness (the tenor of the vols)")
            index_vol, vols = self.index_vol.to_numpy(), self.vols.to_numpy()
            name = "implied_correlation"
        else:
            spec = {k: v for k, v in (("delta", delta), ("moneyness", moneyness)) if v is not None}
            if len(spec) > 1:
                raise ValueError("give at most one of delta and moneyness")
            surface = self.surface
            table = surface.vol(tenor_days, **spec) if spec else surface.atm(tenor_days)
            index_vol, vols = table[self.index_underlying].to_numpy(), table[list(self.tickers)].to_numpy()
            label = "".join(f"_{k}{v:g}" for k, v in spec.items())
            name = f"implied_correlation_{tenor_days:g}d{label}"
        with np.errstate(invalid="ignore"):
            result = _implied_correlation(index_vol, vols, self.weights_frame().to_numpy())
        series = pd.Series(result.value, index=self.dates, name=name)
        if estimate:
            return CorrelationEstimate(series, result.out_of_range, result.undefined)
        return series

    def implied_correlation_term_structure(self, tenors=(30, 91, 182), *, delta=None, moneyness=None) -> pd.DataFrame:
        """Implied correlation by date (rows) and tenor in calendar days (columns), from
        :attr:`surface` (see :meth:`implied_correlation` for ``delta`` and ``moneyness``)."""
        columns = {
            int(t) if float(t).is_integer() else t: self.implied_correlation(t, delta=delta, moneyness=moneyness)
            for t in tenors
        }
        frame = pd.DataFrame({k: v.to_numpy() for k, v in columns.items()}, index=self.dates)
        frame.columns.name = "tenor_days"
        return frame

    def with_vol_model(self, vol_model: ImpliedVolModel) -> MarketData:
        """The same market with its modelled vols rebuilt by ``vol_model`` (given vols are kept).

        ValueError when both vols were given as market data (nothing is modelled)."""
        vols, index_vol = self._given
        if self.options_report is not None:
            raise ValueError("vol_model: this market's vols come from its option data; there is nothing to model")
        if vols is not None and index_vol is not None:
            raise ValueError("vol_model: this market's vols are all market data; there is nothing to model")
        return MarketData(
            self.spots,
            self.index,
            vols,
            index_vol,
            self.weights,
            self.rate,
            self.div_yields,
            vix=self.vix,
            vix_reference=self.vix_reference,
            vol_model=vol_model,
        )

    def with_basket_index(self) -> MarketData:
        """The same market with its index replaced by the basket of its components (:func:`basket_index`).

        The basket starts at this index's first level and earns sum_i w_i r_i each day with the
        market's weights of the previous close (equal weights: an equal-weighted index rebalanced
        daily; cap weights per date: a cap-weighted index). The index implied vol is modelled
        again for the basket; a VIX is kept and scaled by realized(basket) / realized(this index)
        (``vix_reference``), since it is quoted on this index, not on the basket. ValueError when
        the index implied vol was given as market data (it belongs to the other index).
        """
        vols, index_vol = self._given
        if self.options_report is not None:
            raise ValueError("options: this market's option surface is quoted on its index, not on the basket")
        if index_vol is not None:
            raise ValueError("index_vol: given for this index, not for the basket; build the basket market yourself")
        reference = None if self.vix is None else (self.index if self.vix_reference is None else self.vix_reference)
        start = self.index.dropna()
        basket = basket_index(self.spots, self.weights, base=float(start.iloc[0]) if len(start) else 100.0)
        return MarketData(
            self.spots,
            basket,
            vols,
            None,
            self.weights,
            self.rate,
            self.div_yields,
            vix=self.vix,
            vix_reference=reference,
            vol_model=self.vol_model,
        )

    def __repr__(self) -> str:
        first, last = self.dates[0].date(), self.dates[-1].date()
        return (
            f"MarketData({len(self.dates)} dates {first}..{last}, {len(self.tickers)} tickers, "
            f"vol_source={self.vol_source!r}, {int(self.missing['count'].sum())} missing values)"
        )


def _with_index(spots: pd.DataFrame, index: pd.Series, name: str) -> pd.DataFrame:
    """Spots with the index as one more column named ``name``."""
    return pd.concat([spots, index.rename(name)], axis=1)


def _with_index_yield(div_yields, weights: pd.DataFrame, name: str):
    """Dividend yields with the index's: the weighted mean of the component yields (the index
    of these names would pay that), as the trades assume."""
    if not isinstance(div_yields, (pd.Series, pd.DataFrame)):
        return float(div_yields)
    q = (
        div_yields
        if isinstance(div_yields, pd.DataFrame)
        else pd.DataFrame(
            np.broadcast_to(div_yields.to_numpy(), weights.shape), index=weights.index, columns=weights.columns
        )
    )
    w = weights.fillna(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        index_q = (w * q.fillna(0.0)).sum(axis=1) / w.sum(axis=1)
    return pd.concat([q, index_q.rename(name)], axis=1)


def _surface_vols(surface: VolSurface, vols, index_vol, tickers, index_underlying, tenor_days):
    atm = surface.atm(tenor_days)
    dates = atm.index
    notes = []
    if vols is None:
        vols = atm[list(tickers)]
        notes.append("component vols")
    if index_vol is None:
        index_vol = atm[index_underlying].rename("index_vol")
        notes.append("index vol")
        origin = pd.Series(np.where(index_vol.notna(), "options", "missing"), index=dates)
    else:
        origin = pd.Series(np.where(index_vol.notna(), "market", "missing"), index=dates)
    kind = "options" if len(notes) == 2 else "mixed"
    what = " and ".join(notes)
    source = f"{kind}: {what} = {tenor_days:g}-day at-the-money-forward vols of the option surface ({surface.source})"
    return vols, index_vol, origin, source


def _model_vols(model, spots, index, vols, index_vol, vix, vix_reference, weights_frame):
    dates = spots.index
    index_returns = _log_returns(index)
    notes = []
    if index_vol is None:
        reference = None if vix_reference is None else _log_returns(vix_reference)
        index_vol, origin = model.index_vol(index_returns, vix, reference)
        n_vix, n_model = int(origin.str.startswith("vix").sum()), int((origin == "model").sum())
        vix_kind = "VIX" if reference is None else "VIX scaled by realized(index) / realized(VIX's index)"
        notes.append(f"index vol from {vix_kind} on {n_vix} and realized x premium on {n_model} of {len(dates)} dates")
    else:
        origin = pd.Series(np.where(index_vol.notna(), "market", "missing"), index=dates)
        notes.append("index vol from market")
    if vols is None:
        vols = model.component_vols(_log_returns(spots), index_returns, index_vol, weights_frame)
        notes.append("component vols from model")
    else:
        notes.append("component vols from market")
    kind = "mixed" if any(note.endswith("from market") for note in notes) else "model"
    return vols, index_vol, origin, f"{kind}: {model.describe()}; " + "; ".join(notes)


def _log_returns(levels: pd.DataFrame | pd.Series):
    """Daily log returns; the first row and any row next to a missing level are NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(levels / levels.shift(1))


def _weights(weights, dates, tickers):
    if weights is None:
        return pd.Series(1.0 / len(tickers), index=tickers, name="weight")
    if isinstance(weights, pd.DataFrame):
        weights = checks.frame_like(weights, "weights", dates, tickers)
    else:
        weights = checks.ticker_series(weights, "weights", tickers)
        if weights.isna().any():
            absent = list(weights.index[weights.isna()])
            raise ValueError(f"weights: constant weights must not be missing, NaN for {absent}")
    checks.weight_rows(weights, "weights")
    return weights


def _weights_frame(weights, dates) -> pd.DataFrame:
    if isinstance(weights, pd.DataFrame):
        return weights
    repeated = np.broadcast_to(weights.to_numpy(), (len(dates), len(weights)))
    return pd.DataFrame(repeated, index=dates, columns=weights.index)


def _rate(rate, dates):
    if isinstance(rate, pd.Series):
        return checks.series_like(rate, "rate", dates).rename("rate")
    return as_real(rate, "rate")


def _div_yields(div_yields, dates, tickers):
    if isinstance(div_yields, pd.DataFrame):
        return checks.frame_like(div_yields, "div_yields", dates, tickers)
    if isinstance(div_yields, pd.Series):
        div_yields = checks.ticker_series(div_yields, "div_yields", tickers)
        if div_yields.isna().any():
            absent = list(div_yields.index[div_yields.isna()])
            raise ValueError(f"div_yields: per-ticker yields must not be missing, NaN for {absent}")
        return div_yields
    return as_real(div_yields, "div_yields")


def snapshot(market: MarketData, date) -> Snapshot:
    """The market on ``date`` (a trading day of ``market``) for the names with positive weight.

    ValueError naming the names whose spot or vol is missing (:func:`take_snapshot`).
    """
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    arrays = market.arrays
    return arrays.snapshot(arrays.row(date))


def basket_index(spots: pd.DataFrame, weights=None, *, base: float = 100.0) -> pd.Series:
    """Level of the basket of ``spots`` with ``weights``: an index of the components themselves.

    The level starts at ``base`` on the first date and moves each day by the simple return
    r_B,t = sum_i w_i,t-1 r_i,t, with r_i,t = S_i,t / S_i,t-1 - 1 and the weights of the previous
    close: constant weights (a Series by ticker, default equal 1/n) make an index rebalanced to
    those weights at every close (e.g. equal-weighted); weights per date (a DataFrame like
    ``spots``, e.g. market caps / total cap) make a cap-weighted index. A name with weight 0 the
    day before does not enter (its price may be missing); a missing price of a name in the
    basket is an error naming the date and ticker (fill or drop it first), never a silent gap.
    """
    spots = checks.dated_frame(spots, "spots")
    checks.positive_or_nan(spots, "spots")
    dates, tickers = spots.index, spots.columns
    base = float(base)
    if not (np.isfinite(base) and base > 0):
        raise ValueError(f"base: must be finite and > 0, got {base}")
    w = _weights_frame(_weights(weights, dates, tickers), dates).to_numpy(np.float64)
    s = spots.to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        returns = s[1:] / s[:-1] - 1.0
        held = np.where(np.isnan(w[:-1]), 0.0, w[:-1])
        gap = (held > 0) & np.isnan(returns)
    if gap.any():
        row, column = np.argwhere(gap)[0]
        raise ValueError(
            f"spots: no return for {tickers[column]!r} on {dates[row + 1].date()} while it is in the basket "
            "(weight > 0 the day before); fill or drop the missing price first"
        )
    daily = np.sum(np.where(held > 0, held * returns, 0.0), axis=1)
    levels = base * np.concatenate([[1.0], np.cumprod(1.0 + daily)])
    return pd.Series(levels, index=dates, name="basket")
