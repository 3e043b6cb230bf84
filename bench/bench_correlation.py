"""pytest-benchmark suite: `pytest bench/bench_correlation.py --benchmark-only`.

Each group holds the NumPy reference and the core (1 and 2 threads); every core benchmark
asserts it agrees with the reference. The pandas user code for rolling correlation takes
seconds: it is timed once by bench/speedup_correlation.py, not here.
"""

import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import reference as ref


@pytest.fixture(scope="module")
def shared():
    rng = np.random.default_rng(0)
    T, n = 2520, 500
    return rng.dirichlet(np.ones(n)), rng.uniform(0.1, 0.6, size=(T, n)), dk.random_correlation(n, rng=rng)


@pytest.fixture(scope="module")
def per_date():
    rng = np.random.default_rng(1)
    T, n = 252, 100
    return (
        rng.dirichlet(np.ones(n)),
        rng.uniform(0.1, 0.6, size=(T, n)),
        np.stack([dk.random_correlation(n, rng=rng) for _ in range(T)]),
    )


@pytest.fixture(scope="module")
def daily_returns():
    rng = np.random.default_rng(2)
    T, n = 8000, 100
    return 0.012 * (0.6 * rng.standard_normal((T, 1)) + 0.8 * rng.standard_normal((T, n)))


@pytest.mark.benchmark(group="index_variance shared R T=2520 n=500")
def test_shared_reference(benchmark, shared):
    result = benchmark(ref.index_variance, *shared)
    np.testing.assert_allclose(result, dk.index_variance(*shared), rtol=1e-12)


@pytest.mark.benchmark(group="index_variance shared R T=2520 n=500")
@pytest.mark.parametrize("threads", [1, 2])
def test_shared_core(benchmark, shared, threads):
    result = benchmark(dk.index_variance, *shared, threads=threads)
    np.testing.assert_allclose(result, ref.index_variance(*shared), rtol=1e-12)


@pytest.mark.benchmark(group="index_variance per-date R T=252 n=100")
def test_per_date_reference(benchmark, per_date):
    result = benchmark(ref.index_variance, *per_date)
    np.testing.assert_allclose(result, dk.index_variance(*per_date), rtol=1e-12)


@pytest.mark.benchmark(group="index_variance per-date R T=252 n=100")
@pytest.mark.parametrize("threads", [1, 2])
def test_per_date_core(benchmark, per_date, threads):
    result = benchmark(dk.index_variance, *per_date, threads=threads)
    np.testing.assert_allclose(result, ref.index_variance(*per_date), rtol=1e-12)


@pytest.mark.parametrize("method", ["pairwise", "implied_formula"])
def test_rolling_reference(benchmark, daily_returns, method):
    benchmark.group = f"realized_correlation {method} T=8000 n=100 W=63"
    result = benchmark(ref.realized_correlation, daily_returns, 63, method=method)
    np.testing.assert_allclose(result, dk.realized_correlation(daily_returns, 63, method=method), atol=1e-11)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("method", ["pairwise", "implied_formula"])
def test_rolling_core(benchmark, daily_returns, method, threads):
    benchmark.group = f"realized_correlation {method} T=8000 n=100 W=63"
    result = benchmark(dk.realized_correlation, daily_returns, 63, method=method, threads=threads)
    np.testing.assert_allclose(result, ref.realized_correlation(daily_returns, 63, method=method), atol=1e-11)
