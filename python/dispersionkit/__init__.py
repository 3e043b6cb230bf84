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

from .book import hedged_pnl
from .hedge_policy import HedgePolicy
from .legs import Book, Leg, straddle
from .pnl_result import PnLResult, PnLSteps, PnLSummary

__all__ += ["Book", "HedgePolicy", "Leg", "PnLResult", "PnLSteps", "PnLSummary", "hedged_pnl", "straddle"]
