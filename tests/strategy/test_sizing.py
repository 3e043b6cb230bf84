import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

import dispersionkit as dk


def straddle_closed_form(spot, strike, tau, vol, rate, div):
    """Textbook BSM call + put, written out independently of the core."""
    d1 = (np.log(spot / strike) + (rate - div + 0.5 * vol**2) * tau) / (vol * np.sqrt(tau))
    d2 = d1 - vol * np.sqrt(tau)
    fwd_spot, pv_strike = spot * np.exp(-div * tau), strike * np.exp(-rate * tau)
    call = fwd_spot * norm.cdf(d1) - pv_strike * norm.cdf(d2)
    put = pv_strike * norm.cdf(-d2) - fwd_spot * norm.cdf(-d1)
    vega = 2 * fwd_spot * norm.pdf(d1) * np.sqrt(tau)
    gamma = 2 * np.exp(-div * tau) * norm.pdf(d1) / (spot * vol * np.sqrt(tau))
    delta = np.exp(-div * tau) * (2 * norm.cdf(d1) - 1)
    return call + put, delta, gamma, vega


def test_straddle_greeks_match_closed_form():
    spot = np.array([90.0, 100.0, 120.0])
    g = dk.straddle_greeks(spot, 100.0, 0.5, 0.3, 0.03, 0.01)
    price, delta, gamma, vega = straddle_closed_form(spot, 100.0, 0.5, 0.3, 0.03, 0.01)
    np.testing.assert_allclose(g.price, price, rtol=1e-12)
    np.testing.assert_allclose(g.delta, delta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g.gamma, gamma, rtol=1e-12)
    np.testing.assert_allclose(g.vega, vega, rtol=1e-12)


def random_book(seed, n):
    rng = np.random.default_rng(seed)
    spots = rng.uniform(20, 500, n)
    vols = rng.uniform(0.15, 0.6, n)
    weights = rng.dirichlet(np.ones(n))
    comp = dk.straddle_greeks(spots, spots, 30 / 365, vols, 0.02)
    index = dk.straddle_greeks(4000.0, 4000.0, 30 / 365, 0.18, 0.02)
    return spots, weights, comp, index


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), index_qty=st.floats(0.1, 1000))
def test_neutral_sizings_zero_the_net_exposure(seed, n, index_qty):
    spots, weights, comp, index = random_book(seed, n)
    q = dk.vega_neutral(index_qty, index.vega, comp.vega, weights)
    assert abs(np.sum(q * comp.vega) - index_qty * index.vega) <= 1e-11 * index_qty * index.vega
    np.testing.assert_allclose(q * comp.vega, index_qty * index.vega * weights, rtol=1e-13)
    q = dk.theta_neutral(index_qty, index.theta, comp.theta, weights)
    assert abs(np.sum(q * comp.theta) - index_qty * index.theta) <= 1e-11 * abs(index_qty * index.theta)
    q = dk.gamma_neutral(index_qty, index.gamma, 4000.0, comp.gamma, spots, weights)
    cash = index_qty * index.gamma * 4000.0**2
    assert abs(np.sum(q * comp.gamma * spots**2) - cash) <= 1e-11 * cash


def test_documented_vega_neutral_formula_by_hand():
    q = dk.vega_neutral(10.0, 500.0, np.array([100.0, 50.0]), np.array([0.6, 0.4]))
    np.testing.assert_allclose(q, [10 * 0.6 * 500 / 100, 10 * 0.4 * 500 / 50])


def test_series_are_aligned_by_ticker():
    vega = pd.Series([100.0, 50.0, 25.0], index=["A", "B", "C"])
    weights = pd.Series([0.2, 0.5, 0.3], index=["C", "A", "B"])
    q = dk.vega_neutral(1.0, 100.0, vega, weights)
    assert isinstance(q, pd.Series) and list(q.index) == ["A", "B", "C"]
    np.testing.assert_allclose(q.to_numpy(), [0.5, 0.3 * 2, 0.2 * 4])
    with pytest.raises(ValueError, match=r"weights: labels differ from component_vega's: \['C', 'D'\]"):
        dk.vega_neutral(1.0, 100.0, vega, pd.Series([0.5, 0.3, 0.2], index=["A", "B", "D"]))


def test_notional_weighted():
    spots = np.array([50.0, 200.0, 400.0])
    weights = np.array([0.5, 0.3, 0.2])
    q = dk.notional_weighted(1_000_000.0, spots, weights)
    np.testing.assert_allclose(q * spots, weights * 1_000_000.0)
    assert np.isclose(np.sum(q * spots), 1_000_000.0)


def test_nan_propagates_and_only_that_name():
    q = dk.vega_neutral(1.0, 100.0, np.array([10.0, np.nan, 20.0]), np.array([0.3, 0.3, 0.4]))
    assert np.isnan(q[1]) and np.isfinite(q[[0, 2]]).all()


def test_scale_to_budget_hits_the_target():
    quantities = pd.Series([-10.0, 4.0, 6.0], index=["SPX", "A", "B"])
    prices = pd.Series([8.0, 5.0, 3.0], index=["SPX", "A", "B"])
    scaled = dk.scale_to_budget(quantities, prices, capital=1_000_000, budget=0.05)
    assert scaled.premium == 80 + 20 + 18
    assert scaled.target == 50_000
    assert np.isclose(dk.book_premium(scaled.quantities, prices), 50_000)
    assert np.isclose(scaled.scale, 50_000 / 118)
    assert list(scaled.quantities.index) == ["SPX", "A", "B"] and scaled.quantities["SPX"] < 0
    net = dk.scale_to_budget(quantities.to_numpy(), prices.to_numpy(), 100_000, budget=0.02, basis="net")
    assert net.premium == 42.0
    assert np.isclose(dk.book_premium(net.quantities, prices.to_numpy(), basis="net"), 2_000)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: dk.vega_neutral(1.0, 100.0, [10.0, 0.0], [0.5, 0.5]),
            ValueError,
            "component_vega: must be nonzero, entry 1 is 0",
        ),
        (lambda: dk.vega_neutral(-1.0, 100.0, [10.0], [1.0]), ValueError, "index_qty: must be >= 0"),
        (lambda: dk.vega_neutral(1.0, 0.0, [10.0], [1.0]), ValueError, "index_vega: must be nonzero"),
        (lambda: dk.vega_neutral(1.0, 100.0, [10.0, 20.0], [1.0]), ValueError, "inputs have different lengths"),
        (
            lambda: dk.vega_neutral(1.0, 100.0, [[10.0]], [1.0]),
            ValueError,
            r"component_vega: expected one value per name \(1-D\)",
        ),
        (lambda: dk.vega_neutral(1.0, 100.0, [10.0], [-1.0]), ValueError, "weights: must be >= 0"),
        (lambda: dk.vega_neutral(1.0, [1.0, 2.0], [10.0], [1.0]), ValueError, "index_vega: expected a scalar"),
        (lambda: dk.theta_neutral(1.0, 100.0, ["a"], [1.0]), TypeError, "component_theta: expected real numbers"),
        (lambda: dk.gamma_neutral(1.0, 0.1, -5.0, [0.1], [10.0], [1.0]), ValueError, "index_spot: must be > 0"),
        (lambda: dk.gamma_neutral(1.0, 0.1, 5.0, [0.1], [0.0], [1.0]), ValueError, "component_spots: must be > 0"),
        (lambda: dk.notional_weighted(-1.0, [10.0], [1.0]), ValueError, "index_notional: must be >= 0"),
        (lambda: dk.scale_to_budget([1.0], [2.0], 0.0), ValueError, "capital: must be > 0"),
        (
            lambda: dk.scale_to_budget([1.0], [2.0], 100.0, budget=1.5),
            ValueError,
            r"budget: a fraction of capital in \(0, 1\]",
        ),
        (lambda: dk.scale_to_budget([0.0], [2.0], 100.0), ValueError, "premium is 0"),
        (lambda: dk.scale_to_budget([np.nan], [2.0], 100.0), ValueError, "premium is NaN"),
        # Found by the long fuzz campaign: a target that underflows the scale made every quantity 0.
        (lambda: dk.scale_to_budget([2.0], [1.0], 1.0, budget=5e-324), ValueError, "too small to scale"),
        (lambda: dk.scale_to_budget([3.0], [2.0], 1.7976931348623157e308, budget=1.0), ValueError, "too close to"),
        (lambda: dk.book_premium([1.0], [-2.0]), ValueError, "prices: must be >= 0"),
        (lambda: dk.book_premium([1.0], [2.0], basis="half"), ValueError, "basis: expected 'gross' or 'net'"),
        (lambda: dk.vega_neutral(1.0, 100.0, [np.inf], [1.0]), ValueError, "component_vega: must be finite or NaN"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
