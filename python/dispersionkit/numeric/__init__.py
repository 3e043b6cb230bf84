"""NumPy in, NumPy out over the C++ core: the lowest layer.

Black-Scholes-Merton Greeks and implied vol, index variance and implied / break-even /
realized correlation, correlation matrices, correlated market paths with regimes, and the
delta-hedged P&L of an option book. Imports only ``_core`` and the shared validation and
label helpers; every layer above builds on these functions.
"""

from ._correlation_inputs import WeightsWarning
from .book import Book, Leg, straddle
from .correlation import (
    CorrelationEstimate,
    average_correlation,
    breakeven_correlation,
    implied_correlation,
    index_variance,
    index_vol,
)
from .correlation_matrix import check_correlation, nearest_correlation, random_correlation, stress_correlation
from .greeks import PER_BASIS_POINT, PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks, bs_price
from .hedge_policy import HedgePolicy
from .hedged_pnl import hedged_pnl
from .implied_vol import ImpliedVolResult, IVStatus, implied_vol
from .paths import MarketPaths, simulate_market
from .pnl_result import PnLResult, PnLSteps, PnLSummary
from .realized import TRADING_DAYS, realized_correlation, realized_vol
from .regimes import Regimes

__all__ = [
    "average_correlation",
    "Book",
    "breakeven_correlation",
    "bs_greeks",
    "bs_price",
    "check_correlation",
    "CorrelationEstimate",
    "Greeks",
    "hedged_pnl",
    "HedgePolicy",
    "implied_correlation",
    "implied_vol",
    "ImpliedVolResult",
    "index_variance",
    "index_vol",
    "IVStatus",
    "Leg",
    "MarketPaths",
    "nearest_correlation",
    "PER_BASIS_POINT",
    "PER_CALENDAR_DAY",
    "PER_VOL_POINT",
    "PnLResult",
    "PnLSteps",
    "PnLSummary",
    "random_correlation",
    "realized_correlation",
    "realized_vol",
    "Regimes",
    "simulate_market",
    "straddle",
    "stress_correlation",
    "TRADING_DAYS",
    "WeightsWarning",
]
