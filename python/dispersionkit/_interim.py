"""Pandas/NumPy stand-ins for statistics the C++ correlation kernels will provide.

The strategy layer needs a trailing realized vol and the primer §2 implied-correlation
formula before dk.realized_vol / dk.implied_correlation are merged; these keep the same
conventions (log returns, 252-day annualization, NaN propagates) so the swap is a one-liner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRADING_DAYS = 252


def _trailing_realized_vol(log_returns, window: int, min_periods: int | None = None):
    """Rolling sample std (ddof=1) of daily log returns x sqrt(252), same shape and labels.

    A window with fewer than ``min_periods`` (default: ``window``) finite returns is NaN.
    """
    rolling = log_returns.rolling(window, min_periods=window if min_periods is None else min_periods)
    return rolling.std(ddof=1) * np.sqrt(TRADING_DAYS)


def _implied_correlation(index_vol, vols, weights) -> np.ndarray:
    """Primer §2: (s_I^2 - sum w^2 s^2) / ((sum w s)^2 - sum w^2 s^2) along the last axis.

    Names with weight exactly 0 do not enter (their vol may be NaN, e.g. before listing);
    any other NaN makes that row NaN. Values outside [-1, 1] are returned as they are.
    """
    index_vol = np.asarray(index_vol, dtype=np.float64)
    ws = _weighted(vols, weights)
    own = np.sum(ws * ws, axis=-1)
    cross = np.sum(ws, axis=-1) ** 2 - own
    with np.errstate(divide="ignore", invalid="ignore"):
        return (index_vol * index_vol - own) / cross


def _weighted(vols, weights) -> np.ndarray:
    vols = np.asarray(vols, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    return np.where(weights == 0.0, 0.0, weights * vols)


def _log_returns(levels: pd.DataFrame | pd.Series):
    """Daily log returns; the first row and any row next to a missing level are NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(levels / levels.shift(1))
