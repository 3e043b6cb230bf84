"""Correlation-matrix checks and a Cholesky factor that accepts singular (PSD) matrices."""

from __future__ import annotations

import numpy as np

SYMMETRY_TOL = 1e-10
"""Largest |R - R.T| accepted as symmetric (rounding in user-built matrices)."""
PSD_TOL = 1e-10
"""Smallest eigenvalue accepted as PSD is -PSD_TOL (times n, for rounding in eigvalsh)."""


def check_correlation(matrix: np.ndarray, name: str) -> None:
    """Raise ValueError naming `name` unless `matrix` is a finite, symmetric, unit-diagonal PSD (n, n)."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name}: expected a square (n, n) matrix, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name}: contains NaN or inf")
    asym = np.max(np.abs(matrix - matrix.T), initial=0.0)
    if asym > SYMMETRY_TOL:
        raise ValueError(f"{name}: not symmetric (max |R - R.T| = {asym:.3g})")
    diag = np.max(np.abs(np.diag(matrix) - 1.0), initial=0.0)
    if diag > SYMMETRY_TOL:
        raise ValueError(f"{name}: diagonal is not 1 (max |R_ii - 1| = {diag:.3g})")
    if np.max(np.abs(matrix), initial=0.0) > 1.0 + SYMMETRY_TOL:
        raise ValueError(f"{name}: entries outside [-1, 1]")
    lowest = np.linalg.eigvalsh(matrix)[0] if matrix.size else 0.0
    if lowest < -PSD_TOL * max(1, matrix.shape[0]):
        raise ValueError(f"{name}: not positive semi-definite (smallest eigenvalue {lowest:.3g}); "
                         "repair it with a nearest-correlation projection")


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
        if pivot <= PSD_TOL * max(1, n):
            continue
        root = np.sqrt(pivot)
        factor[j, j] = root
        factor[j + 1:, j] = (a[j + 1:, j] - factor[j + 1:, :j] @ factor[j, :j]) / root
    return factor
