"""Figures (matplotlib) and the self-contained HTML report of a backtest.

``result.plot()`` and ``result.report(path)`` on a :class:`~dispersionkit.BacktestResult`
come here. Importing this package is cheap: matplotlib loads on the first figure (install it
with ``pip install 'dispersionkit[plot]'``). Figures are drawn on ``matplotlib.figure.Figure``
objects rendered by Agg, never through pyplot, so no window opens and no global state changes.

- :mod:`.figures`: one function per figure, on plain pandas data;
- :mod:`.sections`: the figures and page sections as functions of a result (add yours there);
- :mod:`.html_page`: the page.
"""

from __future__ import annotations

from pathlib import Path

from ..backtest.result import RENDERERS, BacktestResult

__all__ = ["build_figures", "render", "write_report"]


def _matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("figures and reports need matplotlib: pip install 'dispersionkit[plot]'") from None


def build_figures(result: BacktestResult, names=None) -> dict:
    """{name: matplotlib Figure} of ``result`` (all it has data for, or those in ``names``)."""
    _matplotlib()
    from .sections import build_figures as build

    return build(result, names)


def render(result: BacktestResult, title: str | None = None) -> str:
    """The HTML report of ``result`` as a string."""
    _matplotlib()
    from .html_page import render as page

    return page(result, title)


def write_report(result: BacktestResult, path, *, title: str | None = None) -> Path:
    """Write the HTML report of ``result`` to ``path`` (.html); returns the path."""
    _matplotlib()
    from .html_page import write_report as write

    return write(result, path, title=title)


RENDERERS["plot"] = build_figures
RENDERERS["report"] = write_report
