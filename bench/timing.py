"""Same-process, interleaved, median timing for the speedup tables (2-core noisy machines)."""

from __future__ import annotations

import time

import numpy as np


def interleaved_medians(functions: dict, repeat: int = 7, warmup: int = 1, pause_s: float = 0.0) -> dict[str, float]:
    """Median wall time of each callable, running them round-robin so drift hits all equally.

    ``pause_s`` sleeps before each timed call: OpenBLAS worker threads busy-wait for a while
    after a call and would otherwise steal the second core from whatever is timed next.
    """
    for fn in functions.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in functions}
    for _ in range(repeat):
        for name, fn in functions.items():
            if pause_s:
                time.sleep(pause_s)
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(s)) for name, s in samples.items()}


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c, "")).rjust(widths[c]) for c in columns))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
