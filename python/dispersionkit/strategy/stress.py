"""Stress grid of a position: spot shocks x vol shocks x correlation levels, one batched repricing.

Each grid point reprices every leg with Black-Scholes-Merton:

- spot shock s: every underlying, index included, moves to S x (1 + s);
- vol shock v: every component implied vol moves to max(sigma_i + v, 0) (decimals: 0.05 =
  +5 vol points);
- correlation level c: the index implied vol is re-implied from the shocked component vols
  through index variance, sigma_I = sqrt(u' R(c) u) with u = w * sigma, where R(c) is the
  position's implied equicorrelation matrix moved to average correlation c by
  :func:`~dispersionkit.stress_correlation` (an equicorrelation matrix, so at c = the current
  implied correlation and v = 0 the index vol, and every price, is unchanged).

Time does not pass and rates are unchanged. P&L = repriced value - current value, in money.
All n_spot x n_vol x n_corr x legs prices come from one :func:`~dispersionkit.bs_price` call.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _persist
from .._validation import as_float_array
from ..numeric import correlation as _correlation
from ..numeric import greeks as _greeks
from ..numeric.correlation_matrix import stress_correlation_values
from .position import Position


@dataclass(frozen=True, eq=False)
class StressResult:
    """pnl[i, j, k]: P&L at spot_shocks[i], vol_shocks[j], corr_levels[k]; index_vols[j, k]:
    the re-implied index vol; base_value: the unshocked book value; current_correlation: the
    position's implied correlation."""

    spot_shocks: np.ndarray
    vol_shocks: np.ndarray
    corr_levels: np.ndarray
    pnl: np.ndarray
    index_vols: np.ndarray
    base_value: float
    current_correlation: float

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per grid point (spot_shock, vol_shock, corr_level, index_vol, pnl)."""
        i, j, k = np.meshgrid(
            np.arange(self.spot_shocks.size),
            np.arange(self.vol_shocks.size),
            np.arange(self.corr_levels.size),
            indexing="ij",
        )
        return pd.DataFrame(
            {
                "spot_shock": self.spot_shocks[i.ravel()],
                "vol_shock": self.vol_shocks[j.ravel()],
                "corr_level": self.corr_levels[k.ravel()],
                "index_vol": self.index_vols[j.ravel(), k.ravel()],
                "pnl": self.pnl.ravel(),
            }
        )

    def worst(self) -> pd.Series:
        """The grid point with the lowest P&L."""
        frame = self.to_frame()
        return frame.loc[frame["pnl"].idxmin()]

    def __repr__(self) -> str:
        worst = self.worst()
        return (
            f"StressResult({self.spot_shocks.size} spot x {self.vol_shocks.size} vol x {self.corr_levels.size} "
            f"correlation scenarios, base value {self.base_value:,.2f}, implied correlation "
            f"{self.current_correlation:.3f})\n"
            f"  worst P&L {worst['pnl']:,.2f} at spot {worst['spot_shock']:+.1%}, vol {worst['vol_shock']:+.3f}, "
            f"correlation {worst['corr_level']:.2f}; best {float(np.max(self.pnl)):,.2f}"
        )

    def _repr_html_(self) -> str:
        head = html.escape(repr(self).splitlines()[0])
        table = self.to_frame().pivot_table(index="spot_shock", columns=["vol_shock", "corr_level"], values="pnl")
        return f"<b>{head}</b>" + table.to_html(float_format=lambda x: f"{x:,.0f}", max_rows=20, max_cols=20)

    def save(self, path) -> Path:
        """Write the grid to the folder ``path`` (Parquet + metadata.json); returns the folder."""
        return _persist.save(self, path)

    @classmethod
    def load(cls, path) -> StressResult:
        """The StressResult saved in the folder ``path``."""
        return _persist.load(path, cls)


@dataclass(frozen=True, eq=False)
class GridInputs:
    """Validated arrays of a stress grid, shared by the core and the NumPy twin."""

    spot_shocks: np.ndarray
    vol_shocks: np.ndarray
    corr_levels: np.ndarray
    corr_matrices: np.ndarray  # (n_corr, n, n)
    weights: np.ndarray  # (n,)
    name_vols: np.ndarray  # (n,)
    leg_name: np.ndarray  # (L,) component position of each leg, -1 for index legs
    spot: np.ndarray
    strike: np.ndarray
    tau: np.ndarray
    vol: np.ndarray
    rate: np.ndarray
    div_yield: np.ndarray
    is_call: np.ndarray
    quantity: np.ndarray
    current_correlation: float


def _shocks(values, name: str, lower: float | None = None) -> np.ndarray:
    array = np.atleast_1d(as_float_array(values, name))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: must be finite")
    if lower is not None and (array <= lower).any():
        raise ValueError(f"{name}: must be > {lower:g}, got {array.min():g}")
    return np.ascontiguousarray(array)


def prepare_grid(position: Position, spot_shocks, vol_shocks, corr_levels=None) -> GridInputs:
    if not isinstance(position, Position):
        raise TypeError(f"position: expected a dispersionkit Position, got {type(position).__name__}")
    names = position.weights.index
    n = len(names)
    if n < 2:
        raise ValueError("position: a correlation stress needs at least 2 components")
    w = position.weights.to_numpy(np.float64)
    w = w / w.sum()
    name_vols = position.vols.to_numpy(np.float64)
    current = float(_correlation.equicorrelation_values(position.index_vol, name_vols, w)[0])
    if np.isnan(current):
        raise ValueError(
            "position: implied correlation is undefined (fewer than two names carry weight x vol); "
            "there is no equicorrelation to stress from"
        )
    floor = -1.0 / (n - 1)
    if not floor <= current <= 1.0:
        raise ValueError(
            f"position: implied correlation {current:.4f} is outside [{floor:.4f}, 1]; "
            "the quotes admit no equicorrelation to stress from"
        )
    spot_shocks = _shocks(spot_shocks, "spot_shocks", lower=-1.0)
    vol_shocks = _shocks(vol_shocks, "vol_shocks")
    corr_levels = np.array([current]) if corr_levels is None else _shocks(corr_levels, "corr_levels")
    if ((corr_levels < floor) | (corr_levels > 1.0)).any():
        raise ValueError(f"corr_levels: must lie in [{floor:.4f}, 1] for {n} names, got {corr_levels}")
    base = np.full((n, n), current)
    np.fill_diagonal(base, 1.0)
    # An equicorrelation matrix in [-1/(n-1), 1] is a valid correlation matrix: no check needed.
    matrices = np.stack([stress_correlation_values(base, float(c), w) for c in corr_levels])
    legs = position.legs
    lookup = {name: k for k, name in enumerate(names)}
    leg_name = np.array([lookup.get(u, -1) for u in legs["underlying"]], dtype=np.int64)
    col = {c: legs[c].to_numpy(np.float64) for c in ("spot", "strike", "tau", "vol", "rate", "div_yield", "quantity")}
    return GridInputs(
        spot_shocks,
        vol_shocks,
        corr_levels,
        matrices,
        w,
        name_vols,
        leg_name,
        col["spot"],
        col["strike"],
        col["tau"],
        col["vol"],
        col["rate"],
        col["div_yield"],
        legs["is_call"].to_numpy(bool),
        col["quantity"],
        current,
    )


def grid_pnl(grid: GridInputs, *, bs_price, index_vol, threads=None) -> tuple[np.ndarray, np.ndarray, float]:
    """(pnl (n_spot, n_vol, n_corr), index vols (n_vol, n_corr), base value) with the given kernels."""
    shocked = np.maximum(grid.name_vols[None, :] + grid.vol_shocks[:, None], 0.0)  # (n_vol, n)
    index_vols = np.asarray(
        index_vol(grid.weights, shocked, grid.corr_matrices, scenarios=True, threads=threads)
    ).T  # (n_vol, n_corr)
    is_index = grid.leg_name < 0
    n_vol, n_corr, L = grid.vol_shocks.size, grid.corr_levels.size, grid.leg_name.size
    vol = np.empty((n_vol, n_corr, L))
    vol[:, :, ~is_index] = shocked[:, None, grid.leg_name[~is_index]]
    vol[:, :, is_index] = index_vols[:, :, None]
    spot = grid.spot * (1.0 + grid.spot_shocks[:, None])  # (n_spot, L)
    prices = bs_price(
        spot[:, None, None, :],
        grid.strike,
        grid.tau,
        vol[None],
        grid.rate,
        grid.div_yield,
        grid.is_call,
        threads=threads,
    )
    base_prices = bs_price(
        grid.spot, grid.strike, grid.tau, grid.vol, grid.rate, grid.div_yield, grid.is_call, threads=threads
    )
    base = float(grid.quantity @ base_prices)
    # A row-wise sum, not a BLAS matrix-vector product: BLAS's summation order depends on how
    # many scenarios are in the call, so a grid split across calls or workers would differ in
    # the last bits; NumPy sums each row the same way whatever the number of rows.
    values = (prices.reshape(-1, L) * grid.quantity).sum(axis=1)
    return values.reshape(prices.shape[:3]) - base, index_vols, base


def stress_grid(
    position: Position, spot_shocks=(0.0,), vol_shocks=(0.0,), corr_levels=None, *, threads=None
) -> StressResult:
    """Stress P&L of ``position`` on the grid of the module docstring (C++ core).

    spot_shocks: relative moves (> -1), e.g. np.linspace(-0.2, 0.2, 9); vol_shocks: additive
    decimals, e.g. [-0.05, 0, 0.05, 0.10]; corr_levels: average correlations (e.g. [0.5, 0.9,
    0.95]; default: the current implied correlation only).
    """
    grid = prepare_grid(position, spot_shocks, vol_shocks, corr_levels)
    pnl, index_vols, base = grid_pnl(grid, bs_price=_greeks.bs_price, index_vol=_correlation.index_vol, threads=threads)
    return StressResult(
        grid.spot_shocks, grid.vol_shocks, grid.corr_levels, pnl, index_vols, base, grid.current_correlation
    )
