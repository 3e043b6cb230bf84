"""dispersionkit: equity dispersion trading on a multithreaded C++ core.

    import dispersionkit as dk
    g = dk.bs_greeks(spot=100.0, strike=[90, 100, 110], tau=0.25, vol=0.2)
"""

from . import reference
from ._core import hardware_threads
from .greeks import PER_BASIS_POINT, PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks, bs_price

__version__ = "0.1.0"

__all__ = [
    "Greeks",
    "PER_BASIS_POINT",
    "PER_CALENDAR_DAY",
    "PER_VOL_POINT",
    "bs_greeks",
    "bs_price",
    "hardware_threads",
    "reference",
]
from ._corr_inputs import WeightsWarning  # noqa: E402
from .correlation import (  # noqa: E402
    CorrelationEstimate,
    average_correlation,
    breakeven_correlation,
    implied_correlation,
    index_variance,
    index_vol,
)
from .correlation_matrix import check_correlation, nearest_correlation, stress_correlation  # noqa: E402
from .realized import TRADING_DAYS, realized_correlation, realized_vol  # noqa: E402

__all__ += [
    "CorrelationEstimate",
    "TRADING_DAYS",
    "WeightsWarning",
    "average_correlation",
    "breakeven_correlation",
    "check_correlation",
    "implied_correlation",
    "index_variance",
    "index_vol",
    "nearest_correlation",
    "realized_correlation",
    "realized_vol",
    "stress_correlation",
]
