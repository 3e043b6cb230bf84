"""Correlation swaps in the strategy layer: how far the variance-implied correlation is from the
fair correlation-swap strike, estimated on simulated paths.

The contract's maths (strike implied by variance swaps, term-sheet realized correlation, payoff,
mark-to-market) lives in :mod:`dispersionkit.numeric.correlation_swap`; ``correlation_swap_payoff``
is re-exported here, where it has always been importable.

The gap (:func:`correlation_swap_gap`). On paths of :func:`~dispersionkit.simulate_market` the
fair variance strikes are the expected realized variances (term-sheet definition, zero rates),
so the variance-implied correlation is :func:`~dispersionkit.correlation_swap_strike` of them,
and the fair correlation-swap strike is the expected term-sheet realized correlation. In one
regime (constant vols and correlation) the two differ by little: the small-sample bias of the
period's sample correlations and the vol weighting of pairs. The model's vols do not move with
correlation, but markets' do; ``crisis`` mixes in a second state where both are higher (a period
is a crisis with probability p), which is what opens the gap desks see: the variance strikes
weight the crisis state by its high variances, the correlation swap by its probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_count, as_float_array, as_fraction, as_positive, as_real
from ..numeric.correlation_matrix import check_correlation, stress_correlation
from ..numeric.correlation_swap import correlation_swap_payoff, correlation_swap_strike, swap_realized_correlation
from ..numeric.paths import simulate_market
from ..numeric.variance_swap import realized_variance

__all__ = ["CorrelationGap", "correlation_swap_gap", "correlation_swap_payoff"]

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class CorrelationGap:
    """Monte-Carlo estimate of the gap between the variance-implied and the fair correlation strike.

    variance_implied: correlation implied by the paths' expected realized variances.
    fair_strike: expected term-sheet realized correlation. gap = variance_implied - fair_strike.
    standard_error: of ``fair_strike`` across paths (the variance strikes' own error is smaller).
    crisis_share: fraction of paths in the crisis state (0 without one). paths, days: sample size.
    """

    variance_implied: float
    fair_strike: float
    gap: float
    standard_error: float
    crisis_share: float
    paths: int
    days: int

    def __repr__(self) -> str:
        return (
            f"CorrelationGap(variance_implied={self.variance_implied:.4f}, fair_strike={self.fair_strike:.4f}, "
            f"gap={self.gap:+.4f} +- {self.standard_error:.4f}, {self.paths:,} paths x {self.days} days)"
        )


def _in_crisis(first_path: int, paths: int, probability: float) -> np.ndarray:
    """Whether each absolute path number is a crisis path: a fixed low-discrepancy sequence in
    the path number, so a path's state never depends on how the paths are split."""
    numbers = np.arange(first_path, first_path + paths, dtype=np.float64)
    return np.mod((numbers + 0.5) * _GOLDEN, 1.0) < probability


def correlation_swap_gap(
    vols,
    weights,
    corr,
    *,
    days: int = 63,
    paths: int = 20_000,
    seed: int = 0,
    crisis: tuple[float, float, float] | None = None,
    threads=None,
) -> CorrelationGap:
    """Gap between the variance-implied correlation and the fair correlation-swap strike (module
    docstring), on ``paths`` paths of ``days`` trading days.

    vols (n,) annualized component vols; weights (n,) index weights (pairs weighted w_i w_j in
    the realized correlation, as in the variance formula); corr (n, n) the calm correlation
    matrix. crisis: (probability, vol_multiplier, average_correlation) of a second state whose
    vols are the calm ones times the multiplier and whose matrix is ``corr`` moved to that
    average (:func:`~dispersionkit.stress_correlation`). The index is the basket of the
    components with constant shares. Results depend only on ``seed`` and the path count.
    """
    vols = as_float_array(vols, "vols")
    weights = as_float_array(weights, "weights")
    n = vols.size
    if vols.shape != (n,) or n < 2 or not np.isfinite(vols).all() or (vols <= 0).any():
        raise ValueError("vols: expected (n,) finite vols > 0 with n >= 2")
    if weights.shape != (n,) or not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"weights: expected ({n},) finite weights >= 0, not all 0")
    weights = weights / weights.sum()
    corr = check_correlation(as_float_array(corr, "corr"), name="corr")
    if corr.shape != (n, n):
        raise ValueError(f"corr: expected shape ({n}, {n}), got {corr.shape}")
    days = as_count(days, "days", 2)
    paths = as_count(paths, "paths", 2)
    states = [(vols, corr)]
    crisis_mask = np.zeros(paths, dtype=bool)
    if crisis is not None:
        if not (isinstance(crisis, tuple) and len(crisis) == 3):
            raise TypeError("crisis: expected (probability, vol_multiplier, average_correlation)")
        probability = as_fraction(crisis[0], "crisis probability")
        multiplier = as_positive(crisis[1], "crisis vol_multiplier")
        level = as_real(crisis[2], "crisis average_correlation")
        states.append((vols * multiplier, stress_correlation(corr, level, weights)))
        crisis_mask = _in_crisis(0, paths, probability)

    returns = np.empty((paths, days, n))
    index_returns = np.empty((paths, days))
    for k, (state_vols, state_corr) in enumerate(states):
        # Every state simulates every path number with the same seed; each path keeps the state it
        # belongs to, so the draws of path p are the same in both states (common random numbers).
        simulated = simulate_market(
            np.full(n, 100.0), state_vols, state_corr, steps=days, paths=paths, index_weights=weights, seed=seed,
            threads=threads,
        )  # fmt: skip
        take = crisis_mask if k == 1 else ~crisis_mask
        returns[take] = simulated.log_returns()[take]
        index_returns[take] = simulated.index_log_returns()[take]
    component_variance = realized_variance(returns, axis=1).mean(axis=0)
    index_variance = float(realized_variance(index_returns, axis=1).mean())
    implied = float(np.asarray(correlation_swap_strike(index_variance, component_variance, weights).value))
    realized = swap_realized_correlation(returns, weights=weights)
    fair = float(realized.mean())
    return CorrelationGap(
        variance_implied=implied,
        fair_strike=fair,
        gap=implied - fair,
        standard_error=float(realized.std(ddof=1) / math.sqrt(paths)),
        crisis_share=float(crisis_mask.mean()),
        paths=paths,
        days=days,
    )
