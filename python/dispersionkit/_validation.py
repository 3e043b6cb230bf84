"""Argument checks shared by the public functions: named errors before anything reaches _core."""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import os

import numpy as np

_CALL_WORDS = {"call": True, "c": True, "put": False, "p": False}


def as_float_array(value, name: str, *, keep_float32: bool = False) -> np.ndarray:
    """A float64 view of `value` (copied only when the dtype differs or the buffer is not
    aligned, which the core cannot read through double pointers); rejects non-real data. With
    ``keep_float32``, float32 data is kept as is (for kernels that convert block by block)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {array.dtype}")
    if not (keep_float32 and array.dtype == np.float32):
        array = array.astype(np.float64, copy=False)
    return array if array.flags.aligned else np.require(array, requirements="A")


def as_call_flags(value, name: str = "is_call") -> np.ndarray:
    """Option type as bool (True = call) from bools, 0/1 integers or 'call'/'put' strings (also a
    pandas string or categorical column of "c"/"p"/"call"/"put", any case). A bool array is
    returned as is (no copy): the core reads the flags as bytes."""
    array = np.asarray(value)
    if array.dtype.kind == "O":  # pandas string / categorical columns arrive as objects
        if not all(isinstance(item, str) for item in array.ravel()):
            bad = next(item for item in array.ravel() if not isinstance(item, str))
            raise ValueError(f"{name}: expected 'call'/'put' (or 'c'/'p'), got {bad!r}")
        array = array.astype(str)
    if array.dtype.kind in "US":
        words = np.char.lower(array.astype(str))
        known = np.isin(words, list(_CALL_WORDS))
        if not known.all():
            bad = words[~known].ravel()[0]
            raise ValueError(f"{name}: expected 'call'/'put' (or 'c'/'p'), got {bad!r}")
        return np.isin(words, ["call", "c"])
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind in "iu":
        if not ((array == 0) | (array == 1)).all():
            raise ValueError(f"{name}: integer flags must be 0 (put) or 1 (call)")
        return array != 0
    raise TypeError(f"{name}: expected bool, 0/1 or 'call'/'put', got dtype {array.dtype}")


def as_real(value, name: str, *, finite: bool = True) -> float:
    """A Python or NumPy real number (not bool) as float; with ``finite`` NaN and inf are errors."""
    if type(value) is float:  # the common case, without the (slow) abstract-class check below
        if finite and not math.isfinite(value):
            raise ValueError(f"{name}: must be finite, got {value}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{name}: must be finite, got {value}")
    return value


def as_positive(value, name: str) -> float:
    """A finite real number > 0 (not bool); TypeError / ValueError naming ``name`` otherwise."""
    value = as_real(value, name)
    if not value > 0.0:
        raise ValueError(f"{name}: must be > 0, got {value}")
    return value


def as_non_negative(value, name: str) -> float:
    """A finite real number >= 0 (not bool); TypeError / ValueError naming ``name`` otherwise."""
    value = as_real(value, name)
    if not value >= 0.0:
        raise ValueError(f"{name}: must be >= 0, got {value}")
    return value


def as_fraction(value, name: str) -> float:
    """A real number in (0, 1] (a share of capital, of a holding period, ...)."""
    value = as_real(value, name)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name}: a fraction in (0, 1], got {value}")
    return value


def as_choice(value, name: str, choices: tuple):
    """``value`` if it is one of ``choices``; ValueError listing them otherwise."""
    if not isinstance(value, str | int | float | type(None)) or value not in choices:
        options = [repr(c) for c in choices]
        listed = options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]
        raise ValueError(f"{name}: expected {listed}, got {value!r}")
    return value


def as_scalar(value, name: str, *, positive: bool = False) -> float:
    """A finite real scalar (numbers or 0-d arrays); with ``positive`` also > 0."""
    array = as_float_array(value, name)
    if array.ndim != 0:
        raise ValueError(f"{name}: expected a scalar, got shape {array.shape}")
    result = float(array)
    if not np.isfinite(result):
        raise ValueError(f"{name}: must be finite, got {result}")
    if positive and result <= 0:
        raise ValueError(f"{name}: must be > 0, got {result}")
    return result


def as_count(value, name: str, minimum: int, maximum: int | None = None) -> int:
    """An int (not bool) in [minimum, maximum]; TypeError / ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    value = operator.index(value)
    if maximum is None and value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    if maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name}: must be in [{minimum}, {maximum}], got {value}")
    return value


WEIGHT_SUM_TOLERANCE = 1e-6
"""Index weights are meant to sum to 1; a row further than this from 1 is "off".

The one rule, everywhere: weights are used as given, never renormalized. A formula given
off weights (index variance, implied / break-even / realized correlation) computes with them
and warns (``WeightsWarning``), so notional-style weights still work; ``MarketData``, which
holds the weights trades are sized and backtested on, refuses them (``ValueError``)."""


def weight_sum_off(sums: np.ndarray) -> np.ndarray:
    """True where a finite row sum of index weights is further than the tolerance from 1."""
    sums = np.asarray(sums, dtype=np.float64)
    return np.isfinite(sums) & (np.abs(sums - 1.0) > WEIGHT_SUM_TOLERANCE)


MAX_THREADS = 2**31 - 1
"""The largest ``threads=`` accepted. Any count is fine: the core never runs more threads at once
than the cores in the process's affinity mask (more chunks queue), and results do not depend on it."""


def resolve_threads(threads) -> int:
    """None -> 0 (all cores, the core's convention); otherwise an int in [1, MAX_THREADS]."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads: expected a positive int or None, got {type(threads).__name__}")
    threads = operator.index(threads)
    if threads < 1:
        raise ValueError(f"threads: must be >= 1 (or None for all cores), got {threads}")
    if threads > MAX_THREADS:
        raise ValueError(f"threads: must be <= {MAX_THREADS}, got {threads}")
    return threads


def broadcast(named: dict[str, np.ndarray]) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast like a ufunc; returns the shape and read-only stride-0 views (no copies)."""
    try:
        views = np.broadcast_arrays(*named.values())
    except ValueError:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in named.items())
        raise ValueError(f"inputs do not broadcast together: {shapes}") from None
    shape = views[0].shape if views else ()
    return shape, list(views)


def check_output(out, shape: tuple[int, ...], name: str, inputs=(), *, dtype=np.float64) -> np.ndarray:
    """A caller-supplied output array: ``dtype`` (float64 unless said), C-contiguous, writeable,
    right shape, not aliasing ``inputs`` (kernels whose core checks overlaps itself pass none)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        hint = " (pass dtype=np.float32 for float32 outputs)" if out.dtype == np.float32 else ""
        raise TypeError(f"{name}: expected dtype {np.dtype(dtype)}, got {out.dtype}{hint}")
    if out.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name}: must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name}: is read-only")
    for array in inputs:
        if np.may_share_memory(out, array):
            raise ValueError(f"{name}: overlaps an input array; use a separate buffer")
    return out


def unbroadcast(array: np.ndarray, axes: tuple[int, ...] | None = None) -> np.ndarray:
    """The distinct elements of a (possibly broadcast) array, as a view: every axis with stride 0
    (of ``axes``, default all) is cut to length 1. Checks on it (NaN, signs, ranges) cost
    O(distinct elements), not O(size): a scalar broadcast to 2**40 paths is one element."""
    if array.ndim == 0:
        return array
    chosen = range(array.ndim) if axes is None else [a % array.ndim for a in axes]
    keep = tuple(
        slice(0, 1) if axis in chosen and array.strides[axis] == 0 and array.shape[axis] > 1 else slice(None)
        for axis in range(array.ndim)
    )
    return array[keep]


def physical_memory() -> int:
    """Bytes of physical memory of this machine (0 when the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return 0


def _bytes(count: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = 0
    while count >= 1024 and power < len(units) - 1:
        count /= 1024
        power += 1
    return f"{count:.3g} {units[power]}"


def check_allocation(shape: tuple[int, ...], name: str, itemsize: int = 8) -> None:
    """ValueError naming ``name`` when an array of ``shape`` cannot fit in this machine's memory.

    Called before an array is allocated or copied (an output, a contiguous copy of a broadcast
    input), so an impossible size fails at once instead of after O(size) work or an
    out-of-memory kill. Sizes are exact Python integers: no overflow.
    """
    count = math.prod(int(d) for d in shape) * itemsize
    limit = physical_memory()
    if limit and count > limit:
        raise ValueError(
            f"{name}: shape {tuple(int(d) for d in shape)} needs {_bytes(count)}, more than this "
            f"machine's {_bytes(limit)} of memory; use fewer paths, dates or names per call"
        )


@contextlib.contextmanager
def overflow_is_error(name: str):
    """Arithmetic inside the block that overflows the float range raises ValueError naming
    ``name`` (finite but extreme inputs: a notional of 1e300 times 1e4), never an inf result
    with numpy's RuntimeWarning."""
    with np.errstate(over="raise"):
        try:
            yield
        except FloatingPointError:
            raise ValueError(f"{name}: the result overflows the float range (|value| > 1.8e308)") from None
