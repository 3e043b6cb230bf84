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
    financing, costs (negative = paid), residual, which sum to ``pnl``; plus the legs'
    gamma_theta split into basis + volatility + correlation (the explain's daily basis and
    correlation lines, volatility the rest).
    greeks: the book's dollar_delta, dollar_gamma, vega (per 1.00 of vol), theta (per year)
    at each date's close, after rebalancing (0 when flat). positions: by date, the open
    trade's id, number of legs, index quantity and gross premium at entry (empty when flat).
    journal: one row per trade (entry/exit/expiry dates, entry reason, exit reason, rule and
    action, gross and net premium, pnl, implied and realized correlation at entry and exit,
    P&L by attribution line ``pnl_*`` and by explain line at close ``explain_*``).
    metrics: :func:`~dispersionkit.compute_metrics` of ``equity``.
    vol_source: where the implied vols came from (market or model), from the MarketData.
    explain: by date, the P&L explain lines (``EXPLAIN_COLUMNS``: basis, idiosyncratic,
    cross_volatility, correlation, component_volatility, correlation_mtm, vol_level,
    vanna_volga, delta, carry, financing, costs, residual) in the causal version (realized
    moves from the data up to each step's start); they sum to ``pnl`` exactly.
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
    explain: pd.DataFrame | None = None

    def explain_table(self) -> pd.DataFrame:
        """Totals of the explain lines: column "daily (causal)" sums ``explain``, column "per trade
        (at close)" the journal's ``explain_*`` (realized moves over each trade's own days); a
        last row "total" equals the run's P&L in both. Only cross_volatility and correlation differ."""
        if self.explain is None:
            raise ValueError("explain: this result carries no explain")
        daily = self.explain.sum()
        names = list(self.explain.columns)
        at_close = pd.Series(
            [float(self.journal[f"explain_{name}"].sum()) if len(self.journal) else 0.0 for name in names], index=names
        )
        table = pd.DataFrame({"daily (causal)": daily, "per trade (at close)": at_close})
        table.loc["total"] = table.sum()
        table.index.name = "line"
        return table

    def summary(self) -> str:
        """Metrics, the per-year table and the journal's exit reasons as text."""
        reasons = self.journal["exit_rule"].value_counts() if len(self.journal) else pd.Series(dtype=int)
        lines = [str(self.metrics), "", f"trades: {len(self.journal)}"]
        lines += [f"  exits by {rule}: {count}" for rule, count in reasons.items()]
        totals = self.attribution.sum()
        lines.append("P&L attribution: " + ", ".join(f"{k} {v:,.0f}" for k, v in totals.items()))
        lines.append(f"implied vols: {self.vol_source}")
        return "\n".join(lines)
