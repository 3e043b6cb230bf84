"""Trades and backtests on a market with option data: every leg at its own strike and tenor."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

DAYS = (10, 40, 120, 400)


def flat_options(market, index_name="IDX"):
    """Option rows quoting each name's market vol at every strike and expiry (a flat smile)."""
    rows = []
    for date in market.dates:
        for name in [*market.tickers, index_name]:
            spot = market.index[date] if name == index_name else market.spots.loc[date, name]
            vol = market.index_vol[date] if name == index_name else market.vols.loc[date, name]
            for days in DAYS:
                for m in (0.8, 0.9, 1.0, 1.1, 1.2):
                    rows.append((date, name, date + pd.Timedelta(days=days), spot * m, "P" if m < 1 else "C", vol))
    return pd.DataFrame(rows, columns=["date", "underlying", "expiry", "strike", "option_type", "implied_vol"])


@pytest.fixture(scope="module")
def pair(synthetic_market):
    plain = synthetic_market(n_dates=90, seed=3)
    with_options = dk.MarketData(
        plain.spots,
        plain.index,
        weights=plain.weights,
        options=flat_options(plain),
        index_underlying="IDX",
    )
    return plain, with_options


@pytest.mark.parametrize(
    "trade",
    [
        dk.DispersionTrade("long", structure="strangle"),
        dk.DispersionTrade("short"),
        dk.CalendarDispersion.from_tenors(30 / 365, 91 / 365),
    ],
    ids=["long strangle", "short straddle", "calendar"],
)
def test_flat_option_surface_backtests_like_one_vol_per_name(pair, trade):
    # Same vols two ways: per underlying (no options) and per leg from a flat surface.
    plain, with_options = pair
    rules = dk.BacktestRules(window=20)
    a = dk.backtest(plain, trade, rules)
    b = dk.backtest(with_options, trade, rules)
    assert len(a.journal) == len(b.journal) > 0
    np.testing.assert_allclose(b.pnl.to_numpy(), a.pnl.to_numpy(), rtol=1e-9, atol=1e-6)
    pd.testing.assert_frame_equal(b.attribution, a.attribution, rtol=1e-7, atol=1e-5)


@pytest.fixture(scope="module")
def sample_market():
    S = dk.data.sample_file
    return dk.MarketData.from_files(
        S("spots.csv.gz"),
        S("index.csv.gz"),
        weights=S("weights.csv.gz"),
        rate=dk.data.SAMPLE_RATE,
        div_yields=pd.Series(dk.data.SAMPLE_DIV_YIELDS),
        options=S("options_long.csv.gz"),
        index_underlying="IDX",
    )


def test_each_leg_takes_the_surface_vol_at_its_strike_and_tenor(sample_market):
    date = sample_market.dates[40]
    trade = dk.DispersionTrade("long", structure="strangle", strangle_width=0.08, tenor=61 / 365)
    legs = trade.position(sample_market, date).legs
    names = legs["underlying"].replace({"INDEX": "IDX"}).to_numpy()
    expected = sample_market.surface.lookup(date, names, 61, strike=legs["strike"].to_numpy()).vol
    np.testing.assert_array_equal(legs["vol"].to_numpy(), expected)
    # Skew: each name's put (lower strike) is dearer than its call.
    puts, calls = legs[~legs["is_call"]], legs[legs["is_call"]]
    assert (puts["vol"].to_numpy() > calls["vol"].to_numpy()).all()
    prices = dk.bs_price(
        legs["spot"], legs["strike"], legs["tau"], legs["vol"], legs["rate"], legs["div_yield"], legs["is_call"]
    )
    np.testing.assert_allclose(legs["price"], prices, rtol=1e-14)


def test_calendar_legs_keep_their_own_tenor(sample_market):
    calendar = dk.CalendarDispersion.from_tenors(30 / 365, 182 / 365)
    position = calendar.position(sample_market, sample_market.dates[10])
    assert set(np.round(position.legs["tau"] * 365)) == {30, 182}
    front, back = calendar.positions(sample_market, sample_market.dates[10])
    assert position.premium == pytest.approx(front.premium + back.premium)
    atm = position.legs[position.legs["underlying"] == "INDEX"].groupby("tau")["vol"].first()
    assert atm.iloc[0] != atm.iloc[1]  # the index's term structure is not flat


def test_a_leg_without_option_data_ends_the_trade(sample_market):
    S = dk.data.sample_file
    options = dk.read_options(S("options_long.csv.gz"))
    gap_day = sample_market.dates[15]
    options = options[~((options["underlying"] == "BRVO") & (options["date"] == gap_day))]
    market = dk.MarketData(
        sample_market.spots,
        sample_market.index,
        weights=sample_market.weights,
        vols=sample_market.vols,  # keep the ATM vols: only the surface has the hole
        index_vol=sample_market.index_vol,
        rate=dk.data.SAMPLE_RATE,
        div_yields=pd.Series(dk.data.SAMPLE_DIV_YIELDS),
        options=options,
        index_underlying="IDX",
    )
    result = dk.backtest(
        market, dk.DispersionTrade("long"), dk.BacktestRules(window=5, exit=dk.ExpiryExit()), end=gap_day
    )
    first = result.journal.iloc[0]
    assert first["exit_date"] == sample_market.dates[14]
    assert first["exit_reason"] == "missing data"


def test_backtest_rejects_other_trades(sample_market):
    with pytest.raises(TypeError, match="trade: expected a DispersionTrade or CalendarDispersion, got str"):
        dk.backtest(sample_market, "long")
