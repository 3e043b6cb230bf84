"""NumPy implied volatility (same formulation, outputs and status codes as dispersionkit.implied_vol).

A vectorized version of the core's method: normalized Black price to full relative precision
(scipy.special.erfcx / ndtr, Gauss-Legendre on the Mills-ratio derivative where the difference
form cancels), Householder(3) steps on the "Let's Be Rational" objective transforms inside a
bracket, iterating only on the elements that have not converged.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx, ndtr

from ..numeric.implied_vol import ImpliedVolResult, IVStatus, prepare_inputs

_EPS = np.finfo(np.float64).eps
_TINY_TIME_VALUE = np.finfo(np.float64).tiny / _EPS
_INFO_ULPS = 16.0
# At intrinsic within _PRICE_ULPS ulps of max(price, intrinsic) plus (_INTRINSIC_ULPS + |ln(S/K)| + |r tau| +
# |q tau|) ulps of S e^{-q tau} + K e^{-r tau} (as in the core).
_PRICE_ULPS = 8.0
_INTRINSIC_ULPS = 2.0
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_SQRT_HALF_PI = np.sqrt(0.5 * np.pi)
_QUAD_WIDTH = 0.15
_CONVERGED_STEP = 3e-5
_MIDDLE_RATIO = 0.05
_MAX_ITERATIONS = 64
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)


def _mills(z):
    """Phi(z) / phi(z)."""
    return _SQRT_HALF_PI * erfcx(-z / np.sqrt(2.0))


def _mills_derivative(z):
    """1 + z R(z) > 0; Laplace's continued fraction where the sum would cancel (z < -4.24)."""
    out = 1.0 + z * _mills(z)
    tail = z < -4.24
    if tail.any():
        y = -z[tail] / np.sqrt(2.0)
        d = y.copy()
        for k in range(40, 1, -1):
            d = y + 0.5 * k / d
        K = 0.5 / d
        out[tail] = K / (y + K)
    return out


def otm_price(x, s):
    """Normalized OTM Black price b(x <= 0, s > 0) and its vega db/ds, 1-D arrays."""
    h, t = x / s, 0.5 * s
    vega = _INV_SQRT_2PI * np.exp(-0.5 * (h * h + t * t))
    b = np.empty_like(x)
    quad = t < _QUAD_WIDTH * np.maximum(1.0, -h)
    near = ~quad & (h + t >= 0.0)
    far = ~quad & ~near
    if quad.any():
        z = h[quad, None] + t[quad, None] * _NODES
        b[quad] = vega[quad] * t[quad] * (_mills_derivative(z.ravel()).reshape(z.shape) @ _WEIGHTS)
    xn, hn, tn = x[near], h[near], t[near]
    b[near] = np.exp(0.5 * xn) * ndtr(hn + tn) - np.exp(-0.5 * xn) * ndtr(hn - tn)
    b[far] = vega[far] * (_mills(h[far] + t[far]) - _mills(h[far] - t[far]))
    return b, vega


def _otm_complement(x, s):
    """e^{x/2} - b(x, s) as a sum of positive terms."""
    h, t = x / s, 0.5 * s
    return np.exp(0.5 * x) * ndtr(-(h + t)) + np.exp(-0.5 * x) * ndtr(h - t)


def _householder3(nu, g2, g3):
    den = 1.0 + nu * (g2 + g3 * nu / 6.0)
    step = nu * (1.0 + 0.5 * g2 * nu) / den
    return np.where(np.isfinite(step) & (den > 0.0), step, nu)


def normalized_implied_stddev(beta, x):
    """s = vol sqrt(tau) solving b(x, s) = beta for 1-D arrays with x <= 0, 0 < beta < e^{x/2}."""
    ex = np.exp(0.5 * x)
    sc = np.sqrt(-2.0 * x)
    bc = 0.5 * ex - ndtr(-sc) / ex  # at s_c: h + t = 0, h - t = -s_c
    vc = _INV_SQRT_2PI * ex
    upper = beta >= bc
    middle = ~upper & (beta >= _MIDDLE_RATIO * bc)  # b ~ its tangent at s_c: objective b - beta
    lower = ~upper & ~middle
    ln_beta = np.log(beta)
    # Lower guess: ln b ~ -(x^2/s^2 + s^2/4)/2 + ln(D / sqrt(2 pi)) with R(z) ~ -1/z + 1/z^3, i.e.
    # D ~ 2t/(a^2 - t^2) [1 - (3a^2 + t^2)/(a^2 - t^2)^2], a = |h|: quadratic in s^2 with the
    # prefactor frozen, three passes.
    L = -ln_beta
    for _ in range(3):
        Lc = np.maximum(L, -0.5 * x)
        guess = np.sqrt(2.0 * x * x / (2.0 * Lc + np.sqrt(np.maximum(4.0 * Lc * Lc - x * x, 0.0))))
        a, t = -x / guess, 0.5 * guess
        gap = np.maximum(a * a - t * t, 0.19 * a * a)  # a > t below s_c; cap at 0.9 s_c
        corr = 1.0 - (3.0 * a * a + t * t) / (gap * gap)
        corr = np.where(corr > 0.5, corr, 0.5)
        L = -ln_beta + np.log(2.0 * t / gap * corr * _INV_SQRT_2PI)
    tangent = sc + (beta - bc) / vc
    s = np.where(lower, np.minimum(guess, sc), np.where(middle, np.maximum(tangent, 0.5 * sc), tangent))
    lo = np.where(upper, sc, 0.0)
    hi = np.where(upper, np.inf, sc)

    active = np.arange(x.size)
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        xa, sa, ba_target = x[active], s[active], beta[active]
        b, v = otm_price(xa, sa)
        bad = ~(b > 0.0) | ~(v > 0.0)
        hit = b == ba_target
        lo[active] = np.where(bad | (b < ba_target), np.maximum(lo[active], sa), lo[active])
        hi[active] = np.where(~bad & (b > ba_target), np.minimum(hi[active], sa), hi[active])

        h, t = xa / sa, 0.5 * sa
        w2 = h * h / sa - 0.5 * t
        w3 = w2 * w2 - 3.0 * h * h / (sa * sa) - 0.25
        low, mid = lower[active], middle[active]
        step = np.empty_like(sa)
        step[mid] = _householder3((ba_target[mid] - b[mid]) / v[mid], w2[mid], w3[mid])
        # 1/ln b objective below the inflection point.
        Lb = np.log(b[low])
        r1 = v[low] / b[low]
        nu = np.log1p((ba_target[low] - b[low]) / b[low]) * Lb / (ln_beta[active][low] * r1)
        q = (Lb + 2.0) / Lb
        g2 = -q * r1 + w2[low]
        g3 = 2.0 * (Lb * Lb + 3.0 * Lb + 3.0) / (Lb * Lb) * r1 * r1 - 3.0 * q * r1 * w2[low] + w3[low]
        step[low] = _householder3(nu, g2, g3)
        # ln(bmax - b) objective above it.
        up = upper[active]
        c = _otm_complement(xa[up], sa[up])
        u = v[up] / c
        nu = -np.log1p((b[up] - ba_target[up]) / c) / u
        step[up] = _householder3(nu, w2[up] + u, w3[up] + 3.0 * u * w2[up] + 2.0 * u * u)

        nxt = sa + step
        lo_a, hi_a = lo[active], hi[active]
        inside = (nxt > lo_a) & (nxt < hi_a)
        # Order-4 convergence: after a step this small no confirming evaluation is needed.
        done = ~bad & (
            hit | (inside & (np.abs(step) <= _CONVERGED_STEP * nxt)) | (~inside & (np.abs(step) <= 4.0 * _EPS * sa))
        )
        nxt = np.where(hit | (~inside & done), sa, nxt)
        nxt = np.where(~inside & ~done, np.where(np.isfinite(hi_a), 0.5 * (lo_a + hi_a), 2.0 * sa), nxt)
        nxt = np.where(bad, np.where(np.isfinite(hi_a), 0.5 * (sa + hi_a), 2.0 * sa), nxt)
        s[active] = nxt
        active = active[~done]
    return s


def implied_vol(
    price, spot, strike, tau, rate=0.0, div_yield=0.0, is_call=True, *, threads=None, out=None, return_status=False
):
    """NumPy twin of :func:`dispersionkit.implied_vol` (``threads`` is accepted and ignored)."""
    shape, inputs = prepare_inputs(price, spot, strike, tau, rate, div_yield, is_call)
    P, S, K, T = (np.ravel(inputs[name]) for name in ("price", "spot", "strike", "tau"))
    r, q, c = (np.ravel(inputs[name]) for name in ("rate", "div_yield", "is_call"))
    vol = np.full(P.shape, np.nan)
    status = np.full(P.shape, IVStatus.INVALID_INPUT, dtype=np.int8)
    with np.errstate(all="ignore"):
        finite = np.isfinite(P) & np.isfinite(S) & np.isfinite(K) & np.isfinite(T) & np.isfinite(r) & np.isfinite(q)
        valid = finite & ~np.isnan(c) & (S > 0) & (K > 0) & (T > 0)
        call = c != 0.0
        fwd_disc, strike_disc = S * np.exp(-q * T), K * np.exp(-r * T)
        x = np.log(S / K) + (r - q) * T
        beta = P / (np.sqrt(fwd_disc) * np.sqrt(strike_disc))
        itm = np.where(call, x > 0.0, x < 0.0)
        tv = np.where(itm, beta - 2.0 * np.sinh(0.5 * np.abs(x)), beta)
        xo = -np.abs(x)
        noise = _INFO_ULPS * _EPS * beta

        # Discounting that overflows or underflows leaves nothing to invert.
        representable = (fwd_disc > 0) & (strike_disc > 0) & np.isfinite(fwd_disc) & np.isfinite(strike_disc)
        undecided = valid & representable & np.isfinite(x) & np.isfinite(beta)

        def settle(mask, code, value):
            nonlocal undecided
            mask = undecided & mask
            status[mask] = code
            vol[mask] = value
            undecided = undecided & ~mask

        # At intrinsic within rounding, in normalized units (the rule in dispersionkit.implied_vol).
        distance = 2.0 * np.sinh(0.5 * np.abs(x))
        intrinsic = np.where(itm, distance, 0.0)
        exponents = np.abs(np.log(S / K)) + np.abs(r * T) + np.abs(q * T)
        window = _EPS * (
            2.0 * np.cosh(0.5 * x) * (_INTRINSIC_ULPS + exponents) + _PRICE_ULPS * np.maximum(beta, intrinsic)
        )
        at_intrinsic = np.where(itm | (distance <= window), np.abs(tv) <= window, P == 0.0)

        settle(P < 0.0, IVStatus.BELOW_INTRINSIC, np.nan)
        settle(at_intrinsic, IVStatus.AT_INTRINSIC, 0.0)
        settle(np.where(call, fwd_disc, strike_disc) <= P, IVStatus.ABOVE_MAX, np.nan)
        settle(tv < -window, IVStatus.BELOW_INTRINSIC, np.nan)
        upper = np.exp(0.5 * xo)
        settle(tv >= upper, IVStatus.ABOVE_MAX, np.nan)
        no_info = (tv <= noise) | (tv < _TINY_TIME_VALUE) | (upper - tv <= _INFO_ULPS * _EPS * upper)
        settle(no_info, IVStatus.NO_INFORMATION, np.nan)
        solve = undecided
        status[solve] = IVStatus.OK
        vol[solve] = normalized_implied_stddev(tv[solve], xo[solve]) / np.sqrt(T[solve])

    vols, codes = np.reshape(vol, shape), np.reshape(status, shape)
    if out is not None:
        out[...] = vols
        vols = out
    return ImpliedVolResult(vols, codes) if return_status else vols
