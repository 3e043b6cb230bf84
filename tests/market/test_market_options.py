"""MarketData with option data: surfaces, implied correlation by tenor and at 25 delta, dated
weights, and the flat surface of a market built from one vol per name."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

TICKERS = ["ALFA", "BRVO", "CHRL", "DLTA", "ECHO"]


def sample(name):
    return dk.data.sample_file(name)


@pytest.fixture(scope="module")
def inputs():
    frame = pd.read_csv(sample("spots.csv.gz"), index_col="date", parse_dates=True)
    index = pd.read_csv(sample("index.csv.gz"), index_col="date", parse_dates=True)["IDX"]
    weights = pd.read_csv(sample("weights.csv.gz"), index_col="date", parse_dates=True)
    options = dk.read_options(sample("options_long.csv.gz"))
    return frame, index, weights, options


def build(inputs, **kwargs):
    spots, index, weights, options = inputs
    args = dict(
        weights=weights,
        rate=dk.data.SAMPLE_RATE,
        div_yields=pd.Series(dk.data.SAMPLE_DIV_YIELDS),
        options=options,
        index_underlying="IDX",
    )
    args.update(kwargs)
    return dk.MarketData(spots, index, **args)


@pytest.fixture(scope="module")
def market(inputs):
    return build(inputs)


def test_vols_come_from_the_surface_and_say_so(market):
    atm = market.surface.atm(30)
    np.testing.assert_array_equal(market.vols.to_numpy(), atm[TICKERS].to_numpy())
    np.testing.assert_array_equal(market.index_vol.to_numpy(), atm["IDX"].to_numpy())
    assert market.vol_source.startswith("options: component vols and index vol = 30-day at-the-money-forward")
    assert set(market.index_vol_origin) == {"options"}
    assert market.options_report["used"] > 14_000


def test_implied_correlation_term_structure_matches_the_cboe_samples(market):
    # The samples' COR indices are the same synthetic market's correlation at exactly 30, 91
    # and 182 days; the surface interpolates between listed expiries.
    table = market.implied_correlation_term_structure((30, 91, 182))
    assert list(table.columns) == [30, 91, 182]
    for tenor, symbol in ((30, "COR1M"), (91, "COR3M"), (182, "COR6M")):
        cboe = dk.read_cboe(sample(f"{symbol}_History.csv")) / 100.0
        assert np.max(np.abs(table[tenor] - cboe)) < 0.01
        pd.testing.assert_series_equal(table[tenor], market.implied_correlation(tenor), check_names=False)


def test_skew_aware_implied_correlation_uses_each_names_own_25_delta_put(market):
    skew = market.implied_correlation(30, delta=-0.25)
    vols = market.surface.vol(30, delta=-0.25)
    by_hand = dk.implied_correlation(
        vols["IDX"].to_numpy(), vols[TICKERS].to_numpy(), market.weights_frame().to_numpy()
    )
    np.testing.assert_allclose(skew.to_numpy(), by_hand.value, rtol=1e-15)
    # The index smile is steeper than the components': its 25-delta puts price more correlation.
    assert (skew > market.implied_correlation(30)).all()
    same_strike = market.implied_correlation(30, moneyness=0.9)
    assert same_strike.notna().all()
    assert skew.name == "implied_correlation_30d_delta-0.25"


def test_dated_weights_and_names_without_options(inputs):
    spots, index, weights, options = inputs
    # ECHO leaves the index for the first 10 dates and has no options then.
    dates = spots.index[:10]
    weights = weights.copy()
    weights.loc[dates, "ECHO"] = 0.0
    weights.loc[dates] = weights.loc[dates].div(weights.loc[dates].sum(axis=1), axis=0)
    drop = (options["underlying"] == "ECHO") & options["date"].isin(dates)
    market = build((spots, index, weights, options[~drop]))
    assert market.vols.loc[dates, "ECHO"].isna().all()
    corr = market.implied_correlation(30)
    assert corr.notna().all()
    vols = market.surface.atm(30)
    w = weights.to_numpy()
    by_hand = dk.implied_correlation(vols["IDX"].to_numpy(), vols[TICKERS].to_numpy(), w)
    np.testing.assert_allclose(corr.to_numpy(), by_hand.value, rtol=1e-15)


def test_one_vol_per_name_is_a_flat_surface(synthetic_market):
    market = synthetic_market(n_dates=30)
    assert market.surface.source.startswith("flat: one vol per name and date")
    base = market.implied_correlation()
    for tenor in (30, 91, 182):
        np.testing.assert_allclose(market.implied_correlation(tenor), base, rtol=1e-14)
        np.testing.assert_allclose(market.implied_correlation(tenor, delta=-0.25), base, rtol=1e-14)
    np.testing.assert_allclose(market.surface.vol(45, moneyness=1.2)[market.tickers], market.vols, rtol=1e-15)
    np.testing.assert_allclose(market.surface.atm(7)["INDEX"], market.index_vol, rtol=1e-15)
    assert market.options_report is None


def test_modelled_vols_make_a_flat_surface_that_says_so():
    market = dk.data.sample_market()
    assert "model" in market.surface.source
    assert market.surface.source.startswith("flat:")


def test_option_arguments_are_checked(inputs):
    _spots, _index, _weights, _options = inputs
    with pytest.raises(ValueError, match="index_underlying: 'ALFA' is also a ticker"):
        build(inputs, index_underlying="ALFA")
    with pytest.raises(ValueError, match="vol_model: unused because options give the implied vols"):
        build(inputs, vol_model=dk.ImpliedVolModel())
    with pytest.raises(ValueError, match="tenor_days: needed with delta"):
        build(inputs).implied_correlation(delta=-0.25)
    with pytest.raises(TypeError, match="options: expected a pandas DataFrame"):
        build(inputs, options=[1, 2, 3])


def test_from_files_reads_the_option_file(market):
    loaded = dk.MarketData.from_files(
        sample("spots.csv.gz"),
        sample("index.csv.gz"),
        weights=sample("weights.csv.gz"),
        rate=dk.data.SAMPLE_RATE,
        div_yields=pd.Series(dk.data.SAMPLE_DIV_YIELDS),
        options=sample("options_long.csv.gz"),
        index_underlying="IDX",
    )
    pd.testing.assert_frame_equal(loaded.vols, market.vols, check_freq=False)
    pd.testing.assert_series_equal(loaded.options_report, market.options_report)


def test_derived_markets_refuse_to_drop_the_option_data(market):
    with pytest.raises(ValueError, match="vol_model: this market's vols come from its option data"):
        market.with_vol_model(dk.ImpliedVolModel())
    with pytest.raises(ValueError, match="options: this market's option surface is quoted on its index"):
        market.with_basket_index()


def test_dk_implied_correlation_takes_a_market_and_a_tenor(market):
    estimate = dk.implied_correlation(market, tenor_days=91)
    pd.testing.assert_series_equal(estimate.value, market.implied_correlation(91))
    assert not estimate.out_of_range.any()
    skew = dk.implied_correlation(market, tenor_days=30, delta=-0.25)
    pd.testing.assert_series_equal(skew.value, market.implied_correlation(30, delta=-0.25))
    with pytest.raises(TypeError, match="tenor_days, delta, moneyness: only with a market"):
        dk.implied_correlation(0.2, [0.3, 0.3], [0.5, 0.5], tenor_days=30)
    with pytest.raises(TypeError, match="vols, weights: needed unless the first argument is a market"):
        dk.implied_correlation(0.2, tenor_days=30)
