import dataclasses

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

DATE = "2020-03-02"


@pytest.fixture(scope="module")
def market(synthetic_market):
    return synthetic_market()


def test_vega_neutral_book_has_zero_net_vega_and_spends_the_budget(synthetic_market, market):
    trade = dk.DispersionTrade(direction="long", sizing="vega", budget=0.05)
    position = trade.position(market, DATE, capital=2_000_000.0)
    greeks = position.greeks()
    gross_vega = greeks.drop(index="net")["vega_per_point"].abs().sum()
    assert abs(greeks.loc["net", "vega_per_point"]) < 1e-10 * gross_vega
    assert position.premium == pytest.approx(0.05 * 2_000_000.0, rel=1e-12)
    index_legs = position.legs[position.legs["underlying"] == "INDEX"]
    assert (index_legs["quantity"] < 0).all() and (position.legs.loc[~position.index_mask(), "quantity"] > 0).all()
    assert set(position.legs["underlying"]) == set(synthetic_market.tickers) | {"INDEX"}
    assert len(trade.book(market, DATE)) == 2 * (len(synthetic_market.tickers) + 1)


def test_component_vega_is_allocated_by_weight(synthetic_market, market):
    position = dk.DispersionTrade(sizing="vega").position(market, DATE)
    greeks = position.greeks().drop(index="net")
    by_name = greeks.groupby("underlying")["vega_per_point"].sum()
    shares = by_name[synthetic_market.tickers] / by_name[synthetic_market.tickers].sum()
    np.testing.assert_allclose(shares.to_numpy(), synthetic_market.weights.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("sizing, column", [("theta", "theta_per_day"), ("gamma", "dollar_gamma")])
def test_theta_and_gamma_neutral_sizings(market, sizing, column):
    greeks = dk.DispersionTrade(sizing=sizing).position(market, DATE).greeks()
    gross = greeks.drop(index="net")[column].abs().sum()
    assert abs(greeks.loc["net", column]) < 1e-10 * gross


def test_notional_sizing_and_short_direction(synthetic_market, market):
    position = dk.DispersionTrade(direction="short", sizing="notional", budget=None).position(market, DATE)
    legs = position.legs.drop_duplicates("underlying").set_index("underlying")
    assert legs.loc["INDEX", "quantity"] == 1.0
    notional = -legs.loc[synthetic_market.tickers, "quantity"] * legs.loc[synthetic_market.tickers, "spot"]
    np.testing.assert_allclose(
        notional.to_numpy(), synthetic_market.weights.to_numpy() * legs.loc["INDEX", "spot"], rtol=1e-12
    )


@pytest.mark.parametrize("structure, n_options", [("straddle", 2), ("strangle", 2), ("call", 1), ("put", 1)])
def test_structures(synthetic_market, market, structure, n_options):
    position = dk.DispersionTrade(structure=structure).position(market, DATE)
    assert len(position.legs) == n_options * (len(synthetic_market.tickers) + 1)
    if structure == "strangle":
        index_legs = position.legs[position.index_mask()].set_index("is_call")
        assert index_legs.loc[True, "strike"] == pytest.approx(1.05 * position.index_spot)
        assert index_legs.loc[False, "strike"] == pytest.approx(0.95 * position.index_spot)


def test_implied_correlation_matches_the_market(market):
    trade = dk.DispersionTrade()
    assert trade.implied_correlation(market, DATE) == pytest.approx(0.6, abs=1e-12)
    assert trade.implied_correlation(market, DATE) == pytest.approx(market.implied_correlation().loc[DATE])


def test_index_leg_breakeven_is_the_documented_formula(synthetic_market, market):
    realized = pd.Series(0.3, index=synthetic_market.tickers)
    be = dk.DispersionTrade().breakeven_correlation(market, DATE, realized_vols=realized)
    # Realized component vols equal the implied ones: the index leg breaks even at the implied correlation.
    assert be.index_leg == pytest.approx(0.6, abs=1e-12)
    assert be.implied == pytest.approx(0.6, abs=1e-12)


def test_calendar_dispersion_and_correlation_swap(synthetic_market, market):
    calendar = dk.CalendarDispersion.from_tenors(30 / 365, 91 / 365, front_direction="long")
    assert calendar.back.direction == "short"
    book = calendar.book(market, DATE)
    assert len(book) == 4 * (len(synthetic_market.tickers) + 1)
    greeks = calendar.greeks(market, DATE)
    assert ("net", "net") in greeks.index
    with pytest.raises(ValueError, match="back: direction"):
        dk.CalendarDispersion(dk.DispersionTrade(tenor=0.1), dk.DispersionTrade(tenor=0.2))
    assert dk.correlation_swap_payoff(1e6, 0.45, 0.35) == pytest.approx(1e5)
    np.testing.assert_allclose(dk.correlation_swap_payoff(2.0, [0.1, 0.5], 0.3), [-0.4, 0.4])
    with pytest.raises(ValueError, match="realized_correlation"):
        dk.correlation_swap_payoff(1.0, 1.5, 0.3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"direction": "up"}, "direction"),
        ({"sizing": "delta"}, "sizing"),
        ({"structure": "butterfly"}, "structure"),
        ({"tenor": 0.0}, "tenor"),
        ({"budget": 1.5}, "budget"),
        ({"strikes": "otm"}, "strikes"),
    ],
)
def test_bad_trade_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dk.DispersionTrade(**kwargs)


def test_bad_dates_and_missing_data(synthetic_market, market):
    trade = dk.DispersionTrade()
    with pytest.raises(ValueError, match="date: 2020-03-01"):
        trade.position(market, "2020-03-01")
    with pytest.raises(TypeError, match="market"):
        trade.position("market", DATE)
    vols = market.vols.copy()
    vols.loc[DATE, "BBB"] = np.nan
    broken = dk.MarketData(
        market.spots, market.index, vols=vols, index_vol=market.index_vol, weights=synthetic_market.weights
    )
    with pytest.raises(ValueError, match=r"missing on 2020-03-02 for \['BBB'\]"):
        trade.position(broken, DATE)
    with pytest.raises(ValueError, match="capital"):
        trade.position(market, DATE, capital=-1.0)


def test_sample_market_is_labelled_as_a_model():
    market = dk.data.sample_market()
    assert market.vol_source.startswith("model")
    assert len(market.tickers) == 20
    np.testing.assert_allclose(market.weights.to_numpy(), 1 / 20)
    assert (market.index_vol_origin == "vix").sum() > 1000


def test_net_greeks_do_not_drop_a_leg_with_nan(market):
    position = dk.DispersionTrade().position(market, DATE)
    legs = position.legs.copy()
    legs.loc[0, "vol"] = np.nan
    net = dataclasses.replace(position, legs=legs).greeks().loc["net"]
    assert np.isnan(net["vega_per_point"]) and np.isnan(net["premium"])
