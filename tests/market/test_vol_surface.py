"""dk.VolSurface from option rows and from one vol per name: queries, delta strikes, reports."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

DATES = pd.bdate_range("2024-03-01", periods=3)
NAMES = ["AAA", "BBB", "IDX"]
RATE = 0.03
DIV = pd.Series({"AAA": 0.01, "BBB": 0.0, "IDX": 0.02})


def ssvi(k, theta, rho=-0.4, eta=0.9):
    phi = eta / (theta**0.3 * (1 + theta) ** 0.7)
    return 0.5 * theta * (1 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1 - rho**2))


@pytest.fixture(scope="module")
def spots():
    return pd.DataFrame(
        [[100.0, 40.0, 4000.0], [101.0, 39.0, 4010.0], [99.0, 41.0, 3990.0]], index=DATES, columns=NAMES
    )


@pytest.fixture(scope="module")
def options(spots):
    """An SSVI surface with theta = vol^2 tau (so the term interpolation is exact), both
    option types at 25 strikes, four expiries; forwards from RATE and DIV."""
    rows = []
    for date in DATES:
        for name, level in zip(NAMES, (0.3, 0.4, 0.2)):
            spot = spots.loc[date, name]
            for days in (14, 45, 120, 300):
                tau = days / 365
                forward = spot * np.exp((RATE - DIV[name]) * tau)
                for strike in spot * np.exp(np.linspace(-0.6, 0.6, 25)):
                    k = np.log(strike / forward)
                    vol = np.sqrt(ssvi(k, level**2) / level**2) * level
                    for cp in "CP":
                        rows.append((date, name, date + pd.Timedelta(days=days), strike, cp, vol))
    return pd.DataFrame(rows, columns=["date", "underlying", "expiry", "strike", "option_type", "implied_vol"])


@pytest.fixture(scope="module")
def surface(options, spots):
    return dk.VolSurface.from_options(options, spots, rate=RATE, div_yields=DIV)


def exact_vol(name, k):
    level = dict(zip(NAMES, (0.3, 0.4, 0.2)))[name]
    return np.sqrt(ssvi(k, level**2) / level**2) * level


def test_report_counts_every_row(surface, options):
    assert surface.report["used"] + len(surface.rejected) == len(options)
    # Both types at every strike: one of each pair is in the money.
    assert surface.report["used"] == len(options) // 2
    assert set(surface.rejected["reason"]) == {dk.market.options.OTM_REASON}
    assert surface.arbitrage.empty
    assert "3 dates x 3 underlyings" in repr(surface)


def test_queries_recover_the_analytic_surface(surface, spots):
    for name in NAMES:
        for days in (20, 60, 200):
            # at-the-money forward: k = 0
            atm = surface.atm(days)[name]
            np.testing.assert_allclose(atm, exact_vol(name, 0.0), atol=3e-4)
            points = surface.lookup(DATES, name, days, moneyness=0.9)
            k = np.log(0.9 * spots[name].to_numpy() / points.forward)
            np.testing.assert_allclose(points.vol, exact_vol(name, k), atol=3e-4)
            np.testing.assert_allclose(points.log_moneyness, k, rtol=1e-12)
            q = DIV[name]
            np.testing.assert_allclose(points.forward, spots[name] * np.exp((RATE - q) * days / 365), rtol=1e-12)


def test_delta_strikes_round_trip_through_bs_greeks(surface, spots):
    for delta in (-0.1, -0.25, -0.5, 0.25, 0.5, 0.75):
        for days in (10, 30, 91, 182, 400):
            points = surface.lookup(DATES.to_numpy()[:, None], np.array(NAMES)[None, :], days, delta=delta)
            tau = days / 365
            spot = spots.to_numpy()
            # The dividend yield the surface's forward implies (what bs_greeks needs).
            q = RATE - np.log(points.forward / spot) / tau
            greeks = dk.bs_greeks(spot, points.strike, tau, points.vol, RATE, q, is_call=delta > 0)
            np.testing.assert_allclose(greeks.delta, delta, atol=1e-11)
            # The vol is the surface's own at that strike.
            again = surface.lookup(DATES.to_numpy()[:, None], np.array(NAMES)[None, :], days, strike=points.strike)
            np.testing.assert_allclose(again.vol, points.vol, rtol=1e-12)
    strikes = surface.strike(30, delta=-0.25)
    assert (strikes.to_numpy() < spots.to_numpy()).all()


def test_flat_surface_is_flat_in_strike_and_tenor(spots):
    vols = pd.DataFrame([[0.25, 0.35, 0.18]] * 3, index=DATES, columns=NAMES)
    vols.iloc[1, 1] = np.nan
    flat = dk.VolSurface.flat(vols, spots, rate=RATE, div_yields=DIV)
    expected = vols.to_numpy()
    for days in (1, 30, 91, 365, 1000):
        np.testing.assert_array_equal(flat.atm(days).to_numpy(), expected)
        np.testing.assert_allclose(flat.vol(days, moneyness=0.7), expected, rtol=1e-15)
        np.testing.assert_allclose(flat.vol(days, delta=-0.25), expected, rtol=1e-15)
        np.testing.assert_allclose(flat.vol(days, strike=spots * 1.3), expected, rtol=1e-15)
    assert np.isnan(flat.forward(30).iloc[1, 1])


def test_strip_of_strikes_for_one_date_and_name(surface, spots):
    # What a variance-swap replication asks for: many strikes, one date, one name, one tenor.
    strikes = spots.loc[DATES[0], "IDX"] * np.linspace(0.5, 1.5, 41)
    points = surface.lookup(DATES[0], "IDX", 30, strike=strikes)
    assert points.vol.shape == (41,)
    assert np.isfinite(points.vol).all()
    np.testing.assert_allclose(points.strike, strikes, rtol=1e-13)


def test_otm_strip(surface, spots):
    strikes = spots.loc[DATES[1], "AAA"] * np.linspace(0.6, 1.4, 17)
    strip = surface.otm_strip(DATES[1], "AAA", 45, strikes)
    forward = spots.loc[DATES[1], "AAA"] * np.exp((RATE - DIV["AAA"]) * 45 / 365)
    np.testing.assert_allclose(strip["forward"], forward, rtol=1e-12)
    assert (strip["option_type"] == np.where(strikes >= forward, "C", "P")).all()
    np.testing.assert_allclose(strip["discount"], np.exp(-RATE * 45 / 365), rtol=1e-15)
    np.testing.assert_allclose(strip["vol"], exact_vol("AAA", np.log(strikes / forward)), atol=3e-4)


def test_query_errors_name_the_argument(surface):
    with pytest.raises(ValueError, match="exactly one of strike, moneyness"):
        surface.vol(30)
    with pytest.raises(ValueError, match="exactly one of"):
        surface.lookup(DATES[0], "AAA", 30, strike=100.0, delta=0.25)
    with pytest.raises(ValueError, match="delta: must lie in"):
        surface.vol(30, delta=1.2)
    with pytest.raises(ValueError, match="tenor_days: must be > 0"):
        surface.atm(0)
    with pytest.raises(ValueError, match="dates: 2030-01-01 is not in the surface"):
        surface.lookup("2030-01-01", "AAA", 30, moneyness=1.0)
    with pytest.raises(ValueError, match="underlyings: 'ZZZ' is not in the surface"):
        surface.lookup(DATES[0], "ZZZ", 30, moneyness=1.0)


def test_every_rejection_reason_is_reported(spots):
    base = dict(
        date=DATES[0],
        underlying="AAA",
        expiry=DATES[0] + pd.Timedelta(days=30),
        strike=105.0,
        option_type="C",
        implied_vol=0.3,
        bid_vol=0.29,
        ask_vol=0.31,
    )
    cases = {
        "missing implied vol": dict(implied_vol=np.nan),
        "implied vol not > 0": dict(implied_vol=0.0),
        "implied vol above 5 (500%): percent units?": dict(implied_vol=7.0),
        "strike not > 0": dict(strike=-5.0),
        "missing strike": dict(strike=np.nan),
        "expired: expiry on or before the date": dict(expiry=DATES[0]),
        "crossed quote: bid_vol > ask_vol": dict(bid_vol=0.32),
        "underlying not in the market": dict(underlying="ZZZ"),
        "date not in the market calendar": dict(date=pd.Timestamp("2024-01-01")),
        "option_type not call or put": dict(option_type="X"),
        "strike more than 100x away from the forward: units?": dict(strike=105_000.0),
        "in the money (quotes='otm' uses OTM puts below the forward, OTM calls at or above it)": dict(
            option_type="C", strike=80.0
        ),
    }
    rows = [dict(base, strike=110.0 + i) for i in range(3)]
    rows += [{**base, "strike": 120.0 + i, **change} for i, change in enumerate(cases.values())]
    rows += [dict(base, strike=150.0), dict(base, strike=150.0)]  # exact duplicate
    rows += [dict(base, strike=160.0, implied_vol=0.3), dict(base, strike=160.0, implied_vol=0.31)]  # clash
    frame = pd.DataFrame(rows)
    surface = dk.VolSurface.from_options(frame, spots, rate=RATE, div_yields=DIV)
    reasons = surface.rejected.set_index("strike")["reason"]
    for i, (reason, change) in enumerate(cases.items()):
        assert reasons.loc[change.get("strike", 120.0 + i)] == reason
    assert reasons.loc[150.0] == "exact duplicate of an earlier row"
    assert list(reasons.loc[160.0]) == ["duplicate key with different values"] * 2
    assert surface.report["used"] == 3 + 1
    assert surface.report.sum() == len(frame)


def test_in_memory_frames_are_checked(spots):
    with pytest.raises(ValueError, match=r"options: missing columns \['implied_vol'\]"):
        dk.VolSurface.from_options(
            pd.DataFrame({"date": [], "underlying": [], "expiry": [], "strike": [], "option_type": []}), spots
        )
    frame = pd.DataFrame(
        dict(
            date=[DATES[0]] * 20,
            underlying="AAA",
            expiry=DATES[0] + pd.Timedelta(days=30),
            strike=np.arange(90.0, 110.0),
            option_type="C",
            implied_vol=25.0,
        )
    )
    with pytest.raises(ValueError, match="looks like percent"):
        dk.VolSurface.from_options(frame, spots)
    with pytest.raises(TypeError, match="column 'strike' must hold numbers"):
        dk.VolSurface.from_options(frame.assign(strike="100"), spots)
    with pytest.raises(ValueError, match="quotes: expected one of"):
        dk.VolSurface.from_options(frame, spots, quotes="mid")
