"""Implied vol at the intrinsic boundary: a price at the discounted intrinsic value, to within
rounding, is AT_INTRINSIC with vol 0 (never NO_INFORMATION, BELOW_INTRINSIC, or OK with a tiny
vol), however the caller computed that intrinsic value; a time value clearly above rounding is
still solved. The rule (numeric/implied_vol.py): |price - intrinsic| <= 8 ulps of
max(price, intrinsic) + (2 + |ln(S/K)| + |r tau| + |q tau|) ulps of (S e^{-q tau} + K e^{-r tau})."""

import itertools

import mpmath as mp
import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import IVStatus

IMPLEMENTATIONS = [pytest.param(dk.implied_vol, id="core"), pytest.param(dk.reference.implied_vol, id="reference")]
EPS = np.finfo(np.float64).eps


def grid():
    """Deep and shallow in-the-money calls and puts, discounted (nonzero r and q), short to long."""
    cases = []
    for T, r, q in itertools.product([1 / 365, 0.1, 1.0, 5.0], [-0.01, 0.03, 0.08], [0.0, 0.02, 0.06]):
        for moneyness in [0.2, 0.5, 0.8, 0.95, 0.999, 0.99999]:
            cases.append((100.0, 100.0 * moneyness, T, r, q, True))  # call, strike below spot
            cases.append((100.0, 100.0 / moneyness, T, r, q, False))  # put, strike above spot
    S, K, T, r, q, call = (np.array(c) for c in zip(*cases))
    # Keep the options that are in the money after discounting.
    itm = np.where(call, S * np.exp(-q * T) > K * np.exp(-r * T), S * np.exp(-q * T) < K * np.exp(-r * T))
    return S[itm], K[itm], T[itm], r[itm], q[itm], call[itm]


def exact_intrinsic(S, K, T, r, q, call):
    """The discounted intrinsic value of the double inputs, exactly, rounded once to a double."""
    with mp.workdps(50):
        out = []
        for s, k, t, rr, qq, c in zip(S, K, T, r, q, call):
            s, k, t, rr, qq = (mp.mpf(float(a)) for a in (s, k, t, rr, qq))
            diff = s * mp.exp(-qq * t) - k * mp.exp(-rr * t)
            out.append(float(max(diff if c else -diff, 0)))
    return np.array(out)


def naive_intrinsic(S, K, T, r, q, call):
    """The textbook expression in double precision, as a caller would write it."""
    diff = S * np.exp(-q * T) - K * np.exp(-r * T)
    return np.maximum(np.where(call, diff, -diff), 0.0)


def window(price, S, K, T, r, q):
    """The rounding window around the intrinsic value, in price units."""
    exponents = np.abs(np.log(S / K)) + np.abs(r * T) + np.abs(q * T)
    return EPS * (8 * price + (2 + exponents) * (S * np.exp(-q * T) + K * np.exp(-r * T)))


def nudged(price, ulps):
    """price moved by `ulps` units in the last place (negative: down)."""
    out = price.copy()
    for _ in range(abs(ulps)):
        out = np.nextafter(out, np.inf if ulps > 0 else -np.inf)
    return out


GRID = grid()


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
@pytest.mark.parametrize("intrinsic", [exact_intrinsic, naive_intrinsic])
def test_prices_within_rounding_of_intrinsic_are_at_intrinsic(iv, intrinsic):
    S, K, T, r, q, call = GRID
    assert len(S) > 300
    base = intrinsic(S, K, T, r, q, call)
    for ulps in range(-4, 5):
        price = nudged(base, ulps)
        res = iv(price, S, K, T, r, q, call, return_status=True)
        wrong = res.status != IVStatus.AT_INTRINSIC
        assert not wrong.any(), (ulps, np.column_stack(GRID)[wrong][:3], res.status[wrong][:3])
        np.testing.assert_array_equal(res.vol, 0.0)


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_zero_vol_prices_are_at_intrinsic(iv):
    # bs_price at vol 0 is the discounted intrinsic value: its implied vol is 0, with that status.
    S, K, T, r, q, call = GRID
    res = iv(dk.bs_price(S, K, T, 0.0, r, q, call), S, K, T, r, q, call, return_status=True)
    assert (res.status == IVStatus.AT_INTRINSIC).all()
    np.testing.assert_array_equal(res.vol, 0.0)


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_below_the_window_is_below_intrinsic(iv):
    S, K, T, r, q, call = GRID
    base = exact_intrinsic(S, K, T, r, q, call)
    res = iv(base - 4 * window(base, S, K, T, r, q), S, K, T, r, q, call, return_status=True)
    assert (res.status == IVStatus.BELOW_INTRINSIC).all()
    assert np.isnan(res.vol).all()


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_time_value_clear_of_rounding_is_solved(iv):
    # One grid vol per option, priced exactly: where the time value is well above the window
    # the implied vol comes back OK and reprices; the window never swallows information.
    S, K, T, r, q, call = GRID
    vol = np.full(S.shape, 0.3)
    with mp.workdps(50):
        price, tv = [], []
        for s, k, t, rr, qq, c, v in zip(S, K, T, r, q, call, vol):
            s, k, t, rr, qq, v = (mp.mpf(float(a)) for a in (s, k, t, rr, qq, v))
            f, sd = s * mp.exp((rr - qq) * t), v * mp.sqrt(t)
            d1 = (mp.log(f / k) + sd * sd / 2) / sd
            sign = 1 if c else -1
            p = mp.exp(-rr * t) * sign * (f * mp.ncdf(sign * d1) - k * mp.ncdf(sign * (d1 - sd)))
            intrinsic = max(sign * (s * mp.exp(-qq * t) - k * mp.exp(-rr * t)), 0)
            price.append(float(p))
            tv.append(float(p - intrinsic))
    price, tv = np.array(price), np.array(tv)
    clear = tv > 64 * window(price, S, K, T, r, q)
    assert clear.sum() > 0.5 * len(S)
    res = iv(price, S, K, T, r, q, call, return_status=True)
    assert (res.status[clear] == IVStatus.OK).all()
    np.testing.assert_allclose(res.vol[clear], 0.3, rtol=1e-6)
    assert not (res.status[~clear] == IVStatus.BELOW_INTRINSIC).any()


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_out_of_the_money_only_a_zero_price_is_at_intrinsic(iv):
    # Far out of the money the intrinsic value is exactly 0: a tiny positive price is a (tiny)
    # time value, not rounding of the intrinsic value.
    S, K, T = 100.0, np.array([150.0, 150.0, 300.0, 60.0]), 0.1
    call = np.array([True, True, True, False])
    price = np.array([0.0, 1e-30, 1e-200, 1e-30])
    res = iv(price, S, K, T, 0.03, 0.01, call, return_status=True)
    assert res.status[0] == IVStatus.AT_INTRINSIC and res.vol[0] == 0.0
    assert (res.status[1:] != IVStatus.AT_INTRINSIC).all()
    assert res.status[1] == IVStatus.OK and res.status[3] == IVStatus.OK
