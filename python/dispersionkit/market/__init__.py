"""Market data for the strategy layer: :class:`MarketData`, file readers, the implied-vol
model, one-date snapshots and the per-date signal series. Imports ``numeric``."""

from .market_data import MarketArrays, MarketData, basket_index, snapshot
from .signal_series import forward_premium, signal_arrays, signal_series
from .snapshot import INDEX, Snapshot
from .vol_model import ImpliedVolModel

__all__ = [
    "INDEX",
    "ImpliedVolModel",
    "MarketArrays",
    "MarketData",
    "Snapshot",
    "basket_index",
    "forward_premium",
    "signal_arrays",
    "signal_series",
    "snapshot",
]
