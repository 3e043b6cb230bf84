"""Break-even correlations of a dispersion position: the index leg's and the book's.

Book level: a delta-hedged leg earns 0.5 x cash gamma x (realized - implied variance) per unit
time (cash gamma = Gamma S^2 q). With realized component vols s_i and the index's
realized variance sum w_i^2 s_i^2 + rho sum_{i!=j} w_i w_j s_i s_j, the book's gamma-theta rate

    sum_components CG_l (s_l^2 - sigma_l^2) + CG_I (sum w_i^2 s_i^2 + rho B - sigma_I^2)

is linear in rho; the book-level break-even is its root, at the position's current cash
gammas (CG_I summed over the index legs, sigma the legs' implied vols, B = sum_{i!=j} w_i w_j s_i s_j).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import as_count
from ..market.market_data import MarketData
from ..market.signal_series import log_returns
from ..numeric.correlation import DEGENERATE_CROSS, equicorrelation_values, pair_cross
from ..numeric.realized import rolling_vol_values
from .position import Position


@dataclass(frozen=True)
class BreakevenCorrelation:
    """index_leg: the index leg's (index implied vol paid vs realized component vols); book: the root
    of the book's gamma-theta rate (module docstring); implied: the implied correlation on the same date.
    Long dispersion gains below the break-even, short dispersion above. Unclipped."""

    index_leg: float
    book: float
    implied: float
    realized_vols: pd.Series


def book_breakeven(position: Position, realized_vols: pd.Series) -> float:
    """Realized correlation at which the position's gamma-theta rate is zero (module docstring)."""
    legs = position.legs
    g = position.leg_arrays.greeks()
    cash = g.gamma * legs["spot"].to_numpy() ** 2 * legs["quantity"].to_numpy()
    implied_var = legs["vol"].to_numpy() ** 2
    is_index = position.index_mask()
    realized = realized_vols.reindex(legs["underlying"][~is_index]).to_numpy()
    component_term = float(np.sum(cash[~is_index] * (realized**2 - implied_var[~is_index])))
    index_cash = float(np.sum(cash[is_index]))
    u = position.weights.to_numpy() * realized_vols.reindex(position.weights.index).to_numpy()
    own = float(np.sum(u * u))
    cross, scale = pair_cross(u)
    # Undefined (NaN) when the index legs carry no cash gamma next to the book's (rounding
    # noise), or fewer than two names carry weight x realized vol (the cross term is 0).
    if not (abs(index_cash) > DEGENERATE_CROSS * float(np.sum(np.abs(cash))) and abs(cross) > DEGENERATE_CROSS * scale):
        return float("nan")
    return (position.index_vol**2 - own - component_term / index_cash) / float(cross)


def breakeven_from_position(position: Position, market: MarketData, realized_vols, window: int) -> BreakevenCorrelation:
    names = position.weights.index
    if realized_vols is None:
        arrays = market.arrays
        columns = [arrays.tickers.index(name) for name in names]
        returns = np.ascontiguousarray(log_returns(arrays.spots[:, columns]))
        trailing = rolling_vol_values(returns, as_count(window, "window", 2), window)[arrays.row(position.date)]
        realized_vols = pd.Series(trailing, index=names, name=position.date)
    elif not isinstance(realized_vols, pd.Series):
        raise TypeError(f"realized_vols: expected a Series by ticker, got {type(realized_vols).__name__}")
    absent = sorted(set(names) - set(realized_vols.index))
    if absent:
        raise ValueError(f"realized_vols: no value for {absent}")
    realized_vols = realized_vols.reindex(names).astype(np.float64)
    if realized_vols.isna().any() or (realized_vols < 0).any():
        bad = list(realized_vols.index[realized_vols.isna() | (realized_vols < 0)])
        raise ValueError(f"realized_vols: missing or negative on {position.date.date()} for {bad}")
    w = position.weights.to_numpy()
    index_leg = equicorrelation_values(position.index_vol, realized_vols.to_numpy(), w)[0]
    implied = equicorrelation_values(position.index_vol, position.vols.to_numpy(), w)[0]
    return BreakevenCorrelation(
        float(index_leg), book_breakeven(position, realized_vols), float(implied), realized_vols
    )
