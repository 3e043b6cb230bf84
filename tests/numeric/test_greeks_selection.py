"""bs_greeks' greeks= selection, float32 mode, call flags as bytes, out= checks, and deep
out-of-the-money prices against mpmath."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit import reference as ref
from dispersionkit.benchmark import random_options

NAMES = dk.GREEK_NAMES
EPS = np.finfo(np.float64).eps


def with_specials(inputs):
    """The batch with invalid, NaN and zero-vol / zero-time elements spread through it."""
    out = {k: np.array(v, copy=True) for k, v in inputs.items()}
    out["vol"][::37] = 0.0
    out["tau"][5::41] = 0.0
    out["spot"][7::53] = np.nan
    out["strike"][11::59] = -1.0
    return out


subsets = st.sets(st.sampled_from(NAMES), min_size=1)


@settings(max_examples=40, deadline=None)
@given(names=subsets, seed=st.integers(0, 2**16))
def test_selected_greeks_are_the_full_results_bit_for_bit(names, seed):
    inputs = with_specials(random_options(777, seed))
    full = dk.bs_greeks(**inputs)
    chosen = dk.bs_greeks(**inputs, greeks=tuple(names))
    assert chosen.computed == tuple(n for n in NAMES if n in names)
    for name in NAMES:
        if name in names:
            np.testing.assert_array_equal(getattr(chosen, name), getattr(full, name), err_msg=name)
        else:
            assert getattr(chosen, name) is None


@settings(max_examples=150, deadline=None)
@given(
    names=subsets,
    spot=st.floats(0.01, 1e4),
    log_moneyness=st.floats(-2, 2),
    tau=st.floats(1e-4, 30),
    vol=st.floats(1e-3, 4),
    rate=st.floats(-0.05, 0.2),
    div=st.floats(-0.05, 0.2),
    call=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_selected_outputs_match_the_numpy_twin_in_both_precisions(
    names, spot, log_moneyness, tau, vol, rate, div, call, dtype
):
    strike = spot * np.exp(log_moneyness)
    got = dk.bs_greeks(spot, strike, tau, vol, rate, div, call, greeks=tuple(names), dtype=dtype)
    want = ref.bs_greeks(spot, strike, tau, vol, rate, div, call)
    # As in test_greeks: rounding in d1's numerator is amplified by 1 / (vol sqrt(tau)). In
    # float32 the inputs themselves are rounded to 24 bits first (6e-8 relative), so the bound
    # is float32's epsilon times a few hundred instead of float64's 1e-13.
    # Rounding S and K to float32 moves ln(S/K) by up to ~2 float32 eps even at the money.
    input_rounding = 0.0 if dtype is np.float64 else 4.0 * float(np.finfo(np.float32).eps)
    shift = abs(log_moneyness) + input_rounding + (abs(rate) + abs(div)) * tau
    amplification = 1.0 + shift / (vol * np.sqrt(tau))
    tolerance = 1e-13 if dtype is np.float64 else 3e-5
    for name in names:
        x, y = getattr(got, name), float(getattr(want, name))
        assert x.dtype == dtype
        assert abs(float(x) - y) <= tolerance * amplification * (abs(y) + spot * (1 + tau)), name


def test_float32_accuracy_against_float64_per_greek():
    # The accuracy docs/performance.md states for float32 (bench/float32_accuracy.py prints it):
    # wide random options, every Greek within 5e-5 of its batch's largest value and a median
    # relative error below 1e-6 (float32's epsilon is 6e-8).
    inputs = random_options(50_000, seed=3)
    f64 = dk.bs_greeks(**inputs)
    f32 = dk.bs_greeks(**inputs, dtype=np.float32)
    for name in NAMES:
        x, y = getattr(f64, name), getattr(f32, name)
        assert y.dtype == np.float32
        scale = np.abs(x).max()
        error = np.abs(y.astype(np.float64) - x)
        assert error.max() <= 5e-5 * scale, name
        big = np.abs(x) > 1e-3 * scale
        assert np.median(error[big] / np.abs(x[big])) < 1e-6, name


def test_float32_inputs_and_outputs_and_the_element_policy():
    inputs = with_specials(random_options(1000, seed=4))
    single = {k: (v.astype(np.float32) if v.dtype == np.float64 else v) for k, v in inputs.items()}
    # float32 inputs are read as they are: the same bits as their float64 values.
    a = dk.bs_greeks(**single, dtype=np.float32)
    b = dk.bs_greeks(
        **{k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in single.items()}, dtype=np.float32
    )
    for name in NAMES:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        # NaN exactly where float64 gives NaN (invalid inputs, undefined limits).
        np.testing.assert_array_equal(np.isnan(getattr(a, name)), np.isnan(getattr(dk.bs_greeks(**single), name)))
    price = dk.bs_price(**single, dtype=np.float32)
    assert price.dtype == np.float32
    np.testing.assert_array_equal(price, a.price)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_any_thread_count_and_split_gives_the_same_bits(dtype):
    inputs = with_specials(random_options(100_003, seed=5))
    names = ("price", "vega", "charm")
    one = dk.bs_greeks(**inputs, greeks=names, dtype=dtype, threads=1)
    for threads in (2, 3, 7):
        many = dk.bs_greeks(**inputs, greeks=names, dtype=dtype, threads=threads)
        for name in names:
            np.testing.assert_array_equal(getattr(many, name), getattr(one, name))
    tail = dk.bs_greeks(**{k: v[13:] for k, v in inputs.items()}, greeks=names, dtype=dtype, threads=2)
    for name in names:
        np.testing.assert_array_equal(getattr(tail, name), getattr(one, name)[13:])
    np.testing.assert_array_equal(dk.bs_price(**inputs, dtype=dtype, threads=3), one.price)


def test_call_flags_are_read_as_bytes_without_a_float_copy(monkeypatch):
    inputs = random_options(1000, seed=6)
    flags = inputs["is_call"]
    seen = {}
    original = dk.numeric.greeks._core.bs_greeks

    def spy(**kwargs):
        seen["is_call"] = kwargs["is_call"]
        return original(**kwargs)

    monkeypatch.setattr(dk.numeric.greeks._core, "bs_greeks", spy)
    by_bool = dk.bs_greeks(**inputs)
    assert np.shares_memory(seen["is_call"], flags) and seen["is_call"].dtype == np.bool_
    monkeypatch.undo()
    for spelled in (flags.astype(np.uint8), flags.astype(np.int64), np.where(flags, "call", "put")):
        same = dk.bs_greeks(**{**inputs, "is_call": spelled})
        for name in NAMES:
            np.testing.assert_array_equal(getattr(same, name), getattr(by_bool, name))


def test_out_with_selected_greeks_and_float32():
    inputs = random_options(500, seed=7)
    out = dk.Greeks.empty(500, greeks=("delta", "gamma"), dtype=np.float32)
    assert out.computed == ("delta", "gamma") and out.price is None
    result = dk.bs_greeks(**inputs, out=out)  # computes what out holds, in out's dtype
    assert result is out
    want = dk.bs_greeks(**inputs, greeks=("delta", "gamma"), dtype=np.float32)
    np.testing.assert_array_equal(out.delta, want.delta)
    np.testing.assert_array_equal(out.gamma, want.gamma)
    # A subset of what out holds: the result holds out's arrays for it.
    partial = dk.bs_greeks(**inputs, greeks="gamma", out=out)
    assert partial.gamma is out.gamma and partial.delta is None
    assert "computed=delta, gamma" in repr(out) and "float32" in repr(out)
    with pytest.raises(ValueError, match="vega was not computed"):
        _ = out.vega_per_point


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(greeks="speed"), ValueError, r"greeks: unknown 'speed'"),
        (dict(greeks=("price", "Delta")), ValueError, r"greeks: unknown 'Delta'"),
        (dict(greeks=()), ValueError, "greeks: asks for no Greek"),
        (dict(greeks=3), TypeError, "greeks"),
        (dict(dtype=np.float16), ValueError, "dtype: expected numpy.float64 or numpy.float32"),
        (dict(dtype="int64"), ValueError, "dtype"),
        (dict(dtype=object()), ValueError, "dtype"),
    ],
)
def test_bad_greeks_and_dtype_are_named_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.bs_greeks(np.full(4, 100.0), 100.0, 1.0, 0.2, **kwargs)


def test_bad_out_is_a_named_error():
    spot = np.full(10, 100.0)
    with pytest.raises(TypeError, match=r"out\.price: expected dtype float64, got float32"):
        dk.bs_greeks(spot, 100.0, 1.0, 0.2, out=dk.Greeks.empty(10, dtype=np.float32), dtype=np.float64)
    with pytest.raises(ValueError, match=r"out\.vega: None, but vega is asked for"):
        dk.bs_greeks(spot, 100.0, 1.0, 0.2, greeks=("price", "vega"), out=dk.Greeks.empty(10, greeks="price"))
    shared = np.empty(10)
    with pytest.raises(ValueError, match="overlaps"):
        dk.bs_greeks(spot, 100.0, 1.0, 0.2, greeks=("price", "delta"), out=dk.Greeks(price=shared, delta=shared))
    block = np.empty(25)
    with pytest.raises(ValueError, match="overlaps"):  # partial overlap of two outputs
        dk.bs_greeks(
            spot, 100.0, 1.0, 0.2, greeks=("price", "delta"), out=dk.Greeks(price=block[:10], delta=block[5:15])
        )
    # Disjoint slices of one block are fine.
    g = dk.bs_greeks(
        spot, 100.0, 1.0, 0.2, greeks=("price", "delta"), out=dk.Greeks(price=block[:10], delta=block[10:20])
    )
    np.testing.assert_array_equal(g.price, dk.bs_price(spot, 100.0, 1.0, 0.2))
    with pytest.raises(ValueError, match=r"out\.price: overlaps"):
        dk.bs_greeks(spot, 100.0, 1.0, 0.2, greeks="price", out=dk.Greeks(price=spot))
    with pytest.raises(ValueError, match="overlaps"):
        dk.bs_price(spot, 100.0, 1.0, 0.2, out=spot)


def mp_price(S, K, T, v, r, q, call):
    S, K, T, v, r, q = map(mpmath.mpf, (S, K, T, v, r, q))
    sd = v * mpmath.sqrt(T)
    d1 = (mpmath.log(S / K) + (r - q) * T) / sd + sd / 2
    d2 = d1 - sd
    N = lambda x: mpmath.erfc(-x / mpmath.sqrt(2)) / 2  # noqa: E731
    if call:
        return S * mpmath.exp(-q * T) * N(d1) - K * mpmath.exp(-r * T) * N(d2)
    return K * mpmath.exp(-r * T) * N(-d2) - S * mpmath.exp(-q * T) * N(-d1)


def test_out_of_the_money_prices_keep_their_digits_down_to_underflow():
    # Out of the money by `depth` standard deviations, down to prices of 1e-320. The two-term
    # formula subtracts two nearly equal numbers there (or two subnormals); the kernel switches to
    # a sum of positive terms. What remains is the problem's own conditioning: the price's
    # relative sensitivity to ln(F/K) is ~d, so rounding ln(F/K) (~eps |ln(F/K)|) costs ~eps d^2.
    rng = np.random.default_rng(8)
    mpmath.mp.dps = 50
    subnormal = 0
    for depth in np.concatenate([np.linspace(0.0, 8.0, 40), np.linspace(8.0, 38.6, 200)]):
        call = bool(rng.random() < 0.5)
        vol, tau = rng.uniform(0.05, 1.0), rng.uniform(0.02, 5.0)
        rate, div = rng.uniform(-0.02, 0.08), rng.uniform(0.0, 0.05)
        spot = rng.uniform(1.0, 1000.0)
        log_k = depth * vol * np.sqrt(tau) + (rate - div) * tau
        strike = spot * np.exp(log_k if call else -log_k)
        exact = mp_price(spot, strike, tau, vol, rate, div, call)
        got = dk.bs_price(spot, strike, tau, vol, rate, div, call)
        assert got == dk.bs_greeks(spot, strike, tau, vol, rate, div, call).price
        error = abs(mpmath.mpf(float(got)) - exact)
        # A subnormal price has absolute ulps (4.9e-324): a few of them on top.
        assert error <= 64 * EPS * (1.0 + depth**2) * exact + 4 * 4.9e-324, (depth, call, got, exact)
        subnormal += bool(exact < 2.2250738585072014e-308)
    assert 0 < subnormal < 20  # the sweep reached the subnormal range, not only it


def test_out_of_the_money_prices_near_the_money_are_at_rounding_level():
    # Within a few standard deviations the conditioning is ~1: relative error of a few eps
    # where the two-term formula would lose digits (calls and puts, tiny vol x sqrt(tau)).
    mpmath.mp.dps = 40
    for call in (True, False):
        for depth in (0.5, 2.0, 4.0, 6.0):
            for sd in (1e-4, 0.05, 0.6):
                strike = 100.0 * np.exp(depth * sd if call else -depth * sd)
                exact = mp_price(100.0, strike, 1.0, sd, 0.0, 0.0, call)
                got = dk.bs_price(100.0, strike, 1.0, sd, is_call=call)
                assert float(abs((mpmath.mpf(float(got)) - exact) / exact)) <= 64 * EPS * (1 + depth**2)
