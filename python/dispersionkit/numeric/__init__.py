"""NumPy in, NumPy out over the C++ core: the lowest layer.

Black-Scholes-Merton Greeks and implied vol, index variance and implied / break-even /
realized correlation, correlation matrices, correlated market paths with regimes, the
delta-hedged P&L of an option book, variance and correlation swaps. Imports only ``_core``
and the shared validation and label helpers; every layer above builds on these functions.
"""

from ._correlation_inputs import WeightsWarning
from ._hedged_pnl_inputs import CalendarGapWarning
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
from .correlation_swap import (
    correlation_swap_payoff,
    correlation_swap_strike,
    correlation_swap_value,
    swap_realized_correlation,
)
from .greeks import GREEK_NAMES, PER_BASIS_POINT, PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks, bs_price
from .hedge_policy import HedgePolicy
from .hedged_pnl import hedged_pnl
from .implied_vol import ImpliedVolResult, IVStatus, implied_vol
from .paths import MarketPaths, simulate_market
from .pnl_result import PnLResult, PnLSteps, PnLSummary
from .realized import TRADING_DAYS, realized_correlation, realized_vol
from .regimes import Regimes
from .variance_swap import (
    VarianceSwapStrike,
    realized_variance,
    replication_strikes,
    variance_notional,
    variance_swap_payoff,
    variance_swap_strike,
    variance_swap_value,
    vega_notional,
)

__all__ = [
    "GREEK_NAMES",
    "PER_BASIS_POINT",
    "PER_CALENDAR_DAY",
    "PER_VOL_POINT",
    "TRADING_DAYS",
    "Book",
    "CalendarGapWarning",
    "CorrelationEstimate",
    "Greeks",
    "HedgePolicy",
    "IVStatus",
    "ImpliedVolResult",
    "Leg",
    "MarketPaths",
    "PnLResult",
    "PnLSteps",
    "PnLSummary",
    "Regimes",
    "VarianceSwapStrike",
    "WeightsWarning",
    "average_correlation",
    "breakeven_correlation",
    "bs_greeks",
    "bs_price",
    "check_correlation",
    "correlation_swap_payoff",
    "correlation_swap_strike",
    "correlation_swap_value",
    "hedged_pnl",
    "implied_correlation",
    "implied_vol",
    "index_variance",
    "index_vol",
    "nearest_correlation",
    "random_correlation",
    "realized_correlation",
    "realized_variance",
    "realized_vol",
    "replication_strikes",
    "simulate_market",
    "straddle",
    "stress_correlation",
    "swap_realized_correlation",
    "variance_notional",
    "variance_swap_payoff",
    "variance_swap_strike",
    "variance_swap_value",
    "vega_notional",
]
