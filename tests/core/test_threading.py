"""The thread pool seen from Python: any ``threads=`` gives the same bits and never starts more OS
threads than cores, and many Python threads can call the kernels at once."""

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dispersionkit as dk

pytestmark = pytest.mark.threading

THREAD_COUNTS = (1, 2, 3, 7, 10**6)


def kernels():
    """One call per kernel family, as functions of ``threads``; inputs large enough to split."""
    rng = np.random.default_rng(11)
    n = 60_000
    spot, strike = rng.uniform(50, 150, n), rng.uniform(50, 150, n)
    tau, vol = rng.uniform(0.05, 2.0, n), rng.uniform(0.05, 0.8, n)
    price = dk.bs_price(spot, strike, tau, vol, 0.02, 0.01, True)
    returns = rng.normal(0.0, 0.01, (1500, 12))
    returns[rng.random(returns.shape) < 0.01] = np.nan
    weights = np.full(12, 1 / 12)
    corr = np.full((12, 12), 0.3) + 0.7 * np.eye(12)
    paths = dk.simulate_market(np.full(3, 100.0), 0.3, np.full((3, 3), 0.4) + 0.6 * np.eye(3), steps=40, paths=300)
    spots = np.concatenate([paths.index[..., None], paths.components], axis=-1)
    book = dk.straddle(0, 100.0, 0.2, -1.0) + dk.Book([dk.straddle(i, 100.0, 0.1, 0.3) for i in (1, 2, 3)])
    return {
        "bs_greeks": lambda t: dk.bs_greeks(spot, strike, tau, vol, 0.02, 0.01, True, threads=t).arrays(),
        "implied_vol": lambda t: [dk.implied_vol(price, spot, strike, tau, 0.02, 0.01, True, threads=t)],
        "realized_vol": lambda t: [dk.realized_vol(returns, 63, min_periods=20, threads=t)],
        "realized_correlation": lambda t: [dk.realized_correlation(returns, 63, threads=t)],
        "correlation_matrices": lambda t: [dk.realized_correlation(returns[:300], 21, method="matrix", threads=t)],
        "index_variance": lambda t: [dk.index_variance(weights, np.abs(returns) * 20, corr, threads=t)],
        "implied_correlation": lambda t: [
            dk.implied_correlation(np.full(1500, 0.2), np.abs(returns) * 20 + 0.1, weights, threads=t).value
        ],
        "simulate_market": lambda t: [
            dk.simulate_market(np.full(5, 100.0), 0.3, corr[:5, :5], steps=30, paths=500, threads=t).components
        ],
        "hedged_pnl": lambda t: [dk.hedged_pnl(book, spots, 0.25, detail="steps", threads=t).steps.net],
    }


KERNELS = kernels()


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_any_thread_count_gives_the_same_bits(name):
    call = KERNELS[name]
    expected = call(1)
    for threads in THREAD_COUNTS[1:]:
        for got, want in zip(call(threads), expected):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=f"{name}, threads={threads}")


def test_a_million_threads_start_at_most_one_worker_per_core():
    # In a fresh interpreter: count the process's OS threads around calls asking for 10**6.
    code = textwrap.dedent(
        """
        import os
        import numpy as np
        import dispersionkit as dk

        def count():
            return len(os.listdir("/proc/self/task"))

        before = count()
        spot = np.linspace(50.0, 150.0, 2_000_000)
        for _ in range(3):
            dk.bs_greeks(spot, 100.0, 1.0, 0.2, threads=10**6)
            dk.implied_vol(np.full(200_000, 10.0), 100.0, 100.0, 1.0, threads=10**6)
        print(count() - before, dk.hardware_threads())
        """
    )
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("needs /proc")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    started, cores = map(int, out.stdout.split())
    assert started <= max(cores - 1, 0), (started, cores)


def test_python_threads_can_call_the_kernels_at_once():
    serial = {name: call(None) for name, call in KERNELS.items()}
    jobs = [name for name in sorted(KERNELS) for _ in range(3)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: (name, KERNELS[name](None)), jobs))
    for name, arrays in results:
        for got, want in zip(arrays, serial[name]):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=name)
