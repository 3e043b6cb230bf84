"""An explicit model for implied vols when the market data has none.

It is a modelling assumption, not market data: :class:`MarketData` records it in
``vol_source`` and ``index_vol_origin`` so results and reports can say where vols came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_count, as_real
from ..numeric.correlation import pair_cross
from ..numeric.realized import realized_vol as _realized_vol

FROM_INDEX_VOL = "from_index_vol"
"""``ImpliedVolModel.correlation_premium`` value: no premium is imposed; implied correlation is
whatever the index implied vol (VIX where quoted) implies against the modelled component vols."""


@dataclass(frozen=True)
class ImpliedVolModel:
    """Implied vols built from trailing realized vols; every premium is an explicit parameter.

    **Index implied vol**, per date: VIX / 100 where a VIX value is available (VIX is quoted in
    vol points); when the market's index is not the index the VIX is quoted on (e.g. a basket
    of the components, with ``MarketData(vix_reference=...)``), VIX / 100 scaled by the ratio of
    the two indices' trailing realized vols, so the basket gets the S&P 500's measured ratio of
    implied to realized vol. Otherwise the trailing realized vol of the index scaled by the
    variance premium, ``sqrt(variance_premium) * realized``: ``variance_premium`` is the ratio
    of implied to realized *variance* (default 1.2, about 2-3 vol points at typical levels).

    **Component implied vols** depend on ``correlation_premium``:

    - ``"from_index_vol"`` (default): each name's trailing realized vol times
      ``sqrt(component_variance_premium)`` (default 1: single names carry no variance premium,
      the finding of studies of index and single-stock options). The correlation premium is then
      not assumed but follows from the index vol: implied correlation (the equicorrelation
      formula on the index and component implied vols) minus realized correlation (the same
      formula on realized vols) is *measured* from VIX where VIX exists, and elsewhere equals
      ``(variance_premium / component_variance_premium - 1) * s_R^2 / C`` with s_R the index
      realized vol, C = (sum u_i)^2 - sum u_i^2 and u_i = w_i s_i (realized): a premium that
      moves with realized index variance (time-varying), about 0.2 x (rho + 0.05) for 20
      equal-weight names at the defaults, rho the realized correlation.
    - a number (e.g. 0.05 = 5 correlation points): a constant assumed premium. Each name's
      trailing realized vol is scaled by one common factor k per date chosen so that implied
      correlation = realized correlation + premium. In closed form, with s_R the index realized
      vol, ``k = s_I,implied / sqrt(s_R^2 + premium * C)``; ``component_variance_premium`` is
      unused.

    Where the quantity under the root is not positive beyond rounding (a negative premium
    cancelling the index variance, or nothing realized at all) k is undefined and that date's
    component vols are NaN, never a huge or infinite factor.

    Realized vols: sample std of daily log returns over ``window`` trading days x sqrt(252),
    NaN until ``min_periods`` (default ``window``) returns are available. Names with weight 0
    on a date do not enter that date's factor; any other missing input leaves the date NaN.
    """

    window: int = 63
    variance_premium: float = 1.2
    correlation_premium: float | str = FROM_INDEX_VOL
    component_variance_premium: float = 1.0
    min_periods: int | None = None

    def __post_init__(self):
        as_count(self.window, "window", minimum=2)
        if self.min_periods is not None:
            as_count(self.min_periods, "min_periods", minimum=2)
            if self.min_periods > self.window:
                raise ValueError(f"min_periods: must be <= window ({self.window}), got {self.min_periods}")
        for name in ("variance_premium", "component_variance_premium"):
            if not as_real(getattr(self, name), name) > 0:
                raise ValueError(f"{name}: must be > 0 (a ratio of variances), got {getattr(self, name)}")
        if isinstance(self.correlation_premium, str):
            if self.correlation_premium != FROM_INDEX_VOL:
                raise ValueError(
                    f"correlation_premium: expected {FROM_INDEX_VOL!r} or a number in [-1, 1], "
                    f"got {self.correlation_premium!r}"
                )
        else:
            as_real(self.correlation_premium, "correlation_premium")
            if not -1.0 <= self.correlation_premium <= 1.0:
                raise ValueError(f"correlation_premium: must be in [-1, 1], got {self.correlation_premium}")

    @property
    def assumes_premium(self) -> bool:
        """True when the correlation premium is a constant assumption, False when it follows from the index vol."""
        return not isinstance(self.correlation_premium, str)

    def describe(self) -> str:
        if self.assumes_premium:
            premium = f"correlation_premium={self.correlation_premium:g} (assumed, constant)"
        else:
            premium = (
                f"correlation_premium={FROM_INDEX_VOL} (not assumed: implied by the index vol), "
                f"component_variance_premium={self.component_variance_premium:g}"
            )
        return f"ImpliedVolModel(window={self.window}, variance_premium={self.variance_premium:g}, {premium})"

    def realized_vol(self, log_returns):
        return _realized_vol(log_returns, self.window, min_periods=self.min_periods)

    def index_vol(
        self,
        index_log_returns: pd.Series,
        vix: pd.Series | None = None,
        vix_reference_log_returns: pd.Series | None = None,
    ) -> tuple[pd.Series, pd.Series]:
        """(index implied vol, origin per date: "vix", "vix-scaled", "model" or "missing").

        ``vix_reference_log_returns``: daily log returns of the index the VIX is quoted on, when
        it is not the market's index; VIX is then scaled by realized(index) / realized(reference).
        """
        realized = self.realized_vol(index_log_returns)
        modelled = realized * np.sqrt(self.variance_premium)
        if vix is None:
            from_vix = pd.Series(np.nan, index=modelled.index)
        elif vix_reference_log_returns is None:
            from_vix = vix / 100.0
        else:
            from_vix = vix / 100.0 * realized / self.realized_vol(vix_reference_log_returns)
        use_vix = from_vix.notna()
        vol = from_vix.where(use_vix, modelled)
        vix_label = "vix" if vix_reference_log_returns is None else "vix-scaled"
        origin = pd.Series(np.where(use_vix, vix_label, np.where(vol.notna(), "model", "missing")), index=vol.index)
        return vol.rename("index_vol"), origin.rename("index_vol_origin")

    def component_vols(
        self,
        log_returns: pd.DataFrame,
        index_log_returns: pd.Series,
        index_implied_vol: pd.Series,
        weights: pd.DataFrame,
    ) -> pd.DataFrame:
        """Component implied vols (dates x tickers): realized x sqrt(component_variance_premium),
        or scaled to the assumed constant correlation premium (class docstring)."""
        realized = self.realized_vol(log_returns)
        if not self.assumes_premium:
            return realized * np.sqrt(self.component_variance_premium)
        index_realized = self.realized_vol(index_log_returns).to_numpy()
        w = weights.to_numpy()
        with np.errstate(invalid="ignore"):
            u = np.where(w == 0.0, 0.0, w * realized.to_numpy())  # a zero-weight name does not enter
        cross, _ = pair_cross(u)
        premium_term = float(self.correlation_premium) * cross
        variance = index_realized**2 + premium_term
        with np.errstate(invalid="ignore", divide="ignore"):
            # A variance that cancels to rounding noise (a negative premium offsetting the
            # index variance) has no square root to scale by: NaN, never a huge factor.
            defined = variance > 4.0 * np.finfo(np.float64).eps * (index_realized**2 + np.abs(premium_term))
            factor = np.where(defined, index_implied_vol.to_numpy() / np.sqrt(variance), np.nan)
        return realized * factor[:, None]
