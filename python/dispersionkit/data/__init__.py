"""Bundled real market data (offline), loaded as pandas objects.

Files (sources and licenses in NOTICE.md, shipped beside this module):

- ``sp500_dataset.csv.gz``: daily adjusted closes (splits and dividends, as published by
  skfolio) of 20 large S&P 500 stocks, 1990-01-02 to 2022-12-28, 8313 trading days.
- ``sp500_index.csv.gz``: S&P 500 index daily closes (price index, not total return) on the
  same dates.
- ``vix.csv.gz``: CBOE VIX daily closes, 2014-01-03 to 2019-01-03, in vol points
  (15.0 = 15% annualized implied vol). The source lists US market holidays with a '.'
  placeholder; those rows are dropped.

The loaders read fresh copies each call (callers may modify them) and do not need skfolio or
arch installed.

``samples/`` holds small **synthetic** option-data files made by the project (NOTICE.md): the
long option format, OptionMetrics IvyDB, ORATS and CBOE layouts, for one fictional market of
five stocks and their index; :func:`sample_file` gives their paths.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

SP500_TICKERS = (
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
)
"""Columns of :func:`load_sp500` prices, in file order."""


def _read(name: str, **kwargs) -> pd.DataFrame:
    with resources.files(__name__).joinpath(name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip", index_col=0, **kwargs)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame.astype("float64").sort_index()


def load_sp500() -> tuple[pd.DataFrame, pd.Series]:
    """Daily closes of 20 large S&P 500 stocks and of the S&P 500 index, 1990-2022.

    Returns ``(prices, index)``: ``prices`` a float64 DataFrame (dates x tickers, columns
    :data:`SP500_TICKERS`, adjusted closes in USD) and ``index`` a float64 Series named
    ``"SP500"`` (index points), both on the same sorted DatetimeIndex named ``"date"``.
    The 20 stocks are a fixed sample, not the index's constituents or weights.
    """
    prices = _finish(_read("sp500_dataset.csv.gz", parse_dates=True))
    prices.columns.name = "ticker"
    index = _finish(_read("sp500_index.csv.gz", parse_dates=True))["SP500"]
    return prices, index


def load_vix() -> pd.Series:
    """CBOE VIX daily closes 2014-01-03 to 2019-01-03 as a float64 Series named ``"VIX"``.

    Values are in vol points (divide by 100 for the decimal convention used elsewhere);
    the index is a sorted DatetimeIndex named ``"date"`` of trading days only.
    """
    frame = _read("vix.csv.gz", na_values=["."])
    frame.index = pd.to_datetime(frame.index, format="%m/%d/%Y")
    vix = _finish(frame.dropna())["vix"]
    return vix.rename("VIX")


def sample_market(vol_model=None, index: str = "sp500"):
    """A ready :class:`~dispersionkit.MarketData` from the bundled S&P 500 data and VIX.

    Choices, stated wherever the data is reported:

    - Index: ``index="sp500"`` (default) the S&P 500 price index (real closes), which is *not*
      the basket of the 20 bundled stocks (they are a sample, not its 500 constituents), so an
      index-versus-basket basis shows up in correlation measures and in P&L (the backtest reports
      it as its own line); ``index="basket"`` the equal-weighted basket of the 20 stocks itself
      (:func:`~dispersionkit.basket_index`, rebalanced at every close, starting at the S&P 500's
      first level), for which that basis is zero.
    - Weights: equal, 1/20 each, constant. The bundled data has no market caps; equal
      weights are the transparent choice and carry no look-ahead.
    - Implied vols: **a model, not market quotes** (:class:`~dispersionkit.ImpliedVolModel`,
      default parameters unless ``vol_model`` is given): index implied vol = VIX / 100 on the
      VIX dates (2014-01-03..2019-01-03; for the basket, VIX scaled by realized(basket) /
      realized(S&P 500)), else trailing realized x the variance premium; component implied
      vols per the model's correlation premium (by default not assumed: implied by the index
      vol against names carrying no variance premium). ``vol_source`` and
      ``index_vol_origin`` of the result say so date by date.
    - Rates and dividend yields: 0 (prices are dividend-adjusted).
    """
    from ..market.market_data import MarketData

    if index not in ("sp500", "basket"):
        raise ValueError(f"index: expected 'sp500' or 'basket', got {index!r}")
    prices, sp500 = load_sp500()
    vix = load_vix().reindex(prices.index)
    market = MarketData(prices, sp500, vix=vix, vol_model=vol_model)
    return market if index == "sp500" else market.with_basket_index()


SAMPLE_FILES = (
    "options_long.csv.gz",
    "spots.csv.gz",
    "index.csv.gz",
    "weights.csv.gz",
    "optionmetrics_vsurfd.csv.gz",
    "optionmetrics_stdopd.csv.gz",
    "optionmetrics_secprd.csv.gz",
    "orats_strikes.csv.gz",
    "orats_summaries.csv.gz",
    "VIX_History.csv",
    "VIX3M_History.csv",
    "COR1M_History.csv",
    "COR3M_History.csv",
    "COR6M_History.csv",
    "DSPX_History.csv",
)
"""The synthetic sample files (NOTICE.md says how they were made)."""

SAMPLE_NAMES = {900001: "ALFA", 900002: "BRVO", 900003: "CHRL", 900004: "DLTA", 900005: "ECHO", 900100: "IDX"}
"""secid -> name of the fictional securities in the OptionMetrics samples."""
SAMPLE_RATE = 0.04
"""The continuous rate the samples' forwards use."""
SAMPLE_DIV_YIELDS = {"ALFA": 0.010, "BRVO": 0.020, "CHRL": 0.0, "DLTA": 0.015, "ECHO": 0.025}
"""The continuous dividend yields of the sample stocks (the index's is their weighted mean)."""


def sample_file(name: str) -> Path:
    """Path of one synthetic sample file (one of :data:`SAMPLE_FILES`)."""
    if name not in SAMPLE_FILES:
        raise ValueError(f"name: expected one of {SAMPLE_FILES}, got {name!r}")
    path = resources.files(__name__).joinpath("samples").joinpath(name)
    if not path.is_file():
        raise FileNotFoundError(f"sample file {name} is missing from the installed package ({path})")
    return Path(str(path))


__all__ = [
    "SAMPLE_DIV_YIELDS",
    "SAMPLE_FILES",
    "SAMPLE_NAMES",
    "SAMPLE_RATE",
    "SP500_TICKERS",
    "load_sp500",
    "load_vix",
    "sample_file",
    "sample_market",
]
