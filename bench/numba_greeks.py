"""Comparator only (not part of the package): the full Greeks set as a numba parallel loop."""

import math

import numba
import numpy as np

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@numba.njit(parallel=True, cache=True)
def numba_greeks(S, K, T, v, r, q, call, out):
    for i in numba.prange(S.shape[0]):
        s = 1.0 if call[i] else -1.0
        sqT = math.sqrt(T[i])
        sd = v[i] * sqT
        dq = math.exp(-q[i] * T[i])
        dr = math.exp(-r[i] * T[i])
        d1 = (math.log(S[i] / K[i]) + (r[i] - q[i]) * T[i]) / sd + 0.5 * sd
        d2 = d1 - sd
        n1 = 0.5 * math.erfc(-s * d1 * _INV_SQRT2)
        n2 = 0.5 * math.erfc(-s * d2 * _INV_SQRT2)
        pdf = _INV_SQRT2PI * math.exp(-0.5 * d1 * d1)
        fwd = S[i] * dq
        kd = K[i] * dr
        vega = fwd * pdf * sqT
        out[0, i] = s * (fwd * n1 - kd * n2)
        out[1, i] = s * dq * n1
        out[2, i] = dq * pdf / (S[i] * sd)
        out[3, i] = vega
        out[4, i] = -fwd * pdf * v[i] / (2.0 * sqT) - s * r[i] * kd * n2 + s * q[i] * fwd * n1
        out[5, i] = s * T[i] * kd * n2
        out[6, i] = -s * T[i] * fwd * n1
        out[7, i] = -dq * pdf * d2 / v[i]
        out[8, i] = vega * d1 * d2 / v[i]
        out[9, i] = s * q[i] * dq * n1 - dq * pdf * (2.0 * (r[i] - q[i]) * T[i] - d2 * sd) / (2.0 * T[i] * sd)


@numba.njit(parallel=True, cache=True)
def triad(a, b, c):
    """STREAM triad, the bandwidth yardstick of bench.speedup_greeks."""
    for i in numba.prange(a.shape[0]):
        a[i] = b[i] + 3.0 * c[i]


def run(inputs: dict, out: np.ndarray) -> np.ndarray:
    numba_greeks(
        inputs["spot"],
        inputs["strike"],
        inputs["tau"],
        inputs["vol"],
        inputs["rate"],
        inputs["div_yield"],
        inputs["is_call"],
        out,
    )
    return out
