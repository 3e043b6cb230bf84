"""Philox4x32-10 and the uniform / Box-Muller transforms of dispersionkit/rng.hpp in NumPy.

32-bit words are held in uint64 arrays so the 32 x 32 -> 64-bit products are exact.
"""

from __future__ import annotations

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_ROUNDS = 10


def philox4x32_10(c0, c1, c2, c3, k0: int, k1: int):
    """Philox4x32-10 of broadcast counter words (integers < 2**32) under key (k0, k1)."""
    c0, c1, c2, c3 = (w.astype(np.uint64) for w in np.broadcast_arrays(c0, c1, c2, c3))
    for r in range(_ROUNDS):
        if r > 0:
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> _SHIFT32) ^ c1 ^ np.uint64(k0),
            p1 & _LOW32,
            (p0 >> _SHIFT32) ^ c3 ^ np.uint64(k1),
            p0 & _LOW32,
        )
    return c0, c1, c2, c3


def open_unit(lo, hi) -> np.ndarray:
    """(k + 1/2) / 2**52 with k the top 52 bits of hi:lo, in (0, 1); exact, as in rng.hpp."""
    k = ((hi << _SHIFT32) | lo) >> np.uint64(12)
    return (k.astype(np.float64) + 0.5) * 2.0**-52


def open_unit32(word) -> np.ndarray:
    """(x + 1/2) / 2**32 of one 32-bit word, in (0, 1); exact, as rng::open_unit32."""
    return (word.astype(np.float64) + 0.5) * 2.0**-32


def box_muller(words) -> np.ndarray:
    """Four standard normals per Philox block, (..., 4): (r cos a, r sin a) from words (0, 1)
    and from words (2, 3), with r = sqrt(-2 log u), a = 2 pi u' on 32-bit uniforms."""
    out = []
    for w_radius, w_angle in ((words[0], words[1]), (words[2], words[3])):
        radius = np.sqrt(-2.0 * np.log(open_unit32(w_radius)))
        angle = 2.0 * np.pi * open_unit32(w_angle)
        out += [radius * np.cos(angle), radius * np.sin(angle)]
    return np.stack(out, axis=-1)
