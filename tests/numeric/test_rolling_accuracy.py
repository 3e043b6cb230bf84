"""Rolling realized statistics against exact arithmetic on adversarial series.

The oracle (the ``exact_rolling`` fixture) is independent of both the kernel and the NumPy
twin: window sums in exact integer arithmetic. Series: level shifts and
excursions of 1e3-1e8 over returns of 1e-2 or less, spikes, variances down to 1e-16 at a level
of 1e3, returns of 1e-250 or 1e200 and denormals (whose squares under- or overflow unless
scaled), constant stretches, NaN holes and long gaps, long series.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk

CORR_TOLERANCE = 1e-13  # absolute, on correlations
STD_TOLERANCE = 1e-13  # relative, on standard deviations


def check_against_exact(exact_rolling, pairwise_average, x, window, min_periods=None, weights=None):
    std, corr = exact_rolling(x, window, min_periods)
    got_corr = dk.realized_correlation(x, window, method="matrix", min_periods=min_periods)
    got_std = dk.realized_vol(x, window, min_periods=min_periods, annualization=1.0)
    got_avg = dk.realized_correlation(x, window, min_periods=min_periods, weights=weights)
    np.testing.assert_array_equal(np.isnan(got_corr), np.isnan(corr))
    np.testing.assert_allclose(got_corr, corr, rtol=0, atol=CORR_TOLERANCE)
    np.testing.assert_allclose(got_avg, pairwise_average(corr, weights), rtol=0, atol=CORR_TOLERANCE)
    np.testing.assert_array_equal(np.isnan(got_std), np.isnan(std))
    np.testing.assert_allclose(got_std, std, rtol=STD_TOLERANCE, atol=0)


def returns(T, n, sigma=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return sigma * (0.6 * rng.standard_normal((T, 1)) + 0.8 * rng.standard_normal((T, n)))


def level_shift(level):
    x = returns(240, 3)
    x[120:] += level
    return x


def excursion(level):
    x = returns(240, 3)
    x[70:110] += level
    return x


def spike():
    x = returns(240, 3)
    x[60, 1] = 1e4
    return x


def tiny_variance():
    return returns(240, 3, sigma=1e-8) + 1e3


def constant_stretches():
    x = level_shift(1e6)
    x[30:80, 1] = 0.25
    x[150:200, 2] = x[150, 2]
    return x


def holes():
    x = excursion(1e7)
    rng = np.random.default_rng(1)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[130:180, 0] = np.nan
    return x


def magnitude(scale):
    x = returns(120, 3) * scale
    x[40:45, 1] = 5e-324  # denormals
    return x


CASES = {
    "returns of 1e-250": lambda: magnitude(1e-250),
    "returns of 1e200": lambda: magnitude(1e200),
    "level shift 1e6": lambda: level_shift(1e6),
    "level shift 1e8": lambda: level_shift(1e8),
    "level shift -1e7": lambda: level_shift(-1e7),
    "excursion 1e7": lambda: excursion(1e7),
    "spike 1e4": spike,
    "variance 1e-16 at 1e3": tiny_variance,
    "constant stretches": constant_stretches,
    "NaN holes and a gap": holes,
}


@pytest.mark.parametrize("window", [5, 40])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_adversarial_series_match_exact_arithmetic(exact_rolling, case, window, pairwise_average):
    x = CASES[case]()
    check_against_exact(exact_rolling, pairwise_average, x, window)
    check_against_exact(exact_rolling, pairwise_average, x, window, min_periods=3, weights=[0.5, 0.3, 0.2])


def test_long_series_with_repeated_level_shifts(exact_rolling, pairwise_average):
    x = returns(4000, 2)
    for start in range(300, 4000, 700):
        x[start:] += 1e6 * (-1) ** (start // 700)
    x[np.random.default_rng(2).random(x.shape) < 0.02] = np.nan
    check_against_exact(exact_rolling, pairwise_average, x, 63)


def test_adversarial_results_do_not_depend_on_threads():
    x = np.vstack([CASES[name]() for name in CASES])
    for method in ("pairwise", "matrix", "implied_formula"):
        one = dk.realized_correlation(x, 30, method=method, threads=1)
        two = dk.realized_correlation(x, 30, method=method, threads=2)
        np.testing.assert_array_equal(one, two)


@st.composite
def adversarial_series(draw):
    T = draw(st.integers(10, 80))
    n = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sigma = 10.0 ** draw(st.floats(-8, 1))
    x = returns(T, n, sigma, seed)
    level = 10.0 ** draw(st.floats(0, 8)) * draw(st.sampled_from([-1, 1]))
    a, b = sorted(draw(st.lists(st.integers(0, T), min_size=2, max_size=2)))
    where = draw(st.sampled_from(["after", "between", "everywhere", "one name", "constant"]))
    if where == "after":
        x[a:] += level
    elif where == "between":
        x[a:b] += level
    elif where == "everywhere":
        x += level
    elif where == "one name":
        x[a:b, 0] += level
    else:
        x[a:b, 0] = level
    x[rng.random(x.shape) < draw(st.floats(0, 0.3))] = np.nan
    window = draw(st.integers(2, 40))
    min_periods = draw(st.one_of(st.none(), st.integers(1, window)))
    return x, window, min_periods


@settings(max_examples=60, deadline=None)
@given(adversarial_series())
def test_random_adversarial_series_match_exact_arithmetic(exact_rolling, pairwise_average, case):
    x, window, min_periods = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the oracle's all-NaN rows
        check_against_exact(exact_rolling, pairwise_average, x, window, min_periods)


@pytest.mark.parametrize("tiny", [5e-324, 1e-310, 2.0**-1060])
def test_denormal_names_in_complete_windows_match_exact_arithmetic(exact_rolling, tiny, pairwise_average):
    # Found by the long fuzz campaign: the complete-data average multiplied 1 / sd of a denormal
    # name (an overflow: NaN) and rounded its mean in absolute terms (a wrong average).
    x = returns(40, 3)
    x[:, 1] = tiny * np.round(x[:, 1] / 0.01 * 8)  # small integer multiples of a denormal: exact
    for window in (2, 3, 12):
        check_against_exact(exact_rolling, pairwise_average, x, window)
