"""Sortino, Calmar, VaR/ES, the Sharpe bootstrap interval, the deflated Sharpe ratio and the
active-day win rate: hand-computed values, a published example and properties."""

import math
import statistics

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk
from dispersionkit.backtest.metrics import deflated_sharpe_from_moments, sharpe_confidence_interval


def curve(values, start="2021-01-04"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


def random_curve(n=600, seed=0, mean=0.0004, sd=0.01, flat_every=0):
    rng = np.random.default_rng(seed)
    returns = rng.normal(mean, sd, n - 1)
    if flat_every:
        returns[::flat_every] = 0.0
    return curve(1e6 * np.cumprod(np.concatenate([[1.0], 1.0 + returns])))


def test_sortino_and_calmar_by_hand():
    equity = curve([100.0, 110.0, 99.0, 108.9, 121.0])
    m = dk.compute_metrics(equity)
    r = equity.pct_change().dropna().to_numpy()
    downside = math.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    assert m.sortino == pytest.approx(r.mean() / downside * math.sqrt(252))
    assert m.calmar == pytest.approx(m.cagr / abs(m.max_drawdown))


def test_sortino_and_calmar_undefined_without_losses():
    m = dk.compute_metrics(curve([100.0, 101.0, 102.0, 103.0]))
    assert math.isnan(m.sortino) and math.isnan(m.calmar)


def test_var_and_es_by_hand():
    # 20 daily P&Ls -1..-5 and 15 gains: at 95% k = ceil(20 x 0.05) = 1; at 90% k = 2.
    pnl = np.array([-5.0, -4.0, -3.0, -2.0, -1.0] + [1.0] * 15)
    assert dk.value_at_risk(pnl, 0.95) == (5.0, 5.0)
    assert dk.value_at_risk(pnl, 0.90) == (4.0, 4.5)
    var, es = dk.value_at_risk(np.arange(-100.0, 0.0), 0.99)  # k = 1 exactly, not 2 by float rounding
    assert (var, es) == (100.0, 100.0)


def test_var_es_in_metrics_are_of_daily_pnl_in_money():
    equity = random_curve(500, seed=3)
    m = dk.compute_metrics(equity)
    pnl = np.diff(equity.to_numpy())
    for level, var, es in ((0.95, m.var_95, m.es_95), (0.99, m.var_99, m.es_99)):
        worst = np.sort(pnl)[: math.ceil(round(pnl.size * (1 - level), 9))]
        assert var == pytest.approx(-worst[-1]) and es == pytest.approx(-worst.mean())
        assert es >= var > 0


def test_bootstrap_interval_is_seeded_and_brackets_the_sharpe():
    equity = random_curve(800, seed=1)
    a = dk.compute_metrics(equity)
    b = dk.compute_metrics(equity)
    assert (a.sharpe_ci_low, a.sharpe_ci_high) == (b.sharpe_ci_low, b.sharpe_ci_high)
    assert a.sharpe_ci_low < a.sharpe < a.sharpe_ci_high
    other = dk.compute_metrics(equity, seed=7)
    assert (other.sharpe_ci_low, other.sharpe_ci_high) != (a.sharpe_ci_low, a.sharpe_ci_high)
    narrow = dk.compute_metrics(equity, confidence=0.5)
    assert a.sharpe_ci_low < narrow.sharpe_ci_low < narrow.sharpe_ci_high < a.sharpe_ci_high


def test_bootstrap_interval_width_matches_the_iid_standard_error():
    """For iid returns the Sharpe estimate's standard error is about sqrt((1 + SR^2/2) / n) per
    day; the 95% interval of 2000 one-day-block resamples is about +-1.96 of it (annualized)."""
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0005, 0.01, 2500)
    low, high = sharpe_confidence_interval(returns, samples=2000, block=1, seed=0)
    sr = returns.mean() / returns.std(ddof=1)
    se = math.sqrt((1 + sr * sr / 2) / returns.size) * math.sqrt(252)
    assert (high - low) == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_deflated_sharpe_reproduces_the_published_example():
    """Bailey and Lopez de Prado (2014): annual SR 2.5 over 1250 daily returns (250 a year),
    skew -3, kurtosis 10, 100 trials whose Sharpe ratios vary with annual variance 1/2:
    SR0 = 0.1132 per day and DSR = 0.9004."""
    dsr = deflated_sharpe_from_moments(2.5 / math.sqrt(250), 1250, -3.0, 10.0, 100, math.sqrt(0.5 / 250))
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_deflated_sharpe_one_trial_is_the_probabilistic_sharpe():
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0004, 0.01, 1000)
    sr = returns.mean() / returns.std(ddof=1)
    c = returns - returns.mean()
    skew = np.mean(c**3) / np.mean(c**2) ** 1.5
    kurt = np.mean(c**4) / np.mean(c**2) ** 2
    expected = statistics.NormalDist().cdf(sr * math.sqrt(999) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr * sr))
    assert dk.deflated_sharpe(returns) == pytest.approx(expected, rel=1e-12)
    # More trials, higher bar: the probability falls.
    values = [dk.deflated_sharpe(returns, trials) for trials in (1, 2, 10, 100, 1000)]
    assert values == sorted(values, reverse=True)


def test_trials_reach_the_metrics():
    equity = random_curve(500, seed=2)
    assert dk.compute_metrics(equity, trials=50).deflated_sharpe < dk.compute_metrics(equity).deflated_sharpe
    assert dk.compute_metrics(equity, trials=50).trials == 50


def test_win_rate_without_flat_days():
    equity = random_curve(301, seed=4, flat_every=3)
    m = dk.compute_metrics(equity)
    r = equity.pct_change().dropna().to_numpy()
    assert m.win_rate_days == pytest.approx(np.mean(r > 0))
    assert m.win_rate_active_days == pytest.approx(np.mean(r[r != 0] > 0))
    assert m.win_rate_active_days > m.win_rate_days


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"trials": 0}, "trials: must be >= 1"),
        ({"bootstrap_samples": -1}, "bootstrap_samples: must be >= 0"),
        ({"bootstrap_block": 0}, "bootstrap_block: must be >= 1"),
        ({"confidence": 1.0}, "confidence: must be < 1"),
        ({"confidence": 0.0}, "confidence: a fraction in"),
        ({"seed": -1}, "seed: must be >= 0"),
    ],
)
def test_bad_options_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dk.compute_metrics(random_curve(50), **kwargs)


def test_metrics_text_and_repr_are_short_and_complete():
    m = dk.compute_metrics(random_curve(600))
    text = str(m)
    for label in ("Sortino", "Calmar", "bootstrap CI", "deflated", "daily VaR 95%", "daily ES 99%", "active days"):
        assert label in text
    assert len(repr(m)) < 200 and "Sharpe" in repr(m)
    frame = m.to_frame()
    assert {"sortino", "calmar", "var_95", "es_95", "deflated_sharpe", "win_rate_active_days"} <= set(frame.index)
