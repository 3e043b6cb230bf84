"""Correlation formulas where fewer than two names carry weight x vol are undefined: NaN, flagged.

The equicorrelation formula divides by sum_{i!=j} w_i s_i w_j s_j. With one name (one stock,
every other weight 0, or the others halted at zero vol) that sum is 0 and rounding used to
turn it into 1.0 or +-1e16. Where it is genuinely non-zero but small, it must be computed
without cancellation: checked against exact rational arithmetic.
"""

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk
from dispersionkit import reference as ref
from dispersionkit.market.signal_series import signal_series


def exact_equicorrelation(index_vol, vols, weights):
    """The formula in exact rational arithmetic on the float inputs; None when undefined."""
    u = [Fraction(w) * Fraction(s) for w, s in zip(weights, vols)]
    cross = sum(u) ** 2 - sum(x * x for x in u)
    if cross == 0:
        return None
    return float((Fraction(index_vol) ** 2 - sum(x * x for x in u)) / cross)


DEGENERATE = [
    ("one stock", [0.3], [1.0]),
    ("other weights zero", [0.3, 0.25, 0.4], [1.0, 0.0, 0.0]),
    ("halted stock with zero vol", [0.3, 0.0], [0.5, 0.5]),
    ("all names halted", [0.0, 0.0, 0.0], [0.3, 0.3, 0.4]),
    ("second weight below rounding", [0.3, 0.3], [1.0, 1e-17]),
    ("second vol below rounding", [0.3, 1e-18], [0.5, 0.5]),
    ("zero weight with missing vol", [0.3, np.nan], [1.0, 0.0]),
]


@pytest.mark.parametrize("function", [dk.implied_correlation, dk.breakeven_correlation])
@pytest.mark.parametrize("case, vols, weights", DEGENERATE, ids=[c[0] for c in DEGENERATE])
def test_fewer_than_two_names_is_nan_and_flagged(function, case, vols, weights):
    for index_vol in (0.0, 0.2, 0.3):
        with np.errstate(all="ignore"):
            est = function(index_vol, vols, weights)
        twin = ref.implied_correlation(index_vol, vols, weights)
        assert np.isnan(est.value), (case, est)
        assert bool(est.undefined) and not bool(est.out_of_range)
        assert np.isnan(twin.value) and bool(twin.undefined)


def test_undefined_dates_among_defined_ones():
    iv = np.array([0.2, 0.2, np.nan, 0.25])
    vols = np.array([[0.3, 0.3], [0.3, 0.0], [0.3, 0.3], [0.3, 0.3]])
    w = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    est = dk.implied_correlation(iv, vols, w)
    value = np.asarray(est.value)
    assert value[0] == pytest.approx((0.04 - 0.045) / 0.045)
    assert np.isnan(value[1:]).all()
    assert est.undefined.tolist() == [False, True, False, True]  # date 2 is missing data, not undefined
    twin = ref.implied_correlation(iv, vols, w)
    np.testing.assert_array_equal(twin.undefined, est.undefined)
    np.testing.assert_allclose(twin.value, value, rtol=1e-15)
    series = dk.implied_correlation(pd.Series(iv, index=pd.date_range("2024-01-01", periods=4)), vols, w)
    assert isinstance(series.value, pd.Series) and series.undefined.tolist() == est.undefined.tolist()


@pytest.mark.parametrize("ratio", [1e-15, 1e-12, 1e-9, 1e-6, 1e-3])
def test_small_cross_term_is_computed_without_cancellation(ratio):
    # One name carries almost all of sum w s: (sum u)^2 - sum u^2 would keep only a few digits.
    vols = np.array([0.3] + [0.3 * ratio] * 9)
    w = np.full(10, 0.1)
    expected = exact_equicorrelation(0.2, vols, w)
    est = dk.implied_correlation(0.2, vols, w)
    assert est.value == pytest.approx(expected, rel=1e-13)
    assert bool(est.out_of_range) and not bool(est.undefined)
    assert ref.implied_correlation(0.2, vols, w).value == pytest.approx(expected, rel=1e-13)


def test_random_baskets_match_exact_arithmetic():
    rng = np.random.default_rng(4)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        w = rng.dirichlet(np.ones(n)) * (rng.random(n) > 0.4)
        vols = rng.uniform(0, 0.6, n) * (rng.random(n) > 0.2)
        iv = float(rng.uniform(0, 0.5))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", dk.WeightsWarning)  # zeroed weights no longer sum to 1
            got = dk.implied_correlation(iv, vols, w).value
        expected = exact_equicorrelation(iv, vols, w)
        if expected is None:
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_realized_implied_formula_with_one_moving_name_is_nan_like_pairwise():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.01, (40, 3))
    x[:, 1:] = 0.0  # two names do not move: no pair has a correlation
    formula = dk.realized_correlation(x, 20, method="implied_formula")
    pairwise = dk.realized_correlation(x, 20)
    assert np.isnan(formula).all() and np.isnan(pairwise).all()
    assert np.isnan(ref.realized_correlation(x, 20, method="implied_formula")).all()
    one = dk.realized_correlation(rng.normal(0, 0.01, (40, 2)), 20, method="implied_formula", weights=[1.0, 0.0])
    assert np.isnan(one).all()


def test_market_implied_correlation_and_signals_with_a_halted_name():
    dates = pd.bdate_range("2024-01-01", periods=80)
    rng = np.random.default_rng(1)
    spots = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (80, 2)), 0)), index=dates, columns=["A", "B"])
    spots["B"] = 50.0  # halted: its price never moves
    vols = pd.DataFrame({"A": 0.3, "B": 0.0}, index=dates)
    index = spots.sum(axis=1)
    market = dk.MarketData(spots, index, vols=vols, index_vol=pd.Series(0.2, index=dates))
    assert market.implied_correlation().isna().all()
    signals = signal_series(market, window=20)
    assert signals["implied_correlation"].isna().all()
    assert signals["realized_correlation"].isna().all()


def test_average_correlation_with_concentrated_or_tiny_weights():
    R = np.array([[1.0, 0.3, -0.2], [0.3, 1.0, 0.5], [-0.2, 0.5, 1.0]])
    # The weighted mean is scale-free and defined as soon as two weights are positive.
    np.testing.assert_allclose(dk.average_correlation(R, [1e-200, 1e-200, 1e-200]), 0.2, rtol=1e-15)
    w = [1.0, 1e-12, 1e-13]
    pairs = np.outer(w, w) * (1 - np.eye(3))
    expected = (pairs * R).sum() / pairs.sum()
    assert dk.average_correlation(R, w) == pytest.approx(expected, rel=1e-14)
    assert ref.average_correlation(R, w) == pytest.approx(expected, rel=1e-14)
    assert dk.average_correlation(R, [1.0, 1e-30, 0.0]) == pytest.approx(0.3, rel=1e-14)
    for one in ([1.0, 0.0, 0.0], [0.0, 0.0, 0.0]):
        with pytest.raises(ValueError, match="at least two names with positive weight"):
            dk.average_correlation(R, one)


def test_realized_pairwise_with_concentrated_weights_matches_the_matrices():
    x = np.random.default_rng(0).standard_normal((300, 4))
    matrices = dk.realized_correlation(x, 50, method="matrix")
    for w in ([1.0, 1e-12, 1e-12, 1e-13], [1e-200, 2e-200, 1e-200, 3e-200]):
        unit = np.array(w) / max(w)  # the expected mean computed where w_i w_j does not underflow
        pairs = np.outer(unit, unit) * (1 - np.eye(4))
        expected = np.einsum("tij,ij->t", matrices[49:], pairs) / pairs.sum()
        np.testing.assert_allclose(dk.realized_correlation(x, 50, weights=w)[49:], expected, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(ref.realized_correlation(x, 50, weights=w)[49:], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("power", [-1000, -600, -460, 460, 600, 900])
def test_the_formula_is_the_same_at_any_power_of_two_scale(power):
    # Found by the long fuzz campaign: vols near 1e-303 squared to 0 and gave NaN where the
    # exact value is -1; the formula is homogeneous, so scaling by 2**power changes no bit.
    vols, weights = np.array([0.25, 0.3, 0.0, 0.18]), np.array([0.3, 0.3, 0.1, 0.3])
    for index_vol in (0.2, 0.0, 0.31):
        base = dk.implied_correlation(index_vol, vols, weights).value
        scaled = dk.implied_correlation(np.ldexp(index_vol, power), np.ldexp(vols, power), weights)
        assert scaled.value == base and not scaled.undefined


@pytest.mark.parametrize(
    "vols, weights",
    [
        ([4.885324187455785e-303, 0.0, 4.885324187455785e-303], [0.5, 0.0, 0.5]),
        ([1e-300, 1e-300], [1e-300, 1e-300]),  # every product w_i s_i underflows to 0 in double
    ],
)
def test_subnormal_vols_against_exact_fractions(vols, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.WeightsWarning)
        est = dk.implied_correlation(0.0, np.array(vols), np.array(weights))
    assert est.value == pytest.approx(exact_equicorrelation(0.0, vols, weights), rel=1e-14) and not est.undefined


def test_an_index_vol_beyond_the_float_range_of_the_formula_is_inf_not_a_crash():
    # The exact value (1e600 / 0.015...) exceeds every double: +inf, as IEEE overflow gives.
    est = dk.implied_correlation(np.array([1e300, np.nan, 0.2]), np.array([[0.2, 0.3]] * 3), np.array([0.5, 0.5]))
    value = np.asarray(est.value)
    assert value[0] == np.inf and np.isnan(value[1]) and np.isfinite(value[2])
    assert est.undefined.tolist() == [False, False, False]
