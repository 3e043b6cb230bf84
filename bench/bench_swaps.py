"""pytest-benchmark suite for variance-swap strikes and book risk: core and NumPy twin in one
group each, every result checked against the other.

pytest bench/bench_swaps.py --benchmark-group-by=group
"""

import numpy as np
import pytest

import dispersionkit as dk

from .speedup_swaps import book_setup, strips

STRIPS = 1_000
GROUP_STRIKES = f"variance_swap_strike {STRIPS} strips x 50 strikes"
GROUP_RISK = "book_risk 2,000 paths x 63 days x 40 legs"


@pytest.fixture(scope="module")
def strip_case():
    case = strips(STRIPS)
    return case, dk.reference.variance_swap_strike(*case).strike


@pytest.mark.benchmark(group=GROUP_STRIKES)
def test_strikes_reference(benchmark, strip_case):
    case, _expected = strip_case
    result = benchmark(dk.reference.variance_swap_strike, *case)
    np.testing.assert_allclose(result.strike, dk.variance_swap_strike(*case).strike, rtol=1e-10)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.benchmark(group=GROUP_STRIKES)
def test_strikes_core(benchmark, strip_case, threads):
    case, expected = strip_case
    result = benchmark(dk.variance_swap_strike, *case, threads=threads)
    np.testing.assert_allclose(result.strike, expected, rtol=1e-10)


@pytest.fixture(scope="module")
def risk_case():
    from dispersionkit.reference.book_risk import run_paths

    setup = book_setup()
    return setup, run_paths(setup, 0, 2_000).pnl


@pytest.mark.benchmark(group=GROUP_RISK)
def test_risk_reference(benchmark, risk_case):
    from dispersionkit.reference.book_risk import run_paths

    setup, expected = risk_case
    result = benchmark.pedantic(run_paths, args=(setup, 0, 2_000), rounds=2, iterations=1)
    np.testing.assert_allclose(result.pnl, expected, rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.benchmark(group=GROUP_RISK)
def test_risk_core(benchmark, risk_case, threads):
    setup, expected = risk_case
    result = benchmark.pedantic(setup.run_paths, args=(0, 2_000), kwargs=dict(threads=threads), rounds=3, iterations=1)
    np.testing.assert_allclose(result.pnl, expected, rtol=1e-9, atol=1e-6)
