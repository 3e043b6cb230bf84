"""Synthetic markets for the strategy-layer tests: known implied vols, controlled realized correlation."""

import numpy as np
import pandas as pd

import dispersionkit as dk

TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE"]
WEIGHTS = pd.Series([0.3, 0.25, 0.2, 0.15, 0.1], index=TICKERS)


def synthetic_market(n_dates=260, realized_corr=0.1, implied_corr=0.6, vol=0.3, seed=0, index_vol=None):
    """Components realize ``vol`` with equicorrelation ``realized_corr``; implied vols are
    ``vol`` for every name and the index implied vol is priced at ``implied_corr``. The index
    is the basket with constant shares, so its return is the weighted component return."""
    rng = np.random.default_rng(seed)
    n = len(TICKERS)
    corr = np.full((n, n), realized_corr)
    np.fill_diagonal(corr, 1.0)
    dt = 1.0 / 252.0
    z = rng.standard_normal((n_dates - 1, n)) @ np.linalg.cholesky(corr).T
    log_returns = z * vol * np.sqrt(dt) - 0.5 * vol * vol * dt
    dates = pd.bdate_range("2020-01-01", periods=n_dates)
    spots = pd.DataFrame(100.0 * np.exp(np.vstack([np.zeros(n), np.cumsum(log_returns, axis=0)])),
                         index=dates, columns=TICKERS)
    index = (spots * WEIGHTS * 40.0).sum(axis=1).rename("index")
    vols = pd.DataFrame(vol, index=dates, columns=TICKERS)
    if index_vol is None:
        u = WEIGHTS.to_numpy() * vol
        index_vol = np.sqrt(np.sum(u * u) + implied_corr * (np.sum(u) ** 2 - np.sum(u * u)))
    return dk.MarketData(spots, index, vols=vols, index_vol=pd.Series(index_vol, index=dates), weights=WEIGHTS)
