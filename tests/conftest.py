"""Fixtures shared across the test folders (one per layer of the package).

The helpers are session-scoped fixtures that return functions, so module-scoped fixtures
and plain tests can both use them: exact GBM closes that do not depend on
``dk.simulate_market``, synthetic markets with known implied vols and controlled realized
correlation, and implied-vol batches over a wide grid.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import ClassVar

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

import dispersionkit as dk

# CI (.ci/run) sets DK_HYPOTHESIS_PROFILE=ci: the same examples on every run, so a submission's
# result does not depend on the draw; by hand the suite explores new random examples each time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("DK_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["DK_HYPOTHESIS_PROFILE"])


def _gbm(paths, steps, dt, vol, *, spot=100.0, drift=0.0, underlyings=1, seed=0, corr=0.0):
    """(paths, steps + 1, underlyings) lognormal closes with annual vol(s) `vol` and equicorrelation `corr`."""
    rng = np.random.default_rng(seed)
    vol = np.broadcast_to(np.asarray(vol, dtype=float), (underlyings,))
    common = rng.standard_normal((paths, steps, 1))
    own = rng.standard_normal((paths, steps, underlyings))
    z = np.sqrt(corr) * common + np.sqrt(1.0 - corr) * own
    log_returns = (drift - 0.5 * vol**2) * dt + vol * np.sqrt(dt) * z
    start = np.zeros((paths, 1, underlyings))
    return spot * np.exp(np.concatenate([start, np.cumsum(log_returns, axis=1)], axis=1))


class _SyntheticMarkets:
    """Factory of synthetic markets; ``tickers`` and ``weights`` are the components it uses."""

    tickers: ClassVar[list[str]] = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    weights: ClassVar[pd.Series] = pd.Series([0.3, 0.25, 0.2, 0.15, 0.1], index=tickers)

    def __call__(self, n_dates=260, realized_corr=0.1, implied_corr=0.6, vol=0.3, seed=0, index_vol=None):
        """Components realize ``vol`` with equicorrelation ``realized_corr``; implied vols are
        ``vol`` for every name and the index implied vol is priced at ``implied_corr``. The index
        is the basket with constant shares, so its return is the weighted component return."""
        rng = np.random.default_rng(seed)
        n = len(self.tickers)
        corr = np.full((n, n), realized_corr)
        np.fill_diagonal(corr, 1.0)
        dt = 1.0 / 252.0
        z = rng.standard_normal((n_dates - 1, n)) @ np.linalg.cholesky(corr).T
        log_returns = z * vol * np.sqrt(dt) - 0.5 * vol * vol * dt
        dates = pd.bdate_range("2020-01-01", periods=n_dates)
        spots = pd.DataFrame(
            100.0 * np.exp(np.vstack([np.zeros(n), np.cumsum(log_returns, axis=0)])), index=dates, columns=self.tickers
        )
        index = (spots * self.weights * 40.0).sum(axis=1).rename("index")
        vols = pd.DataFrame(vol, index=dates, columns=self.tickers)
        if index_vol is None:
            u = self.weights.to_numpy() * vol
            index_vol = np.sqrt(np.sum(u * u) + implied_corr * (np.sum(u) ** 2 - np.sum(u * u)))
        return dk.MarketData(spots, index, vols=vols, index_vol=pd.Series(index_vol, index=dates), weights=self.weights)


def _wide_batch(n, rng):
    """(price, spot, strike, tau, rate, div_yield, is_call) with log-uniform moneyness (K/S
    0.2-5), tau (1 day-30 y) and vol (1-300%)."""
    S = 100.0
    K = S * np.exp(rng.uniform(np.log(0.2), np.log(5), n))
    T = np.exp(rng.uniform(np.log(1 / 365), np.log(30), n))
    vol = np.exp(rng.uniform(np.log(0.01), np.log(3), n))
    call = rng.integers(0, 2, n).astype(bool)
    price = dk.bs_price(S, K, T, vol, 0.03, 0.01, call)
    return price, S, K, T, 0.03, 0.01, call


@pytest.fixture(scope="session")
def gbm():
    """Exact GBM closes: ``gbm(paths, steps, dt, vol, *, spot, drift, underlyings, seed, corr)``."""
    return _gbm


@pytest.fixture(scope="session")
def synthetic_market():
    """``synthetic_market(n_dates, realized_corr, implied_corr, vol, seed, index_vol)`` -> MarketData;
    ``.tickers`` and ``.weights`` describe its components."""
    return _SyntheticMarkets()


@pytest.fixture(scope="session")
def wide_batch():
    """``wide_batch(n, rng)`` -> implied-vol inputs over the wide grid."""
    return _wide_batch


@pytest.fixture(scope="session")
def bundled_backtest():
    """(market, trade, policy, result): a 2016 backtest on the bundled data with costs, and the
    report's tables attached (an assumed-premium sweep, the forward premium, cost stress x1/x2,
    sub-periods, the last day's profile and stress)."""
    market = dk.data.sample_market()
    trade = dk.DispersionTrade()
    policy = dk.HedgePolicy(hedge_cost_bps=1.0, option_half_spread=0.5)
    window = dict(start="2016-01-01", end="2016-12-31")
    result = dk.backtest(market, trade, policy=policy, **window)
    today = result.equity.index[-1]
    position = trade.position(market, today)
    stress = trade.stress(market, today, [-0.1, 0.0, 0.1], [0.0, 0.05], [0.2, 0.5, 0.9])
    assumed = dk.backtest(market.with_vol_model(dk.ImpliedVolModel(correlation_premium=0.05)), trade, **window)
    both = {"from index vol": result, "assumed 5 pts": assumed}
    sweep = pd.DataFrame(
        {label: {"total_return": r.metrics.total_return, "sharpe": r.metrics.sharpe} for label, r in both.items()}
    )
    result = result.with_tables(
        premium_sweep=sweep,
        premium_sweep_equity=pd.DataFrame({label: r.equity for label, r in both.items()}),
        forward_premium=dk.forward_premium(market).loc[result.equity.index],
        cost_stress=dk.cost_stress(market, trade, policy=policy, multipliers=(1.0, 2.0), base=result, **window),
        sub_periods=dk.period_metrics(result),
        pnl_profile=dk.correlation_profile(position, [0.0, 0.3, 0.6, 0.9], paths=50).assign(trade_date=today),
        stress=stress.to_frame().assign(trade_date=today),
        variance_strikes=dk.fair_strikes(market, today, trade.tenor).variance.assign(trade_date=today),
    ).with_notes("Data: bundled S&P 500 sample, 2016.")
    return market, trade, policy, result


def _as_integers(x: np.ndarray):
    """(integers, k) with x == integers * 2**-k exactly (None where x is NaN)."""
    finite = [float(v) for v in x[np.isfinite(x)] if v != 0.0]
    k = max([53 - math.frexp(v)[1] for v in finite] + [0])
    return [[None if math.isnan(v) else _exact_int(v, k) for v in row] for row in x.tolist()], k


def _exact_int(v: float, k: int) -> int:
    """v * 2**k as an int, exactly (k is large enough that it is one)."""
    if v == 0.0:
        return 0
    mantissa, exponent = math.frexp(v)
    return int(mantissa * 2**53) * 2 ** (exponent - 53 + k)


def _exact_rolling(x: np.ndarray, window: int, min_periods=None):
    """(std (T, n), corr (T, n, n)) of trailing windows by pandas' rules, exactly rounded."""
    T, n = x.shape
    need = max(window if min_periods is None else min_periods, 2)
    ints, k = _as_integers(x)
    std = np.full((T, n), np.nan)
    corr = np.full((T, n, n), np.nan)
    # Running sums per pair over pairwise-complete rows: count, sx, sy, sxx, syy, sxy.
    sums = {(i, j): [0, 0, 0, 0, 0, 0] for i in range(n) for j in range(i, n)}

    def update(row, sign):
        for (i, j), s in sums.items():
            a, b = row[i], row[j]
            if a is None or b is None:
                continue
            s[0] += sign
            s[1] += sign * a
            s[2] += sign * b
            s[3] += sign * a * a
            s[4] += sign * b * b
            s[5] += sign * a * b

    for t in range(T):
        update(ints[t], 1)
        if t >= window:
            update(ints[t - window], -1)
        for (i, j), (c, sx, sy, sxx, syy, sxy) in sums.items():
            if c < need:
                continue
            vx, vy = c * sxx - sx * sx, c * syy - sy * sy
            if i == j:  # at high precision, then rounded once (no under- or overflow on the way)
                with mpmath.workprec(200):
                    std[t, i] = float(mpmath.sqrt(mpmath.mpf(vx) / (c * (c - 1))) * mpmath.mpf(2) ** -k)
                corr[t, i, i] = 1.0 if vx else np.nan  # a constant window has no correlation
                continue
            if vx == 0 or vy == 0:
                continue
            num = c * sxy - sx * sy
            corr[t, i, j] = corr[t, j, i] = (1 if num > 0 else -1) * math.sqrt(Fraction(num * num, vx * vy))
    return std, corr


def _pairwise_average(corr: np.ndarray, weights=None) -> np.ndarray:
    """Mean of the defined off-diagonal entries of (T, n, n) correlation matrices, weighted by
    w_i w_j: the average realized_correlation reports, from the matrices of an oracle."""
    n = corr.shape[1]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    pairs = np.outer(w, w) * (1 - np.eye(n))
    defined = np.isfinite(corr)
    num = np.einsum("tij,ij->t", np.where(defined, corr, 0.0), pairs)
    den = np.einsum("tij,ij->t", defined, pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


@pytest.fixture(scope="session")
def pairwise_average():
    return _pairwise_average


@pytest.fixture(scope="session")
def exact_rolling():
    """``exact_rolling(x, window, min_periods=None)`` -> (std (T, n), corr (T, n, n)): rolling
    statistics by pandas' rules from exact integer arithmetic (every double is an integer times
    a power of two, so once the whole series is scaled by one power of two the window sums are
    exact Python integers), each result correctly rounded. Independent of the kernel and the twin."""
    return _exact_rolling
