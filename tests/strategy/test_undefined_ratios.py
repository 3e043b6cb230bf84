"""Ratios of the strategy layer whose denominator is 0 within rounding: NaN or a named error.

Each denominator here is a sum or difference that can cancel: the cross term
sum_{i!=j} w_i s_i w_j s_j of the break-even (one name carrying all the realized vol), the
variance under the vol model's square root (a negative correlation premium), a book's net
premium (long and short legs that offset). Rounding noise there used to come back as a huge
number.
"""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

DATE = "2020-03-02"


def test_book_breakeven_is_nan_when_one_name_carries_the_realized_vol(synthetic_market):
    market = synthetic_market()
    trade = dk.DispersionTrade()
    # The other names realize vols below the rounding of the first name's w x s: the cross
    # term (sum w s)^2 - sum (w s)^2 was noise (1.7e-18 instead of 3.2e-18) and the break-even 1e15.
    realized = pd.Series([0.3, 3e-17, 3e-17, 3e-17, 0.0], index=synthetic_market.tickers)
    be = trade.breakeven_correlation(market, DATE, realized_vols=realized)
    assert np.isnan(be.index_leg) and np.isnan(be.book)
    assert np.isfinite(be.implied)
    # Two names realizing vols: both defined again.
    realized.iloc[1] = 0.2
    be = trade.breakeven_correlation(market, DATE, realized_vols=realized)
    assert np.isfinite(be.index_leg) and np.isfinite(be.book)


def test_vol_model_factor_is_nan_not_infinite_when_its_variance_vanishes():
    dates = pd.bdate_range("2021-01-04", periods=30)
    rng = np.random.default_rng(3)
    returns = pd.DataFrame({"A": rng.normal(0, 0.01, 30), "B": 0.0}, index=dates)
    flat_index = pd.Series(0.0, index=dates)  # no index variance, and one moving name: no cross term
    weights = pd.DataFrame(0.5, index=dates, columns=["A", "B"])
    model = dk.ImpliedVolModel(window=10, correlation_premium=0.1)  # a constant premium: the factor k
    vols = model.component_vols(returns, flat_index, pd.Series(0.2, index=dates), weights)
    assert not np.isinf(vols.to_numpy()).any()
    assert vols.iloc[10:].isna().all().all()


def test_vol_model_factor_with_a_premium_cancelling_the_index_variance():
    dates = pd.bdate_range("2021-01-04", periods=40)
    rng = np.random.default_rng(4)
    returns = pd.DataFrame(rng.normal(0, 0.01, (40, 3)), index=dates, columns=list("ABC"))
    index_returns = returns.mean(axis=1)
    weights = pd.DataFrame(1 / 3, index=dates, columns=list("ABC"))
    window = 20
    realized = dk.realized_vol(returns, window).to_numpy()
    index_realized = dk.realized_vol(index_returns, window).to_numpy()
    u = realized / 3
    cross = u.sum(1) ** 2 - (u * u).sum(1)
    # The premium that cancels the variance exactly on the last date: rounding is all that is left.
    premium = float(-(index_realized[-1] ** 2) / cross[-1])
    if not -1 <= premium <= 1:
        pytest.skip("the sample's realized correlation does not allow an exact cancellation")
    model = dk.ImpliedVolModel(window=window, correlation_premium=premium)
    vols = model.component_vols(returns, index_returns, pd.Series(0.2, index=dates), weights)
    assert vols.iloc[-1].isna().all()
    assert (vols.to_numpy()[np.isfinite(vols.to_numpy())] < 1e3).all()


def test_net_premium_that_cancels_to_rounding_is_an_error():
    # A short index leg paying for the long component legs: the net premium is 1e-15 of noise.
    quantities = np.array([-1.0, 0.5, 0.5])
    prices = np.array([3.0, 3.0 + 2e-15, 3.0])
    with pytest.raises(ValueError, match="net premium is 0 within rounding"):
        dk.scale_to_budget(quantities, prices, 1e6, basis="net")
    scaled = dk.scale_to_budget(quantities, np.array([3.0, 3.5, 3.0]), 1e6, budget=0.01, basis="net")
    assert scaled.premium == pytest.approx(0.25) and scaled.scale == pytest.approx(1e4 / 0.25)
