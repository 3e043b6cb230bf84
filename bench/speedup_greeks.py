"""Speedup table for the Black-Scholes kernels: core vs the NumPy reference (and numba)."""

from __future__ import annotations

import importlib.util

import numpy as np

import dispersionkit as dk
from dispersionkit import reference as ref
from dispersionkit.benchmark import benchmark_options as options

from .timing import interleaved_medians

# Elements of each triad array: 3 x 64 MB, far beyond any cache.
TRIAD_N = 8_000_000


def triad_bandwidth(threads: int, repeat: int = 7) -> float:
    """STREAM-like triad a = b + 3 c in this process (numba, `threads` threads): bytes/s, counted
    as STREAM does (24 bytes per element: two reads, one write)."""
    import numba

    from .numba_greeks import triad

    b, c, a = np.ones(TRIAD_N), np.full(TRIAD_N, 2.0), np.empty(TRIAD_N)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        seconds = interleaved_medians({"triad": lambda: triad(a, b, c)}, repeat=repeat)["triad"]
    finally:
        numba.set_num_threads(previous)
    return 24 * TRIAD_N / seconds


def bytes_per_option(inputs: dict, outputs: int, itemsize: int) -> int:
    """Bytes one option moves at least: its inputs read once (bool flags: 1 byte) and its outputs
    written once (write-allocate traffic not counted, as in STREAM)."""
    return sum(np.asarray(v).itemsize for v in inputs.values()) + outputs * itemsize


def rows() -> list[dict]:
    return kernel_rows() + gil_release_rows()


SELECTED = ("price", "delta", "vega")


def kernel_rows(sizes=(1_000, 10_000, 1_000_000), repeat: int = 7, with_numba: bool | None = None) -> list[dict]:
    """Per size and thread count: all ten Greeks into out= buffers (the kernel), the same
    allocating fresh outputs, three selected Greeks, float32 (inputs and outputs), bs_price.
    floor_pct = options/s against the bandwidth floor: triad bytes/s of this process at the same
    thread count over the bytes each option must move. The triad and the numba peer need numba
    (pip install ".[bench]"); without it (with_numba=None detects it) those columns are left out."""
    if with_numba is None:
        with_numba = importlib.util.find_spec("numba") is not None
        if not with_numba:
            print("numba is not installed (pip install '.[bench]'): no bandwidth floor or numba column")
    bandwidth = {t: triad_bandwidth(t) for t in (1, 2)} if with_numba else {}
    out_rows = []
    for n in sizes:
        x = options(n)
        x32 = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in x.items()}
        reps = repeat if n >= 100_000 else repeat * 30
        out, out3 = dk.Greeks.empty(n), dk.Greeks.empty(n, greeks=SELECTED)
        out32 = dk.Greeks.empty(n, dtype=np.float32)
        price_out = np.empty(n)
        variants = {
            # name: (call, reference time key, outputs, itemsize, inputs)
            "bs_greeks out=": (lambda t: dk.bs_greeks(**x, threads=t, out=out), "ref_greeks", 10, 8, x),
            "bs_greeks allocating": (lambda t: dk.bs_greeks(**x, threads=t), "ref_greeks", 10, 8, x),
            "bs_greeks 3 of 10 out=": (lambda t: dk.bs_greeks(**x, threads=t, out=out3), "ref_greeks", 3, 8, x),
            "bs_greeks float32 out=": (lambda t: dk.bs_greeks(**x32, threads=t, out=out32), "ref_greeks", 10, 4, x32),
            "bs_price out=": (lambda t: dk.bs_price(**x, threads=t, out=price_out), "ref_price", 1, 8, x),
        }
        fns = {"ref_greeks": lambda: ref.bs_greeks(**x), "ref_price": lambda: ref.bs_price(**x)}
        for name, (call, *_rest) in variants.items():
            for t in (1, 2):
                fns[(name, t)] = lambda call=call, t=t: call(t)
        if with_numba:
            from .numba_greeks import run as numba_run

            numba_out = np.empty((10, n))
            fns["numba_2"] = lambda: numba_run(x, numba_out)
        times = interleaved_medians(fns, repeat=reps)
        for name, (_call, ref_key, outputs, itemsize, inputs) in variants.items():
            for t in (1, 2):
                core = times[(name, t)]
                row = dict(
                    kernel=name,
                    N=n,
                    threads=t,
                    ref_s=times[ref_key],
                    core_s=core,
                    speedup=times[ref_key] / core,
                    M_per_s=n / core / 1e6,
                )
                if bandwidth and name.startswith("bs_greeks"):
                    per_option = bytes_per_option(inputs, outputs, itemsize)
                    row["bytes"] = per_option
                    row["floor_M_per_s"] = bandwidth[t] / per_option / 1e6
                    row["floor_pct"] = 100 * (n / core) / (bandwidth[t] / per_option)
                if with_numba and t == 2 and name in ("bs_greeks out=", "bs_greeks float32 out="):
                    row["vs_numba"] = times["numba_2"] / core  # numba: 10 float64 outputs, 2 threads
                out_rows.append(row)
    for t, rate in bandwidth.items():
        out_rows.append(dict(kernel="triad a = b + 3c (numba)", N=TRIAD_N, threads=t, M_per_s=rate / 24e6))
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
