"""Each evaluation form of the normalized Black price (direct, Taylor series in t, Gauss-Legendre
with 4/6/8 nodes, far tail) recovers vol to a few ulps, on both sides of every switch between
forms, against prices computed with mpmath."""

from __future__ import annotations

import mpmath as mp
import numpy as np

import dispersionkit as dk


def exact_price_and_cond(K, s, call):
    """Undiscounted price at F = 1, tau = 1 and its condition number price / (vol * vega)."""
    with mp.workdps(50):
        K, s = mp.mpf(float(K)), mp.mpf(float(s))
        d1 = -mp.log(K) / s + s / 2
        d2 = d1 - s
        p = mp.ncdf(d1) - K * mp.ncdf(d2) if call else K * mp.ncdf(-d2) - mp.ncdf(-d1)
        return float(p), float(p / (s * mp.npdf(d1)))


def test_every_form_to_a_few_ulps():
    # |x| around the series limit (4) and far beyond; relative widths w = t / |h| = s^2 / (2|x|)
    # around the node-count switches (0.011, 0.063) and the quadrature limit (0.15).
    K, vol, call = [], [], []
    for ax in (0.05, 0.5, 2.0, 3.9, 4.1, 6.0, 10.0, 25.0):
        for w in (1e-4, 0.005, 0.0109, 0.0111, 0.05, 0.0629, 0.0631, 0.14, 0.1499, 0.1501, 0.3):
            s = np.sqrt(2 * ax * w)
            K += [np.exp(ax), np.exp(-ax)]
            vol += [s, s]
            call += [True, False]
    K, vol, call = np.array(K), np.array(vol), np.array(call)
    exact = [exact_price_and_cond(k, v, c) for k, v, c in zip(K, vol, call)]
    price = np.array([p for p, _ in exact])
    cond = np.array([c for _, c in exact])
    keep = (price > 1e-280) & (cond < 1e6)
    assert keep.sum() > 0.6 * keep.size
    got = dk.implied_vol(price[keep], 1.0, K[keep], 1.0, 0.0, 0.0, call[keep])
    err = np.abs(got - vol[keep]) / vol[keep] / np.maximum(cond[keep], 1.0)
    assert np.all(err <= 1e-14), err.max()
