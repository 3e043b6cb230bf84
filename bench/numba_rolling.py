"""Comparator only (not part of the package): the arithmetic floor of pairwise-complete rolling correlation."""

import time

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def root_division_floor(cross: np.ndarray, moments: np.ndarray, out: np.ndarray, dates: int) -> None:
    """One square root and one division per pair and date, on one thread: out = cross / sqrt(moments).

    Each pair measured on its own pairwise-complete rows is normalised by the root of the
    product of its own two variances, every date; this loop does only that root and division
    (vectorised: AVX2 vsqrtpd + vdivpd here), so its time is a lower bound for any kernel that
    takes one root and one division per pair and date, as dispersionkit's does. error_model="numpy"
    lets numba vectorise the division (no ZeroDivisionError check).
    """
    for t in range(dates):
        shift = t * 1e-12  # a different operand every date, so no date's work can be skipped
        for k in range(cross.size):
            out[k] = cross[k] / np.sqrt(moments[k] + shift)


def root_division_seconds(names: int, dates: int, repeat: int = 3) -> float:
    """Fastest of `repeat` runs of root_division_floor for all names * (names - 1) / 2 pairs over `dates` dates."""
    pairs = names * (names - 1) // 2
    moments = 1.0 + np.arange(pairs) * 1e-6
    cross = 0.5 + np.arange(pairs) * 1e-7
    out = np.empty(pairs)
    root_division_floor(cross, moments, out, 1)  # compile (or load the cache) outside the timing
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        root_division_floor(cross, moments, out, dates)
        best = min(best, time.perf_counter() - start)
    return best
