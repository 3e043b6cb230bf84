"""Test helper: exact GBM closes on a uniform grid (the tests must not depend on dk.simulate_market)."""

from __future__ import annotations

import numpy as np


def gbm(paths, steps, dt, vol, *, spot=100.0, drift=0.0, underlyings=1, seed=0, corr=0.0):
    """(paths, steps + 1, underlyings) lognormal closes with annual vol(s) `vol` and equicorrelation `corr`."""
    rng = np.random.default_rng(seed)
    vol = np.broadcast_to(np.asarray(vol, dtype=float), (underlyings,))
    common = rng.standard_normal((paths, steps, 1))
    own = rng.standard_normal((paths, steps, underlyings))
    z = np.sqrt(corr) * common + np.sqrt(1.0 - corr) * own
    log_returns = (drift - 0.5 * vol**2) * dt + vol * np.sqrt(dt) * z
    start = np.zeros((paths, 1, underlyings))
    return spot * np.exp(np.concatenate([start, np.cumsum(log_returns, axis=1)], axis=1))
