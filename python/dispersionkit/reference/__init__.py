"""Pure NumPy/SciPy twins of every _core kernel: the test oracle and the benchmark baseline.

Written the way a strong NumPy user would (vectorized, scipy.special.ndtr, BLAS where it
fits), with the same signatures, conventions and element policies as the public functions.
"""

from .greeks import bs_greeks, bs_price

__all__ = ["bs_greeks", "bs_price"]
from .correlation import (  # noqa: E402
    average_correlation,
    breakeven_correlation,
    implied_correlation,
    index_variance,
    index_vol,
)
from .realized import realized_correlation, realized_vol  # noqa: E402

__all__ += [
    "average_correlation",
    "breakeven_correlation",
    "implied_correlation",
    "index_variance",
    "index_vol",
    "realized_correlation",
    "realized_vol",
]
