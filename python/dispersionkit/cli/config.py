"""The TOML configuration of ``dispersionkit backtest`` (and scan, stress): every key, its default.

:data:`SCHEMA` is the one list of sections and keys; :func:`load_config` checks a file
against it (unknown sections or keys are errors naming them, values are type-checked) and
fills in defaults; :func:`build` turns the values into library objects (the trade, rules,
hedge policy, vol model). ``docs/cli.md`` documents the same keys (a test compares them) and
:func:`schema_markdown` prints that table.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..backtest.engine import BacktestRules
from ..market.vol_model import ImpliedVolModel
from ..numeric.hedge_policy import HedgePolicy
from ..strategy.signals import (
    CorrelationExit,
    ExpiryExit,
    LongDispersionEntry,
    ProfitTarget,
    ShortDispersionEntry,
    StopLoss,
    TimeStop,
    VixExit,
)
from ..strategy.trade import DispersionTrade

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Key:
    """One configuration key: its default, the TOML types it takes, and what it means."""

    default: Any
    kinds: tuple[type, ...]
    doc: str


_NUM = (int, float)
_STR = (str,)
_BOOL = (bool,)
_LIST = (list,)
_NONE = "unset"
"""Shown as the default of a key whose absence means 'not used' (TOML has no null)."""

EXIT_RULES = {
    "stop_loss": StopLoss,
    "profit_target": ProfitTarget,
    "correlation": CorrelationExit,
    "vix": VixExit,
    "time_stop": TimeStop,
    "expiry": ExpiryExit,
}
ENTRY_RULES = ("none", "long", "short")

SCHEMA: dict[str, dict[str, Key]] = {
    "data": {
        "date_column": Key(_NONE, _STR, "name of the date column in every file (default: the first column)"),
        "index_column": Key(_NONE, _STR, "value column of the --index file when it has several"),
        "rate": Key(0.0, _NUM, "risk-free rate, continuous, decimal (0.03 = 3%)"),
        "div_yield": Key(0.0, _NUM, "dividend yield of every component, continuous, decimal"),
        "index_underlying": Key("INDEX", _STR, "the index's name in the --options file"),
        "option_quotes": Key("otm", _STR, 'which quotes build the surface with --options: "otm", "calls" or "puts"'),
        "vol_tenor_days": Key(30.0, _NUM, "tenor (calendar days) of the per-date vols read off the surface"),
    },
    "vol_model": {
        "window": Key(63, (int,), "trading days of the trailing realized vols the model scales"),
        "variance_premium": Key(1.2, _NUM, "index implied / realized variance where there is no VIX"),
        "correlation_premium": Key(
            "from_index_vol",
            (str, int, float),
            '"from_index_vol" (names carry no variance premium; the index vol implies the correlation premium) '
            "or a constant implied minus realized correlation, e.g. 0.05",
        ),
        "component_variance_premium": Key(1.0, _NUM, "component implied / realized variance (from_index_vol only)"),
    },
    "backtest": {
        "capital": Key(1_000_000.0, _NUM, "starting capital (currency of the prices)"),
        "start": Key(_NONE, _STR, "first date, ISO (default: first date of the data)"),
        "end": Key(_NONE, _STR, "last date, ISO (default: last date of the data)"),
    },
    "trade": {
        "direction": Key("long", _STR, '"long" (short index options, long components) or "short"'),
        "tenor_days": Key(30.0, _NUM, "option tenor at entry in calendar days"),
        "sizing": Key("vega", _STR, '"vega", "theta", "gamma" (cash gamma) or "notional" neutral'),
        "budget": Key(0.05, _NUM, "premium per trade as a fraction of equity"),
        "budget_basis": Key(
            "gross", _STR, '"gross" (sum of |quantity| x price) or "net" premium the budget applies to'
        ),
        "strikes": Key("atm", (str, int, float), '"atm" or a moneyness K/S for every option'),
        "structure": Key("straddle", _STR, '"straddle", "strangle", "call" or "put"'),
        "strangle_width": Key(0.05, _NUM, "strangle strikes at moneyness x (1 +- width)"),
    },
    "hedge": {
        "every": Key(1, (int,), "rebalance every N trading days (0: no schedule, then band is needed)"),
        "band": Key(_NONE, _NUM, "also rebalance when a net delta exceeds this many shares"),
        "hedge_cost_bps": Key(1.0, _NUM, "hedge trading cost, basis points of traded notional"),
        "option_half_spread": Key(0.5, _NUM, "option half bid-ask spread, vol points, paid on entry and exit"),
        "instrument": Key("underlying", _STR, '"underlying" (delta-hedge) or "none" (unhedged)'),
    },
    "rules": {
        "entry": Key("none", _STR, '"none" (enter whenever flat), "long" or "short" (the entry rules below)'),
        "exit": Key(
            list(EXIT_RULES), _LIST, "exit rules in priority order, any of " + ", ".join(f'"{k}"' for k in EXIT_RULES)
        ),
        "window": Key(63, (int,), "trading days of the realized correlation the rules see"),
        "vix_lookback": Key(5, (int,), "rows back for the VIX change"),
    },
    "rules.long_entry": {
        "min_vix": Key(30.0, _NUM, "enter long only above this VIX (points)"),
        "require_falling_vix": Key(True, _BOOL, "and only while VIX is falling"),
        "min_implied_correlation": Key(0.60, _NUM, "and implied correlation above this"),
        "min_premium": Key(0.10, _NUM, "and implied minus realized correlation above this"),
        "crisis_jump": Key(10.0, _NUM, "never when VIX rose this many points over the lookback"),
    },
    "rules.short_entry": {
        "max_vix": Key(15.0, _NUM, "enter short only below this VIX (points)"),
        "max_implied_correlation": Key(0.25, _NUM, "and implied correlation below this"),
    },
    "rules.stop_loss": {"fraction": Key(0.25, _NUM, "exit when P&L <= -fraction x premium")},
    "rules.profit_target": {"fraction": Key(0.50, _NUM, "exit when P&L >= fraction x premium")},
    "rules.correlation": {"points": Key(0.15, _NUM, "exit when realized moves this far against implied")},
    "rules.vix": {"points": Key(10.0, _NUM, "exit when VIX moves this many points against the trade")},
    "rules.time_stop": {"elapsed": Key(0.50, _NUM, "exit without profit after this fraction of the tenor")},
    "rules.expiry": {
        "days": Key(5.0, _NUM, "roll or close with this many calendar days left"),
        "action": Key("roll", _STR, '"roll" or "close"'),
    },
    "metrics": {
        "risk_free": Key(0.0, _NUM, "annual rate subtracted in Sharpe and Sortino"),
        "trials": Key(1, (int,), "strategy variants tried, for the deflated Sharpe ratio"),
        "bootstrap_samples": Key(1000, (int,), "resamples of the Sharpe bootstrap interval"),
        "bootstrap_block": Key(21, (int,), "block length (days) of that bootstrap"),
        "confidence": Key(0.95, _NUM, "level of the Sharpe interval"),
        "seed": Key(0, (int,), "seed of the bootstrap"),
    },
    "report": {
        "cost_multipliers": Key([0.5, 2.0, 3.0], _LIST, "cost-stress re-runs (x1 is the run itself)"),
        "title": Key(_NONE, _STR, "title of the HTML report"),
    },
}


def iso_date(text, name: str) -> pd.Timestamp:
    """A date the command line or a config file gives: ISO 8601 (2015-01-01, optionally with a
    time), without a time zone (the data's dates have none). ValueError naming ``name``."""
    try:
        stamp = pd.Timestamp(str(text).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an ISO date like 2015-01-01, got {text!r}") from None
    if stamp is pd.NaT:
        raise ValueError(f"{name}: expected an ISO date like 2015-01-01, got {text!r}")
    if stamp.tz is not None:
        raise ValueError(f"{name}: expected a date without a time zone (the data has none), got {text!r}")
    return stamp


def date_argument(name: str):
    """An argparse ``type=`` for a date option: :func:`iso_date`, so a bad date exits 2 with one line."""

    def parse(text: str) -> pd.Timestamp:
        try:
            return iso_date(text, name)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).split(": ", 1)[1]) from None

    return parse


class ConfigError(ValueError):
    """A configuration file that does not match :data:`SCHEMA` (the message names file and key)."""


def defaults() -> dict[str, dict[str, Any]]:
    """Every section with its default values (keys whose default is 'unset' are left out)."""
    return {
        section: {name: key.default for name, key in keys.items() if key.default != _NONE}
        for section, keys in SCHEMA.items()
    }


def load_config(path=None) -> dict[str, dict[str, Any]]:
    """Defaults overlaid with the TOML file at ``path`` (None: defaults only), checked against SCHEMA."""
    values = defaults()
    if path is None:
        return values
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"config: expected a file path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config: file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config {path}: not valid TOML: {error}") from None
    for section, name, value in _flatten(raw, path):
        values[section][name] = value
    return values


def _flatten(raw: dict, path: Path, prefix: str = ""):
    for name, value in raw.items():
        section = f"{prefix}.{name}" if prefix else name
        if section in SCHEMA:
            if not isinstance(value, dict):
                raise ConfigError(f"config {path}: [{section}] must be a table (a [{section}] section)")
            subsections = {k: v for k, v in value.items() if f"{section}.{k}" in SCHEMA and isinstance(v, dict)}
            for key, item in value.items():
                if key in subsections:
                    continue
                if key not in SCHEMA[section]:
                    known = ", ".join(SCHEMA[section])
                    raise ConfigError(f"config {path}: unknown key {key!r} in [{section}] (known: {known})")
                yield section, key, _checked(item, SCHEMA[section][key], f"[{section}] {key}", path)
            yield from _flatten(subsections, path, section)
        elif prefix:
            raise ConfigError(f"config {path}: unknown section [{section}]")
        else:
            known = ", ".join(f"[{s}]" for s in SCHEMA)
            raise ConfigError(f"config {path}: unknown section or key {name!r} at the top level (sections: {known})")


def _checked(value, key: Key, where: str, path: Path):
    kinds = key.kinds
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        wanted = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise ConfigError(f"config {path}: {where}: expected {wanted}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config {path}: {where}: must be finite, got {value!r}")
    if isinstance(value, list):
        value = list(value)
    return value


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true/false", list: "a list"}


def _unset(value) -> bool:
    return value is None or value == _NONE


@dataclass(frozen=True)
class Setup:
    """The library objects a configuration describes."""

    trade: DispersionTrade
    rules: BacktestRules
    policy: HedgePolicy
    vol_model: ImpliedVolModel
    capital: float
    start: str | None
    end: str | None
    metrics: dict
    cost_multipliers: tuple[float, ...]
    title: str | None


def build(values: dict[str, dict[str, Any]]) -> Setup:
    """Library objects from checked values; a library ValueError is re-raised naming the section."""
    trade_values = values["trade"]
    direction = trade_values["direction"]
    trade = _section(
        "trade",
        lambda: DispersionTrade(
            direction=direction,
            tenor=float(trade_values["tenor_days"]) / 365.0,
            sizing=trade_values["sizing"],
            budget=float(trade_values["budget"]),
            budget_basis=trade_values["budget_basis"],
            strikes=trade_values["strikes"]
            if isinstance(trade_values["strikes"], str)
            else float(trade_values["strikes"]),
            structure=trade_values["structure"],
            strangle_width=float(trade_values["strangle_width"]),
        ),
    )
    hedge = values["hedge"]
    policy = _section(
        "hedge",
        lambda: HedgePolicy(
            every=None if hedge["every"] == 0 else hedge["every"],
            band=None if _unset(hedge.get("band")) else float(hedge["band"]),
            hedge_cost_bps=float(hedge["hedge_cost_bps"]),
            option_half_spread=float(hedge["option_half_spread"]),
            hedge_instrument=hedge["instrument"],
        ),
    )
    rules = _section("rules", lambda: _rules(values, direction))
    model = values["vol_model"]
    vol_model = _section(
        "vol_model",
        lambda: ImpliedVolModel(
            window=model["window"],
            variance_premium=float(model["variance_premium"]),
            correlation_premium=(
                model["correlation_premium"]
                if isinstance(model["correlation_premium"], str)
                else float(model["correlation_premium"])
            ),
            component_variance_premium=float(model["component_variance_premium"]),
        ),
    )
    run = values["backtest"]
    report = values["report"]
    multipliers = report["cost_multipliers"]
    if not all(isinstance(m, (int, float)) and not isinstance(m, bool) and m >= 0 for m in multipliers):
        raise ConfigError(f"[report] cost_multipliers: expected numbers >= 0, got {multipliers!r}")
    if not float(run["capital"]) > 0:
        raise ConfigError(f"[backtest] capital: must be > 0, got {run['capital']!r}")
    return Setup(
        trade=trade,
        rules=rules,
        policy=policy,
        vol_model=vol_model,
        capital=float(run["capital"]),
        start=None if _unset(run.get("start")) else iso_date(run["start"], "[backtest] start"),
        end=None if _unset(run.get("end")) else iso_date(run["end"], "[backtest] end"),
        metrics=dict(values["metrics"]),
        cost_multipliers=tuple(float(m) for m in multipliers),
        title=None if _unset(report.get("title")) else report["title"],
    )


def _rules(values, direction: str) -> BacktestRules:
    rules = values["rules"]
    entry_name = rules["entry"]
    if entry_name not in ENTRY_RULES:
        raise ValueError(f"entry: expected one of {ENTRY_RULES}, got {entry_name!r}")
    entry: LongDispersionEntry | ShortDispersionEntry | None = None
    if entry_name == "long":
        entry = LongDispersionEntry(**values["rules.long_entry"])
    elif entry_name == "short":
        entry = ShortDispersionEntry(**values["rules.short_entry"])
    exits = []
    for name in rules["exit"]:
        if name not in EXIT_RULES:
            raise ValueError(f"exit: unknown rule {name!r}; choose from {list(EXIT_RULES)}")
        options = dict(values[f"rules.{name}"])
        if name in ("correlation", "vix"):
            options["direction"] = direction
        exits.append(EXIT_RULES[name](**options))
    if not exits:
        raise ValueError("exit: give at least one exit rule (positions are always closed at expiry anyway)")
    return BacktestRules(entry=entry, exit=exits, window=rules["window"], vix_lookback=rules["vix_lookback"])


def _section(name: str, make):
    try:
        return make()
    except (ValueError, TypeError) as error:
        raise ConfigError(f"[{name}] {error}") from None


def schema_markdown() -> str:
    """The key reference of docs/cli.md: one table per section (key, default, meaning)."""
    out = []
    for section, keys in SCHEMA.items():
        out.append(f"### `[{section}]`\n")
        out.append("| key | default | meaning |")
        out.append("|---|---|---|")
        for name, key in keys.items():
            out.append(f"| `{name}` | `{_toml(key.default)}` | {key.doc} |")
        out.append("")
    return "\n".join(out)


def _toml(value) -> str:
    if value == _NONE:
        return _NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)
