"""How a backtest's result depends on trading costs: the same run with every cost scaled.

Each multiplier m re-runs :func:`~dispersionkit.backtest` with the hedge cost (bps of traded
notional) and the option half-spread (vol points) both multiplied by m; entries, exits and
sizing react to the new costs as they would in the market (exits see the P&L after costs).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from .._validation import as_float_array
from ..market.market_data import MarketData
from ..numeric.hedge_policy import HedgePolicy
from ..strategy.trade import DispersionTrade
from .engine import DEFAULT_POLICY, BacktestRules, backtest
from .result import BacktestResult

DEFAULT_MULTIPLIERS = (0.5, 1.0, 2.0, 3.0)
COST_STRESS_COLUMNS = (
    "hedge_cost_bps",
    "option_half_spread",
    "total_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "costs",
    "final_equity",
    "trades",
)


def scaled_policy(policy: HedgePolicy, multiplier: float) -> HedgePolicy:
    """``policy`` with hedge_cost_bps and option_half_spread multiplied by ``multiplier``."""
    return dataclasses.replace(
        policy,
        hedge_cost_bps=policy.hedge_cost_bps * multiplier,
        option_half_spread=policy.option_half_spread * multiplier,
    )


def cost_stress(
    market: MarketData,
    trade: DispersionTrade,
    rules: BacktestRules | None = None,
    *,
    policy: HedgePolicy | None = None,
    capital: float = 1_000_000.0,
    start=None,
    end=None,
    multipliers=DEFAULT_MULTIPLIERS,
    base: BacktestResult | None = None,
    threads=None,
    progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """One row per cost multiplier (index "cost_multiplier"; columns :data:`COST_STRESS_COLUMNS`).

    ``policy``: the costs at multiplier 1 (None: the backtest's default, :data:`DEFAULT_POLICY`).
    ``base``: the result already run with ``policy`` (multiplier 1), reused instead of run
    again. ``progress``: called with the number of runs done so far (fractional during a run),
    e.g. to drive a progress bar.
    Costs are the total paid (positive); a run that loses all its capital is a row of NaN
    with ``final_equity`` 0 rather than an error, since that is what the stress asks.
    """
    policy = DEFAULT_POLICY if policy is None else policy
    if not isinstance(policy, HedgePolicy):
        raise TypeError(f"policy: expected a HedgePolicy, got {type(policy).__name__}")
    factors = as_float_array(multipliers, "multipliers")
    if factors.ndim != 1 or factors.size == 0 or not np.all(np.isfinite(factors)) or np.any(factors < 0):
        raise ValueError(f"multipliers: expected a non-empty list of finite numbers >= 0, got {multipliers!r}")
    rows = {}
    for k, m in enumerate(factors.tolist()):
        scaled = scaled_policy(policy, m)
        days = None if progress is None else (lambda done, total, k=k: progress(k + done / max(total, 1)))
        if base is not None and m == 1.0:
            result = base
        else:
            try:
                result = backtest(
                    market,
                    trade,
                    rules,
                    policy=scaled,
                    capital=capital,
                    start=start,
                    end=end,
                    threads=threads,
                    progress=days,
                )
            except ValueError as error:
                if "lost all the capital" not in str(error):
                    raise
                result = None
        rows[m] = _row(scaled, result)
        if progress is not None:
            progress(k + 1.0)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COST_STRESS_COLUMNS))
    table.index.name = "cost_multiplier"
    return table


def _row(policy: HedgePolicy, result: BacktestResult | None) -> dict:
    if result is None:
        return {
            "hedge_cost_bps": policy.hedge_cost_bps,
            "option_half_spread": policy.option_half_spread,
            **dict.fromkeys(("total_return", "cagr", "sharpe", "max_drawdown", "costs"), math.nan),
            "final_equity": 0.0,
            "trades": math.nan,
        }
    m = result.metrics
    return {
        "hedge_cost_bps": policy.hedge_cost_bps,
        "option_half_spread": policy.option_half_spread,
        "total_return": m.total_return,
        "cagr": m.cagr,
        "sharpe": m.sharpe,
        "max_drawdown": m.max_drawdown,
        "costs": -float(result.attribution["costs"].sum()),
        "final_equity": float(result.equity.iloc[-1]),
        "trades": float(len(result.journal)),
    }
