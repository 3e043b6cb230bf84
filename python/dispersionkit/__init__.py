"""dispersionkit: equity dispersion trading on a multithreaded C++ core.

    import dispersionkit as dk
    g = dk.bs_greeks(spot=100.0, strike=[90, 100, 110], tau=0.25, vol=0.2)
"""

from . import data, reference
from ._core import hardware_threads
from .greeks import PER_BASIS_POINT, PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks, bs_price
from .implied_vol import ImpliedVolResult, IVStatus, implied_vol
from .paths import MarketPaths, simulate_market
from .regimes import Regimes

__version__ = "0.1.0"

__all__ = [
    "Greeks",
    "PER_BASIS_POINT",
    "PER_CALENDAR_DAY",
    "PER_VOL_POINT",
    "bs_greeks",
    "bs_price",
    "implied_vol",
    "ImpliedVolResult",
    "IVStatus",
    "hardware_threads",
    "reference",
    "MarketPaths",
    "Regimes",
    "simulate_market",
    "data",
]

# Strategy layer (pure Python on top of the core).
from . import market, metrics, risk, signals, sizing  # noqa: E402
from .market import MarketData  # noqa: E402
from .metrics import Metrics, compute_metrics  # noqa: E402
from .risk import (  # noqa: E402
    GreekLimits,
    Survivability,
    SurvivabilityLimits,
    check_greek_limits,
    position_size,
    survivability,
)
from .signals import (  # noqa: E402
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
from .sizing import (  # noqa: E402
    BudgetScaling,
    book_premium,
    gamma_neutral,
    notional_weighted,
    scale_to_budget,
    straddle_greeks,
    theta_neutral,
    vega_neutral,
)
from .vol_model import ImpliedVolModel  # noqa: E402

__all__ += [
    "AnyOf",
    "BudgetScaling",
    "CorrelationExit",
    "ExpiryExit",
    "GreekLimits",
    "ImpliedVolModel",
    "LongDispersionEntry",
    "MarketData",
    "MarketState",
    "Metrics",
    "PositionState",
    "ProfitTarget",
    "Regime",
    "RegimeClassifier",
    "RuleResult",
    "ShortDispersionEntry",
    "StopLoss",
    "Survivability",
    "SurvivabilityLimits",
    "TimeStop",
    "VixExit",
    "any_of",
    "book_premium",
    "check_greek_limits",
    "compute_metrics",
    "default_exit_rules",
    "evaluate_rules",
    "first_firing",
    "gamma_neutral",
    "market",
    "metrics",
    "notional_weighted",
    "position_size",
    "risk",
    "scale_to_budget",
    "signals",
    "sizing",
    "straddle_greeks",
    "survivability",
    "theta_neutral",
    "vega_neutral",
]

from .book import hedged_pnl
from .hedge_policy import HedgePolicy
from .legs import Book, Leg, straddle
from .pnl_result import PnLResult, PnLSteps, PnLSummary

__all__ += ["Book", "HedgePolicy", "Leg", "PnLResult", "PnLSteps", "PnLSummary", "hedged_pnl", "straddle"]
