"""Market data for the strategy layer: :class:`MarketData`, file readers (the long option
format, OptionMetrics, ORATS, CBOE), volatility surfaces, the implied-vol model, one-date
snapshots and the per-date signal series. Imports ``numeric``."""

from .market_data import MarketArrays, MarketData, basket_index, snapshot
from .options import read_options
from .signal_series import forward_premium, signal_arrays, signal_series
from .snapshot import INDEX, Snapshot
from .vendors import OptionData, read_cboe, read_optionmetrics, read_orats
from .vol_model import ImpliedVolModel
from .vol_surface import SurfacePoints, VolSurface

__all__ = [
    "INDEX",
    "ImpliedVolModel",
    "MarketArrays",
    "MarketData",
    "OptionData",
    "Snapshot",
    "SurfacePoints",
    "VolSurface",
    "basket_index",
    "forward_premium",
    "read_cboe",
    "read_optionmetrics",
    "read_options",
    "read_orats",
    "signal_arrays",
    "signal_series",
    "snapshot",
]
