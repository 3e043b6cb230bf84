"""``dispersionkit demo``: the bundled data backtested, with what is assumed said first.

Every section is a function that returns a :class:`DemoSection` (its tables as DataFrames and
their text), so the command line prints them and a report can lay the same tables out.
:func:`demo_sections` runs them all. The bundled data has no option quotes: implied vols come
from :class:`~dispersionkit.ImpliedVolModel`, so the results are shown under several assumed
correlation premia side by side, never as one finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .backtest.engine import BacktestRules, backtest
from .backtest.periods import DEFAULT_PERIODS, period_metrics
from .backtest.result import BacktestResult
from .data import sample_market
from .market.market_data import MarketData
from .market.signal_series import forward_premium, signal_series
from .market.vol_model import ImpliedVolModel
from .numeric.hedge_policy import HedgePolicy
from .strategy.book_risk import book_risk
from .strategy.risk import survivability
from .strategy.signals import MarketState, RegimeClassifier
from .strategy.trade import DispersionTrade
from .strategy.variance_dispersion import fair_strikes

DEFAULT_PREMIA = (0.0, 0.05, 0.10)
"""Constant correlation premia (implied minus realized correlation) the demo assumes side by side."""
DEFAULT_LABEL = "from index vol"
"""Column label of the results under the default vol model (premium implied by VIX / the index vol)."""


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs: the window, the trade, its costs and the premia it assumes."""

    start: str | None = None
    end: str | None = None
    direction: str = "long"
    capital: float = 1_000_000.0
    budget: float = 0.05
    budget_basis: str = "gross"
    tenor_days: float = 30.0
    cost_bps: float = 1.0
    half_spread: float = 0.5
    index: str = "sp500"
    premia: tuple[float, ...] = DEFAULT_PREMIA

    def trade(self) -> DispersionTrade:
        return DispersionTrade(
            direction=self.direction,
            tenor=self.tenor_days / 365.0,
            budget=self.budget,
            budget_basis=self.budget_basis,
        )

    def policy(self) -> HedgePolicy:
        return HedgePolicy(every=1, hedge_cost_bps=self.cost_bps, option_half_spread=self.half_spread)


@dataclass(frozen=True)
class DemoSection:
    """One section of the demo: a title, its tables by name, and the text printed for it."""

    title: str
    tables: dict[str, pd.DataFrame]
    text: str


@dataclass(frozen=True)
class DemoRun:
    """The markets and backtests the sections are built from: one per assumption, by column label."""

    settings: DemoSettings
    markets: dict[str, MarketData]
    results: dict[str, BacktestResult]
    rules: BacktestRules

    @property
    def default(self) -> MarketData:
        return self.markets[DEFAULT_LABEL]


def premium_label(premium: float) -> str:
    return f"assumed {premium * 100:g} pts"


def run(settings: DemoSettings, *, progress=None) -> DemoRun:
    """Build the bundled market under the default vol model and under each assumed premium, and
    backtest the trade on each (same trade, rules, costs and window). ``progress``: optional
    callable(done, total) over all the backtests (e.g. a progress bar); it changes nothing else."""
    trade, policy = settings.trade(), settings.policy()  # bad settings fail before any work
    base = sample_market(index=settings.index)
    markets = {premium_label(p): base.with_vol_model(ImpliedVolModel(correlation_premium=p)) for p in settings.premia}
    markets[DEFAULT_LABEL] = base
    rules = BacktestRules()
    results = {}
    for k, (label, market) in enumerate(markets.items()):
        days = None if progress is None else (lambda done, total, k=k: progress(k + done / max(total, 1), len(markets)))
        results[label] = backtest(
            market,
            trade,
            rules,
            policy=policy,
            capital=settings.capital,
            start=settings.start,
            end=settings.end,
            progress=days,
        )
    return DemoRun(settings, markets, results, rules)


def demo_sections(settings: DemoSettings | None = None) -> list[DemoSection]:
    """Every section of ``dispersionkit demo``, in order."""
    return sections_of(run(DemoSettings() if settings is None else settings))


def sections_of(demo: DemoRun) -> list[DemoSection]:
    """The sections of ``dispersionkit demo`` for an already computed :class:`DemoRun`."""
    return [
        assumptions_section(demo),
        regime_section(demo),
        correlation_section(demo),
        trade_section(demo),
        swap_strikes_section(demo),
        book_risk_section(demo),
        premium_sweep_section(demo),
        subperiod_section(demo),
        explain_section(demo),
        trades_section(demo),
    ]


def _numbers(frame: pd.DataFrame, fmt) -> str:
    return frame.to_string(float_format=fmt)


def assumptions_section(demo: DemoRun) -> DemoSection:
    """What is data and what is assumed: the header of the demo."""
    s, market = demo.settings, demo.default
    origin = market.index_vol_origin.loc[next(iter(demo.results.values())).equity.index]
    vix_dates = origin[origin.str.startswith("vix")]
    model = market.vol_model if market.vol_model is not None else ImpliedVolModel()
    traded = (
        "the S&P 500 index against the 20 stocks (equal weights). The S&P 500 is NOT the basket of "
        "these 20 names: that basis is reported as its own P&L line, 'basis'"
        if s.index == "sp500"
        else "the equal-weighted basket of the 20 stocks as its own index (rebalanced at every close): no basis"
    )
    vix_span = f"{vix_dates.index[0].date()}..{vix_dates.index[-1].date()}" if len(vix_dates) else "none in the window"
    lines = [
        "ASSUMED, not measured: the bundled data has no option quotes; implied vols are a MODEL.",
        f"  index implied vol: VIX on {len(vix_dates):,} dates ({vix_span}), else {model.window}-day realized "
        f"x sqrt({model.variance_premium:g})",
        "  component implied vols: trailing realized vols, then either",
        f"    - '{DEFAULT_LABEL}' (the default model): names carry no variance premium; the correlation premium "
        "(implied minus realized correlation) is implied by the index vol: MEASURED from VIX where VIX exists, "
        f"elsewhere {model.variance_premium - 1:g} x realized index variance / cross term (time-varying), or",
        "    - 'assumed N pts': scaled so implied correlation = realized + N points on every date.",
        "  Results are shown under each; none of them is a finding about option prices.",
        f"traded: {traded}.",
        f"trade: {s.direction} dispersion, {s.tenor_days:g}-day ATM straddles (calendar days), vega-neutral, "
        f"budget {s.budget:.0%} of equity on {s.budget_basis} premium"
        + (" (the usual 5% rule reads net premium; gross makes the smaller book)" if s.budget_basis == "gross" else ""),
        f"costs: hedge at every close, {s.cost_bps:g} bp of traded notional; options {s.half_spread:g} vol point "
        "half-spread on entry and exit (dk.backtest's defaults)",
        "rules: enter whenever flat (no entry rule); exit on stop -25% / target +50% of premium (after exit costs), "
        "realized correlation 15 pts above implied, VIX +10, half the time gone without profit; roll 5 days "
        "before expiry",
    ]
    table = pd.DataFrame(
        {
            "value": [
                s.index,
                market.vol_source,
                ", ".join(demo.results),
                f"{s.cost_bps:g} bp, {s.half_spread:g} vol pt",
                f"{s.budget:.0%} {s.budget_basis}",
            ]
        },
        index=pd.Index(["traded index", "default vol model", "assumptions", "costs", "budget"], name="item"),
    )
    return DemoSection("Assumptions", {"assumptions": table}, "\n".join(lines))


def regime_section(demo: DemoRun) -> DemoSection:
    """The regime on the last date of the window, under the default vol model."""
    market = demo.default
    today = demo.results[DEFAULT_LABEL].equity.index[-1]
    row = signal_series(market, demo.rules.window, demo.rules.vix_lookback).loc[today]
    state = MarketState(
        float(row.vix), float(row.vix_change), float(row.implied_correlation), float(row.realized_correlation)
    )
    regime = RegimeClassifier().classify(state)
    origin = market.index_vol_origin.loc[today]
    table = pd.DataFrame({"value": row}).T.assign(regime=regime.label, index_vol_origin=origin)
    text = "\n".join(
        [
            str(regime),
            f"index implied vol source on this date: {origin} "
            "(implied correlation and premium under the default model)",
        ]
    )
    return DemoSection(f"Regime on {today.date()}", {"regime": table}, text)


def correlation_section(demo: DemoRun) -> DemoSection:
    """Implied vs realized correlation by year, and the forward premium: implied correlation
    against the correlation then realized over the option's life."""
    market = demo.default
    horizon = max(2, round(demo.settings.tenor_days * 252 / 365))
    dates = demo.results[DEFAULT_LABEL].equity.index
    table = forward_premium(market, horizon=horizon, window=demo.rules.window).loc[dates]
    measured = market.index_vol_origin.loc[dates].str.startswith("vix")
    yearly = table.groupby(table.index.year).mean()
    yearly["VIX dates"] = measured.groupby(measured.index.year).mean()
    yearly.index.name = "year"
    summary = pd.DataFrame(
        {
            where: {
                "dates": int(mask.sum()),
                "mean forward premium": table.loc[mask, "forward_premium"].mean(),
                "share of dates > 0": (table.loc[mask, "forward_premium"].dropna() > 0).mean(),
                "mean vs basket (no basis)": table.loc[mask, "forward_basket_premium"].mean(),
            }
            for where, mask in (("VIX dates (measured)", measured), ("model dates (assumed)", ~measured))
            if mask.any()
        }
    )
    columns = {
        "implied_correlation": "implied",
        "trailing_realized_correlation": "realized (trailing)",
        "forward_realized_correlation": f"realized (next {horizon}d)",
        "forward_premium": "forward premium",
        "forward_basket_premium": "vs basket",
        "VIX dates": "VIX dates",
    }
    shown = yearly[list(columns)].rename(columns=columns)
    text = "\n".join(
        [
            f"Implied correlation (default model) against the correlation realized over the next {horizon} trading "
            "days (the option's life): the forward premium is what a short-correlation position was paid for the "
            "correlation it then bore. Measured only where VIX exists; elsewhere it follows the model's assumption.",
            _numbers(shown, lambda x: f"{x:.3f}"),
            "",
            _numbers(summary, lambda x: f"{x:.3f}"),
        ]
    )
    return DemoSection(
        "Implied vs realized correlation, and the forward premium",
        {"by_year": shown, "forward_premium": table, "summary": summary},
        text,
    )


def trade_section(demo: DemoRun) -> DemoSection:
    """Premium, net Greeks, break-even correlations and the correlation stress of the last date's book."""
    s, market = demo.settings, demo.default
    date = demo.results[DEFAULT_LABEL].equity.index[-1]
    trade = s.trade()
    position = trade.position(market, date, s.capital)
    net = position.greeks().loc["net"]
    breakeven = trade.breakeven_correlation(market, date, capital=s.capital)
    stress = trade.stress(market, date, [-0.10, 0.0, 0.10], [0.0, 0.10], [0.9, 0.95], s.capital)
    worst = stress.worst()
    check = survivability(s.capital, max(0.0, -float(worst["pnl"])), position.premium_at_risk)
    table = pd.DataFrame(
        {
            "value": {
                "premium (gross)": position.premium,
                "premium (net)": position.net_premium,
                "net vega per vol point": net["vega_per_point"],
                "net theta per day": net["theta_per_day"],
                "net dollar gamma": net["dollar_gamma"],
                "break-even correlation, index leg": breakeven.index_leg,
                "break-even correlation, book": breakeven.book,
                "implied correlation": breakeven.implied,
                "stress worst-case P&L": float(worst["pnl"]),
                "survivability": check.ratio,
            }
        }
    )
    text = "\n".join(
        [
            f"premium {position.premium:,.0f} gross, {position.net_premium:,.0f} net; net vega/pt "
            f"{net['vega_per_point']:,.0f}; net theta/day {net['theta_per_day']:,.0f}; net dollar gamma "
            f"{net['dollar_gamma']:,.0f}",
            f"break-even correlation: index leg {breakeven.index_leg:.1%}, book {breakeven.book:.1%} "
            f"(implied {breakeven.implied:.1%}, default model)",
            f"stress worst case (corr {worst['corr_level']:.2f}, spot {worst['spot_shock']:+.0%}, "
            f"vol {worst['vol_shock']:+.2f}): P&L {worst['pnl']:,.0f}; survivability {check.ratio:.3f} "
            f"({'pass' if check.passed else 'FAIL: ' + '; '.join(check.reasons)})",
        ]
    )
    return DemoSection(f"The trade on {date.date()} (capital {s.capital:,.0f})", {"trade": table}, text)


def swap_strikes_section(demo: DemoRun) -> DemoSection:
    """Fair variance-swap strikes of the index and each name, and the correlation strikes they imply."""
    s, market = demo.settings, demo.default
    date = demo.results[DEFAULT_LABEL].equity.index[-1]
    strikes = fair_strikes(market, date, s.tenor_days / 365.0)
    return DemoSection(
        f"Fair variance and correlation strikes on {date.date()} ({s.tenor_days:g}-day)",
        {"variance strikes": strikes.variance, "correlation strikes": strikes.correlation.to_frame()},
        strikes.text(),
    )


BOOK_RISK_PATHS = 2_000
"""Paths of the demo's book-risk table (seeded: the same table every run)."""


def book_risk_section(demo: DemoRun, paths: int = BOOK_RISK_PATHS) -> DemoSection:
    """P&L distribution of the last date's trade held to expiry under the named scenarios."""
    s, market = demo.settings, demo.default
    date = demo.results[DEFAULT_LABEL].equity.index[-1]
    position = s.trade().position(market, date, s.capital)
    risk = book_risk(position, market, paths=paths, policy=s.policy(), seed=0)
    return DemoSection(
        f"Path risk of the trade on {date.date()}, held to expiry", {"book risk": risk.to_frame()}, risk.text()
    )


_SWEEP_ROWS = (
    ("total_return", "total return", "{:.2%}"),
    ("cagr", "CAGR", "{:.2%}"),
    ("annual_vol", "annual vol", "{:.2%}"),
    ("sharpe", "Sharpe", "{:.2f}"),
    ("max_drawdown", "max drawdown", "{:.2%}"),
    ("win_rate_trades", "win rate (trades)", "{:.2%}"),
    ("n_trades", "trades", "{:,.0f}"),
)
_PNL_ROWS = (
    ("pnl", "P&L"),
    ("basis", "  basis (S&P 500 vs basket)"),
    ("correlation", "  correlation"),
    ("volatility", "  volatility"),
    ("costs", "  costs"),
    ("other", "  other (vega, carry, residual)"),
)


def _pnl_lines(result: BacktestResult) -> dict[str, float]:
    e = result.explain_table()["daily (causal)"]
    volatility = e["idiosyncratic"] + e["cross_volatility"] + e["component_volatility"]
    total = float(result.pnl.sum())
    lines = {
        "pnl": total,
        "basis": float(e["basis"]),
        "correlation": float(e["correlation"]),
        "volatility": float(volatility),
        "costs": float(e["costs"]),
    }
    lines["other"] = total - sum(v for k, v in lines.items() if k != "pnl")
    return lines


def premium_sweep_section(demo: DemoRun) -> DemoSection:
    """Full-period metrics and P&L under each assumption, side by side."""
    columns = {}
    for label, result in demo.results.items():
        m = result.metrics
        values = {name: getattr(m, name) for name, _, _ in _SWEEP_ROWS}
        values.update(_pnl_lines(result))
        columns[label] = values
    table = pd.DataFrame(columns)
    text_rows = {}
    for name, label, fmt in _SWEEP_ROWS:
        text_rows[label] = [fmt.format(v) if v is not None and np.isfinite(v) else "nan" for v in table.loc[name]]
    for name, label in _PNL_ROWS:
        text_rows[label] = [f"{v:,.0f}" for v in table.loc[name]]
    shown = pd.DataFrame.from_dict(text_rows, orient="index", columns=list(table.columns))
    first = next(iter(demo.results.values())).metrics
    text = "\n".join(
        [
            f"period {first.start.date()} .. {first.end.date()}; same trade, rules and costs in every column; "
            "P&L lines from the explain (causal)",
            shown.to_string(),
        ]
    )
    return DemoSection("Results by assumed correlation premium", {"sweep": table}, text)


def subperiod_section(demo: DemoRun) -> DemoSection:
    """Return and Sharpe by decade and around 2008 and 2020, under each assumption."""
    frames = {label: period_metrics(result, DEFAULT_PERIODS) for label, result in demo.results.items()}
    returns = pd.DataFrame({label: f["return"] for label, f in frames.items()})
    sharpe = pd.DataFrame({label: f["sharpe"] for label, f in frames.items()})
    correlation = pd.DataFrame({label: f["explain_correlation"] for label, f in frames.items()})
    text = "\n".join(
        [
            "return",
            _numbers(returns, lambda x: f"{x:.2%}"),
            "",
            "Sharpe",
            _numbers(sharpe, lambda x: f"{x:.2f}"),
            "",
            "correlation P&L",
            _numbers(correlation, lambda x: f"{x:,.0f}"),
        ]
    )
    return DemoSection(
        "Sub-periods",
        {
            "return": returns,
            "sharpe": sharpe,
            "correlation_pnl": correlation,
            **{f"periods {k}": v for k, v in frames.items()},
        },
        text,
    )


def explain_section(demo: DemoRun) -> DemoSection:
    """The complete P&L explain of each full-period backtest (causal, day by day), plus the two
    lines that differ when the realized moves are taken over each trade at its close."""
    daily = pd.DataFrame({label: result.explain_table()["daily (causal)"] for label, result in demo.results.items()})
    at_close = pd.DataFrame(
        {label: result.explain_table()["per trade (at close)"] for label, result in demo.results.items()}
    )
    extra = at_close.loc[["cross_volatility", "correlation"]].rename(index=lambda name: f"{name} (at close)")
    table = pd.concat([daily, extra])
    text = "\n".join(
        [
            "Index legs' gamma-theta = basis + idiosyncratic + cross_volatility + correlation; component_volatility "
            "= the component legs' gamma-theta; correlation_mtm + vol_level = vega P&L. The lines sum to the P&L "
            "(residual: what the second-order expansion misses). Causal: realized moves from the 63 days before "
            "each step; at close: over each trade's own days.",
            _numbers(table, lambda x: f"{x:,.0f}"),
        ]
    )
    return DemoSection("P&L explain (full period)", {"explain": table, "daily": daily, "at_close": at_close}, text)


def trades_section(demo: DemoRun) -> DemoSection:
    """Trades and exit reasons under each assumption; final equity."""
    counts = pd.DataFrame(
        {label: result.journal["exit_rule"].value_counts() for label, result in demo.results.items()}
    ).fillna(0)
    counts.index.name = "exits by"
    final = pd.DataFrame(
        {
            label: {"trades": len(r.journal), "final equity": float(r.equity.iloc[-1])}
            for label, r in demo.results.items()
        }
    )
    table = pd.concat([counts, final])
    return DemoSection("Trades", {"trades": table}, _numbers(table, lambda x: f"{x:,.0f}"))
