"""Speedup of dk.simulate_market over its NumPy twin, timed in one process.

Run: python bench/speedup_paths.py [--quick]

Prints one row per case: kernel, size, threads, reference time, core time, speedup (medians
of interleaved repeats), plus the core's distance from a floor: the time NumPy needs just to
allocate and write output arrays of the same size (page faults + memory bandwidth), which
no implementation returning fresh arrays can beat. The "numpy_native" rows time a NumPy GBM
on NumPy's own Generator (a different random stream, so not the same paths): the speedup a
user would see who does not need the reproducible counter-based stream.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import dispersionkit as dk


def equicorrelation(n: int, rho: float) -> np.ndarray:
    matrix = np.full((n, n), rho)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def market(n: int, regimes: bool):
    rng = np.random.default_rng(0)
    spot0 = rng.uniform(20.0, 200.0, n)
    vols = rng.uniform(0.15, 0.5, n)
    if not regimes:
        return spot0, vols, equicorrelation(n, 0.4), None
    transition = np.array([[0.98, 0.02], [0.10, 0.90]])
    return spot0, vols, None, dk.Regimes(np.stack([equicorrelation(n, 0.3), equicorrelation(n, 0.9)]),
                                          transition=transition)


def numpy_native(spot0, vols, corr, *, steps, paths, dt=1.0 / 252.0, seed=0):
    """The same GBM + index written with NumPy's Generator (not the same stream as dk)."""
    n = spot0.size
    chol = np.linalg.cholesky(corr)
    rng = np.random.default_rng(seed)
    log_prices = np.empty((steps + 1, paths, n))  # time-major: each step writes one block
    log_prices[0] = np.log(spot0)
    drift_term, diffusion = -0.5 * vols**2 * dt, vols * np.sqrt(dt)
    for t in range(steps):
        z = rng.standard_normal((paths, n)) @ chol.T
        np.add(log_prices[t], drift_term + diffusion * z, out=log_prices[t + 1])
    components = np.exp(log_prices, out=log_prices)
    shares = 100.0 / n / spot0
    return components.transpose(1, 0, 2), (components @ shares).T


def output_floor(paths: int, steps: int, n: int) -> None:
    np.empty((paths, steps + 1, n)).fill(1.0)
    np.empty((paths, steps + 1)).fill(1.0)


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def speedup_paths(cases=((100, 252, 20, False), (10_000, 252, 20, False), (2_000, 252, 20, True)),
                  threads=(1, 2), repeats=3) -> list[dict]:
    """Print and return one row per (case, threads); medians of `repeats` interleaved runs."""
    rows = []
    header = f"{'kernel':<28}{'paths x steps x n':>20}{'threads':>8}{'reference s':>13}{'core s':>10}" \
             f"{'speedup':>9}{'core/floor':>11}"
    print(header)
    print("-" * len(header))
    for paths, steps, n, with_regimes in cases:
        spot0, vols, corr, regimes = market(n, with_regimes)
        kwargs = dict(steps=steps, paths=paths, regimes=regimes, seed=1)
        ref = dk.reference.simulate_market(spot0, vols, corr, **kwargs)
        for nthreads in threads:
            core = dk.simulate_market(spot0, vols, corr, threads=nthreads, **kwargs)
            assert np.allclose(core.components, ref.components, rtol=1e-11, atol=0)
            assert np.allclose(core.index, ref.index, rtol=1e-11, atol=0)
            baselines = {"reference": lambda: dk.reference.simulate_market(spot0, vols, corr, **kwargs)}
            if not with_regimes:
                baselines["numpy_native"] = lambda: numpy_native(spot0, vols, corr, steps=steps, paths=paths)
            times = {name: [] for name in (*baselines, "core", "floor")}
            for _ in range(repeats):
                for name, fn in baselines.items():
                    times[name].append(_time(fn))
                times["core"].append(_time(lambda: dk.simulate_market(spot0, vols, corr, threads=nthreads, **kwargs)))
                times["floor"].append(_time(lambda: output_floor(paths, steps, n)))
            med = {name: statistics.median(values) for name, values in times.items()}
            kernel = "simulate_market" + ("+regimes" if with_regimes else "")
            for name in baselines:
                row = dict(kernel=kernel, baseline=name, paths=paths, steps=steps, n=n, threads=nthreads,
                           reference_s=med[name], core_s=med["core"], speedup=med[name] / med["core"],
                           core_over_floor=med["core"] / med["floor"])
                rows.append(row)
                label = kernel if name == "reference" else f"{kernel} vs {name}"
                print(f"{label:<28}{f'{paths} x {steps} x {n}':>20}{nthreads:>8}{row['reference_s']:>13.4f}"
                      f"{row['core_s']:>10.4f}{row['speedup']:>8.1f}x{row['core_over_floor']:>10.1f}x", flush=True)
    return rows


if __name__ == "__main__":
    if "--quick" in sys.argv:
        speedup_paths(cases=((100, 252, 20, False), (1_000, 252, 20, False)), repeats=3)
    else:
        speedup_paths()
