"""Variance swaps: fair strike by static replication, realized variance, payoff, notionals, mark.

Fair strike (C++ core, :func:`variance_swap_strike`). For a forward F and expiry T (years,
ACT/365) the fair variance strike is (2/T) E[-ln(S_T / F)], which a static portfolio of
out-of-the-money options replicates: (2/T) integral of OTM(K) / K^2 dK over all strikes, with
OTM the undiscounted put below F and call above (Demeterfi, Derman, Kamal & Zou, 1999). A strip
of n listed strikes replaces the log payoff by its piecewise-linear interpolant through the
strikes, continued past each end by one more spacing (x_n + (x_n - x_{n-1}) above,
max(x_1 - (x_2 - x_1), x_1 / 2) below, as a strip of evenly spaced strikes would continue).
The put/call boundary S* is the largest strike <= F (the first strike when all are above F):

    strike = sum_i w_i OTM_i + (2/T) (ln(F/S*) - (F/S* - 1)),

w_i the change of the interpolant's slope at strike i (split into a call and a put at S*),
OTM_i the undiscounted Black price at the strike's own vol. The result equals QuantLib's
``ReplicatingVarianceSwapEngine`` given the same strikes, S* and ``dk`` = the strip's spacing.

Error estimates (signed; strike minus the exact value of the log contract):

- ``discretisation_error`` >= 0: what the interpolant overpays inside [x_1, x_n], the expected
  gap between it and the log payoff, interval by interval under a lognormal law with the
  interval's mean vol;
- ``truncation_error``: the same gap beyond the strip's ends, where the strip holds no options,
  under lognormal laws at the end vols held flat (usually < 0: the strip misses the wings).
  A real put skew is steeper than flat, so on the put side the true gap is usually larger.

Under one flat vol both estimates are exact: strike - truncation_error - discretisation_error
= vol^2 to rounding (``corrected``). The rate discounts the option strip and the strike is
undiscounted back: given the forward and implied vols it cancels and does not change the strike.

Realized variance and payoffs (term-sheet conventions): realized variance = 252 / N x sum of
squared daily log returns, no mean subtracted, N the number of returns (or the expected
number of observations fixed at trade date). Vega notional V (money per vol point) and
variance notional N_var (money per variance point, i.e. per vol point squared) convert as
N_var = V / (2 x strike in vol points). The long receives N_var x (realized - strike) in
variance points (1e4 x the decimal variances), with realized capped at (cap x vol strike)^2
when a cap is given (2.5 is usual).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _core
from .._validation import as_count, as_float_array, as_real, overflow_is_error, resolve_threads
from ._seasoned_swap import seasoned_swap_value
from .realized import TRADING_DAYS

VARIANCE_POINTS = 1e4
"""Variance points (vol points squared) per unit of decimal variance: 0.04 = 400 points."""


@dataclass(frozen=True)
class VarianceSwapStrike:
    """Fair variance strike of option strips, with its error estimates (module docstring).

    strike: fair variance (sigma^2, annualized decimals) replicated by the strip;
    truncation_error, discretisation_error: estimated strike minus the exact value due to the
    strikes beyond the strip and the spacing inside it. Floats for one strip, arrays shaped
    like the strips' leading axes otherwise. ``vol`` is the strike in vol terms (sqrt);
    ``corrected`` the strike with both estimated errors removed (exact under a flat vol).
    """

    strike: float | np.ndarray
    truncation_error: float | np.ndarray
    discretisation_error: float | np.ndarray

    @property
    def vol(self):
        """sqrt(strike): the variance strike quoted as a vol (decimals)."""
        return np.sqrt(self.strike)

    @property
    def corrected(self):
        """strike - truncation_error - discretisation_error."""
        return self.strike - self.truncation_error - self.discretisation_error

    @property
    def error_bound(self):
        """|truncation_error| + |discretisation_error|."""
        return np.abs(self.truncation_error) + np.abs(self.discretisation_error)

    def to_frame(self, index=None) -> pd.DataFrame:
        """One row per strip (one or zero leading axes): strike, vol, both errors, corrected."""
        strike = np.atleast_1d(self.strike)
        if strike.ndim != 1:
            raise ValueError(f"to_frame: needs at most one leading axis, the strikes have shape {strike.shape}")
        columns = {
            "strike": strike,
            "vol": np.sqrt(strike),
            "truncation_error": np.atleast_1d(self.truncation_error),
            "discretisation_error": np.atleast_1d(self.discretisation_error),
            "corrected": np.atleast_1d(self.corrected),
        }
        return pd.DataFrame(columns, index=index)

    def __repr__(self) -> str:
        if np.ndim(self.strike) == 0:
            return (
                f"VarianceSwapStrike(strike={float(self.strike):.6g} (vol {math.sqrt(max(self.strike, 0.0)):.2%}), "
                f"truncation_error={float(self.truncation_error):+.2e}, "
                f"discretisation_error={float(self.discretisation_error):+.2e})"
            )
        strike = np.asarray(self.strike)
        defined = ~np.isnan(strike)
        if not defined.any():
            return f"VarianceSwapStrike(shape={strike.shape}, no defined strike)"
        bound = np.asarray(self.error_bound)[defined]
        return (
            f"VarianceSwapStrike(shape={strike.shape}, strike in [{strike[defined].min():.4g}, "
            f"{strike[defined].max():.4g}], largest error bound {bound.max():.2e}"
            + (f", {int((~defined).sum())} NaN)" if not defined.all() else ")")
        )


def _rows(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` broadcast to ``shape`` and viewed as (rows, n) with contiguous rows (copied only if needed)."""
    view = np.broadcast_to(array, shape).reshape(-1, shape[-1])
    if view.strides[1] != view.itemsize or view.strides[0] % view.itemsize:
        view = np.ascontiguousarray(view)
    return view


def _per_row(array: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    view = np.broadcast_to(array, lead).reshape(-1)
    if view.strides[0] % view.itemsize:
        view = np.ascontiguousarray(view)
    return view


def _positive_or_nan(array: np.ndarray, name: str, what: str) -> None:
    bad = np.isinf(array) | (array <= 0)
    if bad.any():
        raise ValueError(f"{name}: {what} must be > 0 and finite (NaN marks a missing value), got {array[bad].flat[0]}")


def prepare_strips(strikes, vols, forward, tau, rate):
    """Validated inputs: (strikes (rows, n), vols (rows, n), forward (rows,), tau (rows,), leading shape)."""
    strikes = as_float_array(strikes, "strikes")
    vols = as_float_array(vols, "vols")
    n = strikes.shape[-1] if strikes.ndim else 0
    if n < 2:
        raise ValueError(f"strikes: a strip needs at least 2 strikes on the last axis, got shape {strikes.shape}")
    if vols.ndim == 0:  # one flat vol for every strike
        vols = vols[None]
    if vols.shape[-1] not in (1, n):
        raise ValueError(f"vols: {vols.shape[-1]} vols on the last axis for {n} strikes")
    if not np.isfinite(strikes).all() or (strikes <= 0).any():
        raise ValueError("strikes: must be finite and > 0")
    if not (np.diff(strikes, axis=-1) > 0).all():
        raise ValueError("strikes: must increase strictly along the last axis (sort each strip, drop duplicates)")
    _positive_or_nan(vols, "vols", "implied vols (decimals, 0.20 = 20%)")
    forward = as_float_array(forward, "forward")
    tau = as_float_array(tau, "tau")
    rate = as_float_array(rate, "rate")
    _positive_or_nan(forward, "forward", "forwards")
    _positive_or_nan(tau, "tau", "times to expiry (years)")
    if not np.isfinite(rate).all():
        raise ValueError("rate: must be finite")
    try:
        lead = np.broadcast_shapes(strikes.shape[:-1], vols.shape[:-1], forward.shape, tau.shape, rate.shape)
    except ValueError:
        shapes = f"strikes{strikes.shape}, vols{vols.shape}, forward{forward.shape}, tau{tau.shape}, rate{rate.shape}"
        raise ValueError(f"inputs do not broadcast over the leading axes: {shapes}") from None
    shape = (*lead, n)
    return _rows(strikes, shape), _rows(vols, shape), _per_row(forward, lead), _per_row(tau, lead), lead


def wrap_strike(strike: np.ndarray, truncation: np.ndarray, discretisation: np.ndarray, lead) -> VarianceSwapStrike:
    if lead == ():
        return VarianceSwapStrike(float(strike[0]), float(truncation[0]), float(discretisation[0]))
    return VarianceSwapStrike(strike.reshape(lead), truncation.reshape(lead), discretisation.reshape(lead))


def variance_swap_strike(strikes, vols, forward, tau, rate=0.0, *, threads=None) -> VarianceSwapStrike:
    """Fair variance-swap strike (sigma^2, annualized) by static replication from option strips.

    Parameters
    ----------
    strikes : array (..., n), n >= 2, finite, > 0 and strictly increasing along the last axis.
        A strip shared by all leading positions may be given once as (n,).
    vols : array (..., n), Black implied vols (decimals) at those strikes, > 0 (a scalar or a
        last axis of 1 is one flat vol per strip); NaN marks a missing quote and makes that
        strip's results NaN.
    forward : array (...), forward price to expiry (> 0; NaN propagates).
    tau : array (...), years to expiry, ACT/365 (> 0; NaN propagates).
    rate : array (...), continuous rate; it discounts the strip and is undone, so it does not
        change the strike (accepted so callers can pass market data unchanged; validated).
    threads : None = all cores; results are identical for any thread count.

    Leading axes broadcast (many underlyings and dates in one call). Returns a
    :class:`VarianceSwapStrike` (floats for one strip). Method, the put/call boundary S*, the end
    rule and the two error estimates are in the module docstring and docs/methodology.md.
    """
    nthreads = resolve_threads(threads)
    k, v, f, t, lead = prepare_strips(strikes, vols, forward, tau, rate)
    rows = k.shape[0]
    strike, truncation, discretisation = np.empty(rows), np.empty(rows), np.empty(rows)
    _core.variance_swap_strike(
        strikes=k,
        vols=v,
        forward=f,
        tau=t,
        strike=strike,
        truncation_error=truncation,
        discretisation_error=discretisation,
        threads=nthreads,
    )
    return wrap_strike(strike, truncation, discretisation, lead)


def replication_strikes(forward, tau, vol, *, count: int = 50, width: float = 5.0) -> np.ndarray:
    """A strike strip for replication: ``count`` strikes evenly spaced in ln K over
    F exp(+-width x vol x sqrt(tau)) (``width`` standard deviations of ln S_T each side).

    ``forward``, ``tau``, ``vol`` broadcast; returns (..., count). Under a flat vol the defaults
    leave a truncation error of about 2e-8 and a discretisation error of about 0.7% of the
    variance (spacing^2 / 6 with the spacing in standard deviations); both are estimated in
    :class:`VarianceSwapStrike`. Query a vol surface at these strikes to price a strip; take
    more strikes when they cost nothing (400 strikes: 1.5e-4).
    """
    count = as_count(count, "count", 2)
    width = as_real(width, "width")
    if width <= 0:
        raise ValueError(f"width: must be > 0 standard deviations, got {width}")
    forward, tau, vol = (as_float_array(x, name) for x, name in ((forward, "forward"), (tau, "tau"), (vol, "vol")))
    for array, name in ((forward, "forward"), (tau, "tau"), (vol, "vol")):
        if not np.isfinite(array).all() or (array <= 0).any():
            raise ValueError(f"{name}: must be finite and > 0")
    with overflow_is_error("forward, tau, vol, width: the strike grid"):
        spread = width * vol * np.sqrt(tau)
        grid = np.linspace(-1.0, 1.0, count)
        strikes = np.asarray(forward)[..., None] * np.exp(np.asarray(spread)[..., None] * grid)
    if not (strikes > 0).all():  # exp underflowed: the lowest strikes are 0, not on the grid
        widest = float(np.max(spread))
        raise ValueError(f"forward, tau, vol, width: the strike grid spans more than the float range (e^{widest:.3g})")
    return strikes


def realized_variance(returns, *, days=None, annualization=TRADING_DAYS, axis: int = 0):
    """Term-sheet realized variance: annualization / N x sum of squared daily log returns.

    No mean is subtracted. ``returns`` are daily log returns along ``axis`` (a Series gives a
    float, a DataFrame a Series by column). ``days``: N, the number of observations the term
    sheet fixes at trade date (then a seasoned swap's partial sum is divided by the full N);
    default the number of returns. NaN (a missing close) propagates: term-sheet disruption
    rules are the caller's to apply. Annualized decimals (0.04 = 20% vol squared).
    """
    labels = returns.columns if isinstance(returns, pd.DataFrame) else None
    values = as_float_array(
        returns.to_numpy() if isinstance(returns, (pd.Series, pd.DataFrame)) else returns, "returns"
    )
    if values.ndim == 0:
        raise ValueError("returns: expected at least one axis of daily returns")
    if np.isinf(values).any():
        raise ValueError("returns: contains +-inf; mark a missing close with NaN")
    count = values.shape[axis]
    if count == 0:
        raise ValueError(f"returns: no returns along axis {axis} (shape {values.shape})")
    if days is None:
        days = count
    elif isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise ValueError(f"days: the number of observations, an int >= 1, got {days!r}")
    elif days < count:
        raise ValueError(f"days: {days} observations fixed at trade date but {count} returns given")
    annualization = as_real(annualization, "annualization")
    if annualization <= 0:
        raise ValueError(f"annualization: must be > 0, got {annualization}")
    with overflow_is_error("returns"):
        result = annualization / days * np.sum(values * values, axis=axis)
    if labels is not None and axis == 0:
        return pd.Series(result, index=labels, name="realized_variance")
    return float(result) if np.ndim(result) == 0 else result


def _vol_strike(vol_strike) -> np.ndarray:
    strike = as_float_array(vol_strike, "vol_strike")
    if not np.isfinite(strike).all() or (strike <= 0).any():
        raise ValueError("vol_strike: must be finite and > 0 (decimals, 0.20 = 20 vol points)")
    return strike


def _scalar_or_array(value: np.ndarray):
    return float(value) if np.ndim(value) == 0 else value


def variance_notional(vega_notional, vol_strike):
    """Variance notional (money per variance point) = vega notional / (2 x vol strike in points).

    ``vega_notional``: money per vol point; ``vol_strike`` decimals (0.20). E.g. 100,000 vega
    at a 20-point strike is 2,500 per variance point. Broadcasts.
    """
    vega = as_float_array(vega_notional, "vega_notional")
    if not np.isfinite(vega).all():
        raise ValueError("vega_notional: must be finite")
    strike = _vol_strike(vol_strike)
    with overflow_is_error("vega_notional, vol_strike"):
        return _scalar_or_array(vega / (2.0 * 100.0 * strike))


def vega_notional(variance_notional, vol_strike):
    """Vega notional (money per vol point) = 2 x vol strike in points x variance notional."""
    variance = as_float_array(variance_notional, "variance_notional")
    if not np.isfinite(variance).all():
        raise ValueError("variance_notional: must be finite")
    strike = _vol_strike(vol_strike)
    with overflow_is_error("variance_notional, vol_strike"):
        return _scalar_or_array(variance * 2.0 * 100.0 * strike)


def _variances(value, name: str) -> np.ndarray:
    array = as_float_array(value, name)
    if np.isinf(array).any() or (array < 0).any():
        raise ValueError(f"{name}: variances must be >= 0 and finite (annualized decimals; NaN propagates)")
    return array


def variance_swap_payoff(realized_variance, variance_strike, variance_notional, *, cap=None):
    """Payoff to the long (who receives realized variance) at maturity, in money.

    variance_notional x 1e4 x (min(realized, cap^2 x strike) - strike): variances annualized
    decimals (realized from :func:`realized_variance`), notional per variance point, ``cap`` a
    multiple of the vol strike (2.5 caps realized variance at 6.25 x the strike; None: uncapped).
    The short receives the negative. Broadcasts; NaN propagates.
    """
    realized = _variances(realized_variance, "realized_variance")
    strike = _variances(variance_strike, "variance_strike")
    notional = as_float_array(variance_notional, "variance_notional")
    if not np.isfinite(notional).all():
        raise ValueError("variance_notional: must be finite")
    if cap is not None:
        cap = as_real(cap, "cap")
        if cap < 1.0:
            raise ValueError(f"cap: a multiple of the vol strike >= 1 (2.5 is usual), got {cap}")
        # The cap level cap^2 x strike; where it overflows it caps nothing (realized is finite),
        # and a zero strike caps at zero whatever the multiple (inf x 0 is not computed).
        strike_array = np.asarray(strike, dtype=np.float64)
        level = np.zeros(strike_array.shape)
        with np.errstate(over="ignore"):
            np.multiply(cap * cap, strike_array, out=level, where=strike_array > 0)
        realized = np.minimum(realized, level)
    with overflow_is_error("variance_swap_payoff"):
        return _scalar_or_array(notional * VARIANCE_POINTS * (realized - strike))


def variance_swap_value(
    variance_strike,
    variance_notional,
    *,
    realized_variance,
    elapsed_days,
    total_days,
    implied_variance,
    tau,
    rate=0.0,
):
    """Mark-to-market of a seasoned variance swap to the long, in money.

    The final realized variance is (e x realized so far + (N - e) x future) / N with e =
    ``elapsed_days`` returns observed of ``total_days`` = N; the future part is worth today's
    fair strike for the remaining period, ``implied_variance`` (e.g. :func:`variance_swap_strike`
    on a strip expiring with the swap). Value = notional x 1e4 x exp(-rate x tau) x
    ((e/N) realized + (1 - e/N) implied - strike), ``tau`` the years left. ``realized_variance``
    is annualized over the elapsed days (:func:`realized_variance` of the returns so far with
    the default ``days``). Uncapped: a cap takes from the long the value of a call on realized
    variance, which this does not price. Broadcasts.
    """
    return seasoned_swap_value(
        variance_notional,
        _variances(variance_strike, "variance_strike"),
        _variances(realized_variance, "realized_variance"),
        _variances(implied_variance, "implied_variance"),
        elapsed_days,
        total_days,
        tau,
        rate,
        notional_name="variance_notional",
        caller="variance_swap_value",
        scale=VARIANCE_POINTS,
    )
