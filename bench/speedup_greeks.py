"""Speedup table for the Black-Scholes kernels: core vs the NumPy reference (and numba)."""

from __future__ import annotations

import numpy as np

import dispersionkit as dk
from dispersionkit import reference as ref

from .timing import interleaved_medians

# ~97 bytes per option moved (7 inputs read, 10 outputs written, read-for-ownership) at the
# bandwidth measured on this machine (shared/notes/performance-notes.md): ~257 M/s per thread.
BANDWIDTH_FLOOR_PER_THREAD = 257e6


def options(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    spot = rng.uniform(50, 150, n)
    return dict(
        spot=spot,
        strike=spot * np.exp(rng.uniform(-0.5, 0.5, n)),
        tau=rng.uniform(1 / 365, 3, n),
        vol=rng.uniform(0.05, 0.8, n),
        rate=rng.uniform(0, 0.08, n),
        div_yield=rng.uniform(0, 0.04, n),
        is_call=rng.random(n) < 0.5,
    )


def rows() -> list[dict]:
    return kernel_rows() + gil_release_rows()


def kernel_rows(sizes=(1, 1_000, 10_000, 1_000_000), repeat: int = 7, with_numba: bool = True) -> list[dict]:
    out_rows = []
    for n in sizes:
        x = options(n)
        reps = repeat if n >= 100_000 else repeat * 30
        out = dk.Greeks.empty(n)
        price_out = np.empty(n)
        fns = {
            "ref_greeks": lambda: ref.bs_greeks(**x),
            "ref_price": lambda: ref.bs_price(**x),
        }
        for t in (1, 2):
            fns[f"greeks_{t}"] = lambda t=t: dk.bs_greeks(**x, threads=t, out=out)
            fns[f"price_{t}"] = lambda t=t: dk.bs_price(**x, threads=t, out=price_out)
        if with_numba:
            from .numba_greeks import run as numba_run

            numba_out = np.empty((10, n))
            fns["numba_2"] = lambda: numba_run(x, numba_out)
        times = interleaved_medians(fns, repeat=reps)
        for t in (1, 2):
            for kind in ("greeks", "price"):
                core = times[f"{kind}_{t}"]
                row = dict(
                    kernel=f"bs_{kind}",
                    N=n,
                    threads=t,
                    ref_s=times[f"ref_{kind}"],
                    core_s=core,
                    speedup=times[f"ref_{kind}"] / core,
                    M_per_s=n / core / 1e6,
                )
                if kind == "greeks":
                    row["floor_pct"] = 100 * (n / core) / (BANDWIDTH_FLOOR_PER_THREAD * t)
                    if with_numba and t == 2:
                        row["vs_numba"] = times["numba_2"] / core
                out_rows.append(row)
    return out_rows


def gil_release_rows(n: int = 1_000_000, repeat: int = 5) -> list[dict]:
    """Two Python threads, each calling bs_greeks(threads=1), against the same two calls in a row.

    A ratio near 2 on a 2-core machine shows the GIL is released during compute.
    """
    import threading

    batches = [options(n, seed=s) for s in (1, 2)]
    outs = [dk.Greeks.empty(n) for _ in batches]

    def sequential():
        for x, out in zip(batches, outs):
            dk.bs_greeks(**x, threads=1, out=out)

    def concurrent():
        workers = [
            threading.Thread(target=dk.bs_greeks, kwargs=dict(**x, threads=1, out=out)) for x, out in zip(batches, outs)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    times = interleaved_medians({"sequential": sequential, "concurrent": concurrent}, repeat=repeat)
    return [
        dict(
            kernel="bs_greeks, 2 Python threads x threads=1",
            N=2 * n,
            threads=2,
            ref_s=times["sequential"],
            core_s=times["concurrent"],
            speedup=times["sequential"] / times["concurrent"],
            M_per_s=2 * n / times["concurrent"] / 1e6,
        )
    ]
