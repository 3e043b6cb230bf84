"""Regime switching of the correlation matrix for :func:`dispersionkit.simulate_market`."""

from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array
from .correlation_matrix import check_correlation

STOCHASTIC_TOL = 1e-10
"""Largest |row sum - 1| accepted in a transition matrix."""


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Regimes:
    """Correlation regimes: k matrices and either a Markov chain or a fixed schedule over steps.

    ``matrices`` (k, n, n) correlation matrices, one per regime (e.g. calm and crisis).
    ``transition`` (k, k) row-stochastic Markov matrix: ``transition[a, b]`` is the probability
    that a step in regime a is followed by a step in regime b. Each simulated path draws its
    own regime sequence from the counter-based RNG, starting in regime ``initial`` at step 0.
    ``schedule`` (steps,) integer regime of every step, the same for all paths; give it
    instead of ``transition``. Step t is the return from time t to t + 1.
    """

    matrices: np.ndarray
    transition: np.ndarray | None = None
    initial: int = 0
    schedule: np.ndarray | None = None

    def __post_init__(self):
        matrices = as_float_array(self.matrices, "regimes.matrices")
        if matrices.ndim != 3 or matrices.shape[0] < 1:
            raise ValueError(f"regimes.matrices: expected shape (k, n, n) with k >= 1, got {matrices.shape}")
        for r, matrix in enumerate(matrices):
            check_correlation(matrix, name=f"regimes.matrices[{r}]")
        k = matrices.shape[0]
        object.__setattr__(self, "matrices", _frozen(matrices))

        if (self.transition is None) == (self.schedule is None):
            raise ValueError("regimes: give exactly one of transition (Markov) or schedule (fixed)")
        if self.transition is not None:
            object.__setattr__(self, "transition", _frozen(_check_transition(self.transition, k)))
            if isinstance(self.initial, bool) or not isinstance(self.initial, numbers.Integral):
                raise TypeError(f"regimes.initial: expected an int, got {type(self.initial).__name__}")
            initial = operator.index(self.initial)
            if not 0 <= initial < k:
                raise ValueError(f"regimes.initial: must be in [0, {k}), got {initial}")
            object.__setattr__(self, "initial", initial)
        else:
            if self.initial != 0:
                raise ValueError("regimes.initial: only used with transition; a schedule sets every step")
            object.__setattr__(self, "schedule", _frozen(_check_schedule(self.schedule, k)))

    @property
    def count(self) -> int:
        """Number of regimes k."""
        return self.matrices.shape[0]

    @property
    def n(self) -> int:
        """Number of components each matrix covers."""
        return self.matrices.shape[1]


def _check_transition(value, k: int) -> np.ndarray:
    transition = as_float_array(value, "regimes.transition")
    if transition.shape != (k, k):
        raise ValueError(f"regimes.transition: expected shape ({k}, {k}), got {transition.shape}")
    if not np.isfinite(transition).all() or (transition < 0).any():
        raise ValueError("regimes.transition: probabilities must be finite and >= 0")
    worst = np.max(np.abs(transition.sum(axis=1) - 1.0))
    if worst > STOCHASTIC_TOL:
        raise ValueError(f"regimes.transition: rows must sum to 1 (worst |sum - 1| = {worst:.3g})")
    return transition


def _check_schedule(value, k: int) -> np.ndarray:
    schedule = np.asarray(value)
    if schedule.dtype.kind not in "iu":
        raise TypeError(f"regimes.schedule: expected integer regime indices, got dtype {schedule.dtype}")
    if schedule.ndim != 1:
        raise ValueError(f"regimes.schedule: expected shape (steps,), got {schedule.shape}")
    if schedule.size and (schedule.min() < 0 or schedule.max() >= k):
        raise ValueError(f"regimes.schedule: regime indices must be in [0, {k})")
    return schedule.astype(np.int32)
