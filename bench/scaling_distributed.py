"""Scaling of dispersionkit.distributed.monte_carlo_pnl: 1 vs 2 worker processes on a LocalCluster.

    python -m bench.scaling_distributed [paths]      # default 800,000 paths (a run of ~30-60 s on 1 worker)

The book is the issue's case: short an index straddle, long straddles on 20 names (42 legs),
63 daily steps, hedged daily with costs. Each worker has one thread and the kernels run with
threads=1 in each task, so the workers are the only parallelism. Both runs must give the same
bits (the paths are keyed by (seed, path)); the script checks it and prints the wall times,
the speedup and the machine's load (the machine is shared: read the ratio with the load).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import dispersionkit as dk
from dispersionkit import distributed as dkd

N, STEPS = 20, 63


def run(paths: int, client) -> tuple[float, dk.PnLResult]:
    names = [f"S{i}" for i in range(N)] + ["INDEX"]
    book = dk.straddle("INDEX", 100.0, 0.25, -1.0) + dk.Book(
        [dk.straddle(f"S{i}", 100.0, 0.25, 0.05) for i in range(N)]
    )
    corr = np.full((N, N), 0.4) + 0.6 * np.eye(N)
    start = time.perf_counter()
    result = dkd.monte_carlo_pnl(
        book,
        np.full(N, 100.0),
        0.30,
        corr,
        steps=STEPS,
        paths=paths,
        implied_vols=np.array([0.30] * N + [0.20]),
        names=names,
        seed=1,
        policy=dk.HedgePolicy(every=1, hedge_cost_bps=1.0),
        chunk_paths=20_000,
        client=client,
        threads=1,
    )
    return time.perf_counter() - start, result


def main(argv: list[str]) -> None:
    from dask.distributed import Client, LocalCluster

    paths = int(argv[0]) if argv else 800_000
    times, results = {}, {}
    for workers in (1, 2):
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            run(20_000, client)  # warm the workers (imports, first task)
            load = os.getloadavg()
            times[workers], results[workers] = run(paths, client)
            print(f"{workers} worker(s): {times[workers]:.1f} s for {paths:,} paths; load before {load[0]:.2f}")
    same = np.array_equal(results[1].summary.total.view(np.uint64), results[2].summary.total.view(np.uint64))
    print(f"speedup 2 vs 1 workers: {times[1] / times[2]:.2f}x; bit-identical: {same}")
    print(f"mean P&L {results[2].summary.total.mean():.4f}, sd {results[2].summary.total.std():.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
