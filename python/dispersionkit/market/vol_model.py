"""An explicit model for implied vols when the market data has none.

It is a modelling assumption, not market data: :class:`MarketData` records it in
``vol_source`` and ``index_vol_origin`` so results and reports can say where vols came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_count, as_real
from ..numeric.realized import realized_vol as _realized_vol


@dataclass(frozen=True)
class ImpliedVolModel:
    """Implied vols built from trailing realized vols and two premia.

    Index implied vol, per date: VIX / 100 where a VIX value is available (VIX is quoted in
    vol points); otherwise the trailing realized vol of the index scaled by the variance
    premium, ``sqrt(variance_premium) * realized``: ``variance_premium`` is the ratio of
    implied to realized *variance* (default 1.2, about 2-3 vol points at typical levels).

    Component implied vols: each name's trailing realized vol times one common factor k per
    date, chosen so that the implied correlation (the equicorrelation formula on the index implied vol
    and the component implied vols) equals the realized correlation (the same formula on
    realized vols and the index realized vol) plus ``correlation_premium`` (default 0.10,
    i.e. 10 correlation points, the usual size of the dispersion premium in the literature).
    In closed form, with u_i = w_i * s_i (realized) and s_R the index realized vol,

        k = s_I,implied / sqrt(s_R^2 + premium * ((sum u_i)^2 - sum u_i^2)).

    Realized vols: sample std of daily log returns over ``window`` trading days x sqrt(252),
    NaN until ``min_periods`` (default ``window``) returns are available. Names with weight 0
    on a date do not enter that date's factor; any other missing input leaves the date NaN.
    """

    window: int = 63
    variance_premium: float = 1.2
    correlation_premium: float = 0.10
    min_periods: int | None = None

    def __post_init__(self):
        as_count(self.window, "window", minimum=2)
        if self.min_periods is not None:
            as_count(self.min_periods, "min_periods", minimum=2)
            if self.min_periods > self.window:
                raise ValueError(f"min_periods: must be <= window ({self.window}), got {self.min_periods}")
        as_real(self.variance_premium, "variance_premium")
        if self.variance_premium <= 0:
            raise ValueError(f"variance_premium: must be > 0 (a ratio of variances), got {self.variance_premium}")
        as_real(self.correlation_premium, "correlation_premium")
        if not -1.0 <= self.correlation_premium <= 1.0:
            raise ValueError(f"correlation_premium: must be in [-1, 1], got {self.correlation_premium}")

    def describe(self) -> str:
        return (
            f"ImpliedVolModel(window={self.window}, variance_premium={self.variance_premium:g}, "
            f"correlation_premium={self.correlation_premium:g})"
        )

    def realized_vol(self, log_returns):
        return _realized_vol(log_returns, self.window, min_periods=self.min_periods)

    def index_vol(self, index_log_returns: pd.Series, vix: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """(index implied vol, origin per date: "vix", "model" or "missing")."""
        modelled = self.realized_vol(index_log_returns) * np.sqrt(self.variance_premium)
        from_vix = pd.Series(np.nan, index=modelled.index) if vix is None else vix / 100.0
        use_vix = from_vix.notna()
        vol = from_vix.where(use_vix, modelled)
        origin = pd.Series(np.where(use_vix, "vix", np.where(vol.notna(), "model", "missing")), index=vol.index)
        return vol.rename("index_vol"), origin.rename("index_vol_origin")

    def component_vols(
        self,
        log_returns: pd.DataFrame,
        index_log_returns: pd.Series,
        index_implied_vol: pd.Series,
        weights: pd.DataFrame,
    ) -> pd.DataFrame:
        """Component implied vols (dates x tickers) scaled to the correlation premium."""
        realized = self.realized_vol(log_returns)
        index_realized = self.realized_vol(index_log_returns).to_numpy()
        w = weights.to_numpy()
        with np.errstate(invalid="ignore"):
            u = np.where(w == 0.0, 0.0, w * realized.to_numpy())  # a zero-weight name does not enter
        own = np.sum(u * u, axis=1)
        cross = np.sum(u, axis=1) ** 2 - own
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = index_implied_vol.to_numpy() / np.sqrt(index_realized**2 + self.correlation_premium * cross)
        return realized * factor[:, None]
