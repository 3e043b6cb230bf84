"""pytest-benchmark suite for the stress grid: core and NumPy reference in one group, each checked.

pytest bench/bench_stress.py --benchmark-group-by=group
"""

import numpy as np
import pytest

import dispersionkit as dk

from .speedup_stress import CORRS, SPOTS, VOLS, position

GROUP = "stress_grid 50x20x20 grid x 42 legs"


@pytest.fixture(scope="module")
def case():
    pos = position()
    return pos, dk.reference.stress_grid(pos, SPOTS, VOLS, CORRS).pnl


@pytest.mark.benchmark(group=GROUP)
def test_reference(benchmark, case):
    pos, _expected = case
    result = benchmark.pedantic(dk.reference.stress_grid, args=(pos, SPOTS, VOLS, CORRS), rounds=3, iterations=1)
    np.testing.assert_allclose(
        result.pnl, dk.stress_grid(pos, SPOTS, VOLS, CORRS).pnl, rtol=1e-10, atol=1e-9 * pos.premium
    )


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.benchmark(group=GROUP)
def test_core(benchmark, case, threads):
    pos, expected = case
    result = benchmark.pedantic(
        dk.stress_grid, args=(pos, SPOTS, VOLS, CORRS), kwargs=dict(threads=threads), rounds=10, iterations=1
    )
    np.testing.assert_allclose(result.pnl, expected, rtol=1e-10, atol=1e-9 * pos.premium)
