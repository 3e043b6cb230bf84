"""The fuzzing campaign's tools: profiles, hostile values, equivalent array layouts, the call log.

Profiles (environment variable ``DK_FUZZ_PROFILE``):

- ``ci`` (default): a few thousand examples in all, derandomized (the same examples on every
  run), part of the normal suite;
- ``long``: 40x more (about 120,000 examples), random, run by hand:
  ``DK_FUZZ_PROFILE=long python -m pytest tests/fuzz -p no:cacheprovider``. It prints a summary
  of the calls made (function, outcome counts) at the end.

The contract every public function is held to: it returns, or raises ValueError/TypeError
with a message; it never crashes, never raises anything else, never emits a RuntimeWarning
(NaN/inf handling is the library's job, not numpy's noise), and returns the same bits for
inputs that hold the same float64 values (any dtype that converts exactly, any strides
including negative and stride 0, byte order, alignment, pickling, pandas) and for any thread
count. Where the NumPy twin or exact arithmetic agree with the kernel by contract, results
are compared too.
"""

from __future__ import annotations

import collections
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dispersionkit as dk

PROFILE = os.environ.get("DK_FUZZ_PROFILE", "ci")
EXAMPLES = {"ci": 60, "long": 2500}
if PROFILE not in EXAMPLES:
    raise pytest.UsageError(f"DK_FUZZ_PROFILE: expected one of {sorted(EXAMPLES)}, got {PROFILE!r}")

# The library's own, documented warnings: allowed. Anything else (numpy's RuntimeWarning on a
# NaN, a pandas FutureWarning) is a finding.
LIBRARY_WARNINGS = (dk.WeightsWarning, dk.CalendarGapWarning)

SPECIAL = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    np.nan,
    np.inf,
    -np.inf,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    1e-12,
    1.0 - 2**-53,
    1.0 + 2**-52,
    0.5,
    1e12,
    1e300,
    -1e300,
    np.finfo(np.float64).max,
]


def hostile_floats(lo=None, hi=None):
    """Any double, weighted towards the ones that break code: NaN, +-inf, -0, denormals, extremes."""
    plain = st.floats(lo, hi, allow_nan=lo is None and hi is None, allow_infinity=lo is None and hi is None)
    special = [v for v in SPECIAL if (lo is None or v >= lo) and (hi is None or v <= hi)] or [lo]
    return st.one_of(plain, st.sampled_from(special))


def positive_floats(hi=1e6):
    """Mostly ordinary positive values, sometimes tiny or huge."""
    return st.one_of(st.floats(1e-3, hi), st.sampled_from([5e-324, 1e-300, 1e-12, 1e12, 1e300]))


class Calls:
    """Outcome counts per function: the campaign's numbers."""

    def __init__(self):
        self.counts = collections.defaultdict(collections.Counter)

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    def summary(self) -> str:
        lines = [f"fuzz profile {PROFILE!r}: {self.total():,} calls of {len(self.counts)} functions"]
        for name in sorted(self.counts):
            counts = self.counts[name]
            lines.append(f"  {name:32s} " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
        return "\n".join(lines)


CALLS = Calls()


class Fuzz:
    """What the fuzz tests share (a session fixture, so no test module imports another)."""

    profile = PROFILE
    floats = staticmethod(hostile_floats)
    positive = staticmethod(positive_floats)

    def run(self, prop, *strategies, weight: float = 1.0):
        """Check ``prop`` on examples drawn from ``strategies`` (weight scales the count)."""
        examples = max(2, int(EXAMPLES[PROFILE] * weight))
        configured = settings(
            max_examples=examples,
            deadline=None,
            derandomize=PROFILE == "ci",
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        configured(given(*strategies)(prop))()

    def call(self, name: str, function, /, *args, **kwargs):
        """(result, None) or (None, error) for ValueError/TypeError (FileNotFoundError /
        IsADirectoryError for a path that names no file); anything else propagates.

        Warnings other than the library's documented ones are raised as errors (findings).
        A ValueError/TypeError must say something: an empty message is a finding too.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for category in LIBRARY_WARNINGS:
                warnings.simplefilter("ignore", category)
            try:
                result = function(*args, **kwargs)
            except (ValueError, TypeError, FileNotFoundError, IsADirectoryError) as error:
                assert str(error).strip(), f"{name}: {type(error).__name__} without a message"
                CALLS.counts[name][type(error).__name__] += 1
                return None, error
        CALLS.counts[name]["ok"] += 1
        return result, None

    @staticmethod
    def same(a, b) -> bool:
        """Bitwise equality of results (arrays, pandas, dataclasses of arrays, floats), NaN == NaN."""
        return _same(a, b)

    @staticmethod
    def layouts(array: np.ndarray) -> dict:
        """Arrays holding exactly the float64 values of ``array``, in other layouts and dtypes."""
        return equivalent_layouts(array)


def _same(a, b) -> bool:
    if isinstance(a, (pd.Series, pd.DataFrame)):
        return isinstance(b, type(a)) and a.index.equals(b.index) and _same(a.to_numpy(), b.to_numpy())
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, np.generic, float, int)):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return False
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            return bool(np.array_equal(x, y, equal_nan=True))
        return bool(np.array_equal(x, y))
    return a == b


def equivalent_layouts(array: np.ndarray) -> dict:
    """Views and copies of a float64 array that every function must read as the same values."""
    a = np.ascontiguousarray(array, dtype=np.float64)
    out = {"c": a, "pickled": pickle.loads(pickle.dumps(a)), "big-endian": a.astype(">f8"), "read-only": a.copy()}
    out["read-only"].flags.writeable = False
    if a.ndim >= 1 and a.size:
        out["negative strides"] = np.ascontiguousarray(a[::-1])[::-1]
        wide = np.empty((a.shape[0] * 2, *a.shape[1:]))
        wide[::2] = a
        out["strided"] = wide[::2]
        raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
        unaligned = np.frombuffer(raw.data, dtype=np.float64, count=a.size, offset=1).reshape(a.shape)
        unaligned[...] = a
        out["unaligned"] = unaligned
        if a.ndim >= 2:
            out["fortran"] = np.asfortranarray(a)
        if a.shape[0] > 1 and np.array_equal(a, np.broadcast_to(a[:1], a.shape), equal_nan=True):
            out["stride 0"] = np.broadcast_to(a[:1], a.shape)
    finite = np.isfinite(a)
    if finite.all() and np.all(a == np.round(a)) and np.all(np.abs(a) < 2**53):
        out["int64"] = a.astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        f32 = a.astype(np.float32)
    if np.array_equal(f32.astype(np.float64), a, equal_nan=True):
        out["float32"] = f32
    return out


@pytest.fixture(scope="session")
def fuzz():
    """The campaign's helper (see the module docstring)."""
    return Fuzz()


def pytest_terminal_summary(terminalreporter):
    if CALLS.total() and (PROFILE != "ci" or os.environ.get("DK_FUZZ_REPORT")):
        terminalreporter.write_line(CALLS.summary())
