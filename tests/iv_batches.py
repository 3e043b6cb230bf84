"""Test helper: implied-vol batches over the issue's wide grid (K/S 0.2-5, 1 day-30 y, vol 1-300%)."""

from __future__ import annotations

import numpy as np

import dispersionkit as dk


def wide_batch(n, rng):
    """(price, spot, strike, tau, rate, div_yield, is_call) with log-uniform moneyness, tau and vol."""
    S = 100.0
    K = S * np.exp(rng.uniform(np.log(0.2), np.log(5), n))
    T = np.exp(rng.uniform(np.log(1 / 365), np.log(30), n))
    vol = np.exp(rng.uniform(np.log(0.01), np.log(3), n))
    call = rng.integers(0, 2, n).astype(bool)
    price = dk.bs_price(S, K, T, vol, 0.03, 0.01, call)
    return price, S, K, T, 0.03, 0.01, call
