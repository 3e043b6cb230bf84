"""Results of :func:`dispersionkit.hedged_pnl`: per-path summaries and optional per-step detail."""

from __future__ import annotations

import html
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _core, _persist

# The core's row layouts, by name in row order: summary (len(SUMMARY_ROWS), P) and steps
# (len(STEP_ROWS), P, T). The result classes below are filled by name from them.
SUMMARY_ROWS: tuple[str, ...] = _core.PNL_SUMMARY_ROWS
STEP_ROWS: tuple[str, ...] = _core.PNL_STEP_ROWS


@dataclass(frozen=True)
class PnLSummary:
    """Per-path totals, arrays of shape (paths,); currency units of the spots.

    total: net P&L of the run (options + hedge + financing - costs). max_drawdown: largest
    fall of cumulative P&L from its running peak (>= 0, peak starts at 0). total_costs: hedge
    trading costs plus option half-spreads. n_rebalances: hedge trades (underlying x step,
    including the opening hedge). option_mtm / hedge_pnl / financing: the P&L lines summed.
    delta ... residual: the attribution summed over steps (see :class:`PnLSteps`).
    gamma_theta_legs: (paths, legs) per-leg gamma-theta summed over steps.
    """

    total: np.ndarray
    max_drawdown: np.ndarray
    total_costs: np.ndarray
    n_rebalances: np.ndarray
    option_mtm: np.ndarray
    hedge_pnl: np.ndarray
    financing: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray
    vega: np.ndarray
    vanna: np.ndarray
    volga: np.ndarray
    residual: np.ndarray
    gamma_theta_legs: np.ndarray

    @classmethod
    def from_core(cls, rows: np.ndarray, gamma_theta_legs: np.ndarray) -> PnLSummary:
        """From the core's (len(SUMMARY_ROWS), P) rows, each field taken by its row's name."""
        values = {name: rows[k] for k, name in enumerate(SUMMARY_ROWS)}
        values["n_rebalances"] = values["n_rebalances"].astype(np.int64)
        return cls(**values, gamma_theta_legs=gamma_theta_legs)


@dataclass(frozen=True)
class PnLSteps:
    """Per-step arrays of shape (paths, steps); step t covers (t, t+1].

    P&L lines: option_mtm (change in the marked value of the legs, settlement at intrinsic
    for legs expiring in the step), hedge_pnl (hedge shares x spot change), financing (rate on
    the cash account plus dividends on the hedge), costs (trades at the start of the step;
    the last step also carries the exit costs), net = option_mtm + hedge_pnl + financing -
    costs, cumulative = running sum of net.
    Book Greeks at the start of the step, after rebalancing: dollar_delta (options' delta x
    S x qty plus hedge shares x S), dollar_gamma (0.5 gamma S^2 qty, P&L per unit squared
    return), vega (per 1.00 of vol), theta (per year).
    Attribution with the Greeks at the start of the step: delta_pnl (options' delta x dS plus
    hedge_pnl), gamma_pnl (0.5 gamma dS^2), theta_pnl (theta dt), vega_pnl (vega dvol),
    vanna_pnl (vanna dS dvol), volga_pnl (0.5 volga dvol^2), residual = net - (the six terms
    + financing - costs), i.e. the part of option_mtm the second-order expansion misses.
    gamma_theta_legs (paths, steps, legs): 0.5 x cash gamma x (r^2 - vol^2 dt) per leg, with
    r = dS/S and the leg's implied vol at the start of the step.
    """

    option_mtm: np.ndarray
    hedge_pnl: np.ndarray
    financing: np.ndarray
    costs: np.ndarray
    net: np.ndarray
    cumulative: np.ndarray
    dollar_delta: np.ndarray
    dollar_gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    delta_pnl: np.ndarray
    gamma_pnl: np.ndarray
    theta_pnl: np.ndarray
    vega_pnl: np.ndarray
    vanna_pnl: np.ndarray
    volga_pnl: np.ndarray
    residual: np.ndarray
    gamma_theta_legs: np.ndarray

    @classmethod
    def from_core(cls, rows: np.ndarray, gamma_theta_legs: np.ndarray) -> PnLSteps:
        """From the core's (len(STEP_ROWS), P, T) rows, each field taken by its row's name."""
        return cls(**{name: rows[k] for k, name in enumerate(STEP_ROWS)}, gamma_theta_legs=gamma_theta_legs)


def _check_rows(cls, rows: tuple[str, ...]) -> None:
    fields_ = {f.name for f in fields(cls)} - {"gamma_theta_legs"}
    if fields_ != set(rows):
        raise ImportError(
            f"dispersionkit.{cls.__name__} fields {sorted(fields_)} differ from the compiled core's rows "
            f"{sorted(rows)}: rebuild the extension (pip install .)"
        )


_check_rows(PnLSummary, SUMMARY_ROWS)
_check_rows(PnLSteps, STEP_ROWS)


@dataclass(frozen=True)
class PnLResult:
    """Output of :func:`dispersionkit.hedged_pnl`.

    summary: :class:`PnLSummary` (always). steps: :class:`PnLSteps` when ``detail="steps"``,
    else None. step_labels: label of each step's end (the date of t+1 when dates were given,
    else the step number t+1). leg_labels: one string per leg.
    """

    summary: PnLSummary
    steps: PnLSteps | None
    step_labels: pd.Index
    leg_labels: tuple[str, ...]

    @property
    def n_paths(self) -> int:
        return int(self.summary.total.shape[0])

    def to_frame(self, path: int = 0) -> pd.DataFrame:
        """One path's per-step lines, Greeks and attribution, indexed by step-end date or step."""
        if self.steps is None:
            raise ValueError("to_frame: per-step detail was not stored; call hedged_pnl(..., detail='steps')")
        if not -self.n_paths <= path < self.n_paths:
            raise IndexError(f"path: {path} out of range for {self.n_paths} paths")
        columns = {f.name: getattr(self.steps, f.name)[path] for f in fields(PnLSteps) if f.name != "gamma_theta_legs"}
        return pd.DataFrame(columns, index=self.step_labels)

    def __repr__(self) -> str:
        total = self.summary.total
        steps = "per-step detail" if self.steps is not None else "summary only"
        first, last = (self.step_labels[0], self.step_labels[-1]) if len(self.step_labels) else ("-", "-")
        return (
            f"PnLResult({self.n_paths} paths x {len(self.step_labels)} steps ({first}..{last}), "
            f"{len(self.leg_labels)} legs, {steps})\n"
            f"  total P&L mean {np.mean(total):,.4g}, sd {np.std(total):,.4g}, "
            f"min {np.min(total):,.4g}, max {np.max(total):,.4g}; costs mean {np.mean(self.summary.total_costs):,.4g}"
        )

    def _repr_html_(self) -> str:
        head = html.escape(repr(self).splitlines()[0])
        rows = ("total", "option_mtm", "hedge_pnl", "financing", "total_costs", "gamma", "theta", "vega", "residual")
        table = pd.DataFrame({name: getattr(self.summary, name) for name in rows}).describe(
            percentiles=[0.05, 0.5, 0.95]
        )
        return f"<b>{head}</b>" + table.to_html(float_format=lambda x: f"{x:,.4g}")

    def save(self, path) -> Path:
        """Write the result to the folder ``path`` (Parquet + metadata.json); arrays load bit for bit."""
        return _persist.save(self, path)

    @classmethod
    def load(cls, path) -> PnLResult:
        """The PnLResult saved in the folder ``path``."""
        return _persist.load(path, cls)
