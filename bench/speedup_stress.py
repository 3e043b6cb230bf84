"""Speedup table for the stress grid: dk.stress_grid (C++ bs_price, one batched call) vs its NumPy twin.

    python -m bench.speedup stress

Case of the issue: a 50 spot x 20 vol x 20 correlation grid on the 42-leg book (index + 20
names, ATM straddles, vega-neutral long dispersion) of the bundled market on 2016-06-01:
840,000 leg repricings per grid. Times are medians of interleaved repeats in this process.
The floor is the pricing kernel itself: ``floor`` is the grid's rate as a share of a bare
dk.bs_price call on the same number of options (the rest is building the vol grid and
summing legs).
"""

from __future__ import annotations

import numpy as np

import dispersionkit as dk

from .timing import interleaved_medians

COLUMNS = ["kernel", "size", "threads", "ref_s", "core_s", "speedup", "M_per_s", "floor"]
SPOTS, VOLS, CORRS = np.linspace(-0.25, 0.25, 50), np.linspace(-0.10, 0.28, 20), np.linspace(0.0, 0.95, 20)


def position():
    return dk.DispersionTrade().position(dk.data.sample_market(), "2016-06-01")


def rows(repeat: int = 7, threads=(1, 2)) -> list[dict]:
    pos = position()
    legs = len(pos.legs)
    repricings = SPOTS.size * VOLS.size * CORRS.size * legs
    expected = dk.reference.stress_grid(pos, SPOTS, VOLS, CORRS).pnl
    bare = np.linspace(50.0, 150.0, repricings)
    functions = {"reference": lambda: dk.reference.stress_grid(pos, SPOTS, VOLS, CORRS)}
    for th in threads:
        result = dk.stress_grid(pos, SPOTS, VOLS, CORRS, threads=th).pnl
        np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-9 * pos.premium)
        functions[th] = lambda th=th: dk.stress_grid(pos, SPOTS, VOLS, CORRS, threads=th)
        functions[f"bare{th}"] = lambda th=th: dk.bs_price(bare, 100.0, 0.08, 0.3, threads=th)
    times = interleaved_medians(functions, repeat=repeat)
    size = f"{SPOTS.size}x{VOLS.size}x{CORRS.size}x{legs}"
    return [
        {
            "kernel": "stress_grid",
            "size": size,
            "threads": th,
            "ref_s": times["reference"],
            "core_s": times[th],
            "speedup": times["reference"] / times[th],
            "M_per_s": repricings / times[th] / 1e6,
            "floor": f"{times[f'bare{th}'] / times[th]:.0%} of bs_price",
        }
        for th in threads
    ]
