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
