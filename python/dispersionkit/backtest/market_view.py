"""What the market looked like on each date of a backtest: the rules' signals and the vol levels.

Kept on :class:`BacktestResult` (``signals``) so a saved result can be plotted and reported
without the market data it ran on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..market.market_data import MarketArrays
from ..market.signal_series import SIGNAL_COLUMNS, log_returns
from ..numeric.realized import rolling_vol_values

VIEW_COLUMNS = (
    *SIGNAL_COLUMNS,
    "index_vol",
    "component_vol",
    "index_realized_vol",
    "component_realized_vol",
)


def market_view(arrays: MarketArrays, signals: dict, first: int, last: int, window: int) -> pd.DataFrame:
    """Rows ``first..last`` of the market: ``signals`` (vix, vix_change, implied and realized
    correlation, over the whole history as :func:`~dispersionkit.market.signal_series.signal_arrays`
    gives them) plus

    - index_vol: the index implied vol (decimal; as the market or its vol model gives it);
    - component_vol: the weight-averaged component implied vol, sum_i w_i sigma_i over the
      names with a weight and a vol that day (weights renormalized over them);
    - index_realized_vol / component_realized_vol: the same from trailing ``window``-day
      realized vols of daily log returns (annualized with 252 days).

    Without diversification the index vol would equal component_vol; the gap is correlation < 1.
    """
    rows = slice(first, last + 1)
    both = np.column_stack([log_returns(arrays.spots), log_returns(arrays.index)])
    realized = rolling_vol_values(np.ascontiguousarray(both), window, window)[rows]
    weights = arrays.weights[rows]
    view = {name: signals[name][rows] for name in SIGNAL_COLUMNS}
    view["index_vol"] = arrays.index_vol[rows]
    view["component_vol"] = _weighted_mean(arrays.vols[rows], weights)
    view["index_realized_vol"] = realized[:, -1]
    view["component_realized_vol"] = _weighted_mean(realized[:, :-1], weights)
    return pd.DataFrame(view, index=pd.DatetimeIndex(arrays.dates[rows], name="date"), columns=list(VIEW_COLUMNS))


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise sum w x / sum w over the entries where both are present and w > 0; NaN if none."""
    use = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    w = np.where(use, weights, 0.0)
    total = w.sum(axis=1)
    weighted = (np.where(use, values, 0.0) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, np.nan)
