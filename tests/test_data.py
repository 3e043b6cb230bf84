"""Bundled real data: shapes, dates, sane values, known closes, and that the wheel ships it."""

import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

FILES = ("sp500_dataset.csv.gz", "sp500_index.csv.gz", "vix.csv.gz", "NOTICE.md")


@pytest.fixture(scope="module")
def sp500():
    return dk.data.load_sp500()


def test_sp500_shapes_and_dates(sp500):
    prices, index = sp500
    assert prices.shape == (8313, 20)
    assert tuple(prices.columns) == dk.data.SP500_TICKERS
    assert index.shape == (8313,) and index.name == "SP500"
    assert prices.index.equals(index.index)
    assert isinstance(prices.index, pd.DatetimeIndex)
    assert prices.index[0] == pd.Timestamp("1990-01-02") and prices.index[-1] == pd.Timestamp("2022-12-28")
    assert prices.index.is_monotonic_increasing and not prices.index.has_duplicates
    assert (prices.dtypes == np.float64).all() and index.dtype == np.float64


def test_sp500_values_are_sane(sp500):
    prices, index = sp500
    assert np.isfinite(prices.to_numpy()).all() and (prices.to_numpy() > 0).all()
    assert np.isfinite(index.to_numpy()).all() and (index > 0).all()
    # The index never moved more than 25% in a day in 1990-2022 (largest: 2020-03-16, -12%).
    assert index.pct_change().abs().max() < 0.25
    # Trading days: no weekends, roughly 252 a year.
    assert (prices.index.day_of_week < 5).all()
    per_year = prices.index.year.value_counts()
    assert per_year.loc[1991:2021].between(248, 254).all()


@pytest.mark.parametrize("day, close", [("2008-10-10", 899.22), ("2020-03-23", 2237.40), ("2020-02-19", 3386.15)])
def test_sp500_known_closes(sp500, day, close):
    _, index = sp500
    assert index.loc[day] == pytest.approx(close, rel=0.03)


def test_average_correlation_spikes_in_crises(sp500):
    """Equal-weight average pairwise correlation of daily log returns: measured 0.65 (Sep-Dec
    2008), 0.70 (Feb-Apr 2020), 0.11 (2017), 0.26 (2019)."""
    prices, _ = sp500
    returns = np.log(prices).diff()

    def average(start, end):
        matrix = returns.loc[start:end].corr().to_numpy()
        n = matrix.shape[0]
        return (matrix.sum() - n) / (n * (n - 1))

    calm = max(average("2017-01-01", "2017-12-31"), average("2019-01-01", "2019-12-31"))
    assert calm < 0.35
    assert average("2008-09-15", "2008-12-31") > calm + 0.25
    assert average("2020-02-20", "2020-04-30") > calm + 0.25


def test_vix():
    vix = dk.data.load_vix()
    assert vix.name == "VIX" and vix.dtype == np.float64
    assert isinstance(vix.index, pd.DatetimeIndex)
    assert vix.index[0] == pd.Timestamp("2014-01-03") and vix.index[-1] == pd.Timestamp("2019-01-03")
    assert vix.index.is_monotonic_increasing and not vix.index.has_duplicates
    assert 1200 < vix.size < 1300
    assert vix.notna().all() and vix.between(5, 100).all()
    assert vix.loc["2018-02-05"] == pytest.approx(37.32, rel=0.03)  # "Volmageddon"
    assert vix.loc["2015-08-24"] == pytest.approx(40.74, rel=0.03)
    assert pd.Timestamp("2014-12-25") not in vix.index  # holiday placeholder rows dropped


def test_loaders_return_fresh_copies(sp500):
    prices, _ = dk.data.load_sp500()
    prices.iloc[0, 0] = -1.0
    assert dk.data.load_sp500()[0].iloc[0, 0] > 0


def test_installed_package_ships_the_files():
    if "site-packages" not in Path(dk.__file__).parts:
        pytest.skip("imported from the source tree (editable install): CI checks the installed wheel")
    package = resources.files("dispersionkit.data")
    for name in FILES:
        assert package.joinpath(name).is_file(), name


def test_no_runtime_dependency_on_source_packages(sp500):
    dk.data.load_vix()
    assert "skfolio" not in sys.modules and "arch" not in sys.modules


def test_sample_market_offers_the_basket_as_its_own_index():
    sp500 = dk.data.sample_market()
    basket = dk.data.sample_market(index="basket")
    np.testing.assert_allclose(
        basket.index.pct_change().iloc[1:], sp500.spots.pct_change().iloc[1:].mean(axis=1), rtol=1e-10
    )
    assert basket.index.iloc[0] == sp500.index.iloc[0]
    origin = basket.index_vol_origin
    assert (origin == "vix-scaled").sum() == (sp500.index_vol_origin == "vix").sum() > 1000
    pd.testing.assert_frame_equal(basket.vols, sp500.vols)  # the names' vols do not depend on the index
    with pytest.raises(ValueError, match="index: expected 'sp500' or 'basket'"):
        dk.data.sample_market(index="nasdaq")


def test_sample_market_default_premium_is_measured_from_vix_where_it_exists():
    market = dk.data.sample_market()
    assert "correlation_premium=from_index_vol" in market.vol_source
    signals = dk.market.signal_series(market)
    premium = (signals["implied_correlation"] - signals["realized_correlation"]).dropna()
    on_vix = premium[market.index_vol_origin.loc[premium.index] == "vix"]
    assert premium.std() > 0.05  # not a constant
    assert 0.1 < on_vix.mean() < 0.3  # VIX^2 over realized index variance, names at their realized vols
