"""NumPy twin of :func:`dispersionkit.stress_grid`: the same grid priced with the reference kernels."""

from __future__ import annotations

from ..strategy.stress import StressResult, grid_pnl, prepare_grid
from .correlation import index_vol
from .greeks import bs_price


def stress_grid(position, spot_shocks=(0.0,), vol_shocks=(0.0,), corr_levels=None, *, threads=None) -> StressResult:
    grid = prepare_grid(position, spot_shocks, vol_shocks, corr_levels)
    pnl, index_vols, base = grid_pnl(grid, bs_price=bs_price, index_vol=index_vol)
    return StressResult(
        grid.spot_shocks, grid.vol_shocks, grid.corr_levels, pnl, index_vols, base, grid.current_correlation
    )
