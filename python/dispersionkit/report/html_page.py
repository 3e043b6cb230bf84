"""One self-contained HTML page for a backtest: every figure embedded as PNG, no external files.

The header states the data sources and assumptions (what is modelled comes first and is marked),
then the sections of :data:`dispersionkit.report.sections.SECTIONS` follow in order.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

from .._version import __version__
from ..backtest.result import BacktestResult
from .sections import FIGURES, SECTIONS, build_figures, is_modelled

DPI = 100

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d232a; margin: 0;
       background: #f5f6f8; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 26px; margin: 4px 0 6px; }
h2 { font-size: 20px; margin-top: 36px; border-bottom: 2px solid #dde2e8; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { line-height: 1.45; }
.meta { color: #5b6570; font-size: 13px; }
.about { background: #f0f4f9; border-left: 4px solid #1f5fa8; padding: 10px 16px; margin: 16px 0; }
.about li { margin: 4px 0; line-height: 1.4; }
.warn { background: #fff4e0; border-left: 4px solid #d9731a; padding: 8px 14px; font-weight: 600; }
nav a { margin-right: 14px; font-size: 14px; color: #1f5fa8; text-decoration: none; }
table.table, table.kv { border-collapse: collapse; font-size: 13px; margin: 8px 0 12px; }
table.table th, table.table td, table.kv th, table.kv td { padding: 4px 10px; border-bottom: 1px solid #e3e7ec;
       text-align: right; }
table.kv th { text-align: left; color: #39424c; font-weight: 600; }
table.kv td { text-align: left; }
table.table thead th { background: #eef1f5; }
table.table tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e7ec; }
figcaption { font-size: 13px; color: #5b6570; margin-top: 4px; }
"""


def figure_png(figure) -> bytes:
    """The figure as PNG bytes (``DPI`` dots per inch), drawn by the Agg renderer."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def render(result: BacktestResult, title: str | None = None) -> str:
    """The report as one HTML string."""
    if not isinstance(result, BacktestResult):
        raise TypeError(f"result: expected a BacktestResult, got {type(result).__name__}")
    title = title or "Dispersion backtest report"
    figures = build_figures(result)
    sections = [section for build in SECTIONS if (section := build(result)) is not None]
    nav = "".join(f"<a href='#{s.id}'>{html.escape(s.title)}</a>" for s in sections)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>dispersionkit {__version__}; written "
        f"{_dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}</p>",
        _about(result),
        f"<nav>{nav}</nav>",
    ]
    shown = set()
    for section in sections:
        parts.append(f"<section id='{section.id}'><h2>{html.escape(section.title)}</h2>{section.body}")
        for name in section.figures:
            if name in figures:
                parts.append(_figure_html(name, figures[name]))
                shown.add(name)
        parts.append("</section>")
    left = [name for name in figures if name not in shown]
    if left:
        parts.append("<section id='figures'><h2>More figures</h2>")
        parts += [_figure_html(name, figures[name]) for name in left]
        parts.append("</section>")
    parts.append(_definitions())
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(result: BacktestResult, path, *, title: str | None = None) -> Path:
    """Write :func:`render` to ``path`` (a .html file; folders created); returns the path."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path: the report is an HTML page; give a .html file name, got {str(path)!r}")
    text = render(result, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _figure_html(name: str, figure) -> str:
    data = base64.b64encode(figure_png(figure)).decode("ascii")
    caption = FIGURES[name][0]
    return (
        f"<figure id='fig-{name}'><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _about(result: BacktestResult) -> str:
    items = []
    if is_modelled(result):
        items.append(
            "<li class='warn'>Implied vols are MODELLED, not option quotes: every implied correlation, "
            "premium and option P&L on this page depends on that model.</li>"
        )
    items.append(f"<li><b>Implied vols:</b> {html.escape(result.vol_source)}</li>")
    items += [f"<li>{html.escape(note)}</li>" for note in result.notes]
    items.append(
        f"<li><b>Money</b> in the currency of the prices; starting capital {result.capital:,.0f}. "
        "Daily steps of 1/252 year; option expiries in calendar time (ACT/365).</li>"
    )
    return f"<div class='about'><b>Data and assumptions</b><ul>{''.join(items)}</ul></div>"


def _definitions() -> str:
    return (
        "<section id='definitions'><h2>Definitions</h2><p class='meta'>Returns are simple daily returns "
        "of equity, annualized with 252 days. Sharpe: mean over standard deviation x sqrt(252); its interval "
        "is a moving-block bootstrap (21-day blocks, seeded). Deflated Sharpe: the probability that the true "
        "Sharpe exceeds what the best of the stated number of trials would show by luck (Bailey and "
        "L&oacute;pez de Prado). Sortino uses the downside deviation; Calmar is CAGR over the maximum "
        "drawdown. VaR and expected shortfall are historical, of the daily P&L, as positive losses. The "
        "active-day win rate leaves out days with no P&L. The project's docs/methodology.md writes every "
        "formula out.</p></section>"
    )
