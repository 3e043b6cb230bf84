"""Valid correlation matrices: check one, repair a user-edited one, stress one to a target level.

A valid correlation matrix is finite, symmetric, has a unit diagonal and is positive
semidefinite (PSD). These are O(n^3) at most per matrix and run in NumPy/LAPACK.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from .._labels import same_labels
from .._validation import as_count, as_float_array, as_positive
from .correlation import average_correlation

DEFAULT_TOLERANCE = 1e-8
"""Default tolerance of :func:`check_correlation` (symmetry, diagonal, smallest eigenvalue)."""
# nearest_correlation's projections take norms of the matrix: entries far beyond this would
# overflow them (a user-edited correlation matrix is within a few units of [-1, 1]).
_MAX_ENTRY = 1e100
_MIN_TOLERANCE = 1e-15  # the relative change between iterates cannot fall much below machine epsilon
_MAX_ITERATIONS = 10**7


def _relabel(result: np.ndarray, like):
    """A DataFrame with the labels of `like` when it was one, else the array."""
    if isinstance(like, pd.DataFrame):
        return pd.DataFrame(result, index=like.index, columns=like.columns)
    return result


def _square(matrix, name: str) -> np.ndarray:
    R = as_float_array(matrix, name)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty square (n, n) matrix, got shape {R.shape}")
    return R


def check_correlation(matrix, tol: float = DEFAULT_TOLERANCE, *, name: str = "corr") -> np.ndarray:
    """Raise ValueError saying why ``matrix`` is not a valid correlation matrix; else return it.

    Checks, in order: square; no NaN/inf; symmetric (max |R - R'| <= tol); unit diagonal
    (max |R_ii - 1| <= tol); PSD (smallest eigenvalue >= -tol). Returns the float64 matrix.
    """
    R = _square(matrix, name)
    if not np.isfinite(R).all():
        raise ValueError(f"{name}: contains NaN or inf")
    asym = np.abs(R - R.T).max()
    if asym > tol:
        raise ValueError(f"{name}: not symmetric (max |R - R'| = {asym:.3g} > tol {tol:.3g})")
    diag = np.abs(np.diag(R) - 1.0).max()
    if diag > tol:
        raise ValueError(f"{name}: diagonal is not 1 (max |R_ii - 1| = {diag:.3g} > tol {tol:.3g})")
    smallest = np.linalg.eigvalsh(0.5 * (R + R.T))[0]
    if smallest < -tol:
        raise ValueError(f"{name}: not positive semidefinite (smallest eigenvalue {smallest:.3g} < -{tol:.3g})")
    return R


def psd_cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower-triangular L with L @ L.T == matrix for a checked correlation matrix.

    Unlike numpy.linalg.cholesky this accepts singular matrices (e.g. perfectly correlated
    names): a pivot that rounding leaves at or below zero gives a zero column, the exact
    factor of the PSD matrix it approximates.
    """
    n = matrix.shape[0]
    a = 0.5 * (matrix + matrix.T)
    factor = np.zeros_like(a)
    for j in range(n):
        pivot = a[j, j] - factor[j, :j] @ factor[j, :j]
        if pivot <= DEFAULT_TOLERANCE * max(1, n):
            continue
        root = np.sqrt(pivot)
        factor[j, j] = root
        factor[j + 1 :, j] = (a[j + 1 :, j] - factor[j + 1 :, :j] @ factor[j, :j]) / root
    return factor


def _psd_part(A: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(0.5 * (A + A.T))
    return (vecs * np.maximum(vals, 0.0)) @ vecs.T


def nearest_correlation(matrix, *, tol: float = 1e-10, max_iterations: int = 1000) -> np.ndarray:
    """Nearest correlation matrix in Frobenius norm (Higham 2002, alternating projections).

    Alternates the projection onto PSD matrices (eigenvalues clipped at 0) and onto unit-
    diagonal matrices, with Dykstra's correction on the PSD step, until successive iterates
    differ by less than ``tol`` (relative). The result is the last PSD iterate rescaled to an
    exact unit diagonal, D^-1/2 X D^-1/2, which keeps it PSD. ``matrix`` must be finite and
    symmetric (it is the user's edited matrix; asymmetry is symmetrized first). ``tol`` >= 1e-15;
    ``max_iterations`` in [1, 1e7]. Raises RuntimeError if it has not converged after
    ``max_iterations``. A DataFrame keeps its labels.
    """
    tol = as_positive(tol, "tol")
    if tol < _MIN_TOLERANCE:
        raise ValueError(f"tol: {tol:g} is below what float64 iterates can resolve; use >= {_MIN_TOLERANCE:g}")
    max_iterations = as_count(max_iterations, "max_iterations", 1, _MAX_ITERATIONS)
    A = _square(matrix, "matrix")
    if not np.isfinite(A).all():
        raise ValueError("matrix: contains NaN or inf")
    largest = float(np.abs(A).max())
    if largest > _MAX_ENTRY:  # norms of the iterates would overflow; no correlation is near it
        raise ValueError(
            f"matrix: an entry of magnitude {largest:.3g} is not a correlation (|entries| <= {_MAX_ENTRY:g})"
        )
    Y = 0.5 * (A + A.T)
    correction = np.zeros_like(Y)
    for _ in range(max_iterations):
        R = Y - correction
        X = _psd_part(R)
        correction = X - R
        Y_next = X.copy()
        np.fill_diagonal(Y_next, 1.0)
        change = np.linalg.norm(Y_next - Y) / max(np.linalg.norm(Y_next), 1.0)
        Y = Y_next
        if change < tol:
            break
    else:
        raise RuntimeError(f"nearest_correlation: no convergence in {max_iterations} iterations")
    d = np.sqrt(np.clip(np.diag(X), np.finfo(float).tiny, None))
    out = X / np.outer(d, d)
    out = 0.5 * (out + out.T)
    np.fill_diagonal(out, 1.0)
    return _relabel(out, matrix)


def stress_correlation(corr, target, weights=None) -> np.ndarray:
    """Move a valid correlation matrix to a target average off-diagonal correlation.

    Blends towards an equicorrelation matrix E(c) (ones on the diagonal, c off it):
    R' = (1 - a) R + a E(c), with c = 1 (all ones) when raising the average, c = 0 (the
    identity) when lowering it to a target >= 0, and c = -1/(n-1) (the most negative valid
    equicorrelation) for a negative target. The average (equal, or w_i w_j weighted as in
    :func:`average_correlation`) is linear in a, so a = (target - avg) / (c - avg) exactly.
    A convex blend of two correlation matrices is one: R' stays symmetric, unit-diagonal and
    PSD, and the ordering of pairwise correlations is kept. ``corr`` is checked with
    :func:`check_correlation`; ``target`` must lie in [-1/(n-1), 1]. A DataFrame keeps its labels.
    """
    R = check_correlation(corr)
    same_labels({"corr": corr if isinstance(corr, pd.DataFrame) else None, "weights": weights}, {})
    n = R.shape[0]
    if n < 2:
        raise ValueError("corr: needs n >= 2 names")
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not math.isfinite(target):
        raise TypeError(f"target: expected a finite real number, got {target!r}")
    floor = -1.0 / (n - 1)
    if not floor <= target <= 1.0:
        raise ValueError(f"target: must be in [{floor:.6g}, 1] for n = {n}, got {target}")
    return _relabel(stress_correlation_values(R, float(target), weights), corr)


def stress_correlation_values(corr: np.ndarray, target: float, weights=None) -> np.ndarray:
    """Array-only core of :func:`stress_correlation`: ``corr`` a valid float64 (n, n)
    correlation matrix (n >= 2) and ``target`` in [-1/(n-1), 1], both already checked; returns
    a new (n, n) array. For callers that build the matrix themselves (e.g. an equicorrelation)."""
    n = corr.shape[0]
    avg = average_correlation(corr, weights)
    if target == avg:
        return corr.copy()
    anchor = 1.0 if target > avg else (0.0 if target >= 0.0 else -1.0 / (n - 1))
    a = (target - avg) / (anchor - avg)
    E = np.full((n, n), anchor)
    np.fill_diagonal(E, 1.0)
    out = (1.0 - a) * corr + a * E
    np.fill_diagonal(out, 1.0)
    return out


def random_correlation(n: int, *, factors: int | None = None, rng=None) -> np.ndarray:
    """A random valid (n, n) correlation matrix: the normalized Gram matrix of `factors`-dim
    Gaussian loadings (default 2n, full rank). For tests, benchmarks and what-if stress runs.
    ``rng`` is a numpy Generator or a seed."""
    rng = np.random.default_rng(rng)
    loadings = rng.standard_normal((n, factors or 2 * n))
    gram = loadings @ loadings.T
    scale = np.sqrt(np.diag(gram))
    R = gram / np.outer(scale, scale)
    R = 0.5 * (R + R.T)
    np.fill_diagonal(R, 1.0)
    return R
