"""Figures and the HTML report of a backtest: every figure built with labelled axes, the page
self-contained with every figure, table and the stated assumptions, and a real browser
rendering it (headless Chromium, Debian's chromium package) to a page that is not blank."""

import base64
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk
from dispersionkit.report.sections import FIGURES

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture(scope="module")
def result(bundled_backtest):
    """The bundled backtest with a path-risk distribution attached (as the CLI attaches one)."""
    rng = np.random.default_rng(0)
    pnl = pd.DataFrame({"base": rng.normal(500, 3000, 500), "correlation 0.9": rng.normal(-4000, 5000, 500)})
    summary = pd.DataFrame(
        {"mean": pnl.mean(), "ES 95%": -pnl.quantile(0.05), "P(loss)": (pnl < 0).mean(), "stress": [-1e3, -8e3]}
    ).rename_axis("scenario")
    return bundled_backtest[3].with_tables(book_risk=summary, book_risk_pnl=pnl)


@pytest.fixture(scope="module")
def page(result, tmp_path_factory):
    path = result.report(tmp_path_factory.mktemp("report") / "report.html", title="Test report")
    return path, path.read_text(encoding="utf-8")


def test_every_figure_is_built_with_labelled_axes(result):
    figures = result.plot()
    assert list(figures) == list(FIGURES)
    for name, figure in figures.items():
        assert isinstance(figure, Figure), name
        plotted = [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]
        assert plotted, name
        for ax in plotted:
            assert ax.get_ylabel(), f"{name}: an axis without a y label"
        assert any(ax.get_xlabel() or ax.xaxis.get_major_formatter() for ax in plotted), name
        assert any(ax.get_title() for ax in figure.axes), f"{name}: no title"


def test_plot_selects_and_checks_names(result):
    assert list(result.plot(["equity_drawdown"])) == ["equity_drawdown"]
    with pytest.raises(ValueError, match="unknown figures"):
        result.plot(["pie_chart"])


def test_figures_need_only_what_the_result_has(result):
    bare = type(result)(**{**result.__dict__, "tables": {}, "signals": None})
    assert list(bare.plot()) == ["equity_drawdown", "pnl_explain"]
    assert "<html" in dk.report.render(bare)


def test_report_is_self_contained_with_every_figure(page, result):
    _, html = page
    for name in FIGURES:
        match = re.search(
            rf"<figure id='fig-{name}'><img alt='[^']+' src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html
        )
        assert match, name
        assert base64.b64decode(match.group(1))[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "src='http" not in html and 'src="http' not in html and "<link" not in html
    for section in (
        "Summary",
        "P&amp;L explain",
        "Per-year and sub-period results",
        "Sub-periods",
        "Trades",
        "Cost stress",
        "Market: correlation and vols",
        "Today&#x27;s trade",
        "Definitions",
        "Results by assumed correlation premium",
        "Forward premium",
        "Path risk of the book",
        "Fair variance and correlation strikes on 2016-12-30",
    ):
        assert section in html, section
    assert "Implied vols are MODELLED" in html and "ImpliedVolModel(" in html
    assert "Data: bundled S&amp;P 500 sample, 2016." in html
    for label in ("Sortino", "Calmar", "deflated Sharpe", "daily VaR / ES 95%", "active days"):
        assert label in html, label
    assert str(result.metrics.per_year.index[0]) in html


def test_report_path_must_be_html(result, tmp_path):
    with pytest.raises(ValueError, match=r"give a \.html file name"):
        result.report(tmp_path / "report.pdf")


def test_importing_dispersionkit_does_not_load_matplotlib():
    code = "import sys, dispersionkit; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="no headless browser: apt-get install chromium (Debian's package)")
def test_report_renders_in_headless_chromium(page, tmp_path):
    from PIL import Image

    path, _ = page
    shot = tmp_path / "shot.png"
    # The browser must not inherit a sanitizer runtime preloaded for the extension's tests.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    completed = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            path.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert shot.is_file(), completed.stderr[-2000:]
    pixels = np.asarray(Image.open(io.BytesIO(shot.read_bytes())).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1200)
    assert pixels.std() > 20.0  # a blank or single-colour page has none
    assert np.mean(pixels < 128) > 0.01  # text and lines drawn in dark ink
