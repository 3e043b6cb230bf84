"""dispersionkit: equity dispersion trading on a multithreaded C++ core.

    import dispersionkit as dk
    g = dk.bs_greeks(spot=100.0, strike=[90, 100, 110], tau=0.25, vol=0.2)

The package is layered, each layer importing only the ones below it:

- :mod:`dispersionkit.numeric`: NumPy in/out over the C++ core (Greeks, implied vol,
  correlation, realized statistics, paths, hedged book P&L);
- :mod:`dispersionkit.market`: market data, file readers, the implied-vol model;
- :mod:`dispersionkit.strategy`: dispersion trades, sizing, stress, risk, signals and rules;
- :mod:`dispersionkit.backtest`: the backtest engine, its result, attribution and metrics.

Every public name is re-exported here; ``dk.reference`` (the NumPy twin of every kernel,
which needs SciPy) loads on first use. Conventions are in docs/methodology.md and in each
function's docstring.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

from . import backtest, data, market, report
from ._core import hardware_threads
from ._persist import load as _load
from ._version import __version__ as __version__
from .backtest import (
    BacktestResult,
    BacktestRules,
    Metrics,
    compute_metrics,
    cost_stress,
    deflated_sharpe,
    metrics,
    period_metrics,
    value_at_risk,
)
from .market import (
    ImpliedVolModel,
    MarketData,
    OptionData,
    SurfacePoints,
    VolSurface,
    basket_index,
    forward_premium,
    read_cboe,
    read_optionmetrics,
    read_options,
    read_orats,
)
from .numeric import (
    GREEK_NAMES,
    PER_BASIS_POINT,
    PER_CALENDAR_DAY,
    PER_VOL_POINT,
    TRADING_DAYS,
    Book,
    CalendarGapWarning,
    CorrelationEstimate,
    Greeks,
    HedgePolicy,
    ImpliedVolResult,
    IVStatus,
    Leg,
    MarketPaths,
    PnLResult,
    PnLSteps,
    PnLSummary,
    Regimes,
    VarianceSwapStrike,
    WeightsWarning,
    average_correlation,
    breakeven_correlation,
    bs_greeks,
    bs_price,
    check_correlation,
    correlation_swap_strike,
    correlation_swap_value,
    hedged_pnl,
    implied_correlation,
    implied_vol,
    index_variance,
    index_vol,
    nearest_correlation,
    random_correlation,
    realized_correlation,
    realized_variance,
    realized_vol,
    replication_strikes,
    simulate_market,
    straddle,
    stress_correlation,
    swap_realized_correlation,
    variance_notional,
    variance_swap_payoff,
    variance_swap_strike,
    variance_swap_value,
    vega_notional,
)
from .strategy import (
    NAMED_SCENARIOS,
    BookRisk,
    BookRiskPaths,
    BookRiskSetup,
    BreakevenCorrelation,
    CalendarDispersion,
    CorrelationGap,
    DispersionTrade,
    FairStrikes,
    Jumps,
    Position,
    Scenario,
    StressResult,
    VarianceDispersion,
    VarianceVsStraddles,
    book_risk,
    compare_variance_and_straddles,
    correlation_profile,
    correlation_swap_gap,
    correlation_swap_payoff,
    fair_strikes,
    prepare_book_risk,
    risk,
    signals,
    sizing,
    stress_grid,
    surface_strips,
    variance_strikes,
)
from .strategy.risk import (
    GreekLimits,
    Survivability,
    SurvivabilityLimits,
    check_greek_limits,
    position_size,
    survivability,
)
from .strategy.signals import (
    AnyOf,
    CorrelationExit,
    ExpiryExit,
    LongDispersionEntry,
    MarketState,
    PositionState,
    ProfitTarget,
    Regime,
    RegimeClassifier,
    RuleResult,
    ShortDispersionEntry,
    StopLoss,
    TimeStop,
    VixExit,
    any_of,
    default_exit_rules,
    evaluate_rules,
    first_firing,
)
from .strategy.sizing import (
    BudgetScaling,
    book_premium,
    gamma_neutral,
    notional_weighted,
    scale_to_budget,
    straddle_greeks,
    theta_neutral,
    vega_neutral,
)


def load_result(path):
    """A result saved with ``.save(path)`` (BacktestResult, PnLResult or StressResult), whichever it is."""
    return _load(path)


def __getattr__(name: str):
    # The NumPy twin needs SciPy, which costs more to import than the rest of the package
    # (distributed and benchmark load on first use too, as optional parts);
    # the module names of the flat layout resolve to the modules that hold their code now.
    if name in ("reference", "distributed", "benchmark") or name in _MOVED:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Module paths of the flat layout before the layers (0.1.0), importable as aliases of the
# modules that now hold their code (CHANGELOG.md lists them).
_MOVED = {
    "attribution": "backtest.attribution",
    "backtest_result": "backtest.result",
    "book": "numeric.hedged_pnl",
    "breakeven": "strategy.breakeven",
    "calendar": "strategy.calendar_dispersion",
    "correlation": "numeric.correlation",
    "correlation_matrix": "numeric.correlation_matrix",
    "greeks": "numeric.greeks",
    "hedge_policy": "numeric.hedge_policy",
    "implied_vol": "numeric.implied_vol",
    "legs": "numeric.book",
    "metrics": "backtest.metrics",
    "paths": "numeric.paths",
    "pnl_result": "numeric.pnl_result",
    "position": "strategy.position",
    "realized": "numeric.realized",
    "regimes": "numeric.regimes",
    "risk": "strategy.risk",
    "signals": "strategy.signals",
    "sizing": "strategy.sizing",
    "stress": "strategy.stress",
    "trade": "strategy.trade",
    "vol_model": "market.vol_model",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``dispersionkit.<old name>`` as the module that now holds its code."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, leaf = fullname.rpartition(".")
        if package != __name__ or leaf not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(f"{__name__}.{_MOVED[spec.name.rpartition('.')[2]]}")
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        # The import system stamped the alias's spec on the module: give it back its own.
        module.__spec__ = module.__spec__.loader_state


sys.meta_path.append(_MovedModuleFinder())

__all__ = [
    "GREEK_NAMES",
    "NAMED_SCENARIOS",
    "PER_BASIS_POINT",
    "PER_CALENDAR_DAY",
    "PER_VOL_POINT",
    "TRADING_DAYS",
    "AnyOf",
    "BacktestResult",
    "BacktestRules",
    "Book",
    "BookRisk",
    "BookRiskPaths",
    "BookRiskSetup",
    "BreakevenCorrelation",
    "BudgetScaling",
    "CalendarDispersion",
    "CalendarGapWarning",
    "CorrelationEstimate",
    "CorrelationExit",
    "CorrelationGap",
    "DispersionTrade",
    "ExpiryExit",
    "FairStrikes",
    "GreekLimits",
    "Greeks",
    "HedgePolicy",
    "IVStatus",
    "ImpliedVolModel",
    "ImpliedVolResult",
    "Jumps",
    "Leg",
    "LongDispersionEntry",
    "MarketData",
    "MarketPaths",
    "MarketState",
    "Metrics",
    "OptionData",
    "PnLResult",
    "PnLSteps",
    "PnLSummary",
    "Position",
    "PositionState",
    "ProfitTarget",
    "Regime",
    "RegimeClassifier",
    "Regimes",
    "RuleResult",
    "Scenario",
    "ShortDispersionEntry",
    "StopLoss",
    "StressResult",
    "SurfacePoints",
    "Survivability",
    "SurvivabilityLimits",
    "TimeStop",
    "VarianceDispersion",
    "VarianceSwapStrike",
    "VarianceVsStraddles",
    "VixExit",
    "VolSurface",
    "WeightsWarning",
    "any_of",
    "average_correlation",
    "backtest",
    "basket_index",
    "book_premium",
    "book_risk",
    "breakeven_correlation",
    "bs_greeks",
    "bs_price",
    "check_correlation",
    "check_greek_limits",
    "compare_variance_and_straddles",
    "compute_metrics",
    "correlation_profile",
    "correlation_swap_gap",
    "correlation_swap_payoff",
    "correlation_swap_strike",
    "correlation_swap_value",
    "cost_stress",
    "data",
    "default_exit_rules",
    "deflated_sharpe",
    "evaluate_rules",
    "fair_strikes",
    "first_firing",
    "forward_premium",
    "gamma_neutral",
    "hardware_threads",
    "hedged_pnl",
    "implied_correlation",
    "implied_vol",
    "index_variance",
    "index_vol",
    "load_result",
    "market",
    "metrics",
    "nearest_correlation",
    "notional_weighted",
    "period_metrics",
    "position_size",
    "prepare_book_risk",
    "random_correlation",
    "read_cboe",
    "read_optionmetrics",
    "read_options",
    "read_orats",
    "realized_correlation",
    "realized_variance",
    "realized_vol",
    "reference",
    "replication_strikes",
    "report",
    "risk",
    "scale_to_budget",
    "signals",
    "simulate_market",
    "sizing",
    "straddle",
    "straddle_greeks",
    "stress_correlation",
    "stress_grid",
    "surface_strips",
    "survivability",
    "swap_realized_correlation",
    "theta_neutral",
    "value_at_risk",
    "variance_notional",
    "variance_strikes",
    "variance_swap_payoff",
    "variance_swap_strike",
    "variance_swap_value",
    "vega_neutral",
    "vega_notional",
]
