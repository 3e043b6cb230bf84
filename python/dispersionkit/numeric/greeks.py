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


GREEK_NAMES: tuple[str, ...] = tuple(_core.GREEK_NAMES)
"""The Greeks :func:`bs_greeks` computes, in the order of :class:`Greeks`' fields."""

_DTYPES = {np.dtype(np.float64): np.float64, np.dtype(np.float32): np.float32}


def _precision(dtype) -> np.dtype:
    """float64 (the default) or float32; ValueError for anything else."""
    try:
        resolved = np.dtype(np.float64 if dtype is None else dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in _DTYPES:
        raise ValueError(f"dtype: expected numpy.float64 or numpy.float32, got {dtype!r}")
    return resolved


def _requested(greeks) -> tuple[str, ...]:
    """The names in ``greeks`` (one name or an iterable of names), in GREEK_NAMES order."""
    names = (greeks,) if isinstance(greeks, str) else greeks
    try:
        wanted = set(names)
    except TypeError:
        raise TypeError(f"greeks: expected a name or names from {GREEK_NAMES}, got {type(greeks).__name__}") from None
    unknown = sorted(str(n) for n in wanted if n not in GREEK_NAMES)
    if unknown:
        raise ValueError(f"greeks: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(GREEK_NAMES)}")
    if not wanted:
        raise ValueError("greeks: asks for no Greek; give at least one name")
    return tuple(n for n in GREEK_NAMES if n in wanted)


@dataclass(frozen=True, repr=False)
class Greeks:
    """Prices and first/second-order Greeks: arrays of the broadcast input shape, float64 unless
    computed with ``dtype=np.float32``.

    A Greek not asked for (``bs_greeks(..., greeks=("price", "delta"))``) is None: the class
    stays one frozen dataclass with every field, and :attr:`computed` lists the ones present.
    The fields are the core's list of Greeks (``_core.GREEK_NAMES``, checked at import), and
    :func:`bs_greeks` hands them to the core by name.
    """

    # Typed as arrays, what every default call returns (all ten Greeks); a field is None only
    # where the caller chose greeks= without it, so callers that never do need no None checks.
    price: np.ndarray = None  # type: ignore[assignment]
    delta: np.ndarray = None  # type: ignore[assignment]
    gamma: np.ndarray = None  # type: ignore[assignment]
    vega: np.ndarray = None  # type: ignore[assignment]
    theta: np.ndarray = None  # type: ignore[assignment]
    rho: np.ndarray = None  # type: ignore[assignment]
    epsilon: np.ndarray = None  # type: ignore[assignment]
    vanna: np.ndarray = None  # type: ignore[assignment]
    volga: np.ndarray = None  # type: ignore[assignment]
    charm: np.ndarray = None  # type: ignore[assignment]

    @classmethod
    def empty(cls, shape, greeks=None, dtype=np.float64) -> Greeks:
        """Preallocated outputs to pass as ``out=`` when streaming many batches: an uninitialized
        array per Greek in ``greeks`` (default: all), None for the others; ``dtype`` float64 or float32."""
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        names = GREEK_NAMES if greeks is None else _requested(greeks)
        precision = _precision(dtype)
        return cls(**{name: np.empty(shape, dtype=precision) for name in names})

    @property
    def computed(self) -> tuple[str, ...]:
        """The names of the Greeks present (not None), in field order."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is not None)

    def _present(self, name: str):
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"{name} was not computed: ask for it with bs_greeks(..., greeks=(..., {name!r}))")
        return value

    @property
    def vega_per_point(self) -> np.ndarray:
        return self._present("vega") * PER_VOL_POINT

    @property
    def theta_per_day(self) -> np.ndarray:
        return self._present("theta") * PER_CALENDAR_DAY

    def arrays(self) -> list[np.ndarray]:
        """Every field in order (None for a Greek not computed)."""
        return [getattr(self, f.name) for f in fields(self)]

    def to_frame(self) -> pd.DataFrame:
        """One column per computed Greek: indexed like the pandas inputs (else 0..n-1) for 1-D
        results; (greek, column) columns when the inputs were DataFrames."""
        values = {name: getattr(self, name) for name in self.computed}
        first = next(iter(values.values()), None)
        if isinstance(first, pd.DataFrame):
            return pd.concat(values, axis=1)
        index = first.index if isinstance(first, pd.Series) else None
        arrays = {name: np.asarray(v) for name, v in values.items()}
        if first is not None and np.ndim(first) > 1:
            raise ValueError(f"to_frame: the Greeks are {np.ndim(first)}-D; index them to 1-D first")
        return pd.DataFrame({name: np.atleast_1d(v) for name, v in arrays.items()}, index=index)

    def __repr__(self) -> str:
        names = self.computed
        if not names:
            return "Greeks()"
        first = getattr(self, names[0])
        dtype = getattr(first, "dtype", type(first).__name__)
        every = "all" if len(names) == len(GREEK_NAMES) else ", ".join(names)
        return f"Greeks(shape={np.shape(first)}, dtype={dtype}, computed={every})"


if tuple(f.name for f in fields(Greeks)) != GREEK_NAMES:
    raise ImportError(
        f"dispersionkit.Greeks fields {[f.name for f in fields(Greeks)]} differ from the compiled core's "
        f"Greeks {list(_core.GREEK_NAMES)}: rebuild the extension (pip install .)"
    )

_INPUT_NAMES = ("spot", "strike", "tau", "vol", "rate", "div_yield")


def _prepare(spot, strike, tau, vol, rate, div_yield, is_call) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    # float32 inputs stay float32 (the core converts them block by block in either precision).
    named = {
        name: as_float_array(value, name, keep_float32=True)
        for name, value in zip(_INPUT_NAMES, (spot, strike, tau, vol, rate, div_yield))
    }
    named["is_call"] = as_call_flags(is_call)
    shape, views = broadcast(named)
    return shape, dict(zip(named, views))


def _labels(spot, strike, tau, vol, rate, div_yield, is_call):
    return labels_of(dict(spot=spot, strike=strike, tau=tau, vol=vol, rate=rate, div_yield=div_yield, is_call=is_call))


def _outputs(out, names, shape, precision) -> dict[str, np.ndarray]:
    """The arrays the core fills: fresh ones, or the caller's ``out`` (checked field by field;
    overlaps between outputs and inputs are checked by the core, in one sweep)."""
    if out is None:
        return {name: np.empty(shape, dtype=precision) for name in names}
    if not isinstance(out, Greeks):
        raise TypeError(f"out: expected a dispersionkit.Greeks, got {type(out).__name__}")
    arrays = {}
    for name in names:
        array = getattr(out, name)
        if array is None:
            raise ValueError(f"out.{name}: None, but {name} is asked for (Greeks.empty(shape, greeks=...) makes one)")
        arrays[name] = check_output(array, shape, f"out.{name}", dtype=precision)
    return arrays


def bs_greeks(
    spot,
    strike,
    tau,
    vol,
    rate=0.0,
    div_yield=0.0,
    is_call=True,
    *,
    greeks=None,
    dtype=None,
    threads=None,
    out=None,
) -> Greeks:
    """Black-Scholes-Merton price and Greeks for a batch of European options.

    Inputs broadcast like a NumPy ufunc; scalars and broadcast dimensions are passed to the
    core as stride-0 views, never materialized; float32 arrays are read as they are. ``is_call``
    takes bools, 0/1 or 'call'/'put'. Units and the NaN / limit policy are in the module docstring.

    ``greeks``: the names to compute (any of :data:`GREEK_NAMES`, e.g. ``("price", "delta",
    "vega")``); default all ten, or with ``out`` the Greeks ``out`` has arrays for. Only those are
    allocated, computed (an erfc or exp no requested Greek needs is skipped) and written; the
    others are None in the result.

    ``dtype``: ``np.float64`` (default) or ``np.float32``, the precision of the computation and
    of the outputs. float32 runs on twice the vector lanes and writes half the bytes; its
    accuracy, measured against float64 per Greek, is in docs/performance.md (median relative
    error ~1e-7, 99th percentile a few 1e-6, worst ~1e-4 for short-dated low-vol options; deep
    out of the money only ~1e-7 of the spot absolute). With ``out``, the default is ``out``'s
    dtype. float64 prices far out of the money are computed without cancellation (relative
    error near rounding down to the underflow boundary).

    ``threads=None`` uses every core, ``threads=1`` the calling thread only; results are
    identical for any thread count. ``out`` (a :class:`Greeks`, e.g. ``Greeks.empty(shape)``)
    receives the results in place; the call returns a :class:`Greeks` holding ``out``'s arrays
    for the computed Greeks (``out`` itself when it computed every Greek ``out`` holds). Outputs
    must not overlap the inputs or each other.

    Allocation: fresh outputs are new memory, and the first write to each new page costs a
    page fault (the system zeroes it). On the 2-core machine of docs/performance.md, at 1e6
    options the ten float64 outputs (80 MB) cost more than the computation itself (16-18 vs
    22-30 M options/s on one thread, 20-22 vs 46-53 on two); ``out=`` buffers reused across
    calls avoid it, ``greeks=`` and float32 shrink it.

    Returns a :class:`Greeks` of arrays (0-d for all-scalar input); with pandas inputs (Series
    / DataFrames sharing their labels), each Greek is a Series / DataFrame on those labels and
    :meth:`Greeks.to_frame` puts them side by side.

    Ctrl-C stops a long call within about 0.1 s with KeyboardInterrupt; ``out`` then holds
    partial results and can be reused (docs/methodology.md, "Threads and interrupts").
    """
    nthreads = resolve_threads(threads)
    if greeks is not None:
        names = _requested(greeks)
    elif out is not None and isinstance(out, Greeks):
        names = out.computed
    else:
        names = GREEK_NAMES
    if dtype is None and isinstance(out, Greeks) and names:
        first = getattr(out, names[0])
        dtype = first.dtype if isinstance(first, np.ndarray) and first.dtype in _DTYPES else None
    precision = _precision(dtype)
    shape, inputs = _prepare(spot, strike, tau, vol, rate, div_yield, is_call)
    arrays = _outputs(out, names, shape, precision)
    if not arrays:
        raise ValueError("out: holds no array; give it the Greeks to compute")
    _core.bs_greeks(**inputs, out=_Requested(arrays), threads=nthreads)
    if out is not None and names == out.computed:
        result = out
    else:
        result = Greeks(**arrays)
    labels = _labels(spot, strike, tau, vol, rate, div_yield, is_call)
    if labels is not None:
        # pandas in, pandas out: each Greek a Series / DataFrame on the inputs' labels.
        return Greeks(**{name: relabel(getattr(result, name), labels, name) for name in names})
    return result


class _Requested:
    """The core's view of the outputs: an attribute per Greek name, None for those not asked for."""

    __slots__ = GREEK_NAMES

    def __init__(self, arrays: dict[str, np.ndarray]):
        for name in GREEK_NAMES:
            setattr(self, name, arrays.get(name))


def bs_price(
    spot, strike, tau, vol, rate=0.0, div_yield=0.0, is_call=True, *, dtype=None, threads=None, out=None
) -> np.ndarray:
    """Black-Scholes-Merton price only, on a faster path than :func:`bs_greeks`.

    Same inputs, broadcasting, ``dtype``, threading, interrupt and element policy as
    :func:`bs_greeks`, and the same prices bit for bit; ``out`` is an optional preallocated
    array of the broadcast shape (of ``dtype``, default float64). Pandas inputs give a Series (or
    DataFrame) named "price" on their labels.
    """
    nthreads = resolve_threads(threads)
    precision = _precision(dtype)
    shape, inputs = _prepare(spot, strike, tau, vol, rate, div_yield, is_call)
    if out is None:
        out = np.empty(shape, dtype=precision)
    else:
        check_output(out, shape, "out", dtype=precision)
    _core.bs_price(**inputs, out=out, threads=nthreads)
    return relabel(out, _labels(spot, strike, tau, vol, rate, div_yield, is_call), "price")
