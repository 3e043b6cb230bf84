"""Speedup table for simulate_market: core vs the NumPy reference, same process.

`python -m bench.speedup paths` from the repository root. Rows: ref_s is the NumPy twin
(same Philox stream, same paths); native_s is the same model written on NumPy's own
Generator (a different random stream, so different paths): the baseline of a user who does
not need the reproducible counter-based stream. floor_pct = time NumPy needs just to
allocate and write output arrays of the same size (page faults + memory bandwidth) as a
percentage of the core's time: no implementation returning fresh arrays can beat it.
"""

from __future__ import annotations

import numpy as np

import dispersionkit as dk
from dispersionkit import reference as ref

from .timing import interleaved_medians

COLUMNS = [
    "kernel",
    "paths",
    "steps",
    "n",
    "threads",
    "ref_s",
    "core_s",
    "speedup",
    "native_s",
    "vs_native",
    "floor_pct",
]
CASES = ((100, 252, 20, False), (10_000, 252, 20, False), (2_000, 252, 20, True))


def equicorrelation(n: int, rho: float) -> np.ndarray:
    matrix = np.full((n, n), rho)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def market(paths: int, steps: int, n: int, with_regimes: bool) -> tuple[tuple, dict]:
    """(spot0, vols, corr) and keyword arguments of one benchmark case."""
    rng = np.random.default_rng(0)
    spot0, vols = rng.uniform(20.0, 200.0, n), rng.uniform(0.15, 0.5, n)
    kwargs = dict(steps=steps, paths=paths, seed=1)
    if not with_regimes:
        return (spot0, vols, equicorrelation(n, 0.4)), kwargs
    transition = np.array([[0.98, 0.02], [0.10, 0.90]])
    regimes = dk.Regimes(np.stack([equicorrelation(n, 0.3), equicorrelation(n, 0.9)]), transition=transition)
    return (spot0, vols, None), {**kwargs, "regimes": regimes}


def numpy_native(spot0, vols, corr, *, steps, paths, seed, dt=1.0 / 252.0):
    """The same GBM + equal-weight index on NumPy's Generator (not the same stream as dk)."""
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
    return components.transpose(1, 0, 2), (components @ (100.0 / n / spot0)).T


def output_floor(paths: int, steps: int, n: int) -> None:
    np.empty((paths, steps + 1, n)).fill(1.0)
    np.empty((paths, steps + 1)).fill(1.0)


def rows(cases=CASES, repeat: int = 3) -> list[dict]:
    out_rows = []
    for paths, steps, n, with_regimes in cases:
        args, kwargs = market(paths, steps, n, with_regimes)
        expected = ref.simulate_market(*args, **kwargs)
        fns = {"ref": lambda: ref.simulate_market(*args, **kwargs), "floor": lambda: output_floor(paths, steps, n)}
        if not with_regimes:
            fns["native"] = lambda: numpy_native(*args, **kwargs)
        for t in (1, 2):
            result = dk.simulate_market(*args, **kwargs, threads=t)
            np.testing.assert_allclose(result.components, expected.components, rtol=1e-11, atol=0)
            np.testing.assert_allclose(result.index, expected.index, rtol=1e-11, atol=0)
            fns[f"core_{t}"] = lambda t=t: dk.simulate_market(*args, **kwargs, threads=t)
        times = interleaved_medians(fns, repeat=repeat if paths >= 1_000 else repeat * 10)
        for t in (1, 2):
            core = times[f"core_{t}"]
            row = dict(
                kernel="simulate_market" + ("+regimes" if with_regimes else ""),
                paths=paths,
                steps=steps,
                n=n,
                threads=t,
                ref_s=times["ref"],
                core_s=core,
                speedup=times["ref"] / core,
                floor_pct=100 * times["floor"] / core,
            )
            if "native" in times:
                row.update(native_s=times["native"], vs_native=times["native"] / core)
            out_rows.append(row)
    return out_rows
