"""NumPy Black-Scholes-Merton prices and Greeks (same conventions as dispersionkit.greeks)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .._validation import as_call_flags, as_float_array, broadcast
from ..numeric.greeks import Greeks

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _inputs(spot, strike, tau, vol, rate, div_yield, is_call):
    _, (S, K, T, v, r, q, c) = broadcast(
        {
            "spot": as_float_array(spot, "spot"),
            "strike": as_float_array(strike, "strike"),
            "tau": as_float_array(tau, "tau"),
            "vol": as_float_array(vol, "vol"),
            "rate": as_float_array(rate, "rate"),
            "div_yield": as_float_array(div_yield, "div_yield"),
            "is_call": as_call_flags(is_call),
        }
    )
    s = np.where(c != 0.0, 1.0, -1.0)
    finite = np.isfinite(S) & np.isfinite(K) & np.isfinite(T) & np.isfinite(v) & np.isfinite(r) & np.isfinite(q)
    valid = finite & (S > 0) & (K > 0) & (T >= 0) & (v >= 0)
    return S, K, T, v, r, q, s, valid


def bs_greeks(spot, strike, tau, vol, rate=0.0, div_yield=0.0, is_call=True, *, threads=None) -> Greeks:
    """NumPy twin of :func:`dispersionkit.bs_greeks` (``threads`` is accepted and ignored)."""
    S, K, T, v, r, q, s, valid = _inputs(spot, strike, tau, vol, rate, div_yield, is_call)
    with np.errstate(all="ignore"):
        sqT = np.sqrt(T)
        sd = v * sqT
        dq, dr = np.exp(-q * T), np.exp(-r * T)
        d1 = (np.log(S / K) + (r - q) * T) / sd + 0.5 * sd
        d2 = d1 - sd
        n1, n2 = ndtr(s * d1), ndtr(s * d2)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
        fwd, kdisc = S * dq, K * dr
        vega = fwd * pdf * sqT
        price = np.maximum(s * (fwd * n1 - kdisc * n2), 0.0)
        delta = s * dq * n1
        gamma = dq * pdf / (S * sd)
        theta = -fwd * pdf * v / (2 * sqT) - s * r * kdisc * n2 + s * q * fwd * n1
        rho = s * T * kdisc * n2
        epsilon = -s * T * fwd * n1
        vanna = -dq * pdf * d2 / v
        volga = vega * d1 * d2 / v
        charm = s * q * dq * n1 - dq * pdf * (2 * (r - q) * T - d2 * sd) / (2 * T * sd)

        # vol * sqrt(tau) == 0: deterministic limits.
        limit = valid & ~(sd > 0)
        diff = s * (fwd - kdisc)
        at_fwd = limit & (diff == 0)
        w = np.where(diff > 0, 1.0, np.where(diff == 0, 0.5, 0.0))
        nan, inf = np.nan, np.inf
        price = np.where(limit, np.maximum(diff, 0.0), price)
        delta = np.where(limit, s * dq * w, delta)
        gamma = np.where(limit, np.where(at_fwd, inf, 0.0), gamma)
        vega = np.where(limit, np.where(at_fwd, fwd * sqT * _INV_SQRT_2PI, 0.0), vega)
        theta = np.where(limit, np.where(at_fwd & (T == 0) & (v > 0), -inf, s * w * (q * fwd - r * kdisc)), theta)
        rho = np.where(limit, s * w * T * kdisc, rho)
        epsilon = np.where(limit, -s * w * T * fwd, epsilon)
        vanna = np.where(limit, np.where(at_fwd, nan, 0.0), vanna)
        volga = np.where(limit, np.where(at_fwd, nan, 0.0), volga)
        charm = np.where(limit, np.where(at_fwd, nan, s * q * dq * w), charm)

    outputs = dict(
        price=price,
        delta=delta,
        gamma=gamma,
        vega=vega,
        theta=theta,
        rho=rho,
        epsilon=epsilon,
        vanna=vanna,
        volga=volga,
        charm=charm,
    )
    return Greeks(**{name: np.where(valid, x, np.nan).astype(np.float64) for name, x in outputs.items()})


def bs_price(spot, strike, tau, vol, rate=0.0, div_yield=0.0, is_call=True, *, threads=None) -> np.ndarray:
    """NumPy twin of :func:`dispersionkit.bs_price`."""
    S, K, T, v, r, q, s, valid = _inputs(spot, strike, tau, vol, rate, div_yield, is_call)
    with np.errstate(all="ignore"):
        sd = v * np.sqrt(T)
        d1 = (np.log(S / K) + (r - q) * T) / sd + 0.5 * sd
        d2 = d1 - sd
        fwd, kdisc = S * np.exp(-q * T), K * np.exp(-r * T)
        price = s * (fwd * ndtr(s * d1) - kdisc * ndtr(s * d2))
        price = np.where(sd > 0, price, s * (fwd - kdisc))
        price = np.maximum(price, 0.0)
    return np.where(valid, price, np.nan)
