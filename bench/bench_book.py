"""pytest-benchmark suite for hedged_pnl: core and NumPy reference in one group, each checked against the other.

pytest bench/bench_book.py --benchmark-group-by=group
"""

import numpy as np
import pytest

import dispersionkit as dk

from .speedup_book import book, market

PATHS = 10_000


@pytest.fixture(scope="module")
def case():
    spots, vols = market(PATHS)
    b = book()
    expected = dk.reference.hedged_pnl(b, spots, vols, detail="summary").summary.total
    return b, spots, vols, expected


@pytest.mark.benchmark(group="hedged_pnl P=10000 T=63 L=42")
def test_reference(benchmark, case):
    b, spots, vols, _expected = case
    result = benchmark.pedantic(
        dk.reference.hedged_pnl, args=(b, spots, vols), kwargs=dict(detail="summary"), rounds=2, iterations=1
    )
    np.testing.assert_allclose(result.summary.total, dk.hedged_pnl(b, spots, vols).summary.total, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.benchmark(group="hedged_pnl P=10000 T=63 L=42")
def test_core(benchmark, case, threads):
    b, spots, vols, expected = case
    result = benchmark.pedantic(
        dk.hedged_pnl, args=(b, spots, vols), kwargs=dict(detail="summary", threads=threads), rounds=5, iterations=1
    )
    np.testing.assert_allclose(result.summary.total, expected, rtol=1e-9, atol=1e-9)
