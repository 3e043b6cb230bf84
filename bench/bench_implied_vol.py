"""pytest-benchmark suite for implied volatility (N = 1e5): core vs NumPy reference vs py_vollib_vectorized.

    pytest bench/bench_implied_vol.py --benchmark-group-by=group

Each group times the implementations on the same inputs; every benchmark asserts its answers
match the known vols on the well-posed options, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import dispersionkit as dk

sys.path.insert(0, str(Path(__file__).parent))
from speedup_implied_vol import make_case, run_core, run_pvv, run_reference

N = 100_000
CASES = {name: make_case(name, N) for name in ("body", "wide")}


def check(vol_hat, case):
    """Known vols recovered where the price determines vol to better than 1e-6 relative."""
    vega = dk.bs_greeks(case["S"], case["K"], case["T"], case["vol"], case["r"], case["q"], case["call"]).vega
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cond = case["price"] / (case["vol"] * vega)
    posed = np.isfinite(cond) & (cond < 1e6) & (case["price"] > 1e-290 * case["S"])
    np.testing.assert_allclose(vol_hat[posed], case["vol"][posed], rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("impl", ["reference", "core-1", "core-2", "py_vollib_vectorized"])
def test_implied_vol(benchmark, name, impl):
    case = CASES[name]
    benchmark.group = f"implied_vol-{name}-{N}"
    if impl == "reference":
        vol_hat = benchmark(run_reference, case)
    elif impl == "py_vollib_vectorized":
        pytest.importorskip("py_vollib_vectorized")
        vol_hat = benchmark(run_pvv, case)
    else:
        vol_hat = benchmark(run_core, case, int(impl[-1]))
    check(vol_hat, case)
