"""Speedup table for hedged_pnl: C++ core vs the NumPy twin, in one process.

    python -m bench.speedup_book     # table + rate vs the Greeks kernel + P=100,000 memory check
    python -m bench.speedup book     # the table only, with the other areas' format

The benchmark case: P paths x T = 63 daily steps x m = 21 underlyings (index + 20 names), an
ATM straddle on each (42 legs): short the index, long the names. Times are medians of
interleaved repeats. The floor for this engine is the Greeks kernel (the work is pricing
every leg at every step, compute-bound), so leg-steps/s is printed beside bs_greeks'
options/s at the same thread count.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import dispersionkit as dk

from .timing import interleaved_medians

STEPS, NAMES, DT = 63, 21, 1.0 / 252.0


def market(paths, steps=STEPS, names=NAMES, seed=0):
    """Correlated GBM closes (paths, steps + 1, names), filled in place chunk by chunk to keep memory at one copy."""
    rng = np.random.default_rng(seed)
    vols = np.full(names, 0.30)
    vols[0] = 0.18
    spots = np.empty((paths, steps + 1, names))
    spots[:, 0] = 100.0
    for start in range(0, paths, 10_000):
        stop = min(paths, start + 10_000)
        z = 0.6 * rng.standard_normal((stop - start, steps, 1)) + 0.8 * rng.standard_normal(
            (stop - start, steps, names)
        )
        log_ret = -0.5 * vols**2 * DT + vols * np.sqrt(DT) * z
        spots[start:stop, 1:] = 100.0 * np.exp(np.cumsum(log_ret, axis=1))
    implied = np.full(names, 0.28)
    implied[0] = 0.20
    return spots, implied


def book(names=NAMES):
    """Short 1 index straddle, long 0.05 straddles on each of the other names, 3-month expiry."""
    legs = [dk.straddle(0, 100.0, 0.25, -1.0)] + [dk.straddle(j, 100.0, 0.25, 0.05) for j in range(1, names)]
    return dk.Book(legs)


COLUMNS = ["kernel", "size", "threads", "ref_s", "core_s", "speedup", "M_per_s"]


def rows(sizes=(1_000, 10_000), threads=(1, 2), repeats=3) -> list[dict]:
    """One row per (size, threads); M_per_s is M leg-steps per second."""
    b = book()
    out = []
    for paths in sizes:
        spots, vols = market(paths)
        ref = dk.reference.hedged_pnl(b, spots, vols, detail="summary")
        for th in threads:
            core = dk.hedged_pnl(b, spots, vols, detail="summary", threads=th)
            np.testing.assert_allclose(core.summary.total, ref.summary.total, rtol=1e-9, atol=1e-9)
        funcs = {"reference": lambda: dk.reference.hedged_pnl(b, spots, vols, detail="summary")}
        for th in threads:
            funcs[th] = lambda th=th: dk.hedged_pnl(b, spots, vols, detail="summary", threads=th)
        t = interleaved_medians(funcs, repeat=repeats, warmup=0)
        leg_steps = paths * STEPS * len(b)
        for th in threads:
            out.append(
                dict(
                    kernel="hedged_pnl",
                    size=f"P={paths} T={STEPS} L={len(b)}",
                    threads=th,
                    ref_s=t["reference"],
                    core_s=t[th],
                    speedup=t["reference"] / t[th],
                    M_per_s=leg_steps / t[th] / 1e6,
                )
            )
    return out


def greeks_rates(n=1_000_000, threads=(1, 2), repeats=5):
    """bs_greeks M options/s at n options into preallocated outputs, per thread count."""
    rng = np.random.default_rng(1)
    spot = rng.uniform(80.0, 120.0, n)
    out = dk.Greeks.empty(n)
    funcs = {th: (lambda th=th: dk.bs_greeks(spot, 100.0, 0.25, 0.2, threads=th, out=out)) for th in threads}
    t = interleaved_medians(funcs, repeat=repeats)
    return {th: n / t[th] / 1e6 for th in threads}


def _memory_child(paths):
    spots, vols = market(paths)
    after_inputs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = dk.hedged_pnl(book(), spots, vols, detail="summary")
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{spots.nbytes / 2**30:.2f} {after_inputs / 2**20:.2f} {peak / 2**20:.2f} {elapsed:.2f} "
        f"{float(np.mean(result.summary.total)):.6f}"
    )


def memory_check(paths=100_000):
    """Peak RSS (GiB) of a fresh process running the summary engine on `paths` paths."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.speedup_book", "--memory-child", str(paths)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    ).stdout.split()
    spots_gib, inputs_gib, peak_gib, seconds, mean_total = map(float, out)
    return dict(
        paths=paths,
        spots_gib=spots_gib,
        rss_after_inputs_gib=inputs_gib,
        peak_rss_gib=peak_gib,
        seconds=seconds,
        mean_total=mean_total,
    )


def main():
    print(
        f"{'kernel':<12} {'size':<22} {'threads':>7} {'reference s':>12} {'core s':>8} {'speedup':>8} "
        f"{'M leg-steps/s':>14}"
    )
    table = rows()
    for r in table:
        print(
            f"{r['kernel']:<12} {r['size']:<22} {r['threads']:>7} {r['ref_s']:>12.3f} {r['core_s']:>8.3f} "
            f"{r['speedup']:>7.1f}x {r['M_per_s']:>14.1f}"
        )
    rates = greeks_rates()
    print("\nFloor: the Greeks kernel (pricing every leg at every step is the work; compute-bound).")
    for r in table:
        if r["size"].startswith("P=10000"):
            th, rate = r["threads"], r["M_per_s"]
            print(
                f"  threads={th}: hedged_pnl {rate:.1f} M leg-steps/s vs bs_greeks {rates[th]:.1f} M options/s "
                f"(N=1e6) -> {rate / rates[th]:.0%} of the Greeks kernel's rate"
            )
    mem = memory_check()
    print(
        f"\nMemory, detail='summary', P={mem['paths']:,}: spots {mem['spots_gib']:.2f} GiB, peak RSS "
        f"{mem['peak_rss_gib']:.2f} GiB (after building inputs {mem['rss_after_inputs_gib']:.2f} GiB), "
        f"engine {mem['seconds']:.2f} s"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        _memory_child(int(sys.argv[2]))
    else:
        main()
