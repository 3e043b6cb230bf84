"""Correlation swaps: the strike implied by variance swaps, term-sheet realized correlation,
payoff and mark-to-market.

Strike from variance swaps. With index variance strike K_I, component variance strikes K_i
and index weights w, the equicorrelation that makes the basket's variance match the index's,

    rho_var = (K_I - sum_i w_i^2 K_i) / ((sum_i w_i sqrt(K_i))^2 - sum_i w_i^2 K_i),

is the implied-correlation formula on variance-swap vols sqrt(K); from ATM vols it is
:func:`~dispersionkit.implied_correlation` on the ATM vols. It is not the fair strike of a
correlation swap: rho_var weights each pair's correlation by sqrt(K_i K_j), so states where
vols and correlation rise together (a sell-off) count more than in the plain average a
correlation swap pays; sqrt(K_i) is above the fair vol-swap strike (convexity); the swap's
sample correlations over a finite period are biased (about -rho (1 - rho^2) / (2T) for T days);
and correlations subtract each name's mean where variance swaps do not. Desks quote the fair
correlation strike a few points below rho_var; :func:`dispersionkit.correlation_swap_gap`
estimates the gap on simulated paths.

Realized correlation (term sheet): the average of the pairwise Pearson correlations of daily
log returns over the whole period, equal or weighted by w_i w_j:
sum_{i<j} w_i w_j rho_ij / sum_{i<j} w_i w_j. Payoff to the long: notional x (realized - strike).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_float_array, overflow_is_error
from ._seasoned_swap import seasoned_swap_value
from .correlation import CorrelationEstimate, average_correlation, implied_correlation


def _variance_strikes(value, name: str) -> np.ndarray:
    array = as_float_array(value.to_numpy() if isinstance(value, (pd.Series, pd.DataFrame)) else value, name)
    if np.isinf(array).any() or (array < 0).any():
        raise ValueError(f"{name}: variance strikes must be >= 0 and finite (annualized decimals; NaN propagates)")
    return array


def _as_vol(value, name: str):
    array = _variance_strikes(value, name)
    return np.sqrt(value) if isinstance(value, (pd.Series, pd.DataFrame)) else np.sqrt(array)


def correlation_swap_strike(index_variance_strike, component_variance_strikes, weights) -> CorrelationEstimate:
    """Correlation implied by variance-swap strikes (module docstring), per date.

    ``index_variance_strike`` scalar or (T,); ``component_variance_strikes`` (n,) or (T, n);
    ``weights`` (n,) or (T, n) index weights (a :class:`WeightsWarning` when they do not sum
    to 1, as for :func:`~dispersionkit.implied_correlation`). Variances are annualized decimals
    (e.g. :func:`variance_swap_strike` results). Returns a :class:`CorrelationEstimate`: the
    value is not clipped, values outside [-1, 1] are flagged. From ATM vols use
    ``implied_correlation(index_atm_vol, atm_vols, weights)``: the same formula.
    """
    # Validated as variances, then read as vols; pandas inputs keep their labels.
    index_vol = _as_vol(index_variance_strike, "index_variance_strike")
    component_vols = _as_vol(component_variance_strikes, "component_variance_strikes")
    return implied_correlation(index_vol, component_vols, weights)


def swap_realized_correlation(returns, *, weights=None):
    """Term-sheet realized correlation over whole periods (module docstring).

    ``returns``: daily log returns (T, n) for one period (a DataFrame or array), or (P, T, n)
    for P periods (e.g. simulated paths) each averaged on its own. ``weights`` (n,) weights the
    pair (i, j) by w_i w_j (a Series is aligned to a DataFrame's columns); None averages the
    pairs equally. Returns a float for one period, (P,) for several. Every return must be
    finite (a missing close has no term-sheet value here: apply the contract's disruption rule
    first); a name without variance in a period makes that period NaN. The sample correlations
    (two-pass: means removed first) are those of :func:`~dispersionkit.realized_correlation`
    over a window of the whole period, averaged by :func:`~dispersionkit.average_correlation`.
    """
    values = as_float_array(returns.to_numpy() if isinstance(returns, pd.DataFrame) else returns, "returns")
    if values.ndim not in (2, 3):
        raise ValueError(f"returns: expected (T, n) or (P, T, n) daily log returns, got shape {values.shape}")
    single = values.ndim == 2
    periods = values[None] if single else values
    _, T, n = periods.shape
    if T < 2 or n < 2:
        raise ValueError(f"returns: need at least 2 dates and 2 names, got T={T}, n={n}")
    if not np.isfinite(periods).all():
        p, t, i = np.argwhere(~np.isfinite(periods))[0]
        where = f"row {t}, column {i}" if single else f"period {p}, row {t}, column {i}"
        raise ValueError(f"returns: {periods[p, t, i]} at {where}; every return of the period must be finite")
    if isinstance(weights, pd.Series) and isinstance(returns, pd.DataFrame):
        weights = weights.reindex(returns.columns)
        if weights.isna().any():
            raise ValueError("weights: no weight for some return columns")
    if weights is not None:
        weights = as_float_array(weights.to_numpy() if isinstance(weights, pd.Series) else weights, "weights")
        if weights.shape != (n,) or not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(f"weights: expected ({n},) finite weights >= 0")
    # Correlations do not depend on each name's scale: returns so large (or small) that their
    # products would overflow (or underflow) are first scaled by a power of two, which is exact.
    largest = np.abs(periods).max(axis=1, keepdims=True)
    extreme = (largest > 2.0**300) | ((largest < 2.0**-300) & (largest > 0))
    if extreme.any():
        exponent = np.frexp(largest)[1]
        periods = np.where(extreme, np.ldexp(periods, -np.clip(exponent, -1000, 1000)), periods)
    centred = periods - periods.mean(axis=1, keepdims=True)
    covariance = np.matmul(np.swapaxes(centred, 1, 2), centred)
    scale = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        matrices = covariance / (scale[:, :, None] * scale[:, None, :])
    result = np.asarray(average_correlation(matrices, weights))
    return float(result[0]) if single else result


def _correlations(value, name: str) -> np.ndarray:
    array = as_float_array(value, name)
    if (np.abs(array) > 1).any():
        raise ValueError(f"{name}: correlations must lie in [-1, 1]")
    return array


def correlation_swap_payoff(notional, realized_correlation, strike):
    """Correlation swap payoff to the long side: notional x (rho_realized - strike).

    Correlations as decimals (0.35 = 35 points), notional in money per 1.00 of correlation;
    arrays broadcast; NaN propagates. Short correlation (the dispersion side) is the negative.
    """
    notional = as_float_array(notional, "notional")
    realized = _correlations(realized_correlation, "realized_correlation")
    strike = _correlations(strike, "strike")
    if np.isinf(notional).any():
        raise ValueError("notional: must be finite")
    with overflow_is_error("correlation_swap_payoff"):
        payoff = notional * (realized - strike)
    return float(payoff) if payoff.ndim == 0 else payoff


def correlation_swap_value(
    notional, strike, *, realized_correlation, elapsed_days, total_days, implied_correlation, tau, rate=0.0
):
    """Mark-to-market of a seasoned correlation swap to the long, in money.

    notional x exp(-rate x tau) x ((e/N) rho_realized + (1 - e/N) rho_implied - strike), with
    e = ``elapsed_days`` of N = ``total_days`` observed, ``realized_correlation`` the term-sheet
    value so far and ``implied_correlation`` the fair strike for the remaining period.
    Weighting by elapsed time is the usual desk approximation: the correlation of the whole
    period is not exactly the time-weighted mean of its parts' correlations. Broadcasts.
    """
    return seasoned_swap_value(
        notional,
        _correlations(strike, "strike"),
        _correlations(realized_correlation, "realized_correlation"),
        _correlations(implied_correlation, "implied_correlation"),
        elapsed_days,
        total_days,
        tau,
        rate,
        notional_name="notional",
        caller="correlation_swap_value",
    )
