"""Speedup of the correlation kernels over their NumPy twins (and pandas user code), one process.

Run from the repository root: python -m bench.speedup correlation

One row per case: kernel, size, threads, reference time, core time, speedup = reference /
core (medians of interleaved repeats, so machine drift hits both alike). ``floor`` says how
far the core is from its floor: for quadratic forms the dense-equivalent GFLOP/s (2 T n^2
flops per matrix, what BLAS must do) against the ~74 GFLOP/s NumPy's BLAS reaches here; for
per-date matrices the GB/s of matrix data streamed.
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pandas as pd

import dispersionkit as dk
from dispersionkit import reference as ref

from . import timing

# OpenBLAS worker threads busy-wait after each call: pause so they do not steal the next timing's core.
PAUSE_S = 0.1


def interleaved_medians(functions: dict, repeat: int) -> dict[str, float]:
    return timing.interleaved_medians(functions, repeat=repeat, pause_s=PAUSE_S)


def basket(T: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(n))
    return rng, w, rng.uniform(0.1, 0.6, size=(T, n))


def returns(T: int, n: int, missing: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 0.012 * (0.6 * rng.standard_normal((T, 1)) + 0.8 * rng.standard_normal((T, n)))
    if missing:
        x[rng.random((T, n)) < missing] = np.nan
    return x


def pandas_pairwise(x: np.ndarray, window: int) -> np.ndarray:
    """The pandas code users write: rolling().corr(), then the mean of the off-diagonal pairs."""
    T, n = x.shape
    c = pd.DataFrame(x).rolling(window).corr().to_numpy().reshape(T, n, n)
    off = c[:, ~np.eye(n, dtype=bool)]
    defined = np.isfinite(off)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(defined, off, 0.0).sum(1) / defined.sum(1)


def pandas_implied_formula(x: np.ndarray, window: int) -> np.ndarray:
    """The pandas code users write for the implied-correlation formula on realized vols."""
    n = x.shape[1]
    w = np.full(n, 1.0 / n)
    df = pd.DataFrame(x)
    vols = df.rolling(window).std() * np.sqrt(252)
    index_vol = (df @ w).rolling(window).std() * np.sqrt(252)
    ws = vols * w
    sq = (ws**2).sum(axis=1)
    return ((index_vol**2 - sq) / (ws.sum(axis=1) ** 2 - sq)).to_numpy()


def _row(kernel, size, threads, ref_s, core_s, floor=""):
    return dict(
        kernel=kernel, size=size, threads=threads, ref_s=ref_s, core_s=core_s, speedup=ref_s / core_s, floor=floor
    )


def quadform_rows(quick: bool) -> list[dict]:
    rows = []
    for T, n in [(2520, 500)] if quick else [(252, 2000), (2520, 500), (10_000, 100)]:
        rng, w, s = basket(T, n)
        R = dk.random_correlation(n, rng=rng)
        # The twin is NumPy BLAS ((U @ R) * U).sum(1), the best peer installed for this shape.
        fns = {"ref": lambda: ref.index_variance(w, s, R)}
        for t in (1, 2):
            fns[t] = lambda t=t: dk.index_variance(w, s, R, threads=t)
        times = interleaved_medians(fns, repeat=5 if quick else 11)
        for t in (1, 2):
            gflops = 2 * T * n * n / times[t] / 1e9
            rows.append(
                _row(
                    "index_variance shared R",
                    f"T={T} n={n}",
                    t,
                    times["ref"],
                    times[t],
                    f"{gflops:.0f} dense-eq GFLOP/s",
                )
            )
    S, T, n = 10, 2520, 500
    rng, w, s = basket(T, n)
    scen = np.stack([dk.random_correlation(n, rng=rng) for _ in range(S)])
    times = interleaved_medians(
        {
            "ref": lambda: ref.index_variance(w, s, scen, scenarios=True),
            2: lambda: dk.index_variance(w, s, scen, scenarios=True),
        },
        repeat=3,
    )
    rows.append(
        _row(
            "index_variance scenarios",
            f"S={S} T={T} n={n}",
            2,
            times["ref"],
            times[2],
            f"{2 * S * T * n * n / times[2] / 1e9:.0f} dense-eq GFLOP/s",
        )
    )
    for T, n in [(252, 100)] if quick else [(252, 100), (2520, 100)]:
        rng, w, s = basket(T, n)
        Rs = np.stack([dk.random_correlation(n, rng=rng) for _ in range(min(T, 64))])
        Rs = Rs[np.arange(T) % Rs.shape[0]]
        fns = {"ref": lambda: ref.index_variance(w, s, Rs)}
        for t in (1, 2):
            fns[t] = lambda t=t: dk.index_variance(w, s, Rs, threads=t)
        times = interleaved_medians(fns, repeat=7 if quick else 21)
        for t in (1, 2):
            rows.append(
                _row(
                    "index_variance per-date R",
                    f"T={T} n={n}",
                    t,
                    times["ref"],
                    times[t],
                    f"{Rs.nbytes / times[t] / 1e9:.0f} GB/s",
                )
            )
    return rows


def rolling_rows(quick: bool) -> list[dict]:
    rows = []
    T, n, W = 8000, 100, 63
    for missing in (0.0, 0.01):
        x = returns(T, n, missing)
        label = f"T={T} n={n} W={W}" + (f" {missing:.0%} NaN" if missing else "")
        for method in ("pairwise", "implied_formula"):
            fns = {"ref": lambda m=method: ref.realized_correlation(x, W, method=m)}
            for t in (1, 2):
                fns[t] = lambda t=t, m=method: dk.realized_correlation(x, W, method=m, threads=t)
            times = interleaved_medians(fns, repeat=3 if (quick or missing) else 7)
            for t in (1, 2):
                rows.append(_row(f"realized {method} vs NumPy", label, t, times["ref"], times[t]))
            if quick:
                continue
            user = pandas_pairwise if method == "pairwise" else pandas_implied_formula
            start = time.perf_counter()
            expected = user(x, W)  # slow: measured once
            user_s = time.perf_counter() - start
            np.testing.assert_allclose(dk.realized_correlation(x, W, method=method), expected, rtol=0, atol=1e-10)
            rows.append(_row(f"realized {method} vs pandas", label, 2, user_s, times[2]))
            if method == "pairwise":
                pandas_pairwise_s = user_s
            else:  # the same question answered by the rolling-corr code users write
                rows.append(
                    _row("realized implied_formula vs pandas rolling corr", label, 2, pandas_pairwise_s, times[2])
                )
    return rows


def late_listings(x: np.ndarray, names: int = 5, seed: int = 3) -> np.ndarray:
    """``names`` columns with no history before a listing date in the first 60% of the dates."""
    rng = np.random.default_rng(seed)
    x = x.copy()
    T, n = x.shape
    for j in rng.choice(n, size=names, replace=False):
        x[: rng.integers(T // 10, 6 * T // 10), j] = np.nan
    return x


def pandas_pair_seconds(x: np.ndarray, window: int, pairs: int = 40) -> float:
    """pandas per-pair ``Series.rolling(window).corr(other)`` time for every pair of x, from ``pairs`` pairs timed."""
    df = pd.DataFrame(x)
    n = x.shape[1]
    chosen = [(k % n, (k * 7 + 1) % n) for k in range(pairs)]
    chosen = [(i, j) for i, j in chosen if i != j]
    start = time.perf_counter()
    for i, j in chosen:
        df[i].rolling(window).corr(df[j])
    return (time.perf_counter() - start) / len(chosen) * n * (n - 1) / 2


def missing_data_rows(quick: bool) -> list[dict]:
    """Rolling pairwise average with missing data: complete, 1% missing at random, 5 late listings.

    Per size: the kernel's interleaved medians for the three patterns on 1 and 2 threads;
    ``vs_complete`` = time / time on complete data (same threads); ``speedup`` = the NumPy twin's
    time / the kernel's, both measured on the same data (for n = 500 on the first 315 dates:
    the twin needs ~140 s for all 2520); ``vs_pandas`` = pandas time / kernel time, where pandas
    is the full ``DataFrame.rolling(W).corr()`` plus the off-diagonal mean for n <= 100 and, for
    n = 500 (a 5 GB result), ``Series.rolling(W).corr()`` per pair timed on 40 pairs and scaled
    to all pairs. With numba, one more row per size: a loop doing only one square root and one
    division per pair and date (bench.numba_rolling), on one thread, against the kernel's
    one-thread time on complete data: the least a kernel with one root and one division per pair
    and date can spend.
    """
    rows = []
    T, W = 2520, 63
    with_numba = importlib.util.find_spec("numba") is not None
    if not with_numba:
        print("numba is not installed (pip install '.[bench]'): no per-pair root + division floor row")
    for n in [50] if quick else [50, 100, 500]:
        complete = returns(T, n)
        patterns = {"complete": complete, "1% NaN": returns(T, n, 0.01), "5 late listings": late_listings(complete)}
        fns = {}
        for name, x in patterns.items():
            for t in (1, 2):
                fns[f"{name} {t}"] = lambda x=x, t=t: dk.realized_correlation(x, W, threads=t)
        times = interleaved_medians(fns, repeat=3 if quick else 5)
        twin_T = T if n <= 100 else 5 * W
        for name, x in patterns.items():
            part = x[:twin_T]
            twin = interleaved_medians(
                {
                    "ref": lambda p=part: ref.realized_correlation(p, W),
                    "core": lambda p=part: dk.realized_correlation(p, W),
                },
                repeat=1 if n > 100 else 3,
            )
            if quick:
                pandas_s = float("nan")
            elif n <= 100:
                start = time.perf_counter()
                pandas_pairwise(x, W)
                pandas_s = time.perf_counter() - start
            else:
                pandas_s = pandas_pair_seconds(x, W)
            for t in (1, 2):
                core = times[f"{name} {t}"]
                row = _row(f"realized pairwise, {name}", f"T={T} n={n} W={W}", t, float("nan"), core)
                row["speedup"] = twin["ref"] / twin["core"] if t == 2 else float("nan")
                row["ref_s"] = twin["ref"] * T / twin_T if t == 2 else float("nan")
                row["vs_complete"] = core / times[f"complete {t}"]
                row["vs_pandas"] = pandas_s / core
                rows.append(row)
        if with_numba:
            from .numba_rolling import root_division_seconds

            floor_s = root_division_seconds(n, T)
            row = _row("per-pair root + division alone (numba)", f"T={T} n={n} W={W}", 1, float("nan"), floor_s)
            row["speedup"] = float("nan")
            row["vs_complete"] = floor_s / times["complete 1"]
            row["floor"] = "one root + one division per pair: the per-pair kernel's floor"
            rows.append(row)
    return rows


COLUMNS = ["kernel", "size", "threads", "ref_s", "core_s", "speedup", "vs_complete", "vs_pandas", "floor"]


def rows(quick: bool = False) -> list[dict]:
    """All cases as dicts with COLUMNS (the shape bench/speedup.py tables expect)."""
    return quadform_rows(quick) + rolling_rows(quick) + missing_data_rows(quick)
