"""check_correlation, nearest_correlation (Higham 2002), stress_correlation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk


def min_eig(R):
    return np.linalg.eigvalsh(R)[0]


def test_check_correlation_accepts_valid_and_names_each_problem():
    R = dk.random_correlation(5, rng=np.random.default_rng(1))
    assert dk.check_correlation(R) is not None
    bad = R.copy()
    bad[0, 1] += 1e-3
    with pytest.raises(ValueError, match="not symmetric"):
        dk.check_correlation(bad)
    bad = R.copy()
    bad[2, 2] = 1.1
    with pytest.raises(ValueError, match="diagonal is not 1"):
        dk.check_correlation(bad)
    bad = R.copy()
    bad[1, 3] = bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dk.check_correlation(bad)
    bad = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    with pytest.raises(ValueError, match="not positive semidefinite"):
        dk.check_correlation(bad)
    with pytest.raises(ValueError, match="square"):
        dk.check_correlation(np.ones((2, 3)))


def test_nearest_correlation_higham_example():
    # Higham (2002), section 4: the nearest correlation matrix to this one.
    A = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=float)
    expected = np.array([[1.0, 0.7607, 0.1573], [0.7607, 1.0, 0.7607], [0.1573, 0.7607, 1.0]])
    X = dk.nearest_correlation(A)
    np.testing.assert_allclose(X, expected, atol=5e-5)
    dk.check_correlation(X, tol=1e-9)


def test_nearest_correlation_keeps_a_valid_matrix():
    R = dk.random_correlation(8, rng=np.random.default_rng(2))
    np.testing.assert_allclose(dk.nearest_correlation(R), R, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 25), st.integers(0, 2**31))
def test_nearest_correlation_of_user_edits_is_valid_and_closer(n, seed):
    rng = np.random.default_rng(seed)
    R = dk.random_correlation(n, rng=rng)
    edited = R + rng.uniform(-0.6, 0.6, size=(n, n))
    edited = np.clip(0.5 * (edited + edited.T), -1, 1)
    np.fill_diagonal(edited, 1.0)
    X = dk.nearest_correlation(edited)
    assert np.allclose(X, X.T, atol=0) and np.all(np.diag(X) == 1.0)
    assert min_eig(X) >= -1e-10
    # No worse than the original valid matrix (it is a feasible point).
    assert np.linalg.norm(X - edited) <= np.linalg.norm(R - edited) + 1e-8


@pytest.mark.parametrize("target", [0.9, 0.95, 0.99, 0.5, 0.1, 0.0, -0.05])
def test_stress_correlation_hits_target_and_stays_valid(target):
    R = dk.random_correlation(12, rng=np.random.default_rng(3))
    out = dk.stress_correlation(R, target)
    assert dk.average_correlation(out) == pytest.approx(target, abs=1e-12)
    dk.check_correlation(out, tol=1e-10)


def test_stress_correlation_weighted_and_order_preserving():
    rng = np.random.default_rng(4)
    R = dk.random_correlation(10, rng=rng)
    w = rng.dirichlet(np.ones(10))
    out = dk.stress_correlation(R, 0.9, weights=w)
    assert dk.average_correlation(out, w) == pytest.approx(0.9, abs=1e-12)
    off = ~np.eye(10, dtype=bool)
    assert np.array_equal(np.argsort(R[off]), np.argsort(out[off]))
    assert min_eig(out) >= -1e-12


def test_stress_raises_index_vol():
    R = dk.random_correlation(6, rng=np.random.default_rng(5))
    w, s = np.full(6, 1 / 6), np.full(6, 0.3)
    assert dk.index_vol(w, s, dk.stress_correlation(R, 0.9)) > dk.index_vol(w, s, R)


def test_stress_correlation_bad_inputs():
    R = dk.random_correlation(4, rng=np.random.default_rng(6))
    with pytest.raises(ValueError, match="target: must be in"):
        dk.stress_correlation(R, 1.2)
    with pytest.raises(ValueError, match="target: must be in"):
        dk.stress_correlation(R, -0.5)  # below -1/(n-1)
    with pytest.raises(TypeError, match="target"):
        dk.stress_correlation(R, np.nan)
    with pytest.raises(ValueError, match="not positive semidefinite"):
        dk.stress_correlation(np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]), 0.9)


def test_dataframes_keep_their_labels():
    names = ["AAPL", "MSFT", "XOM"]
    R = pd.DataFrame(dk.random_correlation(3, rng=np.random.default_rng(7)), index=names, columns=names)
    for out in (dk.stress_correlation(R, 0.9), dk.nearest_correlation(R)):
        assert isinstance(out, pd.DataFrame)
        assert list(out.index) == names and list(out.columns) == names


@pytest.mark.parametrize("n, factors", [(1, None), (7, None), (12, 3)])
def test_random_correlation_is_valid_and_seeded(n, factors):
    R = dk.random_correlation(n, factors=factors, rng=11)
    assert R.shape == (n, n)
    dk.check_correlation(R)
    np.testing.assert_array_equal(R, dk.random_correlation(n, factors=factors, rng=11))
    if factors is not None and factors < n:
        assert np.linalg.matrix_rank(R) == factors
