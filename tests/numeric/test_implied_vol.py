"""Implied volatility: round trips against high-precision prices, QuantLib, status codes, API."""

from __future__ import annotations

import threading

import mpmath as mp
import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit import IVStatus

IMPLEMENTATIONS = [pytest.param(dk.implied_vol, id="core"), pytest.param(dk.reference.implied_vol, id="reference")]


def mp_price_and_vega(S, K, T, vol, r, q, call, dps=40):
    """Exact BSM price and vega with mpmath (no cancellation issues at 40 digits)."""
    with mp.workdps(dps):
        S, K, T, vol, r, q = (mp.mpf(float(a)) for a in (S, K, T, vol, r, q))
        sd = vol * mp.sqrt(T)
        d1 = (mp.log(S / K) + (r - q) * T) / sd + sd / 2
        d2 = d1 - sd
        fwd, kd = S * mp.exp(-q * T), K * mp.exp(-r * T)
        if call:
            price = fwd * mp.ncdf(d1) - kd * mp.ncdf(d2)
        else:
            price = kd * mp.ncdf(-d2) - fwd * mp.ncdf(-d1)
        vega = fwd * mp.npdf(d1) * mp.sqrt(T)
        return price, vega


def grid():
    """The required grid: K/S 0.2-5, tau 1 day-30 years, vol 1%-300%, calls and puts, r, q != 0."""
    S, r, q = 100.0, 0.03, 0.015
    cases = []
    for m in (0.2, 0.5, 0.8, 0.97, 1.0, 1.05, 1.5, 2.5, 5.0):
        for T in (1 / 365, 7 / 365, 0.25, 1.0, 5.0, 30.0):
            for vol in (0.01, 0.05, 0.2, 0.6, 1.5, 3.0):
                for call in (True, False):
                    cases.append((S, S * m, T, vol, r, q, call))
    return cases


GRID = grid()


@pytest.fixture(scope="module")
def grid_prices():
    cols = list(zip(*GRID))
    S, K, T, vol, r, q, call = (np.array(c) for c in cols)
    exact = [mp_price_and_vega(*case) for case in GRID]
    price = np.array([float(p) for p, _ in exact])
    vega = np.array([float(v) for _, v in exact])
    return S, K, T, vol, r, q, call, price, vega, exact


def carries_information(exact_price, S, K, T, r, q, call):
    """The docstring's rule with margin, evaluated exactly: time value clear of rounding at both ends."""
    with mp.workdps(40):
        S, K, T, r, q = (mp.mpf(float(a)) for a in (S, K, T, r, q))
        intrinsic = max(mp.mpf(0), (1 if call else -1) * (S * mp.exp(-q * T) - K * mp.exp(-r * T)))
        norm = mp.sqrt(S * mp.exp(-q * T) * K * mp.exp(-r * T))
        bound = S * mp.exp(-q * T) if call else K * mp.exp(-r * T)
        tv = (exact_price - intrinsic) / norm
        eps = 2.0**-52
        return tv > 64 * eps * exact_price / norm and tv > 1e-280 and bound - exact_price > 64 * eps * bound


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_grid_round_trip(iv, grid_prices):
    S, K, T, vol, r, q, call, price, vega, exact = grid_prices
    res = iv(price, S, K, T, r, q, call, return_status=True)
    ok = res.status == IVStatus.OK
    informative = np.array([carries_information(p, *c[:3], c[4], c[5], c[6]) for (p, _), c in zip(exact, GRID)])
    assert ok[informative].all(), np.array(GRID, dtype=object)[informative & ~ok][:5]
    assert informative.sum() > 0.7 * len(GRID)
    # Zero prices (underflow) are at intrinsic; prices that round onto the upper bound are
    # above it; everything else without information is flagged as such.
    assert set(np.unique(res.status[~ok])) <= {IVStatus.AT_INTRINSIC, IVStatus.NO_INFORMATION, IVStatus.ABOVE_MAX}
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        cond = np.maximum(price / (vol * vega), 1.0)
    rel = np.abs(res.vol[ok] - vol[ok]) / vol[ok]
    assert np.all(rel <= 1e-12 * cond[ok]), (rel / cond[ok]).max()
    # Reprice at the recovered vol with exact arithmetic.
    for i in np.flatnonzero(ok)[::3]:
        p_hat, _ = mp_price_and_vega(S[i], K[i], T[i], res.vol[i], r[i], q[i], call[i])
        assert abs(float((p_hat - exact[i][0]) / exact[i][0])) <= 1e-12


def test_quantlib_body():
    # Out-of-the-money options (QuantLib inverts ITM prices through parity without guarding the
    # cancellation, and rejects some); ITM is covered against mpmath above and below.
    rng = np.random.default_rng(7)
    n = 300
    S = 100.0
    K = S * np.exp(rng.uniform(np.log(0.6), np.log(1.6), n))
    T = rng.uniform(0.05, 3.0, n)
    vol = rng.uniform(0.08, 0.8, n)
    r, q = rng.uniform(-0.01, 0.06, n), rng.uniform(0.0, 0.04, n)
    call = S * np.exp((r - q) * T) <= K
    price = np.array([float(mp_price_and_vega(S, *a)[0]) for a in zip(K, T, vol, r, q, call)])
    ours = dk.implied_vol(price, S, K, T, r, q, call)
    theirs = np.empty(n)
    for i in range(n):
        fwd = S * np.exp((r[i] - q[i]) * T[i])
        disc = np.exp(-r[i] * T[i])
        kind = ql.Option.Call if call[i] else ql.Option.Put
        std = ql.blackFormulaImpliedStdDev(kind, K[i], fwd, price[i], disc, 0.0, 0.2 * np.sqrt(T[i]), 1e-14, 1000)
        theirs[i] = std / np.sqrt(T[i])
    # Agreement where QuantLib's solver is reliable (it stops early on prices ~1e-9 of spot).
    body = price > 1e-4 * S
    assert body.mean() > 0.9
    np.testing.assert_allclose(ours[body], theirs[body], rtol=1e-9)
    # Everywhere, ours is exact to rounding and never less accurate than QuantLib beyond rounding
    # (inputs go through 4-ulp vector exp/log before the solve).
    our_err, their_err = np.abs(ours - vol) / vol, np.abs(theirs - vol) / vol
    assert np.all(our_err <= 1e-13)
    assert np.all(our_err <= np.maximum(their_err, 4e-15))


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
@pytest.mark.parametrize("call", [True, False])
def test_far_tails_against_mpmath(iv, call):
    # Deep out of the money, tiny prices down to ~1e-250 of spot, where float BSM formulas
    # (and QuantLib) return 0 or garbage.
    S, r, q = 100.0, 0.02, 0.01
    if call:
        K = np.array([400.0, 400.0, 250.0, 130.0, 130.0, 150.0, 500.0, 500.0])
        T = np.array([0.02, 1.0, 0.05, 1 / 365, 0.3, 0.02, 0.02, 1.0])
        vol = np.array([0.3, 0.05, 0.3, 0.3, 0.02, 0.1, 0.6, 0.05])
    else:
        K = np.array([25.0, 25.0, 40.0, 80.0, 80.0, 60.0, 21.0, 30.0])
        T = np.array([0.02, 1.0, 0.3, 0.02, 1.0, 0.05, 0.05, 0.3])
        vol = np.array([0.6, 0.1, 0.05, 0.05, 0.02, 0.1, 0.3, 0.1])
    price = np.array([float(mp_price_and_vega(S, k, t, v, r, q, call)[0]) for k, t, v in zip(K, T, vol)])
    assert np.all(price < 1e-30) and np.all(price > 1e-250)
    res = iv(price, S, K, T, r, q, call, return_status=True)
    assert np.all(res.status == IVStatus.OK)
    np.testing.assert_allclose(res.vol, vol, rtol=1e-13)


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
@pytest.mark.parametrize("call", [True, False])
def test_deep_in_the_money(iv, call):
    S, r, q = 100.0, 0.04, 0.01
    K = np.array([20.0, 35.0, 50.0]) if call else np.array([500.0, 300.0, 200.0])
    T = np.array([1.0, 2.0, 0.5])
    vol = np.array([0.6, 0.45, 0.9])
    exact = [mp_price_and_vega(S, k, t, v, r, q, call) for k, t, v in zip(K, T, vol)]
    price = np.array([float(p) for p, _ in exact])
    cond = np.array([float(p / (v * vg)) for (p, vg), v in zip(exact, vol)])
    res = iv(price, S, K, T, r, q, call, return_status=True)
    assert np.all(res.status == IVStatus.OK)
    assert np.all(np.abs(res.vol - vol) / vol <= 1e-12 * cond)


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_status_codes(iv):
    S, K, T, r, q = 100.0, 100.0, 1.0, 0.05, 0.02
    fwd_disc, strike_disc = S * np.exp(-q * T), K * np.exp(-r * T)
    itm_intrinsic = S * np.exp(-q * T) - 80.0 * np.exp(-r * T)
    cases = [
        # (price, strike, tau, spot, is_call, expected status)
        (10.0, K, T, S, True, IVStatus.OK),
        (0.0, 150.0, T, S, True, IVStatus.AT_INTRINSIC),
        (-1.0, K, T, S, True, IVStatus.BELOW_INTRINSIC),
        (itm_intrinsic * (1 - 1e-9), 80.0, T, S, True, IVStatus.BELOW_INTRINSIC),
        (fwd_disc, K, T, S, True, IVStatus.ABOVE_MAX),
        (strike_disc * 1.01, K, T, S, False, IVStatus.ABOVE_MAX),
        (itm_intrinsic * (1 + 2e-16), 80.0, T, S, True, IVStatus.AT_INTRINSIC),  # within rounding
        (1e-310, 150.0, T, S, True, IVStatus.NO_INFORMATION),
        (5e-324, 150.0, T, S, True, IVStatus.NO_INFORMATION),  # normalizes to 0: not zero time value
        (np.nan, K, T, S, True, IVStatus.INVALID_INPUT),
        (10.0, -5.0, T, S, True, IVStatus.INVALID_INPUT),
        (10.0, K, 0.0, S, True, IVStatus.INVALID_INPUT),
        (10.0, K, T, 0.0, True, IVStatus.INVALID_INPUT),
        (10.0, K, np.inf, S, True, IVStatus.INVALID_INPUT),
    ]
    price, strike, tau, spot, call, expected = (np.array(c) for c in zip(*cases))
    res = iv(price, spot, strike, tau, r, q, call, return_status=True)
    np.testing.assert_array_equal(res.status, expected.astype(np.int8))
    assert res.status.dtype == np.int8
    solved = expected == IVStatus.OK
    assert np.all(np.isfinite(res.vol[solved]))
    np.testing.assert_array_equal(res.vol[expected == IVStatus.AT_INTRINSIC], 0.0)
    assert np.all(np.isnan(res.vol[~solved & (expected != IVStatus.AT_INTRINSIC)]))


def test_core_matches_reference_random():
    rng = np.random.default_rng(3)
    n = 4000
    S = rng.uniform(10, 500, n)
    K = S * np.exp(rng.uniform(np.log(0.2), np.log(5), n))
    T = np.exp(rng.uniform(np.log(1 / 365), np.log(30), n))
    vol = np.exp(rng.uniform(np.log(0.01), np.log(3), n))
    r, q = rng.uniform(-0.02, 0.08, n), rng.uniform(0, 0.05, n)
    call = rng.integers(0, 2, n).astype(bool)
    price = dk.bs_price(S, K, T, vol, r, q, call)
    a = dk.implied_vol(price, S, K, T, r, q, call, return_status=True)
    b = dk.reference.implied_vol(price, S, K, T, r, q, call, return_status=True)
    both = (a.status == IVStatus.OK) & (b.status == IVStatus.OK)
    # Prices at intrinsic to the last bits (bs_price of deep ITM options at low vol) give a
    # time value of exactly 0 or a few ulps depending on the last bit of exp/log/sinh, so
    # only AT_INTRINSIC / NO_INFORMATION may be swapped between the implementations.
    differ = a.status != b.status
    edge = {IVStatus.AT_INTRINSIC, IVStatus.NO_INFORMATION}
    assert all(x in edge and y in edge for x, y in zip(a.status[differ], b.status[differ]))
    g = dk.bs_greeks(S, K, T, a.vol, r, q, call)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cond = np.maximum(price / (a.vol * g.vega), 1.0)
    rel = np.abs(a.vol[both] - b.vol[both]) / a.vol[both]
    assert np.all(rel <= 1e-12 * cond[both])


@settings(max_examples=200, deadline=None)
@given(
    m=st.floats(0.5, 2.0),
    T=st.floats(0.02, 5.0),
    vol=st.floats(0.05, 1.0),
    r=st.floats(-0.02, 0.08),
    q=st.floats(0.0, 0.05),
    call=st.booleans(),
)
def test_round_trip_body_hypothesis(m, T, vol, r, q, call):
    S = 100.0
    price = float(dk.bs_price(S, S * m, T, vol, r, q, call))
    res = dk.implied_vol(price, S, S * m, T, r, q, call, return_status=True)
    if res.status == IVStatus.OK:
        assert float(dk.bs_price(S, S * m, T, res.vol, r, q, call)) == pytest.approx(price, rel=1e-12, abs=1e-13 * S)
    else:
        # Only when bs_price (absolute accuracy ~1e-14 S) cannot resolve the time value.
        sign = 1.0 if call else -1.0
        intrinsic = max(0.0, sign * (S * np.exp(-q * T) - S * m * np.exp(-r * T)))
        assert abs(price - intrinsic) <= 1e-13 * S
        assert res.status in (IVStatus.NO_INFORMATION, IVStatus.AT_INTRINSIC, IVStatus.BELOW_INTRINSIC)


def test_broadcasting_and_scalars():
    strikes = np.array([80.0, 100.0, 120.0])
    taus = np.array([[0.25], [1.0]])
    prices = dk.bs_price(100.0, strikes, taus, 0.3, 0.01, 0.0, "call")
    vols = dk.implied_vol(prices, 100.0, strikes, taus, 0.01, 0.0, "call")
    assert vols.shape == (2, 3)
    np.testing.assert_allclose(vols, 0.3, rtol=1e-13)
    one = dk.implied_vol(float(prices[1, 2]), 100.0, 120.0, 1.0, 0.01, 0.0, True)
    assert isinstance(one, np.ndarray) and one.shape == ()
    assert float(one) == vols[1, 2]
    # A transposed (non-contiguous) input gives the same answers.
    vols_t = dk.implied_vol(prices.T, 100.0, strikes[:, None], taus.T, 0.01, 0.0, "c")
    np.testing.assert_array_equal(vols_t, vols.T)
    res = dk.implied_vol(prices, 100.0, strikes, taus, 0.01, 0.0, "call", return_status=True)
    assert isinstance(res, dk.ImpliedVolResult) and res.status.shape == (2, 3)
    with pytest.raises(AttributeError):
        res.vol = None


def test_out_argument():
    price = dk.bs_price(100.0, [90.0, 110.0], 0.5, 0.25)
    buf = np.full(2, -1.0)
    got = dk.implied_vol(price, 100.0, [90.0, 110.0], 0.5, out=buf)
    assert got is buf
    np.testing.assert_allclose(buf, 0.25, rtol=1e-13)
    res = dk.implied_vol(price, 100.0, [90.0, 110.0], 0.5, out=buf, return_status=True)
    assert res.vol is buf
    with pytest.raises(ValueError, match="out: expected shape"):
        dk.implied_vol(price, 100.0, [90.0, 110.0], 0.5, out=np.empty(3))
    with pytest.raises(TypeError, match="out: expected dtype float64"):
        dk.implied_vol(price, 100.0, [90.0, 110.0], 0.5, out=np.empty(2, dtype=np.float32))
    with pytest.raises(ValueError, match="out: overlaps"):
        dk.implied_vol(price, 100.0, [90.0, 110.0], 0.5, out=price)


def test_bad_arguments():
    with pytest.raises(ValueError, match="threads"):
        dk.implied_vol(1.0, 100.0, 100.0, 1.0, threads=0)
    with pytest.raises(TypeError, match="threads"):
        dk.implied_vol(1.0, 100.0, 100.0, 1.0, threads=1.5)
    with pytest.raises(ValueError, match="is_call"):
        dk.implied_vol(1.0, 100.0, 100.0, 1.0, is_call="straddle")
    with pytest.raises(TypeError, match="price"):
        dk.implied_vol(np.array(["a"]), 100.0, 100.0, 1.0)
    with pytest.raises(TypeError, match="strike"):
        dk.implied_vol(1.0, 100.0, np.array([1 + 1j]), 1.0)
    with pytest.raises(ValueError, match="do not broadcast"):
        dk.implied_vol(np.ones(3), 100.0, np.ones(4), 1.0)
    with pytest.raises(TypeError, match="return_status"):
        dk.implied_vol(1.0, 100.0, 100.0, 1.0, return_status=1)


def _wide_batch(wide_batch, n, seed):
    return wide_batch(n, np.random.default_rng(seed))


def test_threads_bit_identical(wide_batch):
    args = _wide_batch(wide_batch, 60_000, 11)
    one = dk.implied_vol(*args, threads=1, return_status=True)
    two = dk.implied_vol(*args, threads=2, return_status=True)
    assert np.array_equal(one.vol, two.vol, equal_nan=True)
    assert np.array_equal(one.status, two.status)


def test_two_python_threads_concurrently(wide_batch):
    batches = [_wide_batch(wide_batch, 40_000, seed) for seed in (21, 22)]
    expected = [dk.implied_vol(*b, threads=1) for b in batches]
    results = [None, None]

    def work(i):
        results[i] = dk.implied_vol(*batches[i], threads=2)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for got, want in zip(results, expected):
        assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("iv", IMPLEMENTATIONS)
def test_unrepresentable_discounting_is_invalid(iv):
    res = iv([10.0, 10.0], 100.0, 100.0, 1e4, rate=[-0.2, 0.0], div_yield=[0.0, 0.2], return_status=True)
    np.testing.assert_array_equal(res.status, [IVStatus.INVALID_INPUT] * 2)
    assert np.isnan(res.vol).all()


def test_extreme_inputs_never_report_ok_without_a_vol():
    rng = np.random.default_rng(5)
    n = 20_000
    S = np.exp(rng.uniform(-20, 20, n))
    K = S * np.exp(rng.uniform(-8, 8, n))
    T = np.exp(rng.uniform(-12, 12, n))
    price = S * np.exp(rng.uniform(-20, 20, n))
    r, q = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    call = rng.integers(0, 2, n).astype(bool)
    a = dk.implied_vol(price, S, K, T, r, q, call, return_status=True)
    b = dk.reference.implied_vol(price, S, K, T, r, q, call, return_status=True)
    for res in (a, b):
        ok = res.status == IVStatus.OK
        assert np.all(np.isfinite(res.vol[ok]) & (res.vol[ok] > 0))
        assert np.all(np.isnan(res.vol[~ok]) | (res.status[~ok] == IVStatus.AT_INTRINSIC))
    differ = a.status != b.status
    edge = {IVStatus.AT_INTRINSIC, IVStatus.NO_INFORMATION}
    assert all(x in edge and y in edge for x, y in zip(a.status[differ], b.status[differ]))
