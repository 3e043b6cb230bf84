"""Rolling pairwise correlation with missing data: NaN patterns against the twin and exact arithmetic.

The kernel keeps per pair only the cross products, and corrects the names' own sums for the rows
where the other name is missing as NaN enter and leave the window; within a block of dates,
names observed on every row take the complete-data route among themselves and only pairs with a
partially missing name go pair by pair. These tests pin the pandas rules (pairwise-complete
observations, min_periods, undefined pairs left out of the average) through every one of those
routes: NaN entering and leaving windows, whole windows missing, a column never observed, late
listings and delistings, a constant stretch next to missing data, across block boundaries.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit import reference as ref

TOLERANCE = 1e-13  # absolute, on correlations, against exact arithmetic
TWIN_TOLERANCE = 1e-10  # the twin's one-pass sums on ordinary returns


def returns(T, n, seed=0):
    rng = np.random.default_rng(seed)
    return 0.01 * (0.6 * rng.standard_normal((T, 1)) + 0.8 * rng.standard_normal((T, n)))


def assert_close(got, expected, atol):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)


def late_listing(T=700, n=6, seed=0):
    """Two names listed late, one delisted, a few holes: blocks mix complete and partial names."""
    x = returns(T, n, seed)
    x[:300, 1] = np.nan
    x[:450, 4] = np.nan
    x[520:, 2] = np.nan
    x[[40, 41, 333, 600], 3] = np.nan
    return x


def holes_and_gaps(T=600, n=5, seed=1):
    """1% missing at random, a gap longer than the window, a column never observed."""
    x = returns(T, n, seed)
    rng = np.random.default_rng(seed)
    x[rng.random(x.shape) < 0.01] = np.nan
    x[200:290, 0] = np.nan
    x[:, 3] = np.nan
    return x


def constant_next_to_missing(T=600, n=5, seed=2):
    """A complete name constant for a stretch (its pairs undefined there) while another has gaps."""
    x = returns(T, n, seed)
    x[100:180, 0] = 0.002
    x[rng_rows(T, seed), 2] = np.nan
    return x


def rng_rows(T, seed):
    return np.random.default_rng(seed).choice(T, size=T // 50, replace=False)


PATTERNS = {
    "late listings and a delisting": late_listing,
    "holes, a long gap, a column never observed": holes_and_gaps,
    "constant stretch next to missing data": constant_next_to_missing,
}


@pytest.mark.parametrize("window", [5, 40])
@pytest.mark.parametrize("pattern", PATTERNS, ids=list(PATTERNS))
def test_missing_patterns_match_exact_arithmetic(exact_rolling, pattern, window, pairwise_average):
    x = PATTERNS[pattern]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the oracle's all-NaN rows
        _, corr = exact_rolling(x, window)
        _, corr_min = exact_rolling(x, window, 3)
    weights = np.linspace(1.0, 2.0, x.shape[1])
    assert_close(dk.realized_correlation(x, window), pairwise_average(corr), TOLERANCE)
    assert_close(dk.realized_correlation(x, window, weights=weights), pairwise_average(corr, weights), TOLERANCE)
    assert_close(dk.realized_correlation(x, window, min_periods=3), pairwise_average(corr_min), TOLERANCE)
    assert_close(dk.realized_correlation(x, window, method="matrix"), corr, TOLERANCE)


def test_a_level_shift_in_a_partial_name_stays_exact(exact_rolling, pairwise_average):
    """The corrections of a partial name's sums carry its rounding: a 1e6 level shift, then holes."""
    x = late_listing(T=640)
    x[250:, 3] += 1e6
    x[[260, 300, 301, 420], 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, corr = exact_rolling(x, 30)
    assert_close(dk.realized_correlation(x, 30), pairwise_average(corr), TOLERANCE)
    assert_close(dk.realized_correlation(x, 30, method="matrix"), corr, TOLERANCE)


@st.composite
def missing_patterns(draw, min_window=2):
    T = draw(st.integers(5, 700))
    n = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = returns(T, n, seed)
    x[rng.random(x.shape) < draw(st.sampled_from([0.0, 0.005, 0.02, 0.2]))] = np.nan
    for _ in range(draw(st.integers(0, 3))):  # gaps: late listings, delistings, suspensions
        j = draw(st.integers(0, n - 1))
        a, b = sorted(draw(st.lists(st.integers(0, T), min_size=2, max_size=2)))
        x[a:b, j] = np.nan
    if draw(st.booleans()):
        x[:, draw(st.integers(0, n - 1))] = np.nan  # a name never observed
    window = draw(st.integers(min_window, 80))
    min_periods = draw(st.one_of(st.none(), st.integers(1, window)))
    weights = draw(st.one_of(st.none(), st.just(rng.uniform(0.1, 1.0, n))))
    return x, window, min_periods, weights


# The twin's one-pass sums lose ~1e-10 on windows of 2 or 3 rows (the kernel settles those
# two-pass, checked against exact arithmetic below): compare from 8 rows on.
@settings(max_examples=60, deadline=None)
@given(missing_patterns(min_window=8))
def test_random_missing_patterns_match_the_twin(pairwise_average, case):
    x, window, min_periods, weights = case
    got = dk.realized_correlation(x, window, min_periods=min_periods, weights=weights)
    expected = ref.realized_correlation(x, window, min_periods=min_periods, weights=weights)
    assert_close(got, expected, TWIN_TOLERANCE)
    matrix = dk.realized_correlation(x, window, min_periods=min_periods, method="matrix")
    assert_close(pairwise_average(matrix, weights), got, 1e-14)


@settings(max_examples=15, deadline=None)
@given(missing_patterns())
def test_random_missing_patterns_match_exact_arithmetic(exact_rolling, pairwise_average, case):
    x, window, min_periods, weights = case
    x = x[:250, :5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, corr = exact_rolling(x, window, min_periods)
    w = None if weights is None else weights[: x.shape[1]]
    got = dk.realized_correlation(x, window, min_periods=min_periods, weights=w)
    assert_close(got, pairwise_average(corr, w), TOLERANCE)


def test_whole_windows_missing_and_all_nan_are_undefined():
    x = returns(300, 3)
    x[100:200] = np.nan  # every name, longer than the window
    avg = dk.realized_correlation(x, 20)
    assert np.isnan(avg[119:200]).all() and np.isfinite(avg[219:]).all() and np.isfinite(avg[19:100]).all()
    assert np.isnan(dk.realized_correlation(np.full((50, 3), np.nan), 10)).all()
    one_observed = returns(200, 3)
    one_observed[:, 1:] = np.nan
    assert np.isnan(dk.realized_correlation(one_observed, 10)).all()


def test_missing_data_results_do_not_depend_on_threads():
    """Many blocks of dates, split over 1-4 threads: the same bits (each block depends only on its data)."""
    x = returns(6000, 40, seed=4)
    rng = np.random.default_rng(4)
    x[rng.random(x.shape) < 0.01] = np.nan
    x[:2500, :3] = np.nan  # late listings: blocks on both routes
    x[4000:4100, 10] = np.nan
    for method in ("pairwise", "matrix"):
        one = dk.realized_correlation(x[:, :12] if method == "matrix" else x, 63, method=method, threads=1)
        for threads in (2, 3, 4):
            other = dk.realized_correlation(x[:, :12] if method == "matrix" else x, 63, method=method, threads=threads)
            np.testing.assert_array_equal(one, other)
    weights = rng.uniform(0.5, 1.5, 40)
    one = dk.realized_correlation(x, 63, weights=weights, min_periods=30, threads=1)
    np.testing.assert_array_equal(one, dk.realized_correlation(x, 63, weights=weights, min_periods=30, threads=2))


@pytest.mark.parametrize("scale", [1e-120, 1e-80, 1e-40, 1e40, 1e80, 1e120])
def test_pair_moments_neither_overflow_nor_underflow(exact_rolling, scale, pairwise_average):
    """Pairs multiply two moments (fourth powers of the returns): returns of 1e80 overflowed and
    1e-80 underflowed that product (matrix and missing-data average off by up to 0.58)."""
    x = returns(300, 3)
    x[[20, 150], 1] = np.nan  # the average goes pair by pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, corr = exact_rolling(x, 40)  # correlations do not depend on the scale
    assert_close(dk.realized_correlation(x * scale, 40, method="matrix"), corr, TOLERANCE)
    assert_close(dk.realized_correlation(x * scale, 40), pairwise_average(corr), TOLERANCE)


def test_quiet_windows_beside_a_huge_spike(exact_rolling, pairwise_average):
    """A 1e100 spike sets the block's scaling; the quiet windows after it have moments whose
    product underflows in the one-pass form: recomputed two-pass."""
    x = returns(400, 3)
    x[100, 1] = 1e100
    x[[30, 250], 2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, corr = exact_rolling(x, 30)
    assert_close(dk.realized_correlation(x, 30, method="matrix"), corr, TOLERANCE)
    assert_close(dk.realized_correlation(x, 30), pairwise_average(corr), TOLERANCE)
