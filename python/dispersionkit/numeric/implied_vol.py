"""Batched Black-Scholes-Merton implied volatility on the C++ core.

Conventions: price is today's premium; tau in years (ACT/365); rate and div_yield continuous,
as decimals; the result is an annualized vol as a decimal (0.20 = 20%).

Method (Jaeckel, "Let's Be Rational"): with F = S e^{(r-q) tau}, x = ln(F/K) and
s = vol sqrt(tau), the normalized price beta = price e^{r tau} / sqrt(F K) is a function of
(x, s) only. An in-the-money price is reduced to the out-of-the-money one by subtracting the
normalized intrinsic value 2 sinh(|x|/2) (put-call parity). The out-of-the-money normalized
price is evaluated to full relative precision everywhere (scaled complementary error function
and a cancellation-free integral form where the textbook formula cancels), and inverted with
Householder(3) steps on the "Let's Be Rational" objective transforms (1/ln b below the
inflection point s = sqrt(2|x|), ln of the distance to the upper bound above it), safeguarded
by a bracket. Most options need 2 price evaluations after the initial guess, the rest 3-4;
the loop stops once a step is below 1e-6 relative (order-4 convergence leaves the error far
below rounding).

When a price carries information: its normalized time value tv (beta minus normalized
intrinsic) satisfies tv > 16 eps beta (the time value is more than rounding noise of the
price; eps = 2.2e-16), tv >= 2.2e-308 / eps (about 1e-292, so the normalized price and its
derivatives stay in the normal double range), and tv is below the upper bound e^{-|x|/2} by
more than 16 eps of it (the price is distinguishable from S e^{-q tau} or K e^{-r tau}).
There the returned vol reprices to ~1e-14 relative and differs from the true vol by at most
~1e-12 times the condition number cond = price / (vol * vega) (the relative change of vol per relative change of price).

At intrinsic within rounding: with the discounted intrinsic value
I = max(+-(S e^{-q tau} - K e^{-r tau}), 0) (+ call, - put), a price is at intrinsic when

    |price - I| <= eps * (8 max(price, I) + (2 + |ln(S/K)| + |r tau| + |q tau|) (S e^{-q tau} + K e^{-r tau}))

(eps = 2**-52): the price's own rounding plus the rounding of an intrinsic value computed from
the inputs in double precision, here or by the caller. The window applies to options in the
money or out of it by no more than the window; further out of the money only a zero price is
at intrinsic. Details in docs/methodology.md.

Status codes (:class:`IVStatus`), one per element; no element raises. The first that applies:

- ``INVALID_INPUT`` (5): NaN/inf in any input, spot <= 0, strike <= 0 or tau <= 0, or discount
  factors / normalized price that overflow or underflow (e.g. rate * tau ~ 1e3): NaN.
- ``BELOW_INTRINSIC`` (2): a negative price: NaN.
- ``AT_INTRINSIC`` (1): price within rounding of the intrinsic value (above), e.g. a zero OTM
  price or bs_price(..., vol=0): vol 0 (never a tiny positive vol).
- ``ABOVE_MAX`` (3): price >= S e^{-q tau} for a call, >= K e^{-r tau} for a put: NaN.
- ``BELOW_INTRINSIC`` (2): price below the intrinsic value by more than rounding: NaN.
- ``NO_INFORMATION`` (4): time value above the rounding window but <= 16 eps beta, time value
  below ~1e-292, or price within 16 eps of the upper bound: NaN.
- ``OK`` (0): solved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np

from .. import _core
from .._labels import labels_of, relabel
from .._validation import as_call_flags, as_float_array, broadcast, check_output, resolve_threads


class IVStatus(enum.IntEnum):
    """Per-element outcome of :func:`implied_vol` (int8 codes; see the module docstring).

    The codes are the ones the core writes (``_core.IV_STATUS``, checked at import).
    """

    OK = 0
    AT_INTRINSIC = 1
    BELOW_INTRINSIC = 2
    ABOVE_MAX = 3
    NO_INFORMATION = 4
    INVALID_INPUT = 5


if {status.name: status.value for status in IVStatus} != _core.IV_STATUS:
    raise ImportError(
        f"dispersionkit.IVStatus {[(s.name, s.value) for s in IVStatus]} differs from the compiled core's "
        f"status codes {sorted(_core.IV_STATUS.items(), key=lambda item: item[1])}: rebuild the extension"
    )


@dataclass(frozen=True)
class ImpliedVolResult:
    """Implied vols (float64, NaN where not solved) and their :class:`IVStatus` codes (int8)."""

    vol: np.ndarray
    status: np.ndarray


def prepare_inputs(price, spot, strike, tau, rate, div_yield, is_call) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    """The broadcast shape and the validated float64 inputs by name (stride-0 views, no copies)."""
    named = {
        "price": as_float_array(price, "price"),
        "spot": as_float_array(spot, "spot"),
        "strike": as_float_array(strike, "strike"),
        "tau": as_float_array(tau, "tau"),
        "rate": as_float_array(rate, "rate"),
        "div_yield": as_float_array(div_yield, "div_yield"),
        "is_call": as_call_flags(is_call),
    }
    shape, views = broadcast(named)
    return shape, dict(zip(named, views))


@overload
def implied_vol(
    price: Any,
    spot: Any,
    strike: Any,
    tau: Any,
    rate: Any = ...,
    div_yield: Any = ...,
    is_call: Any = ...,
    *,
    threads: int | None = ...,
    out: np.ndarray | None = ...,
    return_status: Literal[False] = ...,
) -> Any: ...
@overload
def implied_vol(
    price: Any,
    spot: Any,
    strike: Any,
    tau: Any,
    rate: Any = ...,
    div_yield: Any = ...,
    is_call: Any = ...,
    *,
    threads: int | None = ...,
    out: np.ndarray | None = ...,
    return_status: Literal[True],
) -> ImpliedVolResult: ...
def implied_vol(
    price, spot, strike, tau, rate=0.0, div_yield=0.0, is_call=True, *, threads=None, out=None, return_status=False
):
    """Black-Scholes-Merton implied volatility for a batch of European option prices.

    Inputs broadcast like a NumPy ufunc (scalars are never materialized); ``is_call`` takes
    bools, 0/1 or 'call'/'put'. ``threads=None`` uses every core, ``threads=1`` the calling
    thread only; results are identical for any thread count. ``out`` is an optional
    preallocated float64 array of the broadcast shape that receives the vols.

    Returns the vols (float64, annualized decimal; 0-d for all-scalar input), or with
    ``return_status=True`` an :class:`ImpliedVolResult` with an int8 :class:`IVStatus` array.
    Prices outside the no-arbitrage bounds, invalid inputs and prices without information
    give NaN with a status instead of raising; accuracy and status rules are in the module
    docstring. Ctrl-C stops a long call within about 0.1 s with KeyboardInterrupt (``out``
    then holds partial results; docs/methodology.md, "Threads and interrupts"). Pandas inputs
    (Series / DataFrames sharing their labels) give the vols as a Series named "implied_vol"
    (or a DataFrame) on those labels.
    """
    nthreads = resolve_threads(threads)
    if not isinstance(return_status, bool):
        raise TypeError(f"return_status: expected a bool, got {type(return_status).__name__}")
    shape, inputs = prepare_inputs(price, spot, strike, tau, rate, div_yield, is_call)
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    else:
        check_output(out, shape, "out", list(inputs.values()))
    status = np.empty(shape, dtype=np.int8) if return_status else None
    _core.implied_vol(**inputs, out=out, status=status, threads=nthreads)
    labels = labels_of(
        dict(price=price, spot=spot, strike=strike, tau=tau, rate=rate, div_yield=div_yield, is_call=is_call)
    )
    if status is not None:
        return ImpliedVolResult(relabel(out, labels, "implied_vol"), status)
    return relabel(out, labels, "implied_vol")
