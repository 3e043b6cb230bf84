"""pytest-benchmark suite: `pytest bench/bench_paths.py --benchmark-only` (reference and core in one group)."""

import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import reference as ref

from .speedup_paths import market

CASES = {
    "100x252x20": (100, 252, 20, False),
    "10000x252x20": (10_000, 252, 20, False),
    "2000x252x20+regimes": (2_000, 252, 20, True),
}


@pytest.fixture(scope="module")
def expected():
    cache = {}

    def get(case):
        if case not in cache:
            args, kwargs = market(*CASES[case])
            cache[case] = ref.simulate_market(*args, **kwargs)
        return cache[case]

    return get


def run(benchmark, fn, case):
    benchmark.group = f"simulate_market {case}"
    args, kwargs = market(*CASES[case])
    rounds = 3 if CASES[case][0] >= 1_000 else 10
    return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=rounds, iterations=1)


@pytest.mark.parametrize("case", CASES)
def test_reference(benchmark, case):
    result = run(benchmark, ref.simulate_market, case)
    args, kwargs = market(*CASES[case])
    core = dk.simulate_market(*args, **kwargs)
    np.testing.assert_allclose(result.components, core.components, rtol=1e-11, atol=0)
    np.testing.assert_allclose(result.index, core.index, rtol=1e-11, atol=0)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [1, 2])
def test_core(benchmark, case, threads, expected):
    result = run(benchmark, lambda *a, **k: dk.simulate_market(*a, **k, threads=threads), case)
    np.testing.assert_allclose(result.components, expected(case).components, rtol=1e-11, atol=0)
    np.testing.assert_allclose(result.index, expected(case).index, rtol=1e-11, atol=0)
