"""pytest-benchmark suite: `pytest bench/bench_greeks.py --benchmark-only` (reference and core in one group)."""

import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import reference as ref

from .speedup_greeks import options

N = 1_000_000


@pytest.fixture(scope="module")
def inputs():
    return options(N)


@pytest.mark.benchmark(group="bs_greeks N=1e6")
def test_reference(benchmark, inputs):
    result = benchmark(ref.bs_greeks, **inputs)
    np.testing.assert_allclose(result.price, dk.bs_greeks(**inputs).price, rtol=1e-11, atol=1e-11)


@pytest.mark.benchmark(group="bs_greeks N=1e6")
@pytest.mark.parametrize("threads", [1, 2])
def test_core(benchmark, inputs, threads):
    out = dk.Greeks.empty(N)
    result = benchmark(dk.bs_greeks, **inputs, threads=threads, out=out)
    expected = ref.bs_greeks(**inputs)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        np.testing.assert_allclose(getattr(result, name), getattr(expected, name), rtol=1e-9, atol=1e-9)


@pytest.mark.benchmark(group="bs_greeks N=1e6")
def test_numba_parallel(benchmark, inputs):
    from .numba_greeks import run

    out = np.empty((10, N))
    benchmark(run, inputs, out)
    np.testing.assert_allclose(out[0], dk.bs_greeks(**inputs).price, rtol=1e-9, atol=1e-9)


@pytest.mark.benchmark(group="bs_price N=1e6")
def test_reference_price(benchmark, inputs):
    benchmark(ref.bs_price, **inputs)


@pytest.mark.benchmark(group="bs_price N=1e6")
@pytest.mark.parametrize("threads", [1, 2])
def test_core_price(benchmark, inputs, threads):
    out = np.empty(N)
    result = benchmark(dk.bs_price, **inputs, threads=threads, out=out)
    np.testing.assert_allclose(result, ref.bs_price(**inputs), rtol=1e-11, atol=1e-11)
