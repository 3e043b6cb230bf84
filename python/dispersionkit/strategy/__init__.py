"""Dispersion trades and what a desk decides with them: positions, sizing, break-even and
stress, risk limits, regime signals and entry/exit rules, calendar dispersion, correlation
swaps. Imports ``market`` and ``numeric``."""

from .breakeven import BreakevenCorrelation
from .calendar_dispersion import CalendarDispersion
from .correlation_swap import correlation_swap_payoff
from .position import Position
from .stress import StressResult, stress_grid
from .trade import DispersionTrade

__all__ = [
    "BreakevenCorrelation",
    "CalendarDispersion",
    "DispersionTrade",
    "Position",
    "StressResult",
    "correlation_swap_payoff",
    "stress_grid",
]
