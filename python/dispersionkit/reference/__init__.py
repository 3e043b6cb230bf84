"""Pure NumPy/SciPy twins of every _core kernel: the test oracle and the benchmark baseline.

Written the way a strong NumPy user would (vectorized, scipy.special.ndtr, BLAS where it
fits), with the same signatures, conventions and element policies as the public functions.
"""

from . import surface
from .book import hedged_pnl
from .book_risk import book_risk
from .correlation import (
    average_correlation,
    breakeven_correlation,
    implied_correlation,
    index_variance,
    index_vol,
)
from .greeks import bs_greeks, bs_price
from .implied_vol import implied_vol
from .paths import simulate_market
from .realized import realized_correlation, realized_vol
from .stress import stress_grid
from .variance_swap import variance_swap_strike

__all__ = [
    "average_correlation",
    "book_risk",
    "breakeven_correlation",
    "bs_greeks",
    "bs_price",
    "hedged_pnl",
    "implied_correlation",
    "implied_vol",
    "index_variance",
    "index_vol",
    "realized_correlation",
    "realized_vol",
    "simulate_market",
    "stress_grid",
    "surface",
    "variance_swap_strike",
]
