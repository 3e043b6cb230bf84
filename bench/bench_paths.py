"""pytest-benchmark: dk.simulate_market vs its NumPy twin, same group per case.

Run: python -m pytest bench/bench_paths.py --benchmark-only  (or bench/speedup_paths.py for ratios)
"""

import numpy as np
import pytest

import dispersionkit as dk

CASES = {
    "100x252x20": (100, 252, 20, False),
    "10000x252x20": (10_000, 252, 20, False),
    "2000x252x20+regimes": (2_000, 252, 20, True),
}


def inputs(paths, steps, n, with_regimes):
    rng = np.random.default_rng(0)
    spot0, vols = rng.uniform(20.0, 200.0, n), rng.uniform(0.15, 0.5, n)

    def equi(rho):
        matrix = np.full((n, n), rho)
        np.fill_diagonal(matrix, 1.0)
        return matrix

    if with_regimes:
        regimes = dk.Regimes(np.stack([equi(0.3), equi(0.9)]), transition=[[0.98, 0.02], [0.1, 0.9]])
        return (spot0, vols, None), dict(steps=steps, paths=paths, regimes=regimes, seed=1)
    return (spot0, vols, equi(0.4)), dict(steps=steps, paths=paths, seed=1)


@pytest.fixture(scope="module")
def expected():
    cache = {}

    def get(case):
        if case not in cache:
            args, kwargs = inputs(*CASES[case])
            cache[case] = dk.reference.simulate_market(*args, **kwargs)
        return cache[case]

    return get


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("impl", ["reference", "core"])
def test_simulate_market(benchmark, case, impl, expected):
    benchmark.group = f"simulate_market {case}"
    args, kwargs = inputs(*CASES[case])
    fn = dk.reference.simulate_market if impl == "reference" else dk.simulate_market
    rounds = 3 if CASES[case][0] >= 2_000 else 10
    result = benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=rounds, iterations=1)
    np.testing.assert_allclose(result.components, expected(case).components, rtol=1e-11, atol=0)
    np.testing.assert_allclose(result.index, expected(case).index, rtol=1e-11, atol=0)
