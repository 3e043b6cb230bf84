"""Dispersion trades and what a desk decides with them: positions, sizing, break-even and
stress, risk limits, regime signals and entry/exit rules, calendar dispersion, correlation
swaps. Imports ``market`` and ``numeric``."""

from .book_risk import (
    NAMED_SCENARIOS,
    BookRisk,
    BookRiskPaths,
    BookRiskSetup,
    Jumps,
    Scenario,
    book_risk,
    prepare_book_risk,
)
from .breakeven import BreakevenCorrelation
from .calendar_dispersion import CalendarDispersion
from .correlation_swap import CorrelationGap, correlation_swap_gap, correlation_swap_payoff
from .position import Position
from .profile import correlation_profile
from .stress import StressResult, stress_grid
from .trade import DispersionTrade
from .variance_dispersion import (
    FairStrikes,
    VarianceDispersion,
    VarianceVsStraddles,
    compare_variance_and_straddles,
    fair_strikes,
    surface_strips,
    variance_strikes,
)

__all__ = [
    "NAMED_SCENARIOS",
    "BookRisk",
    "BookRiskPaths",
    "BookRiskSetup",
    "BreakevenCorrelation",
    "CalendarDispersion",
    "CorrelationGap",
    "DispersionTrade",
    "FairStrikes",
    "Jumps",
    "Position",
    "Scenario",
    "StressResult",
    "VarianceDispersion",
    "VarianceVsStraddles",
    "book_risk",
    "compare_variance_and_straddles",
    "correlation_profile",
    "correlation_swap_gap",
    "correlation_swap_payoff",
    "fair_strikes",
    "prepare_book_risk",
    "stress_grid",
    "surface_strips",
    "variance_strikes",
]
