"""NumPy twin of :func:`dispersionkit.variance_swap_strike`: every strip at once on (rows, n) arrays."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..numeric.variance_swap import VarianceSwapStrike, prepare_strips, wrap_strike

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _gap(forward, s, a, log_moneyness, lam, z_low, z_high):
    """E[ln(S/a) - lam (S - a); z_low < z < z_high] for lognormal S with forward F and total
    vol s, z = (ln S - E ln S) / s the standardized log price (+-inf for an open end)."""
    mean_a = log_moneyness - 0.5 * s * s
    probability = ndtr(z_high) - ndtr(z_low)
    share = ndtr(z_high - s) - ndtr(z_low - s)
    density = _INV_SQRT_2PI * (np.exp(-0.5 * z_low * z_low) - np.exp(-0.5 * z_high * z_high))
    return mean_a * probability + s * density - lam * (forward * share - a * probability)


def variance_swap_strike(strikes, vols, forward, tau, rate=0.0, *, threads=None) -> VarianceSwapStrike:
    """NumPy twin (``threads`` accepted and ignored); same conventions and results."""
    x, v, F, T, lead = prepare_strips(strikes, vols, forward, tau, rate)
    rows, n = x.shape
    F, T = F[:, None], T[:, None]
    sqrt_tau = np.sqrt(T)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        below = np.maximum(2.0 * x[:, :1] - x[:, 1:2], 0.5 * x[:, :1])
        above = 2.0 * x[:, -1:] - x[:, -2:-1]
        nodes = np.concatenate([below, x, above], axis=1)
        spacing = np.diff(nodes, axis=1)
        ratio = np.log1p(spacing / nodes[:, :-1]) / spacing  # (rows, n + 1) chords of ln

        L = np.log(F / x)
        s = v * sqrt_tau
        d1 = L / s + 0.5 * s
        d2 = d1 - s
        call = np.maximum(F * ndtr(d1) - x * ndtr(d2), 0.0)
        put = np.maximum(x * ndtr(-d2) - F * ndtr(-d1), 0.0)

        star = np.maximum((x <= F).sum(axis=1) - 1, 0)
        index = np.arange(n)[None, :]
        weight = 2.0 / T * (ratio[:, :-1] - ratio[:, 1:])
        otm = np.where(index < star[:, None], put, call)
        body = np.where(index == star[:, None], 0.0, weight * otm).sum(axis=1)
        rows_at = np.arange(rows)
        x_star = x[rows_at, star]
        flat = 1.0 / x_star
        two_over_t = 2.0 / T[:, 0]
        at_star = two_over_t * (
            (flat - ratio[rows_at, star + 1]) * call[rows_at, star] + (ratio[rows_at, star] - flat) * put[rows_at, star]
        )
        u = (F[:, 0] - x_star) / x_star
        strike = body + at_star + two_over_t * (np.log1p(u) - u)

        s_mid = 0.5 * (v[:, :-1] + v[:, 1:]) * sqrt_tau
        d2a = (L[:, :-1] - 0.5 * s_mid * s_mid) / s_mid
        d2b = (L[:, 1:] - 0.5 * s_mid * s_mid) / s_mid
        inside = _gap(F, s_mid, x[:, :-1], L[:, :-1], ratio[:, 1:-1], -d2a, -d2b).sum(axis=1)

        s_lo, s_hi = s[:, 0], s[:, -1]
        d2_lo = (L[:, 0] - 0.5 * s_lo * s_lo) / s_lo
        d2_hi = (L[:, -1] - 0.5 * s_hi * s_hi) / s_hi
        Fr = F[:, 0]
        lower = _gap(Fr, s_lo, x[:, 0], L[:, 0], ratio[:, 0], -np.inf, -d2_lo)
        upper = _gap(Fr, s_hi, x[:, -1], L[:, -1], ratio[:, -1], -d2_hi, np.inf)

    missing = np.isnan(v).any(axis=1) | np.isnan(F[:, 0]) | np.isnan(T[:, 0])
    strike, truncation, discretisation = (
        np.where(missing, np.nan, r) for r in (strike, two_over_t * (lower + upper), two_over_t * inside)
    )
    return wrap_strike(strike, truncation, discretisation, lead)
