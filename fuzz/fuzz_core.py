"""Coverage-guided fuzzing (atheris) of the binding layer: raw ``dispersionkit._core`` entry
points called with fuzzed arrays, shapes, strides, dtypes and scalars.

The Python layer validates everything before it calls ``_core``; the bindings are the last
line of defence and must hold on their own: any input ends in a return or a Python exception
(ValueError/TypeError from the checks, KeyError for a missing dict entry, OverflowError for an
int beyond C++'s range), never a crash, a sanitizer report or a hang.

At start-up the public API is called once on small valid inputs and every ``_core`` call it
makes is recorded (by parameter name, read from the binding's own signature, so renamed
arguments are followed). Each fuzz input picks a recorded call and applies a few mutations
to it: hostile values (NaN, inf, denormals, extremes), another dtype, negative/stride-0/
Fortran/unaligned layouts, a dimension off by one or added or removed, None for an array, an
extreme int. Calls therefore get past the shape checks into the kernels, where the hostile
values and near-miss shapes matter.

    python fuzz/fuzz_core.py <corpus dir> -max_total_time=30     (see fuzz/run.sh)
"""

from __future__ import annotations

import copy
import re
import sys
import warnings

import atheris
import numpy as np

with atheris.instrument_imports(include=["dispersionkit"]):
    import dispersionkit as dk
    from dispersionkit import _core
    from dispersionkit.numeric import surface as surface_kernels

ALLOWED = (ValueError, TypeError, KeyError, IndexError, OverflowError)

DTYPES = [np.float32, np.int64, np.int8, np.bool_, ">f8", np.complex128, object, np.float64]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 100.0, np.nan, np.inf, -np.inf, 5e-324, 1e-300, 1e300, 2.0**63, -1e308]
INTS = [0, 1, 2, 3, -1, 16, 2**31, 2**62, -(2**63), 2**64]


def _parameters(function) -> list[str]:
    """Parameter names from the pybind11 signature line (follows renamed arguments)."""
    first = (function.__doc__ or "").splitlines()[0]
    match = re.match(r"\w+\((.*)\) -> ", first)
    if not match:
        return []
    text, depth, names, start = match.group(1), 0, [], 0
    for k, ch in enumerate(text + ","):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            part = text[start:k].strip()
            start = k + 1
            if part and part != "*":
                names.append(part.partition(":")[0].strip())
    return names


def _copied(value):
    """A deep copy the fuzzer can mutate; the bindings' own read-only structures (HedgeRules,
    the path model) cannot be pickled and cannot change, so they are shared."""
    try:
        return copy.deepcopy(value)
    except TypeError:
        return value


def _record_valid_calls() -> list[tuple[str, dict]]:
    """(entry point, keyword arguments) of every _core call the public API makes on small
    valid inputs, deep-copied so the fuzzer can mutate them freely."""
    recorded = []
    originals = {}
    for name in dir(_core):
        function = getattr(_core, name)
        if name.startswith("_") or not callable(function) or name == "hardware_threads":
            continue
        originals[name] = function

        def spy(*args, _name=name, _function=function, **kwargs):
            named = dict(zip(_parameters(_function), args), **kwargs)
            recorded.append((_name, {key: _copied(value) for key, value in named.items()}))
            return _function(*args, **kwargs)

        setattr(_core, name, spy)
    try:
        rng = np.random.default_rng(0)
        spot = rng.uniform(50, 150, 5)
        dk.bs_greeks(spot, 100.0, 0.5, 0.2)
        dk.implied_vol(dk.bs_price(spot, 100.0, 0.5, 0.2), spot, 100.0, 0.5, return_status=True)
        R = dk.random_correlation(3, rng=0)
        dk.index_variance(np.full(3, 1 / 3), rng.uniform(0.1, 0.4, (4, 3)), R)
        dk.index_variance(np.full(3, 1 / 3), rng.uniform(0.1, 0.4, (4, 3)), np.stack([R, R, R, R]))
        dk.implied_correlation(0.2, rng.uniform(0.1, 0.4, (4, 3)), np.full(3, 1 / 3))
        returns = rng.normal(0, 0.01, (12, 3))
        returns[2, 1] = np.nan
        dk.realized_vol(returns, 5)
        dk.realized_correlation(returns, 5, weights=[0.5, 0.3, 0.2])
        dk.realized_correlation(returns, 5, method="matrix")
        dk.simulate_market(np.full(3, 100.0), np.full(3, 0.2), R, steps=4, paths=3)
        paths = dk.simulate_market(np.full(2, 100.0), np.full(2, 0.2), np.eye(2), steps=4, paths=2, seed=3)
        spots = np.concatenate([paths.index[..., None], paths.components], axis=-1)
        dk.hedged_pnl(dk.straddle(0, 100.0, 0.1) + dk.straddle(1, 100.0, 0.1), spots, 0.2, detail="steps")
        dk.variance_swap_strike(dk.replication_strikes(100.0, 0.25, 0.2, count=9), 0.2, 100.0, 0.25)
        taus = np.array([0.1, 0.1, 0.1, 0.5, 0.5, 0.5])
        k = np.array([-0.2, 0.0, 0.2, -0.2, 0.0, 0.2])
        grid = surface_kernels.build_surface_grid(np.zeros(6, dtype=np.int64), taus, k, 0.04 * taus, 0.01 * taus, 2)
        surface_kernels.query_surface(
            grid, np.array([0, 1, 0]), np.array([0.2, 0.3, 0.4]), np.zeros(3), log_spot_moneyness=True
        )
        surface_kernels.delta_strike(grid, np.array([0, 0]), np.array([0.2, 0.3]), np.array([0.1, -0.2]))
    finally:
        for name, function in originals.items():
            setattr(_core, name, function)
    return recorded


warnings.simplefilter("ignore")  # the mutations' own casts (complex to float, overflow) are noise here
CALLS = _record_valid_calls()


class Mutator:
    def __init__(self, data: bytes):
        self.fdp = atheris.FuzzedDataProvider(data)

    def pick(self, options):
        return options[self.fdp.ConsumeIntInRange(0, len(options) - 1)]

    def floating(self) -> float:
        return self.pick(SPECIAL) if self.fdp.ConsumeBool() else self.fdp.ConsumeRegularFloat()

    def array(self, array: np.ndarray):
        kind = self.fdp.ConsumeIntInRange(0, 8)
        if kind == 0 and array.size and array.dtype.kind == "f":  # hostile values
            array = np.array(array)
            for _ in range(self.fdp.ConsumeIntInRange(1, 4)):
                array.flat[self.fdp.ConsumeIntInRange(0, array.size - 1)] = self.floating()
            return array
        if kind == 1:  # another dtype
            dtype = self.pick(DTYPES)
            with np.errstate(all="ignore"):
                try:
                    return array.astype(dtype)
                except (ValueError, OverflowError):  # NaN or inf to an integer dtype (an earlier mutation put it there)
                    return array
        if kind == 2 and array.ndim:  # negative strides
            return np.ascontiguousarray(array[::-1])[::-1]
        if kind == 3 and array.ndim and array.shape[0]:  # stride 0, read-only
            return np.broadcast_to(array[:1], array.shape)
        if kind == 4 and array.ndim >= 2:
            return np.asfortranarray(array)
        if kind == 5 and array.dtype == np.float64 and array.size:  # unaligned
            raw = np.zeros(array.nbytes + 1, dtype=np.uint8)
            moved = np.frombuffer(raw.data, dtype=np.float64, count=array.size, offset=1).reshape(array.shape)
            moved[...] = array
            return moved
        if kind == 6 and array.ndim:  # a dimension off by one
            axis = self.fdp.ConsumeIntInRange(0, array.ndim - 1)
            size = max(0, array.shape[axis] + self.pick([-1, 1, -array.shape[axis]]))
            shape = list(array.shape)
            shape[axis] = size
            return np.resize(array, shape) if size else np.empty(shape, dtype=array.dtype)
        if kind == 7:  # a dimension added or removed
            return array[None] if self.fdp.ConsumeBool() or array.ndim == 0 or not array.shape[0] else array[0]
        if kind == 8 and array.ndim and array.shape[-1] > 1:  # a strided view
            return array[..., ::2]
        return array

    def value(self, value):
        if isinstance(value, np.ndarray):
            return None if self.fdp.ConsumeIntInRange(0, 9) == 0 else self.array(value)
        if isinstance(value, (list, tuple)):
            items = [self.value(v) if self.fdp.ConsumeIntInRange(0, 3) == 0 else v for v in value]
            if self.fdp.ConsumeIntInRange(0, 7) == 0 and items:
                items = items[:-1] if self.fdp.ConsumeBool() else [*items, items[-1]]
            return type(value)(items) if isinstance(value, tuple) else items
        if isinstance(value, dict):
            return {k: self.value(v) if self.fdp.ConsumeIntInRange(0, 3) == 0 else v for k, v in value.items()}
        if isinstance(value, bool) or value is None:
            return self.fdp.ConsumeBool() if value is not None else None
        if isinstance(value, int):
            return self.pick(INTS)
        if isinstance(value, float):
            return self.floating()
        # A binding structure (HedgeRules, ...): kept, or replaced by an object of the wrong type.
        return self.pick([value, None, 1.0, {}]) if self.fdp.ConsumeIntInRange(0, 3) == 0 else value


def test_one_input(data: bytes) -> None:
    mutator = Mutator(data)
    name, recorded = mutator.pick(CALLS)
    kwargs = dict(recorded)
    keys = sorted(kwargs)
    for _ in range(mutator.fdp.ConsumeIntInRange(1, 3)):
        key = mutator.pick(keys)
        if "thread" in key:
            kwargs[key] = mutator.fdp.ConsumeIntInRange(0, 4)  # the pool's own limits are tested elsewhere
        else:
            kwargs[key] = mutator.value(kwargs[key])
    try:
        getattr(_core, name)(**kwargs)
    except ValueError:
        pass  # the binding's checks; each outcome is its own branch (coverage feedback)
    except TypeError:
        pass
    except ALLOWED:
        pass


# The kernels are C++ (not instrumented here): the harness's own branches (entry point,
# mutation, outcome) give libFuzzer its coverage signal.
for _function in (Mutator.array, Mutator.value, test_one_input):
    atheris.instrument_func(_function)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
