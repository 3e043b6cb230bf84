"""What :func:`dispersionkit.backtest` returns: :class:`BacktestResult`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .metrics import Metrics


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """A backtest's daily series, trade journal and metrics (money in the market's currency).

    equity: capital + cumulative P&L by date. pnl: P&L of each date (the step ending that
    day). attribution: by date, the Greek lines delta, gamma, theta, vega, vanna, volga,
    financing, costs (negative = paid), residual, which sum to ``pnl``; plus the
    split of the legs' gamma-theta into volatility + correlation (= gamma_theta).
    greeks: the book's dollar_delta, dollar_gamma, vega (per 1.00 of vol), theta (per year)
    at each date's close, after rebalancing (0 when flat). positions: by date, the open
    trade's id, number of legs, index quantity and gross premium at entry (empty when flat).
    journal: one row per trade (entry/exit dates, entry reason, exit reason, rule and
    action, premium, pnl, implied and realized correlation at entry and exit, P&L by
    attribution line). metrics: :func:`~dispersionkit.compute_metrics` of ``equity``.
    vol_source: where the implied vols came from (market or model), from the MarketData.
    """

    equity: pd.Series
    pnl: pd.Series
    attribution: pd.DataFrame
    greeks: pd.DataFrame
    positions: pd.DataFrame
    journal: pd.DataFrame
    metrics: Metrics
    vol_source: str
    capital: float

    def summary(self) -> str:
        """Metrics, the per-year table and the journal's exit reasons as text."""
        reasons = self.journal["exit_rule"].value_counts() if len(self.journal) else pd.Series(dtype=int)
        lines = [str(self.metrics), "", f"trades: {len(self.journal)}"]
        lines += [f"  exits by {rule}: {count}" for rule, count in reasons.items()]
        totals = self.attribution.sum()
        lines.append("P&L attribution: " + ", ".join(f"{k} {v:,.0f}" for k, v in totals.items()))
        lines.append(f"implied vols: {self.vol_source}")
        return "\n".join(lines)
