"""Per-date signal series of a market for rules and reports (VIX, correlations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_count
from ..numeric.correlation import equicorrelation_values
from ..numeric.realized import rolling_vol_values
from .market_data import MarketArrays, MarketData

SIGNAL_COLUMNS = ("vix", "vix_change", "implied_correlation", "realized_correlation")


def log_returns(levels: np.ndarray) -> np.ndarray:
    """Daily log returns of (T,) or (T, n) levels; the first row and any row next to a missing level are NaN."""
    out = np.full(levels.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.log(levels[1:] / levels[:-1])
    return out


def signal_arrays(arrays: MarketArrays, window: int = 63, lookback: int = 5) -> dict[str, np.ndarray]:
    """:func:`signal_series` on :class:`MarketArrays`: a dict of float64 (T,) arrays by column name."""
    as_count(window, "window", 2)
    as_count(lookback, "lookback", 1)
    vix = arrays.index_vol * 100.0
    vix_change = np.full_like(vix, np.nan)
    vix_change[lookback:] = vix[lookback:] - vix[:-lookback]
    both = np.column_stack([log_returns(arrays.spots), log_returns(arrays.index)])
    realized = rolling_vol_values(np.ascontiguousarray(both), window, window)
    with np.errstate(invalid="ignore"):
        realized_corr = equicorrelation_values(realized[:, -1], realized[:, :-1], arrays.weights)
        implied_corr = equicorrelation_values(arrays.index_vol, arrays.vols, arrays.weights)
    return {
        "vix": vix,
        "vix_change": vix_change,
        "implied_correlation": implied_corr,
        "realized_correlation": realized_corr,
    }


def signal_series(market: MarketData, window: int = 63, lookback: int = 5) -> pd.DataFrame:
    """Columns by date:

    - vix: the index implied vol in VIX points (market.index_vol x 100: VIX where the market
      has it, else whatever ``market.index_vol_origin`` says, e.g. the vol model);
    - vix_change: vix minus vix ``lookback`` rows earlier;
    - implied_correlation: the equicorrelation formula on the market's implied vols and weights;
    - realized_correlation: the same formula on trailing ``window``-day realized vols of the
      components and of the index ("implied formula on realized vols").
    """
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    columns = signal_arrays(market.arrays, window, lookback)
    return pd.DataFrame(columns, index=market.dates, columns=list(SIGNAL_COLUMNS))


FORWARD_COLUMNS = (
    "implied_correlation",
    "trailing_realized_correlation",
    "forward_realized_correlation",
    "forward_premium",
    "forward_basket_correlation",
    "forward_basket_premium",
)


def forward_premium_arrays(arrays: MarketArrays, horizon: int = 21, window: int = 63) -> dict[str, np.ndarray]:
    """:func:`forward_premium` on :class:`MarketArrays`: a dict of float64 (T,) arrays by column name."""
    as_count(horizon, "horizon", 2)
    as_count(window, "window", 2)
    returns = log_returns(arrays.spots)
    index_returns = log_returns(arrays.index)
    with np.errstate(invalid="ignore"):
        # The basket earns sum_i w_i r_i with the previous close's weights; a missing name leaves the day missing.
        held = np.vstack([np.full((1, returns.shape[1]), np.nan), arrays.weights[:-1]])
        simple = np.expm1(returns)
        basket = np.log1p(np.sum(np.where(held > 0, held * simple, 0.0), axis=1))
        basket[np.any((held > 0) & np.isnan(simple), axis=1) | np.isnan(held).all(axis=1)] = np.nan
    both = np.ascontiguousarray(np.column_stack([returns, index_returns, basket]))
    trailing = rolling_vol_values(both, window, window)
    ahead = np.full_like(both, np.nan)
    ahead[:-horizon] = rolling_vol_values(both, horizon, horizon)[horizon:]
    n = returns.shape[1]
    with np.errstate(invalid="ignore"):
        implied = equicorrelation_values(arrays.index_vol, arrays.vols, arrays.weights)
        past = equicorrelation_values(trailing[:, n], trailing[:, :n], arrays.weights)
        future = equicorrelation_values(ahead[:, n], ahead[:, :n], arrays.weights)
        future_basket = equicorrelation_values(ahead[:, n + 1], ahead[:, :n], arrays.weights)
    return {
        "implied_correlation": implied,
        "trailing_realized_correlation": past,
        "forward_realized_correlation": future,
        "forward_premium": implied - future,
        "forward_basket_correlation": future_basket,
        "forward_basket_premium": implied - future_basket,
    }


def forward_premium(market: MarketData, horizon: int = 21, window: int = 63) -> pd.DataFrame:
    """Implied correlation on each date against the correlation then realized over the holding period.

    Columns by date (correlations by the equicorrelation formula, realized vols from daily log
    returns, sample std annualized with 252 days):

    - implied_correlation: from the market's implied vols on the date (modelled where the
      market says so: see ``vol_source`` / ``index_vol_origin``);
    - trailing_realized_correlation: realized over the ``window`` days up to the date (what a
      rule can know on the date);
    - forward_realized_correlation: realized over the next ``horizon`` trading days (t, t+h],
      the life of an option bought on the date (21 days ~ 30 calendar days), with the market's
      index; NaN for the last ``horizon`` dates. It uses the future: for measuring, never for rules;
    - forward_premium = implied - forward realized: what a short-correlation position entered on
      the date was paid for the correlation it then bore (before costs, vol and basis effects);
    - forward_basket_correlation / forward_basket_premium: the same with the realized vol of the
      basket sum_i w_i r_i in place of the index's, i.e. without the index-versus-basket basis
      (equal to the above when the index is the basket).
    """
    if not isinstance(market, MarketData):
        raise TypeError(f"market: expected a dispersionkit.MarketData, got {type(market).__name__}")
    columns = forward_premium_arrays(market.arrays, horizon, window)
    return pd.DataFrame(columns, index=market.dates, columns=list(FORWARD_COLUMNS))
