"""Speed of volatility-surface construction and queries: core vs the NumPy/SciPy twin, one process.

Run from the repository root: python -m bench.speedup surface   (or python -m bench.speedup_surface)

Construction takes option rows (group = date x underlying, tau, k = ln(K/F), w = vol^2 tau, in
random order, as files deliver them) to a queryable grid: sort by (group, tau, k), slice
offsets, PCHIP slopes, calendar and butterfly flags. Rows per second are the options a desk
would load. Comparators: the NumPy twin (``dk.reference.surface``: lexsort and whole-array
slopes and flags) and the loop a SciPy user writes (one ``PchipInterpolator`` per expiry of
each group, no arbitrage checks). Queries: vols at random (group, tenor, strike); delta
strikes: the strike of a given Black-Scholes delta (root finding on the surface).
Times are medians of interleaved rounds; speedup = comparator time / core time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

import dispersionkit as dk
from dispersionkit import reference as ref
from dispersionkit.numeric import surface as ns

from .timing import interleaved_medians, print_table

TAUS = np.array([7, 14, 30, 60, 91, 122, 182, 273, 365, 547]) / 365.0


def rows_for(groups: int, strikes: int = 20, seed: int = 0):
    """``groups`` smiles of 10 expiries x ``strikes`` strikes (an SSVI surface), shuffled."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.15, 0.6, groups)
    k = np.linspace(-0.5, 0.5, strikes)
    g, t, kk = np.meshgrid(np.arange(groups), TAUS, k, indexing="ij")
    theta = level[g] ** 2 * t
    phi = 0.9 / (theta**0.3 * (1 + theta) ** 0.7)
    w = 0.5 * theta * (1 - 0.4 * phi * kk + np.sqrt((phi * kk - 0.4) ** 2 + 1 - 0.16))
    order = rng.permutation(g.size)
    flat = [a.ravel()[order] for a in (g, t, kk, w)]
    return flat[0].astype(np.int64), flat[1], flat[2], flat[3], 0.02 * flat[1]


def scipy_loop(group, tau, k, w, groups):
    """What a SciPy user writes: sort, then one PchipInterpolator per (group, expiry)."""
    order = np.lexsort((k, tau, group))
    g, t, kk, ww = group[order], tau[order], k[order], w[order]
    starts = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (t[1:] != t[:-1])])
    ends = np.r_[starts[1:], len(g)]
    return [PchipInterpolator(kk[a:b], ww[a:b]) for a, b in zip(starts, ends)]


COLUMNS = ["kernel", "N", "threads", "ref_s", "core_s", "speedup", "M_per_s", "scipy_s", "vs_scipy"]


def option_table(groups: int, seed: int = 0):
    """The same smiles as long-format option rows (dates x 100 names) and their spots."""
    rng = np.random.default_rng(seed)
    names = [f"N{i:03d}" for i in range(100)]
    dates = pd.bdate_range("2023-01-02", periods=max(1, groups // 100))
    spots = pd.DataFrame(rng.uniform(50, 150, (len(dates), 100)), index=dates, columns=names)
    d, u, e, k = (a.ravel() for a in np.meshgrid(*(np.arange(x) for x in (len(dates), 100, 10, 20)), indexing="ij"))
    moneyness = np.linspace(0.7, 1.3, 20)[k]
    frame = pd.DataFrame(
        {
            "date": dates[d],
            "underlying": np.array(names, dtype=object)[u],
            "expiry": dates[d] + pd.to_timedelta(np.round(TAUS * 365).astype(int)[e], "D"),
            "strike": spots.to_numpy()[d, u] * moneyness,
            "option_type": np.where(moneyness < 1, "P", "C"),
            "implied_vol": 0.2 + 0.1 * (moneyness - 1) ** 2,
        }
    )
    return frame, spots


def rows(sizes=(500, 5000), repeat: int = 5) -> list[dict]:
    out = []
    for groups in sizes:
        args = rows_for(groups)
        n = len(args[0])
        fns = {
            "core1": lambda: ns.build_surface_grid(*args, groups, threads=1),
            "core2": lambda: ns.build_surface_grid(*args, groups, threads=2),
            "ref": lambda: ref.surface.build_surface_grid(*args, groups),
        }
        if groups <= 500:
            fns["scipy"] = lambda: scipy_loop(*args[:4], groups)
        t = interleaved_medians(fns, repeat=repeat)
        for threads in (1, 2):
            core = t[f"core{threads}"]
            row = dict(
                kernel="surface build",
                N=n,
                threads=threads,
                ref_s=t["ref"],
                core_s=core,
                speedup=t["ref"] / core,
                M_per_s=n / core / 1e6,
            )
            if "scipy" in t:
                row.update(scipy_s=t["scipy"], vs_scipy=t["scipy"] / core)
            out.append(row)

        grid = ns.build_surface_grid(*args, groups)
        twin = ref.surface.build_surface_grid(*args, groups)
        rng = np.random.default_rng(1)
        m = 1_000_000 if groups > 500 else 100_000
        q = (rng.integers(0, groups, m), rng.uniform(10, 400, m) / 365.0, rng.uniform(-0.6, 0.6, m))
        fns = {
            "core1": lambda: ns.query_surface(grid, *q, log_spot_moneyness=True, threads=1),
            "core2": lambda: ns.query_surface(grid, *q, log_spot_moneyness=True, threads=2),
            "ref": lambda: ref.surface.query_surface(twin, *q, log_spot_moneyness=True),
        }
        t = interleaved_medians(fns, repeat=repeat)
        for threads in (1, 2):
            core = t[f"core{threads}"]
            out.append(
                dict(
                    kernel="surface query",
                    N=m,
                    threads=threads,
                    ref_s=t["ref"],
                    core_s=core,
                    speedup=t["ref"] / core,
                    M_per_s=m / core / 1e6,
                )
            )
        m = m // 10
        d = (q[0][:m], q[1][:m], rng.uniform(-2, 2, m))
        fns = {
            "core1": lambda: ns.delta_strike(grid, *d, threads=1),
            "core2": lambda: ns.delta_strike(grid, *d, threads=2),
            "ref": lambda: ref.surface.delta_strike(twin, *d),
        }
        t = interleaved_medians(fns, repeat=max(3, repeat // 2))
        for threads in (1, 2):
            core = t[f"core{threads}"]
            out.append(
                dict(
                    kernel="delta strike",
                    N=m,
                    threads=threads,
                    ref_s=t["ref"],
                    core_s=core,
                    speedup=t["ref"] / core,
                    M_per_s=m / core / 1e6,
                )
            )
    # End to end, as a user calls it: a long-format DataFrame through the row checks (pandas
    # and NumPy) and the core construction. No twin: the row checks are the same code.
    frame, spots = option_table(sizes[-1])
    t = interleaved_medians({"e2e": lambda: dk.VolSurface.from_options(frame, spots)}, repeat=3)
    out.append(dict(kernel="VolSurface.from_options", N=len(frame), threads=2, core_s=t["e2e"],
                    M_per_s=len(frame) / t["e2e"] / 1e6))  # fmt: skip
    return out


def main():
    table = rows()
    print("Surface construction (rows -> sorted grid + PCHIP slopes + arbitrage flags), queries and")
    print("delta strikes. N = option rows (build) or queries; 10 expiries x 20 strikes per group.")
    print_table(table, COLUMNS)


if __name__ == "__main__":
    main()
