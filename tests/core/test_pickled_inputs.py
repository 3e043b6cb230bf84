"""Arrays that went through pickle (to another process, a cache, a Dask worker) have dtype objects
equal to, but not identical with, NumPy's own: the core accepts any dtype equal to the one it
expects, in native byte order, and rejects the rest by name."""

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import _core

RNG = np.random.default_rng(17)
N = 20_000
SPOT, STRIKE = RNG.uniform(50, 150, N), RNG.uniform(50, 150, N)
TAU, VOL = RNG.uniform(0.1, 2.0, N), RNG.uniform(0.1, 0.6, N)
PRICE = dk.bs_price(SPOT, STRIKE, TAU, VOL, 0.02, 0.01, True)
RETURNS = RNG.normal(0.0, 0.01, (400, 6))
WEIGHTS = np.full(6, 1 / 6)
CORR = np.full((6, 6), 0.3) + 0.7 * np.eye(6)
SPOTS = 100.0 * np.exp(np.cumsum(RNG.normal(0.0, 0.01, (50, 64, 2)), axis=1))
BOOK = dk.straddle(0, 100.0, 0.2, 1.0) + dk.straddle(1, 100.0, 0.2, -1.0)

# (function, positional arguments, keyword arguments, the arrays to compare in its result)
CALLS = {
    "bs_greeks": (dk.bs_greeks, (SPOT, STRIKE, TAU, VOL, 0.02, 0.01, True), {}, lambda g: g.arrays()),
    "implied_vol": (dk.implied_vol, (PRICE, SPOT, STRIKE, TAU, 0.02, 0.01, True), {}, lambda v: [v]),
    "index_variance": (dk.index_variance, (WEIGHTS, np.abs(RETURNS) * 20, CORR), {}, lambda v: [v]),
    "realized_correlation": (dk.realized_correlation, (RETURNS, 63), {}, lambda v: [v]),
    "simulate_market": (
        dk.simulate_market,
        (SPOTS[0, 0], 0.3, CORR[:2, :2]),
        dict(steps=20, paths=40),
        lambda p: [p.components],
    ),
    "hedged_pnl": (dk.hedged_pnl, (BOOK, SPOTS, 0.25), dict(detail="steps"), lambda r: [r.steps.net, r.summary.total]),
}


def pickled(value):
    return pickle.loads(pickle.dumps(value))


def test_a_pickled_float64_array_has_an_equal_but_distinct_dtype():
    # The situation the core must accept (and used to refuse: "expected dtype float64, got float64").
    array = pickled(SPOT)
    assert array.dtype == np.float64 and array.dtype is not np.dtype(np.float64)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_pickled_inputs_give_the_same_bits(name):
    function, args, kwargs, arrays = CALLS[name]
    expected = arrays(function(*args, **kwargs))
    got = arrays(function(*pickled(args), **pickled(kwargs)))
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def test_calls_in_spawned_worker_processes_give_the_same_bits():
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        futures = {name: pool.submit(function, *args, **kwargs) for name, (function, args, kwargs, _) in CALLS.items()}
        results = {name: future.result(timeout=120) for name, future in futures.items()}
    for name, (function, args, kwargs, arrays) in CALLS.items():
        for g, e in zip(arrays(results[name]), arrays(function(*args, **kwargs))):
            np.testing.assert_array_equal(g, e, err_msg=name)


def test_unequal_or_byte_swapped_dtypes_are_refused_by_name():
    kwargs = dict(strike=STRIKE, tau=TAU, vol=VOL, rate=np.zeros(N), div_yield=np.zeros(N), is_call=np.ones(N, bool))
    with pytest.raises(TypeError, match=r"^spot: expected dtype float64 or float32 in native byte order"):
        _core.bs_price(spot=SPOT.astype(SPOT.dtype.newbyteorder()), **kwargs, out=np.empty(N), threads=1)
    with pytest.raises(TypeError, match=r"^spot: expected dtype float64 or float32, got float16"):
        _core.bs_price(spot=SPOT.astype(np.float16), **kwargs, out=np.empty(N), threads=1)
    with pytest.raises(TypeError, match=r"^is_call: expected dtype bool/uint8, got float64"):
        _core.bs_price(spot=SPOT, **{**kwargs, "is_call": np.ones(N)}, out=np.empty(N), threads=1)
    with pytest.raises(TypeError, match=r"^out: expected dtype float64 or float32, got int64"):
        _core.bs_price(spot=SPOT, **kwargs, out=np.empty(N, dtype=np.int64), threads=1)
    # The public layer converts what it can: a big-endian input is read correctly.
    np.testing.assert_array_equal(
        dk.bs_price(SPOT.astype(">f8"), STRIKE, TAU, VOL, 0.02, 0.01, True),
        dk.bs_price(SPOT, STRIKE, TAU, VOL, 0.02, 0.01, True),
    )
