"""Backtests of dispersion trades: the engine, its result, P&L attribution and metrics.
Imports ``strategy``, ``market`` and ``numeric``.

This package is also the function: ``dispersionkit.backtest(market, trade, ...)`` calls
:func:`dispersionkit.backtest.engine.backtest`, so the name that ran a backtest before the
package existed still does.
"""

import inspect
import sys
import types

from .cost_stress import cost_stress
from .engine import BacktestRules, backtest
from .metrics import Metrics, compute_metrics, deflated_sharpe, value_at_risk
from .periods import DEFAULT_PERIODS, period_metrics
from .result import BacktestResult

__all__ = [
    "DEFAULT_PERIODS",
    "BacktestResult",
    "BacktestRules",
    "Metrics",
    "backtest",
    "compute_metrics",
    "cost_stress",
    "deflated_sharpe",
    "period_metrics",
    "value_at_risk",
]


class _CallablePackage(types.ModuleType):
    """The package module, callable as :func:`backtest` (its signature and docstring too)."""

    def __call__(self, *args, **kwargs):
        return backtest(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
__signature__ = inspect.signature(backtest)
