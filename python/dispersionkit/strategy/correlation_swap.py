"""Correlation swaps in the strategy layer.

The contract's maths (strike implied by variance swaps, term-sheet realized correlation, payoff,
mark-to-market) is in :mod:`dispersionkit.numeric.correlation_swap`; ``correlation_swap_payoff``
is re-exported here, where it has always been importable.
"""

from __future__ import annotations

from ..numeric.correlation_swap import correlation_swap_payoff

__all__ = ["correlation_swap_payoff"]
