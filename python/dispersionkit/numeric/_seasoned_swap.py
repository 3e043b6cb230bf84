"""The mark-to-market shared by seasoned variance and correlation swaps.

Both pay notional x (final - strike), where the final fixing averages the e observations made
so far with the N - e still to come; the future part is worth today's fair strike for the
rest of the period, so the value today is

    notional x scale x exp(-rate x tau) x ((e/N) realized + (1 - e/N) implied - strike).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, overflow_is_error


def seasoned_swap_value(
    notional,
    strike,
    realized,
    implied,
    elapsed_days,
    total_days,
    tau,
    rate,
    *,
    notional_name: str,
    caller: str,
    scale=1.0,
):
    """The value above, broadcast, float for 0-d; ``strike``, ``realized`` and ``implied`` are
    already validated arrays; the other arguments are checked here by name."""
    notional = as_float_array(notional, notional_name)
    elapsed = as_float_array(elapsed_days, "elapsed_days")
    total = as_float_array(total_days, "total_days")
    tau = as_float_array(tau, "tau")
    rate = as_float_array(rate, "rate")
    if not np.isfinite(notional).all() or not np.isfinite(rate).all():
        raise ValueError(f"{notional_name}, rate: must be finite")
    if not (np.isfinite(total).all() and (total >= 1).all()):
        raise ValueError("total_days: the number of observations, >= 1")
    if not (np.isfinite(elapsed).all() and (elapsed >= 0).all() and (elapsed <= total).all()):
        raise ValueError("elapsed_days: must lie in [0, total_days]")
    if not (np.isfinite(tau).all() and (tau >= 0).all()):
        raise ValueError("tau: years to maturity, finite and >= 0")
    share = elapsed / total
    with overflow_is_error(caller):
        # With nothing observed yet no realized value is needed (NaN there is not missing data).
        expected = np.where(share == 0.0, 0.0, share * realized) + (1.0 - share) * implied
        value = notional * scale * np.exp(-rate * tau) * (expected - strike)
    return float(value) if value.ndim == 0 else value
