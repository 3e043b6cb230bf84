"""Variance dispersion: fair strikes of a date, sizing conventions, payoffs, the comparison with
straddles over a history and paths; the Monte-Carlo gap between variance-implied and fair
correlation strikes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dispersionkit as dk


@pytest.fixture(scope="module")
def market(synthetic_market):
    return synthetic_market(n_dates=260, realized_corr=0.1, implied_corr=0.6, seed=5)


def test_flat_surface_strikes_are_vol_squared_and_correlations_agree(market):
    date = market.dates[120]
    strikes = dk.fair_strikes(market, date, 30 / 365)
    table = strikes.variance
    assert list(table.index) == [*market.tickers, "INDEX"]
    np.testing.assert_allclose(table["vol_strike"], table["atm_vol"], rtol=2e-4)
    assert (table["discretisation_error"].abs() < 2e-4 * table["variance_strike"]).all()
    implied = market.implied_correlation().loc[date]
    assert strikes.correlation["from ATM vols"] == pytest.approx(implied, rel=1e-12)
    assert strikes.correlation["from variance swaps"] == pytest.approx(implied, abs=1e-4)
    text = strikes.text()
    assert "flat surface" in text and "NOTE" in text and "INDEX" in text


def test_strips_from_any_source_price_the_skew(market):
    date = market.dates[120]

    def skewed(name, forward, tau, atm_vol):  # a put skew: vol rises 10 points per unit of -ln(K/F)
        strikes = dk.replication_strikes(forward, tau, atm_vol, count=200, width=6.0)
        return strikes, atm_vol - 0.10 * np.log(strikes / forward)

    flat = dk.variance_strikes(market, date, 30 / 365)
    skew = dk.variance_strikes(market, date, 30 / 365, strips=skewed)
    assert (skew["variance_strike"] > flat["variance_strike"]).all()  # a skew raises the fair variance
    both = dk.fair_strikes(market, date, 30 / 365, strips=skewed)
    assert both.correlation["from variance swaps"] != pytest.approx(both.correlation["from ATM vols"], abs=1e-4)
    assert "strips from the caller" in both.text()
    with pytest.raises(TypeError, match="strips: expected a vol surface or a function"):
        dk.variance_strikes(market, date, 30 / 365, strips=[1, 2])


def test_sizing_conventions(market):
    date = market.dates[120]
    vega = dk.VarianceDispersion(sizing="vega", index_vega_notional=50_000).legs(market, date)
    components = vega.drop(index="INDEX")
    np.testing.assert_allclose(components["vega_notional"], components["weight"] * 50_000)
    assert vega.loc["INDEX", "vega_notional"] == -50_000  # long dispersion: short index variance
    np.testing.assert_allclose(vega["variance_notional"], vega["vega_notional"] / (200 * vega["vol_strike"]))
    theta = dk.VarianceDispersion(sizing="theta", direction="short").legs(market, date)
    k = theta["vol_strike"]
    # Vol-neutral: sum_i N_i K_i^2 = N_I K_I^2 (in variance notionals times variance strikes).
    total = (theta["variance_notional"] * k * k).drop(index="INDEX").sum()
    assert total == pytest.approx(-theta.loc["INDEX", "variance_notional"] * k["INDEX"] ** 2, rel=1e-12)
    assert theta.loc["INDEX", "vega_notional"] > 0  # short dispersion: long index variance
    with pytest.raises(ValueError, match="sizing: expected 'vega' or 'theta'"):
        dk.VarianceDispersion(sizing="gamma")


def test_payoff_and_straddle_book_match_the_legs(market):
    date = market.dates[120]
    trade = dk.VarianceDispersion(cap=2.5)
    legs = trade.legs(market, date)
    assert trade.payoff(legs, legs["variance_strike"].to_numpy()) == pytest.approx(np.zeros(len(legs)), abs=1e-9)
    assert trade.days == 21
    book = trade.straddle_book(legs, market, date)
    assert len(book) == 2 * len(legs)
    snap_spots = [*market.spots.loc[date, market.tickers], market.index.loc[date]]
    for (name, row), spot, call in zip(legs.iterrows(), snap_spots, book.legs[::2]):
        g = dk.bs_greeks(spot, call.strike, call.expiry, row["atm_vol"])
        assert call.underlying == name and call.strike == spot
        assert 2 * g.vega * call.quantity * dk.PER_VOL_POINT == pytest.approx(row["vega_notional"], rel=1e-12)


def test_variance_and_straddle_versions_over_history_and_paths(market):
    trade = dk.VarianceDispersion()
    report = dk.compare_variance_and_straddles(market, market.dates[120], trade, paths=2000, seed=3)
    frame = report.to_frame()
    assert set(frame.index) == {(s, v) for s in ("history", "paths") for v in ("variance", "straddle")}
    assert frame.loc[("history", "variance"), "count"] == len(report.history) == (260 - 1) // 21
    # Realized correlation 0.1 against 0.6 implied: long dispersion earns on average in both versions ...
    for sample in ("history", "paths"):
        for version in ("variance", "straddle"):
            assert frame.loc[(sample, version), "mean"] > 0
    # ... and the two versions move together on paths, but not one for one (path-dependent gamma).
    assert 0.3 < frame.loc[("paths", "variance"), "corr(variance, straddle)"] < 0.99
    gaps = report.gamma_table()
    assert len(gaps) == 5 and (np.diff(gaps["index_move"]) > 0).all()
    text = report.text()
    assert "dollar" in text and "gamma" in text and "implied vols:" in text
    assert report.history["realized_correlation"].mean() == pytest.approx(0.1, abs=0.1)


# ---- correlation swaps: variance-implied vs fair strike ---------------------------------------


def test_gap_in_one_regime_is_the_small_sample_bias():
    n, rho, days = 6, 0.5, 21
    corr = np.full((n, n), rho) + (1 - rho) * np.eye(n)
    gap = dk.correlation_swap_gap(np.full(n, 0.3), np.full(n, 1 / n), corr, days=days, paths=6000, seed=1)
    # Equal vols and one regime: the variance-implied correlation is rho, and the fair strike is
    # the mean sample correlation, biased down by about rho (1 - rho^2) / (2 T).
    assert gap.variance_implied == pytest.approx(rho, abs=0.01)
    assert gap.gap == pytest.approx(rho * (1 - rho**2) / (2 * days), abs=4 * gap.standard_error + 0.003)
    assert gap.crisis_share == 0.0
    again = dk.correlation_swap_gap(np.full(n, 0.3), np.full(n, 1 / n), corr, days=days, paths=6000, seed=1)
    assert again == gap


def test_gap_opens_when_vols_and_correlation_rise_together():
    n = 6
    corr = np.full((n, n), 0.4) + 0.6 * np.eye(n)
    gap = dk.correlation_swap_gap(
        np.linspace(0.2, 0.4, n), np.full(n, 1 / n), corr, days=21, paths=4000, crisis=(0.2, 2.0, 0.8)
    )
    assert gap.crisis_share == pytest.approx(0.2, abs=0.01)
    # Paths average 0.4 x 0.8 + 0.8 x 0.2 = 0.48 of correlation; variance swaps weight the crisis by its variance.
    assert gap.fair_strike == pytest.approx(0.48, abs=0.03)
    assert gap.gap > 0.05 and gap.gap > 10 * gap.standard_error
    assert "gap=+" in repr(gap)
    with pytest.raises(TypeError, match="crisis: expected"):
        dk.correlation_swap_gap(np.full(n, 0.3), np.full(n, 1 / n), corr, crisis=(0.2, 2.0))
    with pytest.raises(ValueError, match="corr: expected shape"):
        dk.correlation_swap_gap(np.full(n, 0.3), np.full(n, 1 / n), np.eye(3))
    assert math.isfinite(gap.standard_error)


class _Points:
    def __init__(self, vol, forward):
        self.vol, self.forward = vol, forward


class _SkewSurface:
    """The query shape of dk.VolSurface (lookup by date, underlying, tenor and strike) over a
    known smile: forward 2% above spot, vol = 0.25 - 0.1 ln(K / F)."""

    source = "test smile"

    def __init__(self, market):
        self.market = market
        self.calls = []

    def lookup(self, dates, underlyings, tenor_days, *, strike=None, log_moneyness=None):
        self.calls.append(underlyings)
        date = self.market.dates.get_loc(dates)
        index = underlyings in ("SPX", "INDEX")
        spot = self.market.index.iloc[date] if index else self.market.spots[underlyings].iloc[date]
        forward = spot * 1.02
        x = np.log(np.asarray(strike) / forward) if strike is not None else np.asarray(log_moneyness)
        return _Points(0.25 - 0.1 * x, np.full(np.shape(x), forward))


def test_a_surface_gives_the_strips(market):
    date = market.dates[120]
    surface = _SkewSurface(market)
    strips = dk.surface_strips(surface, date, index_underlying="SPX")
    table = dk.variance_strikes(market, date, 30 / 365, strips=strips)
    assert "SPX" in surface.calls and "INDEX" not in surface.calls
    np.testing.assert_allclose(table["forward"], [*(market.spots.loc[date] * 1.02), market.index.loc[date] * 1.02])

    # The same smile through a strip function: identical strikes.
    def direct(name, forward, tau, atm_vol):
        spot = market.index.loc[date] if name == "INDEX" else market.spots.loc[date, name]
        k = dk.replication_strikes(spot * 1.02, tau, 0.25, count=400, width=6.0)
        return k, 0.25 - 0.1 * np.log(k / (spot * 1.02)), spot * 1.02

    np.testing.assert_allclose(
        table["variance_strike"],
        dk.variance_strikes(market, date, 30 / 365, strips=direct)["variance_strike"],
        rtol=1e-14,
    )
    assert (table["vol_strike"] > 0.25).all()  # the skew adds variance beyond the forward's vol
    # A surface object is accepted directly; the index is "INDEX" when the market names no other.
    given = _SkewSurface(market)
    strikes = dk.fair_strikes(market, date, 30 / 365, strips=given)
    assert "INDEX" in given.calls and "vol surface: test smile" in strikes.text()
    np.testing.assert_allclose(strikes.variance["variance_strike"], table["variance_strike"], rtol=1e-14)
    with pytest.raises(TypeError, match="strips: must return"):
        dk.variance_strikes(market, date, 30 / 365, strips=lambda *a: np.ones(3))


def test_strikes_from_an_option_surface():
    """A market built from option quotes prices its strips on its own surface (skips until the
    option-data layer, dk.VolSurface and its samples, is in the package)."""
    if not hasattr(dk, "VolSurface"):
        pytest.skip("dk.VolSurface is not in this build")
    import pandas as pd

    sample = dk.data.sample_file
    market = dk.MarketData.from_files(
        sample("spots.csv.gz"), sample("index.csv.gz"), weights=sample("weights.csv.gz"), rate=dk.data.SAMPLE_RATE,
        div_yields=pd.Series(dk.data.SAMPLE_DIV_YIELDS), options=dk.read_options(sample("options_long.csv.gz")),
        index_underlying="IDX",
    )  # fmt: skip
    date = market.dates[-1]
    strikes = dk.fair_strikes(market, date, 30 / 365)
    assert strikes.source.startswith("vol surface: options")
    table = strikes.variance
    assert (table["vol_strike"] > table["atm_vol"]).all()  # the samples' smiles add variance to the ATM vol
    explicit = dk.variance_strikes(
        market, date, 30 / 365, strips=dk.surface_strips(market.surface, date, index_underlying="IDX")
    )
    np.testing.assert_allclose(explicit["variance_strike"], table["variance_strike"], rtol=1e-14)
    assert strikes.correlation["from variance swaps"] != pytest.approx(strikes.correlation["from ATM vols"], abs=1e-3)
