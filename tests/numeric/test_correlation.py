"""Index variance / vol, implied, break-even and average correlation: documented check values, NumPy twins, errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit import reference as ref


@pytest.mark.parametrize("rho, expected", [(1.0, 0.30), (0.0, 0.2121320343559643), (-1.0, 0.0), (-0.5, 0.15)])
def test_documented_two_stock_index_vol(rho, expected):
    vol = dk.index_vol([0.5, 0.5], [0.3, 0.3], [[1.0, rho], [rho, 1.0]])
    assert isinstance(vol, float)
    assert vol == pytest.approx(expected, abs=1e-15)


def test_index_vol_never_exceeds_weighted_vol_sum():
    rng = np.random.default_rng(3)
    w = rng.dirichlet(np.ones(30), size=200)
    s = rng.uniform(0.1, 0.6, size=(200, 30))
    vol = dk.index_vol(w, s, dk.random_correlation(30, rng=rng))
    assert np.all(vol <= (w * s).sum(1) * (1 + 1e-12))


@pytest.mark.parametrize("n_dates, n", [(1, 1), (5, 3), (37, 7), (100, 33), (65, 64)])
def test_index_variance_shared_matches_reference(n_dates, n):
    rng = np.random.default_rng(n_dates * 100 + n)
    w = rng.dirichlet(np.ones(n), size=n_dates)
    s = rng.uniform(0.05, 0.8, size=(n_dates, n))
    R = dk.random_correlation(n, rng=rng)
    got = dk.index_variance(w, s, R)
    np.testing.assert_allclose(got, ref.index_variance(w, s, R), rtol=1e-13, atol=0)
    # Memory layout of the inputs does not matter (pandas hands out Fortran-ordered blocks).
    np.testing.assert_array_equal(
        dk.index_variance(np.asfortranarray(w), np.asfortranarray(s), R[::-1, ::-1][::-1, ::-1]), got
    )


def test_index_variance_per_date_and_scenarios_shapes():
    rng = np.random.default_rng(7)
    T, n, S = 12, 9, 4
    w = rng.dirichlet(np.ones(n))
    s = rng.uniform(0.1, 0.5, size=(T, n))
    per_date = np.stack([dk.random_correlation(n, rng=rng) for _ in range(T)])
    scen = np.stack([dk.random_correlation(n, rng=rng) for _ in range(S)])
    got = dk.index_variance(w, s, per_date)
    assert got.shape == (T,)
    np.testing.assert_allclose(got, ref.index_variance(w, s, per_date), rtol=1e-13)
    got = dk.index_variance(w, s, scen, scenarios=True)
    assert got.shape == (S, T)
    np.testing.assert_allclose(got, ref.index_variance(w, s, scen, scenarios=True), rtol=1e-13)
    for k in range(S):
        np.testing.assert_allclose(got[k], dk.index_variance(w, s, scen[k]), rtol=0, atol=0)
    one = dk.index_variance(w, s[0], scen, scenarios=True)
    assert one.shape == (S,)
    np.testing.assert_allclose(one, got[:, 0], rtol=1e-14)
    # S == T: the keyword decides, the shape does not.
    square = np.stack([dk.random_correlation(n, rng=rng) for _ in range(T)])
    assert dk.index_variance(w, s, square).shape == (T,)
    assert dk.index_variance(w, s, square, scenarios=True).shape == (T, T)


def test_per_date_matrix_with_one_weight_row_broadcasts():
    rng = np.random.default_rng(8)
    R = np.stack([dk.random_correlation(5, rng=rng) for _ in range(6)])
    w, s = np.full(5, 0.2), np.full(5, 0.3)
    got = dk.index_variance(w, s, R)
    np.testing.assert_allclose(got, [w * s @ Rt @ (w * s) for Rt in R], rtol=1e-14)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 70), st.integers(1, 40), st.integers(0, 2**31))
def test_index_variance_random_shapes_match_reference(n_dates, n, seed):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0, 1, size=(n_dates, n))
    w /= w.sum(1, keepdims=True)
    s = rng.uniform(0.0, 1.0, size=(n_dates, n))
    R = dk.random_correlation(n, rng=rng)
    np.testing.assert_allclose(dk.index_variance(w, s, R), ref.index_variance(w, s, R), rtol=1e-12, atol=1e-300)


def test_index_variance_thread_count_is_bit_identical():
    rng = np.random.default_rng(11)
    T, n = 3000, 120
    w = rng.dirichlet(np.ones(n), size=T)
    s = rng.uniform(0.1, 0.5, size=(T, n))
    R = dk.random_correlation(n, rng=rng)
    a = dk.index_variance(w, s, R, threads=1)
    b = dk.index_variance(w, s, R, threads=2)
    assert np.array_equal(a, b)
    Rs = np.stack([dk.random_correlation(40, rng=rng) for _ in range(300)])
    w40, s40 = np.full(40, 1 / 40), rng.uniform(0.1, 0.5, size=(300, 40))
    assert np.array_equal(dk.index_variance(w40, s40, Rs, threads=1), dk.index_variance(w40, s40, Rs, threads=2))


def test_index_variance_nan_propagates_per_date_only():
    rng = np.random.default_rng(12)
    s = rng.uniform(0.1, 0.5, size=(4, 3))
    s[2, 1] = np.nan
    got = dk.index_variance(np.full(3, 1 / 3), s, dk.random_correlation(3, rng=rng))
    assert np.isnan(got[2]) and np.isfinite(got[[0, 1, 3]]).all()
    R = np.stack([dk.random_correlation(3, rng=rng) for _ in range(4)])
    R[1, 0, 2] = np.nan
    got = dk.index_variance(np.full(3, 1 / 3), np.full(3, 0.2), R)
    assert np.isnan(got[1]) and np.isfinite(got[[0, 2, 3]]).all()


def test_index_vol_pandas_labels_kept():
    dates = pd.date_range("2024-01-01", periods=5, freq="B")
    names = ["A", "B", "C"]
    vols = pd.DataFrame(np.full((5, 3), 0.3), index=dates, columns=names)
    R = pd.DataFrame(np.eye(3), index=names, columns=names)
    got = dk.index_vol(pd.Series([0.5, 0.3, 0.2], index=names), vols, R)
    assert isinstance(got, pd.Series) and got.index.equals(dates)
    np.testing.assert_allclose(got.to_numpy(), 0.3 * np.sqrt(0.25 + 0.09 + 0.04))
    scen = dk.index_variance([0.5, 0.3, 0.2], vols, np.stack([np.eye(3), np.ones((3, 3))]), scenarios=True)
    assert isinstance(scen, pd.DataFrame) and scen.shape == (2, 5) and scen.columns.equals(dates)


def test_index_variance_bad_inputs():
    R = np.eye(3)
    w = np.full(3, 1 / 3)
    with pytest.raises(ValueError, match="number of names differs"):
        dk.index_variance(w, np.full(4, 0.2), R)
    with pytest.raises(ValueError, match="number of names differs"):
        dk.index_variance(w, np.full(3, 0.2), np.eye(4))
    with pytest.raises(ValueError, match="number of dates differs"):
        dk.index_variance(np.full((5, 3), 1 / 3), np.full((6, 3), 0.2), R)
    with pytest.raises(ValueError, match="vols: must be >= 0"):
        dk.index_variance(w, [0.2, -0.1, 0.3], R)
    bad = np.eye(3)
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="corr: contains NaN"):
        dk.index_variance(w, np.full(3, 0.2), bad)
    bad = np.eye(3)
    bad[0, 1] = 0.3
    with pytest.raises(ValueError, match="corr: not symmetric"):
        dk.index_variance(w, np.full(3, 0.2), bad)
    with pytest.raises(ValueError, match="scenarios=True needs shape"):
        dk.index_variance(w, np.full(3, 0.2), R, scenarios=True)
    with pytest.raises(ValueError, match="corr: expected shape"):
        dk.index_variance(w, np.full(3, 0.2), np.ones((3, 2)))
    with pytest.raises(TypeError, match="weights: expected real numbers"):
        dk.index_variance(["a", "b", "c"], np.full(3, 0.2), R)
    with pytest.raises(ValueError, match="threads"):
        dk.index_variance(w, np.full(3, 0.2), R, threads=0)


def test_weights_not_summing_to_one_warn_and_are_used_as_given():
    with pytest.warns(dk.WeightsWarning, match="do not sum to 1"):
        var = dk.index_variance([1.0, 1.0], [0.3, 0.3], np.eye(2))
    assert var == pytest.approx(2 * 0.09)


def test_non_psd_matrix_gives_nan_vol_not_a_number():
    R = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    w = np.array([1.0, -1.0, 1.0])  # a long-short basket exposes the negative eigenvalue
    assert dk.index_variance(w, np.ones(3), R) < 0
    assert np.isnan(dk.index_vol(w, np.ones(3), R))


@pytest.mark.parametrize("n, s, s_index, expected", [(10, 0.35, 0.20, 0.25170), (5, 0.40, 0.25, 0.2383)])
def test_documented_implied_correlation(n, s, s_index, expected):
    est = dk.implied_correlation(s_index, np.full(n, s), np.full(n, 1.0 / n))
    assert est.value == pytest.approx(expected, abs=5e-5)
    assert not est.out_of_range


def test_implied_correlation_inverts_index_vol():
    rng = np.random.default_rng(5)
    T, n = 50, 20
    w = rng.dirichlet(np.ones(n))
    s = rng.uniform(0.15, 0.6, size=(T, n))
    rho = rng.uniform(-0.04, 0.95, size=T)
    R = np.stack([np.full((n, n), r) + (1 - r) * np.eye(n) for r in rho])
    iv = dk.index_vol(w, s, R)
    est = dk.implied_correlation(iv, s, w)
    np.testing.assert_allclose(est.value, rho, atol=1e-12)
    np.testing.assert_allclose(est.value, ref.implied_correlation(iv, s, w).value, rtol=1e-12, atol=1e-15)


def test_implied_correlation_out_of_range_is_flagged_not_clipped():
    s = np.full((3, 4), 0.3)
    est = dk.implied_correlation([0.1, 0.2, 0.4], s, np.full(4, 0.25))
    assert est.value[2] > 1 and est.value[0] < 1
    assert est.out_of_range.tolist() == [False, False, True]
    assert est.clipped()[2] == 1.0
    nan = dk.implied_correlation([np.nan, 0.2], np.full((2, 4), 0.3), np.full(4, 0.25))
    assert np.isnan(nan.value[0]) and not nan.out_of_range[0]


def test_breakeven_correlation_matches_documented_formula():
    w = np.array([0.4, 0.35, 0.25])
    s = np.array([0.25, 0.35, 0.45])
    paid = 0.28
    cross = (w @ s) ** 2 - (w * w) @ (s * s)
    expected = (paid**2 - (w * w) @ (s * s)) / cross
    assert dk.breakeven_correlation(paid, s, w).value == pytest.approx(expected, rel=1e-14)
    # At rho_be the equicorrelated index variance equals the variance paid.
    R = np.full((3, 3), expected) + (1 - expected) * np.eye(3)
    assert dk.index_vol(w, s, R) == pytest.approx(paid, rel=1e-13)


def test_implied_correlation_pandas_and_errors():
    dates = pd.date_range("2024-01-01", periods=3)
    iv = pd.Series([0.2, 0.25, 0.3], index=dates)
    est = dk.implied_correlation(iv, np.full(5, 0.4), np.full(5, 0.2))
    assert isinstance(est.value, pd.Series) and est.value.index.equals(dates)
    with pytest.raises(ValueError, match="index_vol: must be >= 0"):
        dk.implied_correlation(-0.2, np.full(5, 0.4), np.full(5, 0.2))
    with pytest.raises(ValueError, match="number of names differs"):
        dk.implied_correlation(0.2, np.full(5, 0.4), np.full(4, 0.25))
    with pytest.raises(ValueError, match="number of dates differs"):
        dk.implied_correlation(np.full(3, 0.2), np.full((4, 5), 0.4), np.full(5, 0.2))
    with pytest.warns(dk.WeightsWarning):
        dk.breakeven_correlation(0.2, np.full(5, 0.4), np.full(5, 0.3))


def test_average_correlation_equal_and_weighted():
    rng = np.random.default_rng(9)
    R = np.stack([dk.random_correlation(6, rng=rng) for _ in range(8)]).reshape(2, 4, 6, 6)
    off = ~np.eye(6, dtype=bool)
    got = dk.average_correlation(R)
    assert got.shape == (2, 4)
    np.testing.assert_allclose(got, R[..., off].mean(-1), rtol=1e-13)
    w = rng.uniform(0.1, 1, size=6)
    W = np.outer(w, w)[off]
    np.testing.assert_allclose(dk.average_correlation(R, w), (R[..., off] * W).sum(-1) / W.sum(), rtol=1e-13)
    np.testing.assert_allclose(dk.average_correlation(R, w), ref.average_correlation(R, w), rtol=1e-13)
    assert dk.average_correlation(np.full((3, 3), 0.4) + 0.6 * np.eye(3)) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="n >= 2"):
        dk.average_correlation(np.ones((1, 1)))
    with pytest.raises(ValueError, match="weights: must be >= 0"):
        dk.average_correlation(np.eye(3), [1, -1, 1])


def test_zero_weight_names_do_not_enter_even_with_nan_vol():
    # A name not yet listed: weight 0 and no vol. It must not turn the index numbers into NaN.
    w = np.array([0.5, 0.5, 0.0])
    s = np.array([0.3, 0.3, np.nan])
    R = np.eye(3)
    assert dk.index_vol(w, s, R) == pytest.approx(0.3 * np.sqrt(0.5))
    assert dk.implied_correlation(0.3, s, w).value == pytest.approx(1.0)
    assert ref.implied_correlation(0.3, s, w).value == pytest.approx(1.0)
    assert ref.index_variance(w, s, R) == pytest.approx(0.045)
    s[0] = np.nan
    assert np.isnan(dk.index_vol(w, s, R)) and np.isnan(dk.implied_correlation(0.3, s, w).value)


def test_array_cores_give_the_labelled_functions_bits():
    """The strategy and backtest layers call the array-only cores; they must be the same numbers."""
    from dispersionkit.numeric.correlation import equicorrelation_values
    from dispersionkit.numeric.correlation_matrix import stress_correlation_values

    rng = np.random.default_rng(12)
    T, n = 40, 7
    w = rng.dirichlet(np.ones(n), size=T)
    s = rng.uniform(0.1, 0.6, size=(T, n))
    s[3, 2] = np.nan
    iv = rng.uniform(0.1, 0.4, size=T)
    np.testing.assert_array_equal(equicorrelation_values(iv, s, w), dk.implied_correlation(iv, s, w).value)
    scalar = equicorrelation_values(0.2, s[0], w[0])
    assert scalar.shape == (1,) and scalar[0] == dk.implied_correlation(0.2, s[0], w[0]).value
    R = dk.random_correlation(n, rng=rng)
    for target in (-0.1, 0.0, 0.3, 0.95):
        np.testing.assert_array_equal(
            stress_correlation_values(R, target, w[0]), dk.stress_correlation(R, target, w[0])
        )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 100),
    scenarios=st.integers(1, 3),
    where=st.tuples(st.integers(0, 2), st.floats(0, 1), st.floats(0, 1)),
    defect=st.sampled_from(["asymmetric", "nan", "inf", "none"]),
    seed=st.integers(0, 2**16),
)
def test_shared_matrices_are_checked_entry_by_entry_in_the_core(n, scenarios, where, defect, seed):
    # The core compares tiles of R with the mirrored tiles (32 x 32, row pairs per thread): a
    # defect anywhere, in any scenario, on any side of the diagonal and any tile is found, and
    # the reported gap is the exact max |R - R'|.
    rng = np.random.default_rng(seed)
    stack = np.stack([dk.random_correlation(n, rng=rng) for _ in range(scenarios)])
    s_bad, i, j = min(where[0], scenarios - 1), int(where[1] * (n - 1)), int(where[2] * (n - 1))
    w, vols = np.full(n, 1.0 / n), rng.uniform(0.1, 0.5, n)
    if defect == "asymmetric" and i != j:
        stack[s_bad, i, j] += 1e-6
        with pytest.raises(ValueError, match=r"not symmetric \(max \|R - R'\| = 1e-06\)"):
            dk.index_variance(w, vols, stack, scenarios=True, threads=2)
    elif defect in ("nan", "inf"):
        stack[s_bad, i, j] = np.nan if defect == "nan" else -np.inf
        with pytest.raises(ValueError, match="corr: contains NaN or inf"):
            dk.index_variance(w, vols, stack, scenarios=True, threads=2)
    else:
        # Asymmetry below 1e-10 (rounding in a caller's matrix) is accepted.
        stack[s_bad, i, j] += 1e-12 if i != j else 0.0
        got = dk.index_variance(w, vols, stack, scenarios=True, threads=2)
        np.testing.assert_allclose(got, ref.index_variance(w, vols, stack, scenarios=True), rtol=1e-12)


def test_weights_times_vols_are_formed_in_the_core_with_zero_weights_absent():
    # u = w * s is formed while the dates are packed: a zero-weight name is absent even with a
    # NaN or inf vol, a positive weight with a NaN vol gives NaN for that date only, and rows
    # repeated over dates (stride 0) give the bits of the materialized rows.
    rng = np.random.default_rng(11)
    T, n = 40, 9
    R = dk.random_correlation(n, rng=rng)
    w = rng.dirichlet(np.ones(n), size=T)
    vols = rng.uniform(0.1, 0.5, (T, n))
    w[:, 3] = 0.0
    w /= w.sum(1, keepdims=True)
    vols[:, 3] = np.nan
    vols[7, 5] = np.nan
    got = dk.index_variance(w, vols, R)
    assert np.isnan(got[7]) and np.isfinite(np.delete(got, 7)).all()
    u = np.where(w == 0.0, 0.0, w * np.nan_to_num(vols, nan=0.0))
    want = np.einsum("ti,ij,tj->t", u, R, u)
    np.testing.assert_allclose(np.delete(got, 7), np.delete(want, 7), rtol=1e-13)
    one_row = dk.index_variance(w[0], vols[1], R)
    np.testing.assert_array_equal(dk.index_variance(np.tile(w[0], (T, 1)), vols[1], R), np.full(T, one_row))
    per_date = dk.index_variance(w, vols, np.broadcast_to(R, (T, n, n)))
    np.testing.assert_allclose(np.delete(per_date, 7), np.delete(want, 7), rtol=1e-13)
