"""Print the speedup tables: `python -m bench.speedup [area ...]` from the repository root.

Each area module has rows() returning dicts; times are medians of interleaved runs in this
one process; speedup = reference time / core time.
"""

from __future__ import annotations

import importlib
import sys

from .timing import print_table

AREAS = ["greeks", "implied_vol", "correlation", "paths", "book", "stress", "surface", "swaps"]
COLUMNS = [
    "kernel",
    "N",
    "threads",
    "ref_s",
    "core_s",
    "speedup",
    "M_per_s",
    "bytes",
    "floor_M_per_s",
    "floor_pct",
    "vs_numba",
]


def main(argv: list[str]) -> None:
    for area in argv or AREAS:
        module = importlib.import_module(f"bench.speedup_{area}")
        rows = module.rows()
        columns = [c for c in getattr(module, "COLUMNS", COLUMNS) if any(c in r for r in rows)]
        print(f"\n## {area}")
        print_table(rows, columns)


if __name__ == "__main__":
    main(sys.argv[1:])
