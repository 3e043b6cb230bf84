"""NumPy twin of :func:`dispersionkit.book_risk`: the same setup, paths from the twin's
simulate_market and P&L from the twin's hedged_pnl."""

from __future__ import annotations

from ..strategy.book_risk import BookRisk, BookRiskPaths, BookRiskSetup, prepare_book_risk
from .book import hedged_pnl
from .paths import simulate_market


def run_paths(setup: BookRiskSetup, first_path: int, paths: int) -> BookRiskPaths:
    """:meth:`BookRiskSetup.run_paths` through the NumPy kernels."""
    return setup.run_paths_with(first_path, paths, simulate=simulate_market, hedge=hedged_pnl)


def book_risk(position, market, date=None, *, paths: int = 10_000, threads=None, **options) -> BookRisk:
    """NumPy twin (``threads`` accepted and ignored); ``options`` as for the core function."""
    setup = prepare_book_risk(position, market, date, **options)
    return setup.combine([run_paths(setup, 0, paths)])
