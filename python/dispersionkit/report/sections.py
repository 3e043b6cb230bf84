"""The report's figures and sections, each one function of a :class:`BacktestResult`.

A figure builder returns a matplotlib Figure, or None when the result lacks what it needs
(e.g. no stress table attached). A section builder returns a :class:`Section` (title, HTML
body, the names of the figures it embeds) or None. To add to the report, write a function
and list it in :data:`FIGURES` or :data:`SECTIONS`; the HTML page and ``result.plot()`` pick
it up.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..backtest.attribution import EXPLAIN_COLUMNS, GREEK_COLUMNS, SPLIT_COLUMNS
from ..backtest.periods import DEFAULT_PERIODS, period_metrics
from ..backtest.result import BacktestResult, modelled_vols
from . import figures


def is_modelled(result: BacktestResult) -> bool:
    """True when any implied vol of the run came from a model rather than quotes."""
    return modelled_vols(result.vol_source)


# -- figures ----------------------------------------------------------------------------------


def _equity(result):
    return figures.equity_drawdown(result.equity)


def _explain(result):
    if result.explain is not None:  # the complete explain: its lines sum to the P&L
        lines = [c for c in EXPLAIN_COLUMNS if c in result.explain.columns]
        return figures.pnl_explain(result.explain, lines)
    lines = [c for c in GREEK_COLUMNS if c in result.attribution.columns]
    split = [c for c in SPLIT_COLUMNS if c in result.attribution.columns and c != "gamma_theta"]
    return figures.pnl_explain(result.attribution, lines, split)


def _sweep(result):
    table = result.tables.get("premium_sweep_equity")
    return None if table is None else figures.premium_sweep(table)


def _forward(result):
    table = result.tables.get("forward_premium")
    return None if table is None else figures.forward_premium(table)


def _signals_figure(function):
    def build(result):
        if result.signals is None:
            return None
        return function(result.signals, modelled=is_modelled(result))

    return build


def _profile(result):
    table = result.tables.get("pnl_profile")
    if table is None:
        return None
    direction = str(table["direction"].iloc[0]).capitalize() + " dispersion" if "direction" in table else "Dispersion"
    title = f"{direction} P&L to expiry against realized correlation"
    return figures.pnl_profile(table, title=title + _on_date(table))


def _stress(result):
    table = result.tables.get("stress")
    return None if table is None else figures.stress_heatmap(table, title="Stress P&L of the trade" + _on_date(table))


def _risk(result):
    table = result.tables.get("book_risk_pnl")
    if table is None:
        return None
    summary = result.tables.get("book_risk")
    title = "Path risk of the book by scenario"
    if summary is not None and "trade_date" in summary.columns:
        title += _on_date(summary)
    return figures.book_risk(table.drop(columns=["trade_date"], errors="ignore"), title=title)


def _on_date(table: pd.DataFrame) -> str:
    """' on DATE' when the table carries a trade_date column (as the CLI's do), else ''."""
    if "trade_date" not in table.columns or table.empty:
        return ""
    return f" on {pd.Timestamp(table['trade_date'].iloc[0]).date()}"


FIGURES: dict[str, tuple[str, Callable]] = {
    "equity_drawdown": ("Equity and drawdown", _equity),
    "pnl_explain": ("Cumulative P&L explain by line", _explain),
    "correlation_dynamics": ("Correlation dynamics vs index vol", _signals_figure(figures.correlation_dynamics)),
    "realized_vs_implied": ("Realized vs implied correlation", _signals_figure(figures.realized_vs_implied)),
    "vol_comparison": ("Index vol vs component vols", _signals_figure(figures.vol_comparison)),
    "forward_premium": ("Implied correlation vs the correlation realized afterwards", _forward),
    "premium_sweep": ("Equity under each assumed correlation premium", _sweep),
    "pnl_profile": ("P&L profile vs realized correlation", _profile),
    "stress_heatmap": ("Stress heatmap (spot x correlation)", _stress),
    "book_risk": ("P&L distribution of the book held to the horizon, by scenario", _risk),
}
"""name -> (caption, builder(result) -> Figure | None), in report order."""


def build_figures(result: BacktestResult, names=None) -> dict:
    """{name: Figure} for ``names`` (default all) that the result has the data for."""
    wanted = list(FIGURES) if names is None else list(names)
    unknown = [name for name in wanted if name not in FIGURES]
    if unknown:
        raise ValueError(f"names: unknown figures {unknown}; choose from {list(FIGURES)}")
    built = {}
    for name in wanted:
        figure = FIGURES[name][1](result)
        if figure is not None:
            built[name] = figure
    return built


# -- sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of the page: an anchor id, a title, HTML body text and the figures it shows."""

    id: str
    title: str
    body: str
    figures: tuple[str, ...] = ()


def table_html(frame: pd.DataFrame, formats: dict | None = None, *, index: bool = True) -> str:
    """A DataFrame as an HTML table; ``formats`` maps column -> format spec (e.g. ".2%")."""
    formats = formats or {}
    shown = frame.copy()
    for column in shown.columns:
        spec = formats.get(column)
        values = shown[column]
        if spec is not None:
            shown[column] = [_fmt(v, spec) for v in values]
        elif pd.api.types.is_datetime64_any_dtype(values):
            shown[column] = [v.date().isoformat() if pd.notna(v) else "-" for v in values]
        elif pd.api.types.is_float_dtype(values):
            shown[column] = [_fmt(v, ",.4g") for v in values]
    return shown.to_html(index=index, escape=True, border=0, classes="table", na_rep="-")


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value == 0.0:
        value = 0.0  # no "-0" in tables
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def _summary(result):
    m = result.metrics
    rows = [
        ("period", f"{m.start.date()} .. {m.end.date()} ({len(result.equity)} days)"),
        ("capital", f"{result.capital:,.0f}"),
        ("final equity", f"{result.equity.iloc[-1]:,.0f}"),
        ("total return", f"{m.total_return:.2%}"),
        ("CAGR", f"{m.cagr:.2%}"),
        ("annual vol", f"{m.annual_vol:.2%}"),
        (
            "Sharpe",
            f"{m.sharpe:.2f} ({m.sharpe_ci_level:.0%} bootstrap interval "
            f"{m.sharpe_ci_low:.2f} .. {m.sharpe_ci_high:.2f})",
        ),
        ("deflated Sharpe", f"{m.deflated_sharpe:.3f} (probability, {m.trials} trial{'s' if m.trials > 1 else ''})"),
        ("Sortino", f"{m.sortino:.2f}"),
        ("Calmar", f"{m.calmar:.2f}"),
        ("max drawdown", f"{m.max_drawdown:.2%} ({m.drawdown_peak.date()} .. {m.drawdown_trough.date()})"),
        ("daily VaR / ES 95%", f"{m.var_95:,.0f} / {m.es_95:,.0f}"),
        ("daily VaR / ES 99%", f"{m.var_99:,.0f} / {m.es_99:,.0f}"),
        ("win rate: days / active days", f"{m.win_rate_days:.1%} / {m.win_rate_active_days:.1%}"),
        (
            "win rate: trades",
            "-" if m.win_rate_trades is None else f"{m.win_rate_trades:.1%} of {m.n_trades} trades",
        ),
    ]
    body = "<table class='kv'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    body += "</table>"
    return Section("summary", "Summary", body, ("equity_drawdown",))


def _explain_section(result):
    body = ""
    if result.explain is not None:
        body += (
            "<p>The complete explain: the index legs' gamma-theta split into basis (index vs basket), "
            "idiosyncratic and cross volatility, and correlation; the component legs' gamma-theta; the "
            "implied-correlation and vol-level marks (vega); costs and the residual. The lines sum to the P&L. "
            "Daily (causal): realized moves from the data before each step; per trade: over each trade's own "
            "days.</p>"
        )
        body += table_html(result.explain_table(), {"daily (causal)": ",.0f", "per trade (at close)": ",.0f"})
        body += "<h3>Greek attribution</h3>"
    lines = [c for c in GREEK_COLUMNS if c in result.attribution.columns]
    totals = result.attribution[lines].sum()
    total = float(result.pnl.sum())
    table = pd.DataFrame({"P&L": totals, "% of starting capital": totals / result.capital})
    table.loc["total"] = [total, total / result.capital]
    split = [c for c in SPLIT_COLUMNS if c in result.attribution.columns]
    body += "<p>Each day's P&L splits into these lines exactly (residual: what the second-order Greek "
    body += "expansion misses). Costs are negative when paid.</p>"
    body += table_html(table, {"P&L": ",.0f", "% of starting capital": ".2%"})
    if split:
        parts = result.attribution[split].sum()
        body += "<p>Gamma-theta of the option legs and its split:</p>"
        body += table_html(pd.DataFrame({"P&L": parts}), {"P&L": ",.0f"})
    return Section("explain", "P&L explain", body, ("pnl_explain",))


def _periods(result):
    per_year = result.metrics.per_year
    formats = {"return": ".2%", "vol": ".2%", "annual_vol": ".2%", "sharpe": ".2f", "max_drawdown": ".2%"}
    formats.update({"cagr": ".2%", "pnl": ",.0f", "trades": ",.0f", "days": ",.0f"})
    body = "<h3>By year</h3>" + table_html(per_year, formats)
    sub = result.tables.get("sub_periods")
    if sub is None:
        sub = period_metrics(result, DEFAULT_PERIODS)
    formats.update({column: ",.0f" for column in sub.columns if str(column).startswith("explain_")})
    body += "<h3>Sub-periods</h3><p>The full period, then decades and the windows around the 2008 and 2020 "
    body += "crises; each period's return starts from the close before it.</p>"
    body += table_html(sub, formats)
    return Section("periods", "Per-year and sub-period results", body)


def _journal(result):
    journal = result.journal
    if journal.empty:
        return Section("trades", "Trades", "<p>No trades: the entry rule never fired.</p>")
    grouped = journal.groupby("exit_rule")
    table = pd.DataFrame(
        {
            "trades": grouped.size(),
            "mean days held": grouped["days"].mean(),
            "win rate": grouped["pnl"].apply(lambda p: float((p > 0).mean())),
            "mean P&L": grouped["pnl"].mean(),
            "total P&L": grouped["pnl"].sum(),
        }
    ).sort_values("trades", ascending=False)
    body = (
        f"<p>{len(journal)} trades, held {journal['days'].mean():.1f} days on average; mean premium "
        f"{journal['premium'].mean():,.0f}. Rows: the rule that closed the trade.</p>"
    )
    body += table_html(table, {"mean days held": ".1f", "win rate": ".1%", "mean P&L": ",.0f", "total P&L": ",.0f"})
    columns = ["entry_date", "exit_date", "days", "exit_rule", "premium", "pnl"]
    best, worst = journal.nlargest(3, "pnl")[columns], journal.nsmallest(3, "pnl")[columns]
    body += "<h3>Best and worst trades</h3>" + table_html(
        pd.concat([best, worst]), {"premium": ",.0f", "pnl": ",.0f"}, index=False
    )
    return Section("trades", "Trades", body)


def _costs(result):
    table = result.tables.get("cost_stress")
    if table is None:
        return None
    body = "<p>The same backtest re-run with the hedge cost and the option half-spread both scaled "
    body += "(x1 is the run above).</p>"
    formats = {
        "hedge_cost_bps": ".2f",
        "option_half_spread": ".2f",
        "total_return": ".2%",
        "cagr": ".2%",
        "sharpe": ".2f",
        "max_drawdown": ".2%",
        "costs": ",.0f",
        "final_equity": ",.0f",
        "trades": ".0f",
    }
    return Section("costs", "Cost stress", body + table_html(table, formats))


def _market(result):
    if result.signals is None:
        return None
    signals = result.signals
    premium = signals["implied_correlation"] - signals["realized_correlation"]
    note = ""
    if is_modelled(result):
        note = (
            "<p class='warn'>The implied vols here are MODELLED (see the header), so the implied "
            "correlation and the premium below are the model's assumption, not a market measurement.</p>"
        )
    body = note + (
        f"<p>Mean implied correlation {signals['implied_correlation'].mean():.1%}, mean realized "
        f"{signals['realized_correlation'].mean():.1%}, mean premium {100 * premium.mean():+.1f} points "
        f"(positive on {float((premium > 0).mean()):.0%} of the days with both).</p>"
    )
    return Section(
        "market",
        "Market: correlation and vols",
        body,
        ("correlation_dynamics", "realized_vs_implied", "vol_comparison"),
    )


_SWEEP_FORMATS = {
    "total_return": ".2%",
    "cagr": ".2%",
    "annual_vol": ".2%",
    "max_drawdown": ".2%",
    "win_rate_trades": ".1%",
    "sharpe": ".2f",
}


def _sweep_section(result):
    table = result.tables.get("premium_sweep")
    if table is None:
        return None
    body = (
        "<p>The bundled data has no option quotes, so the same trade, rules and costs are run under several "
        "assumptions for the implied vols: a constant correlation premium of 0, 5 and 10 points, and the "
        "default model, where the index vol implies it (measured from VIX where VIX exists). None of the "
        "columns is a finding about option prices; the spread between them is the size of the assumption.</p>"
    )
    shown = pd.DataFrame(
        [[_fmt(value, _SWEEP_FORMATS.get(str(row), ",.0f")) for value in table.loc[row]] for row in table.index],
        index=table.index,
        columns=table.columns,
    )
    return Section("sweep", "Results by assumed correlation premium", body + table_html(shown), ("premium_sweep",))


def _forward_section(result):
    by_year = result.tables.get("forward_premium_by_year")
    if by_year is None and "forward_premium" not in result.tables:
        return None
    body = (
        "<p>What a short-correlation position was paid for the correlation it then bore: implied correlation "
        "on each date against the correlation realized over the following holding period. Where the index "
        "vol is modelled, the implied side is the model's assumption.</p>"
    )
    if by_year is not None:
        body += table_html(by_year, dict.fromkeys(by_year.columns, ".3f"))
    return Section("forward", "Forward premium", body, ("forward_premium",))


def _trade(result):
    shown = tuple(
        figure
        for figure, table in (("pnl_profile", "pnl_profile"), ("stress_heatmap", "stress"))
        if table in result.tables
    )
    if not shown:
        return None
    body = ""
    profile = result.tables.get("pnl_profile")
    if profile is not None:
        implied = float(profile["implied"].iloc[0])
        body += (
            "<p>Held to expiry and hedged daily on simulated paths where every name realizes its implied "
            f"vol and the index is their basket: the trade breaks even near the implied correlation "
            f"({implied:.1%}); a long dispersion trade gains when correlation realizes below it and loses "
            "above it (a short one the reverse), with the spread of outcomes shaded.</p>"
        )
    stress = result.tables.get("stress")
    if stress is not None:
        worst = stress.loc[stress["pnl"].idxmin()]
        body += (
            f"<p>Instant stress (full repricing, no time decay): worst P&L {worst['pnl']:,.0f} at spot "
            f"{worst['spot_shock']:+.0%}, vol {100 * worst['vol_shock']:+.0f} points, correlation "
            f"{worst['corr_level']:.2f}.</p>"
        )
    return Section("trade", "Today's trade", body, shown)


def _strikes_section(result):
    variance = result.tables.get("variance_strikes")
    if variance is None:
        return None
    correlation = result.tables.get("correlation_strikes")
    body = (
        "<p>Fair variance-swap strikes of the index and of each name at the trade's tenor, replicated from "
        "out-of-the-money option strips (with the truncation and discretisation error of the replication), "
        "and the correlation strikes they imply. They depend on the implied vols, and so on the vol model "
        "where the vols are modelled.</p>"
    )
    shown = variance.drop(columns=["trade_date"], errors="ignore")
    formats = dict.fromkeys(shown.columns, ".4g")
    formats.update({"weight": ".3f", "atm_vol": ".2%", "vol_strike": ".2%", "variance_strike": ".5f"})
    body += table_html(shown, formats)
    if correlation is not None:
        body += table_html(correlation.drop(columns=["trade_date"], errors="ignore"), {"correlation_strike": ".3f"})
    return Section("strikes", "Fair variance and correlation strikes" + _on_date(variance), body)


def _risk_section(result):
    table = result.tables.get("book_risk")
    if table is None:
        return None
    body = (
        "<p>The book simulated to its horizon and delta-hedged daily in each scenario (simulated paths, or "
        "historical windows bootstrapped and rescaled to today's vols); VaR and expected shortfall are "
        "losses. <i>stress</i> is the instantaneous repricing of the same move, which understates a tail "
        "that builds over the holding period.</p>"
    )
    shown = table.drop(columns=["trade_date"], errors="ignore")
    formats = dict.fromkeys(shown.columns, ",.0f")
    formats.update({"P(loss)": ".1%", "P(lose premium)": ".1%", "ES 95% / |stress|": ".2f"})
    return Section("risk", "Path risk of the book", body + table_html(shown, formats), ("book_risk",))


def _other_tables(result):
    known = {
        "cost_stress",
        "pnl_profile",
        "stress",
        "sub_periods",
        "premium_sweep",
        "premium_sweep_equity",
        "forward_premium",
        "forward_premium_by_year",
        "book_risk",
        "book_risk_pnl",
        "variance_strikes",
        "correlation_strikes",
    }
    others = {name: table for name, table in result.tables.items() if name not in known}
    if not others:
        return None
    body = "".join(f"<h3>{html.escape(name)}</h3>" + table_html(table.head(50)) for name, table in others.items())
    return Section("tables", "Other attached tables", body)


SECTIONS: list[Callable] = [
    _summary,
    _sweep_section,
    _explain_section,
    _periods,
    _journal,
    _costs,
    _market,
    _forward_section,
    _trade,
    _strikes_section,
    _risk_section,
    _other_tables,
]
"""Section builders in page order: result -> Section | None."""
