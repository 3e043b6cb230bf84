"""Market data for the strategy layer: :class:`MarketData`, file readers, the implied-vol
model, one-date snapshots and the per-date signal series. Imports ``numeric``."""

from .market_data import MarketData
from .signal_series import signal_series
from .snapshot import INDEX, Snapshot, snapshot
from .vol_model import ImpliedVolModel

__all__ = ["INDEX", "ImpliedVolModel", "MarketData", "Snapshot", "signal_series", "snapshot"]
