"""Batched Black-Scholes-Merton prices and Greeks on the C++ core.

Conventions (see docs/methodology.md): tau in years (ACT/365), vol, rate and div_yield as
decimals (0.20 = 20%), continuous compounding. Greeks are per unit: vega and volga per 1.00
of vol, rho per 1.00 of rate, epsilon = dV/d(div_yield) per 1.00, theta and charm per year of
calendar time (dV/dt = -dV/dtau). Multiply by PER_VOL_POINT / PER_CALENDAR_DAY to convert.

Element policy: NaN in an input, spot <= 0, strike <= 0, tau < 0 or vol < 0 make that
element's outputs NaN; the rest of the batch is unaffected. tau == 0 or vol == 0 give the
deterministic limits: discounted intrinsic value, delta 0 or +-exp(-q tau), gamma/vega/vanna/
volga 0 away from the forward. Exactly at the forward (S e^{-q tau} == K e^{-r tau}) with
vol*sqrt(tau) == 0: delta uses N(0) = 1/2, gamma is +inf, vanna/volga/charm are NaN (no limit).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from .. import _core
from .._labels import labels_of, relabel
from .._validation import as_call_flags, as_float_array, broadcast, check_output, resolve_threads

PER_VOL_POINT = 0.01
"""Multiply vega (per 1.00 of vol) by this for vega per vol point; volga by its square."""
PER_CALENDAR_DAY = 1.0 / 365.0
"""Multiply theta or charm (per year) by this for per calendar day."""
PER_BASIS_POINT = 1e-4
"""Multiply rho or epsilon (per 1.00 of rate) by this for per basis point."""


@dataclass(frozen=True)
class Greeks:
    """Prices and first/second-order Greeks, float64 arrays of the broadcast input shape.

    The fields are the core's list of Greeks (``_core.GREEK_NAMES``, checked at import), and
    :func:`bs_greeks` hands them to the core by name.
    """

    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    rho: np.ndarray
    epsilon: np.ndarray
    vanna: np.ndarray
    volga: np.ndarray
    charm: np.ndarray

    @classmethod
    def empty(cls, shape) -> Greeks:
        """Preallocated outputs to pass as ``out=`` when streaming many batches."""
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        return cls(*(np.empty(shape, dtype=np.float64) for _ in fields(cls)))

    @property
    def vega_per_point(self) -> np.ndarray:
        return self.vega * PER_VOL_POINT

    @property
    def theta_per_day(self) -> np.ndarray:
        return self.theta * PER_CALENDAR_DAY

    def arrays(self) -> list[np.ndarray]:
        return [getattr(self, f.name) for f in fields(self)]

    def to_frame(self) -> pd.DataFrame:
        """One column per Greek: indexed like the pandas inputs (else 0..n-1) for 1-D results;
        (greek, column) columns when the inputs were DataFrames."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if isinstance(values["price"], pd.DataFrame):
            return pd.concat(values, axis=1)
        index = values["price"].index if isinstance(values["price"], pd.Series) else None
        arrays = {name: np.asarray(v) for name, v in values.items()}
        if arrays["price"].ndim > 1:
            raise ValueError(f"to_frame: the Greeks are {arrays['price'].ndim}-D; index them to 1-D first")
        return pd.DataFrame({name: np.atleast_1d(v) for name, v in arrays.items()}, index=index)


if tuple(f.name for f in fields(Greeks)) != _core.GREEK_NAMES:
    raise ImportError(
        f"dispersionkit.Greeks fields {[f.name for f in fields(Greeks)]} differ from the compiled core's "
        f"Greeks {list(_core.GREEK_NAMES)}: rebuild the extension (pip install .)"
    )


def _prepare(spot, strike, tau, vol, rate, div_yield, is_call) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    named = {
        "spot": as_float_array(spot, "spot"),
        "strike": as_float_array(strike, "strike"),
        "tau": as_float_array(tau, "tau"),
        "vol": as_float_array(vol, "vol"),
        "rate": as_float_array(rate, "rate"),
        "div_yield": as_float_array(div_yield, "div_yield"),
        "is_call": as_call_flags(is_call),
    }
    shape, views = broadcast(named)
    return shape, dict(zip(named, views))


def bs_greeks(spot, strike, tau, vol, rate=0.0, div_yield=0.0, is_call=True, *, threads=None, out=None) -> Greeks:
    """Black-Scholes-Merton price and Greeks for a batch of European options.

    Inputs broadcast like a NumPy ufunc; scalars and broadcast dimensions are passed to the
    core as stride-0 views, never materialized. ``is_call`` takes bools, 0/1 or 'call'/'put'.
    ``threads=None`` uses every core, ``threads=1`` the calling thread only; results are
    identical for any thread count. ``out`` (a :class:`Greeks`, e.g. ``Greeks.empty(shape)``)
    receives the results in place. Returns a :class:`Greeks` of float64 arrays (0-d for
    all-scalar input); with pandas inputs (Series / DataFrames sharing their labels), each Greek
    is a Series / DataFrame on those labels and :meth:`Greeks.to_frame` puts them side by side.
    Units and the NaN / limit policy are in the module docstring.

    Ctrl-C stops a long call within about 0.1 s with KeyboardInterrupt; ``out`` then holds
    partial results and can be reused (docs/methodology.md, "Threads and interrupts").
    """
    nthreads = resolve_threads(threads)
    shape, inputs = _prepare(spot, strike, tau, vol, rate, div_yield, is_call)
    if out is None:
        out = Greeks.empty(shape)
    elif not isinstance(out, Greeks):
        raise TypeError(f"out: expected a dispersionkit.Greeks, got {type(out).__name__}")
    else:
        for f in fields(Greeks):
            check_output(getattr(out, f.name), shape, f"out.{f.name}", list(inputs.values()))
    _core.bs_greeks(**inputs, out=out, threads=nthreads)
    labels = labels_of(
        dict(spot=spot, strike=strike, tau=tau, vol=vol, rate=rate, div_yield=div_yield, is_call=is_call)
    )
    if labels is not None:
        # pandas in, pandas out: each Greek a Series / DataFrame on the inputs' labels.
        return Greeks(*(relabel(getattr(out, f.name), labels, f.name) for f in fields(Greeks)))
    return out


def bs_price(spot, strike, tau, vol, rate=0.0, div_yield=0.0, is_call=True, *, threads=None, out=None) -> np.ndarray:
    """Black-Scholes-Merton price only, on a faster path than :func:`bs_greeks`.

    Same inputs, broadcasting, threading, interrupt and element policy as :func:`bs_greeks`;
    ``out`` is an optional preallocated float64 array of the broadcast shape. Pandas inputs give
    a Series (or DataFrame) named "price" on their labels.
    """
    nthreads = resolve_threads(threads)
    shape, inputs = _prepare(spot, strike, tau, vol, rate, div_yield, is_call)
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    else:
        check_output(out, shape, "out", list(inputs.values()))
    _core.bs_price(**inputs, out=out, threads=nthreads)
    labels = labels_of(
        dict(spot=spot, strike=strike, tau=tau, vol=vol, rate=rate, div_yield=div_yield, is_call=is_call)
    )
    return relabel(out, labels, "price")
