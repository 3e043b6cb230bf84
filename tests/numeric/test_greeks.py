"""bs_greeks / bs_price: core vs NumPy reference, outside oracles, identities, limits, errors."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit import reference as ref
from dispersionkit.benchmark import random_options

NAMES = ["price", "delta", "gamma", "vega", "theta", "rho", "epsilon", "vanna", "volga", "charm"]


def assert_greeks_close(a, b, rtol=1e-12, atol_scale=1e-13):
    for name in NAMES:
        x, y = getattr(a, name), getattr(b, name)
        scale = np.nanmax(np.abs(y)) if np.isfinite(y).any() else 1.0
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol_scale * scale, err_msg=name)


def test_core_matches_reference_on_wide_random_inputs():
    inputs = random_options(20_000, seed=1)
    core = dk.bs_greeks(**inputs)
    expected = ref.bs_greeks(**inputs)
    # Relative 1e-12 wherever a value is not tiny against the batch's scale (libmvec <= 4 ulp).
    for name in NAMES:
        x, y = getattr(core, name), getattr(expected, name)
        big = np.abs(y) > 1e-6 * np.abs(y).max()
        np.testing.assert_allclose(x[big], y[big], rtol=2e-11, err_msg=name)
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-11 * np.abs(y).max(), err_msg=name)


@settings(max_examples=200, deadline=None)
@given(
    spot=st.floats(0.01, 1e4),
    log_moneyness=st.floats(-2, 2),
    tau=st.floats(1e-4, 30),
    vol=st.floats(1e-3, 4),
    rate=st.floats(-0.05, 0.2),
    div=st.floats(-0.05, 0.2),
    call=st.booleans(),
)
def test_core_matches_reference_hypothesis(spot, log_moneyness, tau, vol, rate, div, call):
    strike = spot * np.exp(log_moneyness)
    core = dk.bs_greeks(spot, strike, tau, vol, rate, div, call)
    expected = ref.bs_greeks(spot, strike, tau, vol, rate, div, call)
    # d1 = (ln(S/K) + (r - q) tau) / (vol sqrt(tau)) + ...: rounding in the numerator is amplified
    # by 1 / (vol sqrt(tau)), and cancels when ln(S/K) ~ -(r - q) tau. Both implementations then
    # carry that error (e.g. vanna 1e-10 relative at vol 0.001, ln(K/S) = r tau = 0.125).
    amplification = 1.0 + (abs(log_moneyness) + (abs(rate) + abs(div)) * tau) / (vol * np.sqrt(tau))
    for name in NAMES:
        x, y = float(getattr(core, name)), float(getattr(expected, name))
        # The natural scale of each Greek: spot-sized for money values.
        assert abs(x - y) <= 1e-13 * amplification * (abs(y) + spot * (1 + tau)), name


def test_price_path_matches_greeks_path():
    inputs = random_options(10_000, seed=2)
    inputs["tau"][:50] = 0.0
    inputs["vol"][50:100] = 0.0
    inputs["spot"][100:110] = np.nan
    # One formula (bs_terms) behind both paths: bit-identical, not merely close.
    np.testing.assert_array_equal(dk.bs_price(**inputs), dk.bs_greeks(**inputs).price)
    np.testing.assert_allclose(dk.bs_price(**inputs), ref.bs_price(**inputs), rtol=1e-11, atol=1e-10)


# Haug, "Option pricing formulas" (1998), pp. 2-8, 24, 27; the table QuantLib's test suite uses.
HAUG_VALUES = [
    # call, strike, spot, q, r, t, vol, value
    (True, 65.0, 60.0, 0.00, 0.08, 0.25, 0.30, 2.1334),
    (False, 95.0, 100.0, 0.05, 0.10, 0.50, 0.20, 2.4648),
    (False, 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 1.60, 1.56, 0.08, 0.06, 0.50, 0.12, 0.0291),
    (False, 70.0, 75.0, 0.05, 0.10, 0.50, 0.35, 4.0870),
    (True, 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 0.0205),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (True, 100.0, 110.0, 0.10, 0.10, 0.10, 0.15, 9.9413),
    (True, 100.0, 90.0, 0.10, 0.10, 0.50, 0.35, 4.9329),
    (True, 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 15.3086),
    (False, 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 9.9210),
    (False, 100.0, 110.0, 0.10, 0.10, 0.10, 0.15, 0.0408),
    (False, 100.0, 90.0, 0.10, 0.10, 0.50, 0.35, 14.4452),
    (False, 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 5.7963),
    (True, 40.0, 42.0, 0.08, 0.04, 0.75, 0.35, 5.0975),
]

# Haug pp. 11-16: (greek, call, strike, spot, q, r, t, vol, value)
HAUG_GREEKS = [
    ("delta", True, 100.0, 105.0, 0.10, 0.10, 0.5, 0.36, 0.5946),
    ("delta", False, 100.0, 105.0, 0.10, 0.10, 0.5, 0.36, -0.3566),
    ("gamma", True, 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 0.0278),
    ("gamma", False, 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 0.0278),
    ("vega", True, 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 18.9358),
    ("vega", False, 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 18.9358),
    ("theta", False, 405.0, 430.0, 0.05, 0.07, 1 / 12, 0.20, -31.1924),
    ("rho", True, 75.0, 72.0, 0.00, 0.09, 1.0, 0.19, 38.7325),
    ("epsilon", False, 490.0, 500.0, 0.05, 0.08, 0.25, 0.15, 42.2254),
]


@pytest.mark.parametrize("call, strike, spot, q, r, t, vol, value", HAUG_VALUES)
def test_haug_prices(call, strike, spot, q, r, t, vol, value):
    assert abs(float(dk.bs_price(spot, strike, t, vol, r, q, call)) - value) < 1e-4


@pytest.mark.parametrize("greek, call, strike, spot, q, r, t, vol, value", HAUG_GREEKS)
def test_haug_greeks(greek, call, strike, spot, q, r, t, vol, value):
    g = dk.bs_greeks(spot, strike, t, vol, r, q, call)
    assert abs(float(getattr(g, greek)) - value) < 1e-4
    if greek == "theta":
        assert abs(float(g.theta_per_day) - (-0.0855)) < 1e-4


def quantlib_greeks(call, strike, spot, q, r, t, vol):
    """QuantLib's analytic engine, with our year fraction t mapped onto a whole-day expiry.

    QuantLib dates are whole days, so the option is set up over a fixed 10 years with rates
    and vol rescaled (r' = r t/T0, sigma' = sigma sqrt(t/T0)): the same price; Greeks with
    respect to the rescaled parameters are mapped back by the chain rule.
    """
    ql = pytest.importorskip("QuantLib")
    today = ql.Date(1, 1, 2020)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    days = 3650
    scale = t / (days / 365.0)
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if call else ql.Option.Put, strike)
    option = ql.EuropeanOption(payoff, ql.EuropeanExercise(today + days))
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, q * scale, dc, ql.Continuous)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, r * scale, dc, ql.Continuous)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol * np.sqrt(scale), dc)),
    )
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return dict(
        price=option.NPV(),
        delta=option.delta(),
        gamma=option.gamma(),
        vega=option.vega() * np.sqrt(scale),
        theta=option.theta() / scale,
        rho=option.rho() * scale,
        epsilon=option.dividendRho() * scale,
    )


def test_against_quantlib_random_options():
    inputs = random_options(300, seed=3, wide=False)
    core = dk.bs_greeks(**inputs)
    for i in range(300):
        args = [inputs[k][i].item() for k in ("is_call", "strike", "spot", "div_yield", "rate", "tau", "vol")]
        expected = quantlib_greeks(*args)
        for name, value in expected.items():
            got = float(getattr(core, name)[i])
            scale = inputs["spot"][i] * (1 + inputs["tau"][i])
            assert abs(got - value) <= 1e-9 * max(abs(value), 1e-3 * scale), (name, i, got, value)


@pytest.mark.parametrize("call", [True, False])
def test_haug_values_agree_with_quantlib(call):
    # Sanity of the oracle wrapper itself on a textbook option.
    ql_values = quantlib_greeks(call, 100.0, 105.0, 0.10, 0.10, 0.5, 0.36)
    ours = dk.bs_greeks(105.0, 100.0, 0.5, 0.36, 0.10, 0.10, call)
    for name, value in ql_values.items():
        assert float(getattr(ours, name)) == pytest.approx(value, rel=1e-10, abs=1e-12)


def test_put_call_parity():
    inputs = random_options(5000, seed=4)
    inputs.pop("is_call")
    call = dk.bs_greeks(**inputs, is_call=True)
    put = dk.bs_greeks(**inputs, is_call=False)
    S, K, T, r, q = (inputs[k] for k in ("spot", "strike", "tau", "rate", "div_yield"))
    dq, dr = np.exp(-q * T), np.exp(-r * T)

    def close(got, want, scale):
        assert np.all(np.abs(got - want) <= scale), np.max(np.abs(got - want) / scale)

    close(call.price - put.price, S * dq - K * dr, 1e-12 * (S + K))
    close(call.delta - put.delta, dq, 1e-14)
    close(call.gamma, put.gamma, 1e-13 * call.gamma)
    close(call.vega, put.vega, 1e-13 * call.vega)
    close(call.rho - put.rho, K * T * dr, 1e-12 * K * T)
    close(call.epsilon - put.epsilon, -S * T * dq, 1e-12 * S * T)
    close(call.theta - put.theta, q * S * dq - r * K * dr, 1e-10 * (S + K))


def finite_difference(fn, x, h):
    return (fn(x + h) - fn(x - h)) / (2 * h)


@pytest.mark.parametrize("call", [True, False])
def test_greeks_match_finite_differences(call):
    base = dict(spot=103.0, strike=97.0, tau=0.7, vol=0.27, rate=0.03, div_yield=0.015, is_call=call)
    g = dk.bs_greeks(**base)

    def price(**kw):
        return float(dk.bs_price(**{**base, **kw}))

    def delta(**kw):
        return float(dk.bs_greeks(**{**base, **kw}).delta)

    def vega(**kw):
        return float(dk.bs_greeks(**{**base, **kw}).vega)

    checks = {
        "delta": finite_difference(lambda s: price(spot=s), 103.0, 1e-3),
        "gamma": finite_difference(lambda s: delta(spot=s), 103.0, 1e-3),
        "vega": finite_difference(lambda v: price(vol=v), 0.27, 1e-5),
        "theta": -finite_difference(lambda t: price(tau=t), 0.7, 1e-5),
        "rho": finite_difference(lambda r: price(rate=r), 0.03, 1e-5),
        "epsilon": finite_difference(lambda q: price(div_yield=q), 0.015, 1e-5),
        "vanna": finite_difference(lambda v: delta(vol=v), 0.27, 1e-5),
        "volga": finite_difference(lambda v: vega(vol=v), 0.27, 1e-5),
        "charm": -finite_difference(lambda t: delta(tau=t), 0.7, 1e-5),
    }
    for name, fd in checks.items():
        assert float(getattr(g, name)) == pytest.approx(fd, rel=1e-6, abs=1e-8), name


def test_limits_at_zero_time_and_zero_vol():
    strikes = np.array([80.0, 120.0])
    for tau, vol in [(0.0, 0.3), (0.5, 0.0)]:
        r, q = 0.05, 0.02
        dq, dr = np.exp(-q * tau), np.exp(-r * tau)
        call = dk.bs_greeks(100.0, strikes, tau, vol, r, q, True)
        put = dk.bs_greeks(100.0, strikes, tau, vol, r, q, False)
        np.testing.assert_allclose(call.price, np.maximum(100 * dq - strikes * dr, 0))
        np.testing.assert_allclose(put.price, np.maximum(strikes * dr - 100 * dq, 0))
        np.testing.assert_allclose(call.delta, [dq, 0.0])
        np.testing.assert_allclose(put.delta, [0.0, -dq])
        for g in (call, put):
            for name in ("gamma", "vega", "vanna", "volga"):
                np.testing.assert_array_equal(getattr(g, name), 0.0)
            assert np.isfinite(g.arrays()).all()


def test_limits_are_continuous():
    # A tiny tau or vol must approach the exact limit, not jump.
    for tau, vol in [(1e-12, 0.3), (0.5, 1e-9)]:
        small = dk.bs_greeks(100.0, [80.0, 120.0], tau, vol, 0.05, 0.02, True)
        limit = dk.bs_greeks(
            100.0, [80.0, 120.0], 0.0 if tau < 1e-6 else tau, 0.0 if vol < 1e-6 else vol, 0.05, 0.02, True
        )
        for name in ("price", "delta", "gamma", "vega", "theta", "rho", "epsilon"):
            np.testing.assert_allclose(getattr(small, name), getattr(limit, name), rtol=1e-6, atol=1e-6, err_msg=name)


def test_deep_itm_and_otm():
    g = dk.bs_greeks(100.0, [1.0, 1e4], 1.0, 0.2, 0.0, 0.0, True)
    assert g.price[0] == pytest.approx(99.0, rel=1e-14)
    assert g.delta[0] == pytest.approx(1.0, abs=1e-15)
    assert 0.0 <= g.price[1] < 1e-100
    assert g.delta[1] >= 0.0


def test_element_policy_nan_and_invalid():
    spot = np.array([100.0, np.nan, -1.0, 100.0, 100.0, 100.0, 100.0, 0.0])
    strike = np.array([100.0, 100.0, 100.0, 0.0, 100.0, 100.0, 100.0, 100.0])
    tau = np.array([1.0, 1.0, 1.0, 1.0, -0.1, 1.0, 1.0, 1.0])
    vol = np.array([0.2, 0.2, 0.2, 0.2, 0.2, -0.2, np.nan, 0.2])
    g = dk.bs_greeks(spot, strike, tau, vol)
    for arr in g.arrays():
        assert np.isfinite(arr[0])
        assert np.isnan(arr[1:]).all()
    r = ref.bs_greeks(spot, strike, tau, vol)
    assert_greeks_close(g, r)


def test_broadcasting_shapes_and_scalars():
    spot = np.linspace(80, 120, 5)[:, None]
    strike = np.array([90.0, 100.0, 110.0])
    g = dk.bs_greeks(spot, strike, 0.5, 0.25, is_call=np.array([True, False, True]))
    assert g.price.shape == (5, 3)
    flat = dk.bs_greeks(
        np.repeat(spot, 3, 1).ravel(), np.tile(strike, 5), 0.5, 0.25, is_call=np.tile([True, False, True], 5)
    )
    for name in NAMES:
        np.testing.assert_array_equal(getattr(g, name).ravel(), getattr(flat, name))
    scalar = dk.bs_greeks(100.0, 100.0, 1.0, 0.2)
    assert scalar.price.shape == ()
    # Non-contiguous, reversed and 3-D strided inputs.
    cube = np.random.default_rng(5).uniform(50, 150, (4, 6, 8))
    view = cube[::-1, ::2, 1::3]
    g3 = dk.bs_greeks(view, 100.0, 0.3, 0.2, 0.01, 0.0, "put")
    np.testing.assert_array_equal(
        g3.price, dk.bs_greeks(np.ascontiguousarray(view), 100.0, 0.3, 0.2, 0.01, 0.0, "put").price
    )
    assert_greeks_close(g3, ref.bs_greeks(view, 100.0, 0.3, 0.2, 0.01, 0.0, "put"))


def test_scalar_inputs_are_not_materialized(monkeypatch):
    seen = []
    original = dk.numeric.greeks._core.bs_greeks

    def spy(**kwargs):
        seen.extend(kwargs[name].strides for name in ("spot", "strike", "tau", "vol", "rate", "div_yield", "is_call"))
        return original(**kwargs)

    monkeypatch.setattr(dk.numeric.greeks._core, "bs_greeks", spy)
    dk.bs_greeks(np.ones(1000) * 100, 100.0, 1.0, 0.2)
    assert seen[0] == (8,) and all(s == (0,) for s in seen[1:])


def test_out_reuses_buffers():
    inputs = random_options(1000, seed=6)
    out = dk.Greeks.empty(1000)
    result = dk.bs_greeks(**inputs, out=out)
    assert result is out
    assert_greeks_close(out, dk.bs_greeks(**inputs))
    price = np.empty(1000)
    assert dk.bs_price(**inputs, out=price) is price


def test_threads_give_identical_results():
    inputs = random_options(300_001, seed=7)
    one = dk.bs_greeks(**inputs, threads=1)
    for threads in (2, 3, 8):
        many = dk.bs_greeks(**inputs, threads=threads)
        for name in NAMES:
            np.testing.assert_array_equal(getattr(one, name), getattr(many, name))
    np.testing.assert_array_equal(dk.bs_price(**inputs, threads=1), dk.bs_price(**inputs, threads=2))


def test_concurrent_python_threads():
    batches = [random_options(200_000, seed=s) for s in range(4)]
    expected = [dk.bs_greeks(**b, threads=1).price for b in batches]
    results = [None] * 4

    def work(i):
        for _ in range(3):
            results[i] = dk.bs_greeks(**batches[i], threads=2).price

    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_unit_helpers():
    g = dk.bs_greeks(100.0, 100.0, 1.0, 0.2)
    assert float(g.vega_per_point) == pytest.approx(float(g.vega) / 100)
    assert float(g.theta_per_day) == pytest.approx(float(g.theta) / 365)
    assert dk.PER_BASIS_POINT == 1e-4


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(spot=np.ones(3), strike=np.ones(4)), ValueError, "do not broadcast"),
        (dict(spot=np.array(["a"])), TypeError, "spot"),
        (dict(vol=np.array([1 + 1j])), TypeError, "vol"),
        (dict(is_call="straddle"), ValueError, "is_call"),
        (dict(is_call=np.array([0, 2])), ValueError, "is_call"),
        (dict(threads=0), ValueError, "threads"),
        (dict(threads=1.5), TypeError, "threads"),
    ],
)
def test_call_level_errors(kwargs, error, match):
    base = dict(spot=100.0, strike=100.0, tau=1.0, vol=0.2)
    with pytest.raises(error, match=match):
        dk.bs_greeks(**{**base, **kwargs})


def test_out_errors():
    spot = np.full(10, 100.0)
    with pytest.raises(ValueError, match="shape"):
        dk.bs_price(spot, 100.0, 1.0, 0.2, out=np.empty(9))
    with pytest.raises(TypeError, match="float64"):
        dk.bs_price(spot, 100.0, 1.0, 0.2, out=np.empty(10, np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        dk.bs_price(spot, 100.0, 1.0, 0.2, out=np.empty(20)[::2])
    with pytest.raises(ValueError, match="overlaps"):
        dk.bs_price(spot, 100.0, 1.0, 0.2, out=spot)
    with pytest.raises(TypeError, match="Greeks"):
        dk.bs_greeks(spot, 100.0, 1.0, 0.2, out=np.empty(10))
    bad = dk.Greeks.empty(10)
    bad = dk.Greeks(**{**bad.__dict__, "vega": np.empty(11)})
    with pytest.raises(ValueError, match=r"out\.vega"):
        dk.bs_greeks(spot, 100.0, 1.0, 0.2, out=bad)


def test_integer_and_float32_inputs_are_accepted():
    a = dk.bs_price(np.array([100], dtype=np.int64), np.float32(100), 1, 0.2)
    b = dk.bs_price(100.0, 100.0, 1.0, 0.2)
    np.testing.assert_array_equal(a, b)


def test_empty_input():
    g = dk.bs_greeks(np.empty(0), 100.0, 1.0, 0.2)
    assert g.price.shape == (0,)


def test_results_do_not_depend_on_position_in_the_batch():
    # Each element must get the same bits wherever block and thread boundaries fall.
    inputs = random_options(1003, seed=8)
    full = dk.bs_greeks(**inputs, threads=1)
    for start in (1, 5, 7, 300):
        part = dk.bs_greeks(**{k: v[start:] for k, v in inputs.items()}, threads=1)
        for name in NAMES:
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[start:])
    singles = [float(dk.bs_price(**{k: v[i] for k, v in inputs.items()})) for i in range(0, 1003, 97)]
    np.testing.assert_array_equal(singles, dk.bs_price(**inputs)[::97])


def test_all_cores_means_the_cores_this_process_may_use():
    import os

    assert dk.hardware_threads() == len(os.sched_getaffinity(0))
