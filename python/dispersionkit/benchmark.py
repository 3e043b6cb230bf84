"""Speedup of the C++ core over the NumPy reference, timed in this process: ``dispersionkit bench``.

Each case builds its inputs once, then times the reference (``dispersionkit.reference``, the
vectorized NumPy/SciPy twin) and the core at each thread count in interleaved rounds and
keeps the medians, so a busy machine slows both alike; the ratio is what to quote, not the
seconds. Before timing, each case checks that the two agree (a benchmark of a wrong answer is
worthless). The quick sizes run in seconds; ``full=True`` adds the sizes of
docs/performance.md (minutes). The repository's ``bench/`` has the longer tables with peers.

    from dispersionkit import benchmark
    rows = benchmark.run(benchmark.cases(), threads=(1, 2))
    print(benchmark.format_table(rows))
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from .numeric.book import Book, straddle
from .numeric.correlation import index_vol
from .numeric.correlation_matrix import random_correlation
from .numeric.greeks import bs_greeks
from .numeric.hedged_pnl import hedged_pnl
from .numeric.implied_vol import implied_vol
from .numeric.paths import simulate_market
from .numeric.realized import realized_correlation


@dataclass(frozen=True)
class Case:
    """One timed comparison: ``core(threads)`` against ``reference()``; ``size`` counts ``unit``s."""

    kernel: str
    size: int
    unit: str
    reference: Callable[[], Any]
    core: Callable[[int], Any]
    agree: Callable[[Any, Any], bool]


def benchmark_options(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The Greeks benchmark's batch (bs_greeks keyword arguments): spots 50-150, K/S within
    e^{+-0.5}, 1 day to 3 years, vol 5-80 %, rates 0-8 %, dividend yields 0-4 %, calls and puts."""
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


def random_options(n: int, seed: int = 0, wide: bool = True) -> dict[str, np.ndarray]:
    """An accuracy batch (bs_greeks keyword arguments): "wide" K/S within e^{+-1.5}, 1 day to 30
    years, vol 1-300 %; else "typical" K/S within e^{+-0.3}, 1 day to 3 years, vol 1-80 %; spots
    1-1000, rates -2 to 15 %, dividend yields -1 to 10 %, calls and puts."""
    rng = np.random.default_rng(seed)
    spot = rng.uniform(1, 1000, n)
    moneyness = np.exp(rng.uniform(-1.5, 1.5, n)) if wide else np.exp(rng.uniform(-0.3, 0.3, n))
    return dict(
        spot=spot,
        strike=spot * moneyness,
        tau=rng.uniform(1 / 365, 30 if wide else 3, n),
        vol=rng.uniform(0.01, 3.0 if wide else 0.8, n),
        rate=rng.uniform(-0.02, 0.15, n),
        div_yield=rng.uniform(-0.01, 0.10, n),
        is_call=rng.random(n) < 0.5,
    )


def _greeks(n: int) -> Case:
    from . import reference

    x = benchmark_options(n)
    return Case(
        "bs_greeks",
        n,
        "options",
        lambda: reference.bs_greeks(**x),
        lambda t: bs_greeks(**x, threads=t),
        lambda a, b: np.allclose(a.price, b.price, rtol=1e-12, atol=1e-12),
    )


def _implied_vol(n: int) -> Case:
    from . import reference

    rng = np.random.default_rng(1)
    spot = rng.uniform(80, 120, n)
    strike = spot * np.exp(rng.uniform(-0.3, 0.3, n))
    tau = rng.uniform(0.05, 2.0, n)
    vol = rng.uniform(0.1, 0.6, n)
    greeks = bs_greeks(spot, strike, tau, vol, greeks=("price", "vega"))
    price = greeks.price
    # Deep in the money and short-dated, the price barely depends on vol: cond = price / (vol
    # vega) is the relative change of vol per relative change of price, so two solvers that both
    # reproduce the price to rounding can differ in vol by ~eps * cond (1e-6 relative in this
    # batch). Agreement is judged relative to that conditioning.
    cond = np.maximum(1.0, price / (vol * greeks.vega))

    def agree(a, b) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        close = np.abs(a - b) <= 1e-9 * np.abs(b) * cond
        return bool(np.all(close | (np.isnan(a) & np.isnan(b))))

    return Case(
        "implied_vol",
        n,
        "options",
        lambda: reference.implied_vol(price, spot, strike, tau),
        lambda t: implied_vol(price, spot, strike, tau, threads=t),
        agree,
    )


def _index_vol(dates: int, names: int) -> Case:
    from . import reference

    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 1.5, names)
    w /= w.sum()
    vols = rng.uniform(0.15, 0.5, (dates, names))
    corr = random_correlation(names, rng=3)
    return Case(
        "index_vol",
        dates * names * names,
        "matrix entries",
        lambda: reference.index_vol(w, vols, corr),
        lambda t: index_vol(w, vols, corr, threads=t),
        lambda a, b: np.allclose(a, b, rtol=1e-12),
    )


def _realized_correlation(dates: int, names: int) -> Case:
    from . import reference

    rng = np.random.default_rng(4)
    returns = 0.01 * (0.5 * rng.standard_normal((dates, 1)) + rng.standard_normal((dates, names)))
    return Case(
        "realized_correlation",
        dates * names,
        "observations",
        lambda: reference.realized_correlation(returns, 63),
        lambda t: realized_correlation(returns, 63, threads=t),
        lambda a, b: np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True),
    )


def _paths(paths: int, names: int = 20, steps: int = 63) -> Case:
    from . import reference

    corr = random_correlation(names, rng=5)
    args = (np.full(names, 100.0), np.full(names, 0.3), corr)
    options = dict(steps=steps, paths=paths, seed=7)
    return Case(
        "simulate_market",
        paths * steps * names,
        "draws",
        lambda: reference.simulate_market(*args, **options),
        lambda t: simulate_market(*args, **options, threads=t),
        lambda a, b: np.allclose(a.components, b.components, rtol=1e-12),
    )


def _book(paths: int, names: int = 21, steps: int = 63) -> Case:
    from . import reference

    market = simulate_market(
        np.full(names - 1, 100.0),
        np.full(names - 1, 0.3),
        random_correlation(names - 1, rng=6),
        steps=steps,
        paths=paths,
        seed=8,
    )
    spots = np.concatenate([market.index[..., None], market.components], axis=-1)
    book = Book([straddle(0, 100.0, 0.25, -1.0)] + [straddle(j, 100.0, 0.25, 0.05) for j in range(1, names)])
    vols = np.array([0.2] + [0.28] * (names - 1))
    return Case(
        "hedged_pnl",
        paths * steps * len(book),
        "leg-steps",
        lambda: reference.hedged_pnl(book, spots, vols, detail="summary"),
        lambda t: hedged_pnl(book, spots, vols, detail="summary", threads=t),
        lambda a, b: np.allclose(a.summary.total, b.summary.total, rtol=1e-9, atol=1e-9),
    )


QUICK = {
    "bs_greeks": lambda: _greeks(100_000),
    "implied_vol": lambda: _implied_vol(20_000),
    "index_vol": lambda: _index_vol(252, 200),
    "realized_correlation": lambda: _realized_correlation(2_000, 50),
    "simulate_market": lambda: _paths(500),
    "hedged_pnl": lambda: _book(200),
}
FULL = {
    "bs_greeks": lambda: _greeks(1_000_000),
    "implied_vol": lambda: _implied_vol(100_000),
    "index_vol": lambda: _index_vol(252, 2_000),
    "realized_correlation": lambda: _realized_correlation(8_000, 100),
    "simulate_market": lambda: _paths(10_000),
    "hedged_pnl": lambda: _book(10_000),
}


def cases(*, full: bool = False, kernels=None) -> list[Case]:
    """The quick cases (and with ``full`` the large ones too), optionally only ``kernels``."""
    names = list(QUICK) if kernels is None else list(kernels)
    unknown = [k for k in names if k not in QUICK]
    if unknown:
        raise ValueError(f"kernels: unknown {unknown}; choose from {list(QUICK)}")
    built = [QUICK[k]() for k in names]
    if full:
        built += [FULL[k]() for k in names]
    return built


# Seconds to wait after each reference call: NumPy's BLAS (OpenBLAS) leaves its worker threads
# busy-waiting for a while after a call, and a core timing that starts at once finds one of the
# two cores taken (index_vol at 252 x 2000 read 0.9x on two threads instead of 1.6x).
BLAS_SETTLE_S = 0.1


def run(cases_, *, threads=(1, 2), rounds: int = 5, on_case=None) -> list[dict]:
    """Time each case (medians of ``rounds`` interleaved rounds); one row per case and thread count."""
    rows = []
    for case in cases_:
        expected = case.reference()
        for t in threads:
            if not case.agree(expected, case.core(t)):
                raise RuntimeError(f"{case.kernel}: the core and the NumPy reference disagree at size {case.size}")
        timers = {"ref": case.reference, **{t: (lambda t=t, case=case: case.core(t)) for t in threads}}
        samples: dict = {name: [] for name in timers}
        for _ in range(rounds):
            for name, function in timers.items():
                start = time.perf_counter()
                function()
                samples[name].append(time.perf_counter() - start)
                if name == "ref":
                    time.sleep(BLAS_SETTLE_S)
        reference_s = float(np.median(samples["ref"]))
        for t in threads:
            core_s = float(np.median(samples[t]))
            rows.append(
                {
                    "kernel": case.kernel,
                    "size": case.size,
                    "unit": case.unit,
                    "threads": t,
                    "numpy_s": reference_s,
                    "core_s": core_s,
                    "speedup": reference_s / core_s,
                    "M_per_s": case.size / core_s / 1e6,
                }
            )
        if on_case is not None:
            on_case(case)
    return rows


def format_table(rows: list[dict]) -> str:
    """The rows as an aligned text table (speedup = NumPy reference time / core time)."""
    header = ("kernel", "size", "unit", "threads", "numpy_s", "core_s", "speedup", "M_per_s")
    cells = [header] + [
        (
            r["kernel"],
            f"{r['size']:,}",
            r["unit"],
            str(r["threads"]),
            f"{r['numpy_s']:.3g}",
            f"{r['core_s']:.3g}",
            f"{r['speedup']:.1f}x",
            f"{r['M_per_s']:.3g}",
        )
        for r in rows
    ]
    widths = [max(len(row[k]) for row in cells) for k in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) if k else cell.ljust(w) for k, (cell, w) in enumerate(zip(row, widths)))
        for row in cells
    ]
    return "\n".join(lines)


def machine_note() -> str:
    """CPU count, affinity and load, to read the table by (ratios move with load on a shared machine)."""
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"machine: {platform.machine()}, {cores} usable cores, load average {load}; "
        f"build: {_core.BUILD}; "
        "speedup = NumPy reference time / core time, medians of interleaved rounds in one process"
    )
