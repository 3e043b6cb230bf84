"""What the commands write: analyses attached to a result, the output folder, and JSON.

An output folder (``--out DIR``) holds::

    DIR/report.html     the self-contained report (open it in a browser)
    DIR/figures/*.png   every figure of the report as its own file
    DIR/result/         the BacktestResult with its attached tables (BacktestResult.load)

``dispersionkit report DIR`` rebuilds report.html and the figures from DIR/result.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..backtest.attribution import GREEK_COLUMNS, SPLIT_COLUMNS
from ..backtest.cost_stress import cost_stress
from ..backtest.periods import DEFAULT_PERIODS, period_metrics
from ..backtest.result import BacktestResult
from ..strategy.book_risk import book_risk
from ..strategy.profile import correlation_profile
from ..strategy.trade import DispersionTrade
from ..strategy.variance_dispersion import fair_strikes

RESULT_FOLDER = "result"
REPORT_FILE = "report.html"
FIGURE_FOLDER = "figures"

STRESS_SPOTS = (-0.20, -0.15, -0.10, -0.05, 0.0, 0.05, 0.10, 0.15, 0.20)
STRESS_VOLS = (0.0, 0.05, 0.10)
STRESS_CORRELATIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


RISK_PATHS = 2_000
"""Paths per scenario of the report's path-risk section (``dispersionkit risk --paths`` for more)."""


def trade_tables(trade: DispersionTrade, market, date, capital: float, policy=None) -> dict[str, pd.DataFrame]:
    """The fair variance and correlation strikes, the P&L profile, the stress grid and the path
    risk (every named scenario, hedged with ``policy``) of the trade opened on ``date``, each
    tagged with the date."""
    position = trade.position(market, date, capital)
    profile = correlation_profile(position).assign(trade_date=position.date, direction=trade.direction)
    stress = trade.stress(market, date, STRESS_SPOTS, STRESS_VOLS, STRESS_CORRELATIONS, capital)
    risk = book_risk(position, market, date, paths=RISK_PATHS, policy=policy)
    table, distribution = risk_tables(risk)
    strikes = fair_strikes(market, date, trade.tenor)
    correlation = strikes.correlation.to_frame().assign(source=strikes.source)
    return {
        "variance_strikes": strikes.variance.assign(trade_date=position.date),
        "correlation_strikes": correlation.assign(trade_date=position.date),
        "pnl_profile": profile,
        "stress": stress.to_frame().assign(trade_date=position.date),
        "book_risk": table.assign(trade_date=position.date),
        "book_risk_pnl": distribution,
    }


def risk_tables(risk) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per scenario: BookRisk.to_frame(); one column per scenario: each path's P&L)."""
    distribution = pd.DataFrame(risk.pnl.T, columns=list(risk.scenarios))
    distribution.index.name = "path"
    return risk.to_frame(), distribution


def analyse(result: BacktestResult, market, trade, rules, *, policy, capital, start, end, multipliers, bar):
    """``result`` with the cost stress, sub-periods and today's trade tables attached."""
    tables = {} if "sub_periods" in result.tables else {"sub_periods": period_metrics(result, DEFAULT_PERIODS)}
    start_at = bar.position
    if multipliers:
        factors = sorted({1.0, *multipliers})
        bar.describe("cost stress")
        tables["cost_stress"] = cost_stress(
            market,
            trade,
            rules,
            policy=policy,
            capital=capital,
            start=start,
            end=end,
            multipliers=factors,
            base=result,
            progress=lambda runs: bar.to(start_at + runs),
        )
    bar.describe("today's trade")
    today = result.equity.index[-1]
    try:
        tables.update(trade_tables(trade, market, today, capital, policy))
    except ValueError as error:  # e.g. a missing vol on the last date: the report says so instead
        result = result.with_notes(f"Today's trade ({today.date()}) could not be built: {error}")
    bar.step()
    return result.with_tables(**tables)


def write_outputs(result: BacktestResult, folder, *, title: str | None = None, bar=None) -> dict[str, Path]:
    """Save the result, the figures and the report into ``folder``; returns their paths."""
    from ..report import build_figures, write_report
    from ..report.html_page import figure_png

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved = result.save(folder / RESULT_FOLDER)
    figure_folder = folder / FIGURE_FOLDER
    figure_folder.mkdir(exist_ok=True)
    if bar is not None:
        bar.describe("figures")
    for name, figure in build_figures(result).items():
        (figure_folder / f"{name}.png").write_bytes(figure_png(figure))
    if bar is not None:
        bar.step()
        bar.describe("report")
    report = write_report(result, folder / REPORT_FILE, title=title)
    if bar is not None:
        bar.step()
    return {"report": report.resolve(), "figures": figure_folder.resolve(), "result": saved.resolve()}


def result_json(result: BacktestResult) -> dict:
    """Machine-readable metrics, tables and the explain of a result (NaN as null, dates ISO)."""
    m = result.metrics
    scalars = {name: _plain(value) for name, value in m.to_frame()["value"].items()}
    lines = [c for c in GREEK_COLUMNS if c in result.attribution.columns]
    split = [c for c in SPLIT_COLUMNS if c in result.attribution.columns]
    journal = result.journal
    explain: dict[str, object] = {
        "lines": {name: float(result.attribution[name].sum()) for name in lines},
        "total": float(result.pnl.sum()),
        "gamma_theta_split": {name: float(result.attribution[name].sum()) for name in split},
    }
    if result.explain is not None:
        explain["complete"] = records(result.explain_table())
    out: dict[str, object] = {
        "dispersionkit": __version__,
        "vol_source": result.vol_source,
        "notes": list(result.notes),
        "capital": result.capital,
        "final_equity": float(result.equity.iloc[-1]),
        "metrics": scalars,
        "per_year": records(m.per_year),
        "explain": explain,
        "trades": {
            "count": len(journal),
            "by_exit_rule": {str(k): int(v) for k, v in journal["exit_rule"].value_counts().items()},
        },
    }
    for name, table in result.tables.items():
        if name not in SERIES_TABLES:
            out[name] = records(table)
    return jsonable(out)


SERIES_TABLES = frozenset({"book_risk_pnl", "premium_sweep_equity", "forward_premium"})
"""Attached tables of one row per path or per date: in the saved result, not in the JSON summary."""


def dumps(payload: dict) -> str:
    return json.dumps(payload, indent=1, allow_nan=False)


def records(table: pd.DataFrame) -> list[dict]:
    """The rows of ``table`` (index included) as JSON-ready dicts."""
    frame = table.reset_index()
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value):
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def jsonable(value):
    """``value`` with NaN as None, dates as ISO strings and NumPy scalars as Python ones, recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return _plain(value)
