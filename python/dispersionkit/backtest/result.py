"""What :func:`dispersionkit.backtest` returns: :class:`BacktestResult`."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import _persist
from .metrics import Metrics, compute_metrics


def modelled_vols(vol_source: str) -> bool:
    """True when a ``MarketData.vol_source`` says some implied vols came from the vol model
    ("model: ..." or "mixed: ImpliedVolModel(...) ..."), not from quotes, files or option data."""
    return vol_source.startswith("model") or "ImpliedVolModel" in vol_source


RENDERERS: dict[str, Callable] = {}
"""Figure and report builders, registered by :mod:`dispersionkit.report` (the layer above):
"plot" (result, names) -> dict of matplotlib figures, "report" (result, path, title) -> path."""


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
    signals: by date, what the rules saw and the vol levels (vix, vix_change, implied and
    realized correlation, index and weight-averaged component vols, implied and realized:
    :func:`~dispersionkit.backtest.market_view.market_view`); None if not recorded.
    tables: further analyses attached with :meth:`with_tables` (e.g. "cost_stress" from
    :func:`~dispersionkit.cost_stress`), saved, loaded and reported with the result.
    notes: sentences on the data and assumptions (sources, what is modelled), shown at the
    top of the report; add with :meth:`with_notes`.

    ``save(folder)`` / ``BacktestResult.load(folder)`` keep everything (Parquet + JSON);
    ``plot()`` draws the figures and ``report(path)`` writes one self-contained HTML page
    (both need matplotlib: ``pip install 'dispersionkit[plot]'``).
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
    signals: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

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

    def __repr__(self) -> str:
        m = self.metrics
        trades = len(self.journal)
        extra = f"; tables: {', '.join(self.tables)}" if self.tables else ""
        return (
            f"BacktestResult({m.start.date()}..{m.end.date()}, {len(self.equity)} days, {trades} trades, "
            f"capital {self.capital:,.0f})\n"
            f"  total return {m.total_return:.2%}, CAGR {m.cagr:.2%}, Sharpe {m.sharpe:.2f}, "
            f"max drawdown {m.max_drawdown:.2%}, final equity {self.equity.iloc[-1]:,.0f}\n"
            f"  implied vols: {_shorten(self.vol_source, 100)}{extra}"
        )

    def _repr_html_(self) -> str:
        m = self.metrics
        rows = [
            ("period", f"{m.start.date()} .. {m.end.date()} ({len(self.equity)} days)"),
            ("trades", f"{len(self.journal)}"),
            ("total return", f"{m.total_return:.2%}"),
            ("CAGR", f"{m.cagr:.2%}"),
            ("Sharpe", f"{m.sharpe:.2f} [{m.sharpe_ci_low:.2f}, {m.sharpe_ci_high:.2f}]"),
            ("max drawdown", f"{m.max_drawdown:.2%}"),
            ("final equity", f"{self.equity.iloc[-1]:,.0f}"),
            ("implied vols", self.vol_source),
        ]
        if self.tables:
            rows.append(("tables", ", ".join(self.tables)))
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<b>BacktestResult</b><table>{body}</table>"

    def with_tables(self, **tables: pd.DataFrame) -> BacktestResult:
        """A copy with the given DataFrames added to (or replacing) ``tables``."""
        for name, table in tables.items():
            if not isinstance(table, pd.DataFrame):
                raise TypeError(f"{name}: expected a pandas DataFrame, got {type(table).__name__}")
        return dataclasses.replace(self, tables={**self.tables, **tables})

    def with_notes(self, *notes: str) -> BacktestResult:
        """A copy with ``notes`` (sentences on data and assumptions) appended."""
        for note in notes:
            if not isinstance(note, str):
                raise TypeError(f"notes: expected strings, got {type(note).__name__}")
        return dataclasses.replace(self, notes=(*self.notes, *notes))

    def with_metrics(self, **options) -> BacktestResult:
        """A copy with metrics recomputed by :func:`~dispersionkit.compute_metrics` with ``options``
        (e.g. ``trials=20`` for the deflated Sharpe ratio, ``risk_free=0.02``)."""
        return dataclasses.replace(self, metrics=compute_metrics(self.equity, journal=self.journal, **options))

    def save(self, path) -> Path:
        """Write the result to the folder ``path`` (Parquet tables + metadata.json); returns the folder."""
        return _persist.save(self, path)

    @classmethod
    def load(cls, path) -> BacktestResult:
        """The result saved in the folder ``path`` by :meth:`save`."""
        return _persist.load(path, cls)

    def plot(self, names=None) -> dict:
        """The result's figures as {name: matplotlib Figure} (all, or those in ``names``)."""
        return _renderer("plot")(self, names)

    def report(self, path, *, title: str | None = None) -> Path:
        """Write one self-contained HTML report (figures embedded) to ``path``; returns the path."""
        return _renderer("report")(self, path, title=title)


def _renderer(name: str) -> Callable:
    if name not in RENDERERS:
        raise RuntimeError(f"{name}: no renderer registered; import dispersionkit.report first")
    return RENDERERS[name]


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
