"""Per-date signal series of a MarketData for rules and reports (VIX, correlations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..numeric.correlation import implied_correlation
from ..numeric.realized import realized_vol
from .market_data import MarketData


def signal_series(market: MarketData, window: int = 63, lookback: int = 5) -> pd.DataFrame:
    """Columns by date:

    - vix: the index implied vol in VIX points (market.index_vol x 100: VIX where the market
      has it, else whatever ``market.index_vol_origin`` says, e.g. the vol model);
    - vix_change: vix minus vix ``lookback`` rows earlier;
    - implied_correlation: the equicorrelation formula on the market's implied vols and weights;
    - realized_correlation: the same formula on trailing ``window``-day realized vols of the
      components and of the index ("implied formula on realized vols").
    """
    vix = market.index_vol * 100.0
    weights = market.weights_frame()
    realized = realized_vol(market.log_returns(), window)
    index_realized = realized_vol(market.index_log_returns(), window)
    with np.errstate(invalid="ignore"):
        realized_corr = implied_correlation(index_realized.to_numpy(), realized.to_numpy(), weights.to_numpy()).value
    return pd.DataFrame(
        {
            "vix": vix.to_numpy(),
            "vix_change": (vix - vix.shift(lookback)).to_numpy(),
            "implied_correlation": market.implied_correlation().to_numpy(),
            "realized_correlation": np.asarray(realized_corr),
        },
        index=market.dates,
    )
