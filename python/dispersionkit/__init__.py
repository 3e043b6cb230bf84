"""dispersionkit: equity dispersion trading on a multithreaded C++ core.

    import dispersionkit as dk
    g = dk.bs_greeks(spot=100.0, strike=[90, 100, 110], tau=0.25, vol=0.2)
"""

from . import reference
from ._core import hardware_threads
from .greeks import PER_BASIS_POINT, PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks, bs_price
from .implied_vol import ImpliedVolResult, IVStatus, implied_vol

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
    "ImpliedVolResult",
    "IVStatus",
    "implied_vol",
]
