"""Pure NumPy/SciPy twins of every _core kernel: the test oracle and the benchmark baseline.

Written the way a strong NumPy user would (vectorized, scipy.special.ndtr, BLAS where it
fits), with the same signatures, conventions and element policies as the public functions.
"""

from .book import hedged_pnl
from .greeks import bs_greeks, bs_price
from .implied_vol import implied_vol
from .paths import simulate_market

__all__ = ["bs_greeks", "bs_price", "hedged_pnl", "implied_vol", "simulate_market"]
