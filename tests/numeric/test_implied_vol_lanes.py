"""Implied vol is solved on vector lanes across options: an option's result must not depend
on its neighbours, its position in the batch or the batch size."""

from __future__ import annotations

import numpy as np

import dispersionkit as dk


def _mixed_batch(wide_batch, n, seed):
    """Wide-grid options (every evaluation form and objective branch) with invalid and
    unsolvable entries sprinkled in."""
    rng = np.random.default_rng(seed)
    price, S, K, T, r, q, call = wide_batch(n, rng)
    price[rng.random(n) < 0.05] = np.nan
    price[rng.random(n) < 0.05] *= -1.0
    return price, np.full(n, S), K, T, np.full(n, r), np.full(n, q), call


def test_result_independent_of_position_and_neighbours(wide_batch):
    args = _mixed_batch(wide_batch, 5_000, 3)
    base = dk.implied_vol(*args, threads=1)
    perm = np.random.default_rng(4).permutation(base.size)
    shuffled = dk.implied_vol(*(a[perm] for a in args), threads=1)
    assert np.array_equal(shuffled, base[perm], equal_nan=True)
    # Batches of every length mod the vector width, and single options.
    for start, stop in [(0, 1), (7, 8), (11, 20), (100, 357), (1000, 1263), (4990, 5000)]:
        part = dk.implied_vol(*(a[start:stop] for a in args), threads=1)
        assert np.array_equal(part, base[start:stop], equal_nan=True)
    for i in np.flatnonzero(np.isfinite(base))[:40]:
        single = dk.implied_vol(*(a[i] for a in args))
        assert np.array_equal(single, base[i])


def test_same_option_repeated_in_a_batch(wide_batch):
    args = _mixed_batch(wide_batch, 300, 5)
    base = dk.implied_vol(*args, threads=1)
    for i in np.flatnonzero(np.isfinite(base))[:10]:
        repeated = dk.implied_vol(*(np.repeat(np.asarray(a)[i], 37) for a in args), threads=1)
        assert np.all(repeated == base[i])
