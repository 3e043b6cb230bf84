"""Rolling realized vol and correlation: equality with pandas, NumPy twins, NaN gaps, threads, errors."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit import reference as ref


def market(T, n, seed, missing=0.0, rho=0.4, drift=5e-4):
    """Daily log returns with a common factor (correlation ~rho), optional random NaN gaps."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((T, 1))
    x = 0.012 * (np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.standard_normal((T, n))) + drift
    if missing:
        x[rng.random((T, n)) < missing] = np.nan
    return x


def pandas_matrices(x, window, min_periods):
    T, n = x.shape
    return pd.DataFrame(x).rolling(window, min_periods=min_periods).corr().to_numpy().reshape(T, n, n)


def pandas_average(x, window, min_periods, weights=None):
    """The pandas user code: rolling().corr(), then the (weighted) mean of defined off-diagonal pairs."""
    _T, n = x.shape
    c = pandas_matrices(x, window, min_periods)
    w = np.ones(n) if weights is None else np.asarray(weights)
    pair = np.outer(w, w)[~np.eye(n, dtype=bool)]
    off = c[:, ~np.eye(n, dtype=bool)]
    defined = np.isfinite(off)
    den = defined @ pair
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, np.where(defined, off, 0.0) @ pair / den, np.nan)


def assert_equal_where_defined(got, expected, atol=1e-12):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    both = np.isfinite(got) & np.isfinite(expected)
    assert both.any()
    np.testing.assert_allclose(got[both], expected[both], rtol=0, atol=atol)


CASES = [  # T, n, window, min_periods, missing
    (300, 5, 20, None, 0.0),
    (300, 6, 20, 5, 0.08),
    (700, 4, 30, 10, 0.2),
    (90, 3, 63, None, 0.0),
    (40, 3, 63, 2, 0.05),
    (250, 5, 30, 3, 0.0),
]


@pytest.mark.parametrize("T, n, window, min_periods, missing", CASES)
def test_matrix_equals_pandas_rolling_corr(T, n, window, min_periods, missing):
    x = market(T, n, seed=T + n, missing=missing)
    got = dk.realized_correlation(x, window, method="matrix", min_periods=min_periods)
    assert_equal_where_defined(got, pandas_matrices(x, window, min_periods or window))


@pytest.mark.parametrize("T, n, window, min_periods, missing", CASES)
def test_pairwise_average_equals_pandas(T, n, window, min_periods, missing):
    x = market(T, n, seed=2 * T + n, missing=missing)
    mp = min_periods or window
    assert_equal_where_defined(
        dk.realized_correlation(x, window, min_periods=min_periods), pandas_average(x, window, mp)
    )
    w = np.linspace(1.0, 2.0, n)
    w /= w.sum()
    assert_equal_where_defined(
        dk.realized_correlation(x, window, weights=w, min_periods=min_periods), pandas_average(x, window, mp, w)
    )


@pytest.mark.parametrize("T, n, window, min_periods, missing", CASES)
def test_realized_vol_equals_pandas(T, n, window, min_periods, missing):
    x = market(T, n, seed=3 * T + n, missing=missing)
    got = dk.realized_vol(x, window, min_periods=min_periods)
    expected = pd.DataFrame(x).rolling(window, min_periods=min_periods).std().to_numpy() * np.sqrt(252)
    assert_equal_where_defined(got, expected)


def test_implied_formula_equals_pandas_user_code():
    x = market(500, 8, seed=4, missing=0.03)
    w = np.arange(1.0, 9.0) / 36.0
    window, mp = 40, 20
    df = pd.DataFrame(x)
    vols = df.rolling(window, min_periods=mp).std() * np.sqrt(252)
    basket = pd.Series(x @ w)
    index_vol = basket.rolling(window, min_periods=mp).std() * np.sqrt(252)
    ws = vols.to_numpy() * w
    expected = (index_vol.to_numpy() ** 2 - (ws**2).sum(1)) / (ws.sum(1) ** 2 - (ws**2).sum(1))
    got = dk.realized_correlation(x, window, weights=w, method="implied_formula", min_periods=mp)
    assert_equal_where_defined(got, expected)
    given = market(500, 1, seed=5)[:, 0]
    got = dk.realized_correlation(x, window, weights=w, method="implied_formula", index_returns=given, min_periods=mp)
    index_vol = pd.Series(given).rolling(window, min_periods=mp).std().to_numpy() * np.sqrt(252)
    expected = (index_vol**2 - (ws**2).sum(1)) / (ws.sum(1) ** 2 - (ws**2).sum(1))
    assert_equal_where_defined(got, expected)


def test_implied_formula_tracks_pairwise_for_equal_vols():
    x = market(2000, 10, seed=6, rho=0.5)
    pair = dk.realized_correlation(x, 252)
    implied = dk.realized_correlation(x, 252, method="implied_formula")
    both = np.isfinite(pair)
    assert np.abs(pair[both] - implied[both]).max() < 0.05


@pytest.mark.parametrize("missing", [0.0, 0.05])
@pytest.mark.parametrize("method", ["pairwise", "implied_formula", "matrix"])
def test_core_matches_numpy_reference(method, missing):
    x = market(600, 7, seed=7, missing=missing)
    w = np.full(7, 1 / 7)
    got = dk.realized_correlation(x, 50, weights=w, method=method, min_periods=30)
    expected = ref.realized_correlation(x, 50, weights=w, method=method, min_periods=30)
    assert_equal_where_defined(got, expected, atol=1e-11)
    assert_equal_where_defined(dk.realized_vol(x, 50, min_periods=30), ref.realized_vol(x, 50, min_periods=30), 1e-11)


def test_large_mean_does_not_cancel():
    # Returns far from zero relative to their spread: raw sums of squares would cancel.
    x = market(400, 4, seed=8) * 1e-3 + 100.0
    expected = pandas_matrices(x, 30, 30)
    got = dk.realized_correlation(x, 30, method="matrix")
    assert_equal_where_defined(got, expected, atol=1e-8)


@pytest.mark.parametrize("method", ["pairwise", "implied_formula", "matrix"])
def test_thread_count_is_bit_identical(method):
    x = market(3000, 30, seed=9, missing=0.01)
    a = dk.realized_correlation(x, 63, method=method, min_periods=40, threads=1)
    b = dk.realized_correlation(x, 63, method=method, min_periods=40, threads=2)
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(dk.realized_vol(x, 63, threads=1), dk.realized_vol(x, 63, threads=2), equal_nan=True)


def test_gaps_longer_than_window_and_all_missing_columns():
    x = market(200, 4, seed=10)
    x[50:120, 1] = np.nan
    x[:, 3] = np.nan
    got = dk.realized_correlation(x, 20, method="matrix", min_periods=10)
    assert_equal_where_defined(got, pandas_matrices(x, 20, 10))
    assert np.isnan(got[:, 3, :]).all()
    avg = dk.realized_correlation(x, 20, min_periods=10)
    assert_equal_where_defined(avg, pandas_average(x, 20, 10))


def test_constant_stretch_leaves_its_pairs_out():
    # A name frozen at one value has no variance: its pairs are undefined, the rest still count.
    x = market(400, 5, seed=14)
    x[100:170, 2] = 0.001
    avg = dk.realized_correlation(x, 40)
    expected = pandas_average(x, 40, 40)
    assert_equal_where_defined(avg, expected)
    frozen = dk.realized_correlation(x, 40, method="matrix")[169]
    assert np.isnan(frozen[2]).all() and np.isfinite(frozen[0, 1])
    vol = dk.realized_vol(x, 40)
    assert vol[169, 2] == 0.0
    assert_equal_where_defined(vol, pd.DataFrame(x).rolling(40).std().to_numpy() * np.sqrt(252))


def test_pandas_labels_kept():
    dates = pd.bdate_range("2020-01-01", periods=120)
    df = pd.DataFrame(market(120, 3, seed=11), index=dates, columns=["AAA", "BBB", "CCC"])
    avg = dk.realized_correlation(df, 21)
    assert isinstance(avg, pd.Series) and avg.index.equals(dates)
    vol = dk.realized_vol(df, 21)
    assert isinstance(vol, pd.DataFrame) and vol.columns.equals(df.columns) and vol.index.equals(dates)
    one = dk.realized_vol(df["AAA"], 21)
    assert isinstance(one, pd.Series) and one.name == "AAA"
    mat = dk.realized_correlation(df, 21, method="matrix")
    expected = df.rolling(21).corr()
    assert mat.index.equals(expected.index) and mat.columns.equals(expected.columns)
    assert_equal_where_defined(mat.to_numpy(), expected.to_numpy())


def test_bad_inputs():
    x = market(100, 3, seed=12)
    with pytest.raises(ValueError, match="window: must be >= 2"):
        dk.realized_correlation(x, 1)
    with pytest.raises(TypeError, match="window"):
        dk.realized_vol(x, 2.5)
    with pytest.raises(ValueError, match="min_periods"):
        dk.realized_correlation(x, 10, min_periods=11)
    with pytest.raises(ValueError, match="method"):
        dk.realized_correlation(x, 10, method="spearman")
    with pytest.raises(ValueError, match="number of names differs"):
        dk.realized_correlation(x, 10, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match="index_returns: expected shape"):
        dk.realized_correlation(x, 10, method="implied_formula", index_returns=np.zeros(99))
    with pytest.raises(ValueError, match="index_returns: only used"):
        dk.realized_correlation(x, 10, index_returns=np.zeros(100))
    bad = x.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="returns: contains"):
        dk.realized_correlation(bad, 10)
    with pytest.raises(ValueError, match="at least 2 names"):
        dk.realized_correlation(x[:, :1], 10)
    with pytest.raises(ValueError, match="annualization"):
        dk.realized_vol(x, 10, annualization=0)
    with pytest.warns(dk.WeightsWarning):
        dk.realized_correlation(x, 10, weights=[1, 1, 1], method="implied_formula")


def test_window_longer_than_data_is_all_nan():
    x = market(30, 3, seed=13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(dk.realized_correlation(x, 63)).all()
        assert np.isnan(dk.realized_vol(x, 63)).all()


@pytest.mark.parametrize("huge", [2**61 - 1, 10**12])
@pytest.mark.parametrize("missing", [0.0, 0.05])
def test_window_far_longer_than_data_equals_window_of_all_rows(huge, missing):
    # 8 * window once wrapped around 2**64 (no blocks computed: uninitialized output), and
    # complete data allocated window-sized scratch (MemoryError for 10**12).
    x = market(50, 3, seed=21, missing=missing)
    for method in ("pairwise", "implied_formula", "matrix"):
        got = dk.realized_correlation(x, huge, min_periods=2, method=method)
        np.testing.assert_array_equal(got, dk.realized_correlation(x, 50, min_periods=2, method=method))
    np.testing.assert_array_equal(dk.realized_vol(x, huge, min_periods=2), dk.realized_vol(x, 50, min_periods=2))


@settings(max_examples=20, deadline=None)
@given(
    st.integers(5, 400),
    st.integers(2, 12),
    st.integers(10, 70),  # pandas' one-pass sums drift past 1e-12 in shorter windows
    st.sampled_from([0.0, 0.0, 0.02, 0.3]),
    st.integers(0, 2**31),
)
def test_random_shapes_match_pandas(T, n, window, missing, seed):
    x = market(T, n, seed=seed, missing=missing)
    mp = max(2, window // 2)
    got = dk.realized_correlation(x, window, min_periods=mp)
    expected = pandas_average(x, window, mp)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    got = dk.realized_vol(x, window, min_periods=mp)
    expected = pd.DataFrame(x).rolling(window, min_periods=mp).std().to_numpy() * np.sqrt(252)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def exact_corr(a, b):
    """Correlation in exact rational arithmetic over the rows where both are observed."""
    pairs = [(Fraction(p), Fraction(q)) for p, q in zip(a, b) if not (math.isnan(p) or math.isnan(q))]
    if len(pairs) < 2:
        return math.nan
    ma = sum(p for p, _ in pairs) / len(pairs)
    mb = sum(q for _, q in pairs) / len(pairs)
    va = sum((p - ma) ** 2 for p, _ in pairs)
    vb = sum((q - mb) ** 2 for _, q in pairs)
    if va == 0 or vb == 0:
        return math.nan
    return float(sum((p - ma) * (q - mb) for p, q in pairs)) / math.sqrt(float(va) * float(vb))


@pytest.mark.parametrize("window, missing", [(2, 0.0), (3, 0.0), (3, 0.15), (5, 0.1)])
def test_tiny_windows_match_exact_arithmetic(window, missing):
    x = market(120, 3, seed=window, missing=missing)
    got = dk.realized_correlation(x, window, method="matrix", min_periods=2)
    avg = dk.realized_correlation(x, window, min_periods=2)
    for t in range(len(x)):
        rows = x[max(0, t + 1 - window) : t + 1]
        exact = [exact_corr(rows[:, i], rows[:, j]) for i, j in ((0, 1), (0, 2), (1, 2))]
        np.testing.assert_allclose(got[t][[0, 0, 1], [1, 2, 2]], exact, rtol=0, atol=1e-14)
        defined = [e for e in exact if not math.isnan(e)]
        assert math.isnan(avg[t]) if not defined else avg[t] == pytest.approx(np.mean(defined), abs=1e-14)
    vol = dk.realized_vol(x, window, min_periods=2, annualization=1)
    for t in range(len(x)):
        rows = x[max(0, t + 1 - window) : t + 1]
        for j in range(3):
            seen = [Fraction(v) for v in rows[:, j] if not math.isnan(v)]
            if len(seen) < 2:
                assert math.isnan(vol[t, j])
                continue
            mean = sum(seen) / len(seen)
            exact = math.sqrt(float(sum((v - mean) ** 2 for v in seen) / (len(seen) - 1)))
            assert vol[t, j] == pytest.approx(exact, rel=1e-14, abs=0)


def test_array_core_gives_realized_vols_bits():
    from dispersionkit.numeric.realized import rolling_vol_values

    x = market(300, 6, seed=8, missing=0.02)
    np.testing.assert_array_equal(rolling_vol_values(x, 21, 15), dk.realized_vol(x, 21, min_periods=15))
