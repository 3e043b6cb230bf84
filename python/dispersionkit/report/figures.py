"""The report's figures: one function per figure, each returning a matplotlib Figure.

Every function takes plain pandas data (what a :class:`~dispersionkit.BacktestResult` or a
stress / profile table holds), draws on a new ``matplotlib.figure.Figure`` (no pyplot state,
no window: safe in scripts, threads and servers) and labels its axes with units. Money is in
the currency of the prices; vols and correlations are shown in points (x 100) where a reader
thinks in points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

WIDTH, HEIGHT = 10.0, 4.6
IMPLIED, REALIZED, INDEX, COMPONENTS = "#1f5fa8", "#d9731a", "#1f5fa8", "#6b8e23"
GAIN, LOSS = "#2e8b57", "#c0392b"


def _money(value: float, _=None) -> str:
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:,.1f}B"
    if size >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if size >= 1e4:
        return f"{value / 1e3:,.0f}k"
    if size >= 1e3:
        return f"{value / 1e3:,.1f}k"
    return f"{value:,.0f}"


MONEY = FuncFormatter(_money)


def _figure(rows: int = 1, cols: int = 1, height: float = HEIGHT, **kwargs):
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, **kwargs)
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _nanmean(values) -> float:
    """Mean of the finite values; NaN (and no warning) when there are none."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _correlation_limits(ax, *series: np.ndarray) -> None:
    """Correlation axes in points from -20 to 105: an implied correlation from inconsistent vols
    can reach several hundred points on a day and would flatten the rest; such days are counted
    on the chart instead of drawn."""
    values = np.concatenate([np.asarray(x, dtype=float).ravel() for x in series])
    outside = np.count_nonzero((values > 105) | (values < -20))
    ax.set_ylim(-20, 105)
    if outside:
        ax.text(
            0.99,
            0.02,
            f"{outside} values outside -20..105 points not shown",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.35",
        )


def _modelled_note(modelled: bool) -> str:
    return " (implied: MODELLED, not quotes)" if modelled else ""


def correlation_dynamics(signals: pd.DataFrame, *, modelled: bool = False) -> Figure:
    """Realized and implied correlation against the index implied vol: over time and as a scatter."""
    figure, axes = _figure(1, 2, height=4.8, gridspec_kw={"width_ratios": [1.8, 1]})
    figure.get_layout_engine().set(wspace=0.12)
    left, right = axes[0]
    dates = signals.index
    left.plot(dates, 100 * signals["realized_correlation"], color=REALIZED, lw=0.9, label="realized correlation")
    left.plot(
        dates, 100 * signals["implied_correlation"], color=IMPLIED, lw=0.9, alpha=0.7, label="implied correlation"
    )
    left.set_ylabel("average pairwise correlation (points)")
    _correlation_limits(left, 100 * signals["realized_correlation"], 100 * signals["implied_correlation"])
    vol_axis = left.twinx()
    vol_axis.plot(dates, signals["vix"], color="0.35", lw=0.7, alpha=0.6, label="index implied vol")
    vol_axis.set_ylabel("index implied vol (VIX points)")
    vol_axis.spines[["top"]].set_visible(False)
    lines = left.get_lines() + vol_axis.get_lines()
    left.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize=8, frameon=False)
    left.set_title("Correlation and index vol over time" + _modelled_note(modelled), fontsize=10)
    data = signals[["vix", "realized_correlation"]].dropna()
    years = data.index.year
    points = right.scatter(
        data["vix"], 100 * data["realized_correlation"], c=years, s=4, cmap="viridis", alpha=0.5, linewidths=0
    )
    if len(data) > 2:
        slope, intercept = np.polyfit(data["vix"], 100 * data["realized_correlation"], 1)
        grid = np.linspace(data["vix"].min(), data["vix"].max(), 50)
        right.plot(grid, intercept + slope * grid, color="k", lw=1.2, label=f"fit: {slope:+.2f} corr pts per vol pt")
        right.legend(loc="lower right", fontsize=8, frameon=False)
    right.set_ylim(-20, 105)
    right.set_xlabel("index implied vol (VIX points)")
    right.set_ylabel("realized correlation (points)")
    right.set_title("Correlation rises with index vol", fontsize=10)
    bar = figure.colorbar(points, ax=right, pad=0.01)
    bar.set_label("year", fontsize=8)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def pnl_profile(profile: pd.DataFrame, *, title: str | None = None) -> Figure:
    """P&L to expiry of the trade against the correlation realized over its life.

    ``profile``: indexed by realized correlation with columns ``expected`` (the gamma-theta
    approximation), and optionally ``mean``, ``p05``, ``p95`` (simulated) and ``implied`` (a
    constant column: the trade's implied correlation).
    """
    figure, axes = _figure()
    ax = axes[0, 0]
    rho = 100 * profile.index.to_numpy(dtype=float)
    if {"p05", "p95"} <= set(profile.columns):
        ax.fill_between(rho, profile["p05"], profile["p95"], color=IMPLIED, alpha=0.15, label="simulated 5-95%")
    if "mean" in profile.columns:
        ax.plot(rho, profile["mean"], "o-", color=IMPLIED, ms=4, lw=1.2, label="simulated mean (hedged daily)")
    ax.plot(rho, profile["expected"], "--", color="k", lw=1.2, label="gamma-theta approximation (spots unchanged)")
    ax.axhline(0.0, color="0.5", lw=0.8)
    if "implied" in profile.columns:
        x = 100 * float(profile["implied"].iloc[0])
        ax.axvline(x, ls=":", color=LOSS, lw=1.4, label=f"implied correlation {x:.1f}")
    ax.yaxis.set_major_formatter(MONEY)
    ax.set_xlabel("correlation realized over the trade's life (points)")
    ax.set_ylabel("P&L to expiry (currency)")
    ax.set_title(title or "Long dispersion P&L against realized correlation", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return figure


def realized_vs_implied(signals: pd.DataFrame, *, modelled: bool = False) -> Figure:
    """Implied and realized correlation with the premium (implied - realized) shaded."""
    figure, axes = _figure()
    ax = axes[0, 0]
    dates = signals.index
    implied = 100 * signals["implied_correlation"].to_numpy(dtype=float)
    realized = 100 * signals["realized_correlation"].to_numpy(dtype=float)
    ax.plot(dates, implied, color=IMPLIED, lw=0.9, label="implied correlation")
    ax.plot(dates, realized, color=REALIZED, lw=0.9, label="realized correlation (trailing)")
    with np.errstate(invalid="ignore"):
        ax.fill_between(
            dates,
            realized,
            implied,
            where=implied >= realized,
            color=GAIN,
            alpha=0.25,
            interpolate=True,
            label="premium > 0 (implied above realized)",
        )
        ax.fill_between(
            dates,
            realized,
            implied,
            where=implied < realized,
            color=LOSS,
            alpha=0.25,
            interpolate=True,
            label="premium < 0",
        )
    premium = _nanmean(implied - realized)
    ax.set_ylabel("average pairwise correlation (points)")
    _correlation_limits(ax, implied, realized)
    ax.set_title(
        f"Realized vs implied correlation: mean premium {premium:+.1f} points" + _modelled_note(modelled), fontsize=10
    )
    ax.legend(fontsize=8, frameon=False, loc="upper left", ncol=2)
    return figure


def vol_comparison(signals: pd.DataFrame, *, modelled: bool = False) -> Figure:
    """Index implied vol against the weight-averaged component implied vol (the gap is diversification)."""
    figure, axes = _figure()
    ax = axes[0, 0]
    dates = signals.index
    index_vol = 100 * signals["index_vol"].to_numpy(dtype=float)
    components = 100 * signals["component_vol"].to_numpy(dtype=float)
    ax.plot(dates, components, color=COMPONENTS, lw=0.9, label="components, weighted average (implied)")
    ax.plot(dates, index_vol, color=INDEX, lw=0.9, label="index (implied)")
    with np.errstate(invalid="ignore"):
        ax.fill_between(
            dates,
            index_vol,
            components,
            where=components >= index_vol,
            color=COMPONENTS,
            alpha=0.15,
            interpolate=True,
            label="diversification: average name vol above index vol",
        )
    if "component_realized_vol" in signals.columns:
        ax.plot(
            dates,
            100 * signals["component_realized_vol"],
            color=COMPONENTS,
            lw=0.6,
            ls=":",
            label="components, realized",
        )
        ax.plot(dates, 100 * signals["index_realized_vol"], color=INDEX, lw=0.6, ls=":", label="index, realized")
    ax.set_ylabel("annualized vol (points)")
    ratio = _nanmean(index_vol / components)
    ax.set_title(
        f"Index vol vs component vols: index at {ratio:.0%} of the average name on average" + _modelled_note(modelled),
        fontsize=10,
    )
    ax.legend(fontsize=8, frameon=False, loc="upper left", ncol=2)
    return figure


def equity_drawdown(equity: pd.Series) -> Figure:
    """Equity (currency) above, drawdown from the running peak (%) below."""
    figure, axes = _figure(2, 1, height=5.2, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    top, bottom = axes[0, 0], axes[1, 0]
    top.plot(equity.index, equity.to_numpy(), color=INDEX, lw=1.0)
    top.axhline(float(equity.iloc[0]), color="0.5", lw=0.8, ls="--", label="starting capital")
    top.yaxis.set_major_formatter(MONEY)
    top.set_ylabel("equity (currency)")
    top.legend(fontsize=8, frameon=False, loc="upper left")
    drawdown = equity / equity.cummax() - 1.0
    bottom.fill_between(drawdown.index, 100 * drawdown.to_numpy(), 0.0, color=LOSS, alpha=0.4, lw=0)
    bottom.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    bottom.set_ylabel("drawdown (%)")
    worst = drawdown.idxmin()
    top.set_title(
        f"Equity: {float(equity.iloc[-1]) / float(equity.iloc[0]) - 1:+.1%} over the period; "
        f"worst drawdown {float(drawdown.min()):.1%} ({worst.date()})",
        fontsize=10,
    )
    return figure


def pnl_explain(attribution: pd.DataFrame, lines, split=None) -> Figure:
    """Cumulative P&L by explain line (``lines`` sum to the daily P&L) and the total.

    ``split``: optional further columns (e.g. the volatility / correlation split of
    gamma-theta) drawn dashed, which overlap ``lines`` and so are not added to the total.
    """
    figure, axes = _figure(height=5.0)
    ax = axes[0, 0]
    cumulative = attribution.cumsum()
    colors = _palette("tab10", len(lines))
    for k, name in enumerate(lines):
        ax.plot(cumulative.index, cumulative[name], lw=1.1, color=colors[k], label=name)
    for k, name in enumerate(split or ()):
        color = _palette("Dark2", len(split or ()))[k]
        ax.plot(cumulative.index, cumulative[name], lw=1.3, ls="--", color=color, label=f"{name} (split)")
    total = cumulative[list(lines)].sum(axis=1)
    ax.plot(total.index, total.to_numpy(), color="k", lw=1.8, label="total")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.yaxis.set_major_formatter(MONEY)
    ax.set_ylabel("cumulative P&L (currency)")
    ax.set_title(f"Cumulative P&L explain by line: total {_money(float(total.iloc[-1]))}", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left", ncol=3)
    return figure


def stress_heatmap(stress: pd.DataFrame, *, title: str | None = None) -> Figure:
    """P&L on the spot x correlation grid of a stress table (columns spot_shock, vol_shock,
    corr_level, pnl), at the vol shock nearest 0."""
    vol = stress["vol_shock"].to_numpy(dtype=float)
    at = float(vol[np.argmin(np.abs(vol))])
    grid = stress[stress["vol_shock"] == at].pivot_table(index="spot_shock", columns="corr_level", values="pnl")
    figure, axes = _figure(height=4.8)
    ax = axes[0, 0]
    ax.grid(False)
    values = grid.to_numpy()
    limit = float(np.nanmax(np.abs(values))) or 1.0
    image = ax.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto", origin="lower")
    ax.set_xticks(range(grid.shape[1]), [f"{100 * c:.0f}" for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{100 * s:+.0f}%" for s in grid.index])
    if values.size <= 120:
        for (i, j), value in np.ndenumerate(values):
            ax.text(j, i, _money(value), ha="center", va="center", fontsize=7)
    ax.set_xlabel("average correlation (points)")
    ax.set_ylabel("spot shock, every underlying (%)")
    vol_text = f"vol shock {at * 100:+.0f} points"
    ax.set_title((title or "Stress P&L of today's trade") + f" ({vol_text}, no time decay)", fontsize=10)
    bar = figure.colorbar(image, ax=ax, pad=0.01, format=MONEY)
    bar.set_label("P&L (currency)")
    return figure


def _palette(name: str, n: int) -> list:
    """n distinct colours of a qualitative colormap (tab20 when tab10 has too few)."""
    from matplotlib import colormaps

    cmap = colormaps["tab20" if name == "tab10" and n > 10 else name]
    return [cmap(k % cmap.N) for k in range(n)]


def premium_sweep(equity: pd.DataFrame) -> Figure:
    """Equity of the same backtest under each assumption (one column per assumed premium)."""
    figure, axes = _figure()
    ax = axes[0, 0]
    colors = _palette("tab10", equity.shape[1])
    for k, label in enumerate(equity.columns):
        series = equity[label]
        final = float(series.iloc[-1]) / float(series.iloc[0]) - 1.0
        ax.plot(series.index, series.to_numpy(), lw=1.1, color=colors[k], label=f"{label}: {final:+.1%}")
    ax.axhline(float(equity.iloc[0, 0]), color="0.5", lw=0.8, ls="--")
    ax.yaxis.set_major_formatter(MONEY)
    ax.set_ylabel("equity (currency)")
    ax.set_title("The same trade under each assumed correlation premium (implied vols are modelled)", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return figure


def forward_premium(table: pd.DataFrame) -> Figure:
    """Implied correlation against the correlation realized over the following holding period,
    with the forward premium (implied minus forward realized) shaded."""
    figure, axes = _figure()
    ax = axes[0, 0]
    dates = table.index
    implied = 100 * table["implied_correlation"].to_numpy(dtype=float)
    ahead = 100 * table["forward_realized_correlation"].to_numpy(dtype=float)
    ax.plot(dates, implied, color=IMPLIED, lw=0.9, label="implied correlation on the date")
    ax.plot(dates, ahead, color=REALIZED, lw=0.9, label="correlation realized over the next holding period")
    with np.errstate(invalid="ignore"):
        ax.fill_between(
            dates,
            ahead,
            implied,
            where=implied >= ahead,
            color=GAIN,
            alpha=0.25,
            interpolate=True,
            label="forward premium > 0 (short correlation earned)",
        )
        ax.fill_between(
            dates,
            ahead,
            implied,
            where=implied < ahead,
            color=LOSS,
            alpha=0.25,
            interpolate=True,
            label="forward premium < 0",
        )
    premium = _nanmean(implied - ahead)
    ax.set_ylabel("average pairwise correlation (points)")
    _correlation_limits(ax, implied, ahead)
    ax.set_title(
        f"Forward premium: mean {premium:+.1f} points (measured only where the index vol is quoted)", fontsize=10
    )
    ax.legend(fontsize=8, frameon=False, loc="upper left", ncol=2)
    return figure


def book_risk(pnl: pd.DataFrame, *, title: str | None = None) -> Figure:
    """P&L distribution of a book held to its horizon, one histogram per scenario (columns of
    ``pnl``: one row per simulated path), with each scenario's 95% expected shortfall marked."""
    figure, axes = _figure(height=4.8)
    ax = axes[0, 0]
    values = pnl.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        finite = np.zeros(1)
    low, high = np.quantile(finite, [0.001, 0.999])
    bins = np.linspace(low, high, 60)
    colors = _palette("tab10", pnl.shape[1])
    for k, name in enumerate(pnl.columns):
        column = values[:, k][np.isfinite(values[:, k])]
        if column.size == 0:
            continue
        worst = np.sort(column)[: max(1, int(np.ceil(round(0.05 * column.size, 9))))]
        es = -float(worst.mean())
        ax.hist(
            np.clip(column, low, high),
            bins=bins,
            histtype="step",
            lw=1.3,
            color=colors[k],
            label=f"{name}: ES 95% {_money(es)}",
        )
        ax.axvline(-es, color=colors[k], lw=0.8, ls=":")
    ax.axvline(0.0, color="0.4", lw=0.8)
    ax.xaxis.set_major_formatter(MONEY)
    ax.set_xlabel("P&L to the horizon (currency); dotted: minus the 95% expected shortfall")
    ax.set_ylabel("paths")
    ax.set_title(title or "Path risk of today's book by scenario", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return figure
