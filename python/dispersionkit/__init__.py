"""dispersionkit: equity dispersion trading on a multithreaded C++ core.

    import dispersionkit as dk
    g = dk.bs_greeks(spot=100.0, strike=[90, 100, 110], tau=0.25, vol=0.2)

Kernels (NumPy in/out): Black-Scholes-Merton Greeks and implied vol, index variance and
implied / realized / break-even correlation, correlated market paths, delta-hedged book P&L.
Strategy layer (pandas in/out): market data, dispersion trades and sizing, stress grids, risk,
signals and rules, backtests with attribution and metrics; `dispersionkit demo` runs it all.
Conventions are in docs/methodology.md and in each function's docstring.
"""

from . import data, market, metrics, reference, risk, signals, sizing
from ._core import hardware_threads
from ._corr_inputs import WeightsWarning
from .backtest import BacktestRules, backtest
from .backtest_result import BacktestResult
from .book import hedged_pnl
from .breakeven import BreakevenCorrelation
from .calendar import CalendarDispersion, correlation_swap_payoff
from .correlation import (
    CorrelationEstimate,
    average_correlation,
    breakeven_correlation,
    implied_correlation,
    index_variance,
    index_vol,
)
from .correlation_matrix import check_correlation, nearest_correlation, random_correlation, stress_correlation
from .greeks import PER_BASIS_POINT, PER_CALENDAR_DAY, PER_VOL_POINT, Greeks, bs_greeks, bs_price
from .hedge_policy import HedgePolicy
from .implied_vol import ImpliedVolResult, IVStatus, implied_vol
from .legs import Book, Leg, straddle
from .market import MarketData
from .metrics import Metrics, compute_metrics
from .paths import MarketPaths, simulate_market
from .pnl_result import PnLResult, PnLSteps, PnLSummary
from .position import Position
from .realized import TRADING_DAYS, realized_correlation, realized_vol
from .regimes import Regimes
from .risk import (
    GreekLimits,
    Survivability,
    SurvivabilityLimits,
    check_greek_limits,
    position_size,
    survivability,
)
from .signals import (
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
from .sizing import (
    BudgetScaling,
    book_premium,
    gamma_neutral,
    notional_weighted,
    scale_to_budget,
    straddle_greeks,
    theta_neutral,
    vega_neutral,
)
from .stress import StressResult, stress_grid
from .trade import DispersionTrade
from .vol_model import ImpliedVolModel

__version__ = "0.1.0"

__all__ = [
    "any_of",
    "AnyOf",
    "average_correlation",
    "backtest",
    "BacktestResult",
    "BacktestRules",
    "Book",
    "book_premium",
    "breakeven_correlation",
    "BreakevenCorrelation",
    "bs_greeks",
    "bs_price",
    "BudgetScaling",
    "CalendarDispersion",
    "check_correlation",
    "check_greek_limits",
    "compute_metrics",
    "correlation_swap_payoff",
    "CorrelationEstimate",
    "CorrelationExit",
    "data",
    "default_exit_rules",
    "DispersionTrade",
    "evaluate_rules",
    "ExpiryExit",
    "first_firing",
    "gamma_neutral",
    "GreekLimits",
    "Greeks",
    "hardware_threads",
    "hedged_pnl",
    "HedgePolicy",
    "implied_correlation",
    "implied_vol",
    "ImpliedVolModel",
    "ImpliedVolResult",
    "index_variance",
    "index_vol",
    "IVStatus",
    "Leg",
    "LongDispersionEntry",
    "market",
    "MarketData",
    "MarketPaths",
    "MarketState",
    "Metrics",
    "metrics",
    "nearest_correlation",
    "notional_weighted",
    "PER_BASIS_POINT",
    "PER_CALENDAR_DAY",
    "PER_VOL_POINT",
    "PnLResult",
    "PnLSteps",
    "PnLSummary",
    "Position",
    "position_size",
    "PositionState",
    "ProfitTarget",
    "random_correlation",
    "realized_correlation",
    "realized_vol",
    "reference",
    "Regime",
    "RegimeClassifier",
    "Regimes",
    "risk",
    "RuleResult",
    "scale_to_budget",
    "ShortDispersionEntry",
    "signals",
    "simulate_market",
    "sizing",
    "StopLoss",
    "straddle",
    "straddle_greeks",
    "stress_correlation",
    "stress_grid",
    "StressResult",
    "Survivability",
    "survivability",
    "SurvivabilityLimits",
    "theta_neutral",
    "TimeStop",
    "TRADING_DAYS",
    "vega_neutral",
    "VixExit",
    "WeightsWarning",
]
