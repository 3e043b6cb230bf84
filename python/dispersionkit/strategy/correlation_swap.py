"""Correlation swap payoff: the correlation trade settled in cash instead of through options."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array


def correlation_swap_payoff(notional, realized_correlation, strike):
    """Correlation swap payoff to the long side: notional x (rho_realized - strike).

    Correlations as decimals (0.35 = 35 points), notional in money per 1.00 of correlation;
    arrays broadcast; NaN propagates. Short correlation (the dispersion side) is the negative.
    """
    notional = as_float_array(notional, "notional")
    realized = as_float_array(realized_correlation, "realized_correlation")
    strike = as_float_array(strike, "strike")
    for name, value in (("realized_correlation", realized), ("strike", strike)):
        if (np.abs(value) > 1).any():
            raise ValueError(f"{name}: correlations must lie in [-1, 1]")
    if np.isinf(notional).any():
        raise ValueError("notional: must be finite")
    payoff = notional * (realized - strike)
    return float(payoff) if payoff.ndim == 0 else payoff
