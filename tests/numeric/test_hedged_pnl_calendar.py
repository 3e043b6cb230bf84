"""Dated hedged_pnl runs: rows are not time unless the dates say so.

Unsorted or repeated dates are errors naming the first offending date; a step whose calendar
length is far from dt warns (CalendarGapWarning) naming its dates; a leg that expires before
the first step is a named ValueError, one whose step count would overflow int64 never settles
within the run; a leg whose expiry date falls inside a hole in the data settles at the first
date on or after that date.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

DT = 1.0 / 252.0


def frame(dates, seed=0, columns=("A", "B")):
    rng = np.random.default_rng(seed)
    moves = np.exp(np.cumsum(rng.normal(0, 0.01, (len(dates), len(columns))), axis=0))
    return pd.DataFrame(100.0 * moves, index=pd.DatetimeIndex(dates), columns=list(columns))


BOOK = dk.straddle("A", 100.0, 0.25)


@pytest.mark.parametrize("how", ["frame", "dates="])
def test_unsorted_dates_name_the_first_offending_date(how):
    dates = list(pd.bdate_range("2024-01-02", periods=8))
    dates[4], dates[5] = dates[5], dates[4]
    spots = frame(dates)
    call = (
        (lambda: dk.hedged_pnl(BOOK, spots, 0.2))
        if how == "frame"
        else (lambda: dk.hedged_pnl(dk.straddle(0, 100.0, 0.25), spots.to_numpy(), 0.2, dates=dates))
    )
    with pytest.raises(ValueError, match=r"date 2024-01-08 00:00:00 at row 5 comes after 2024-01-09"):
        call()


def test_repeated_dates_name_the_date():
    dates = list(pd.bdate_range("2024-01-02", periods=8))
    dates[3] = dates[2]
    with pytest.raises(ValueError, match=r"date 2024-01-04 00:00:00 at row 3 repeats the previous date"):
        dk.hedged_pnl(BOOK, frame(dates), 0.2)
    with pytest.raises(ValueError, match="missing date"):
        dk.hedged_pnl(BOOK, frame(pd.bdate_range("2024-01-02", periods=8)), 0.2, dates=[pd.NaT] * 8)


def test_an_index_that_is_not_dates_is_no_dates():
    spots = frame(pd.bdate_range("2024-01-02", periods=8)).reset_index(drop=True)  # RangeIndex
    result = dk.hedged_pnl(BOOK, spots, 0.2)
    assert list(result.step_labels) == list(range(1, 8))  # steps, not nanoseconds after 1970
    with pytest.raises(ValueError, match="no dates"):
        dk.hedged_pnl(dk.straddle("A", 100.0, pd.Timestamp("2024-03-01")), spots, 0.2)
    with pytest.raises(TypeError, match="dates: expected dates"):
        dk.hedged_pnl(BOOK, spots, 0.2, dates=np.arange(8))


def test_a_hole_in_the_data_warns_naming_its_dates():
    dates = pd.bdate_range("2024-01-02", periods=30).delete(range(10, 25))  # three weeks missing
    with pytest.warns(dk.CalendarGapWarning, match=r"2024-01-15 00:00:00 -> 2024-02-06 00:00:00 \(22 days\)"):
        result = dk.hedged_pnl(BOOK, frame(dates), 0.2)
    assert np.isfinite(result.summary.total).all()  # the run goes on


def test_rows_much_closer_than_dt_warn():
    dates = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-03 00:01", "2024-01-04"])
    with pytest.warns(dk.CalendarGapWarning, match=r"2024-01-03 00:00:00 -> 2024-01-03 00:01:00"):
        dk.hedged_pnl(BOOK, frame(dates), 0.2)


def test_exchange_calendars_do_not_warn():
    prices, _ = dk.data.load_sp500()
    spots = prices.iloc[:, :2].loc["2001-08-01":"2001-10-31"]  # the 7-day close after 11 September 2001
    book = dk.straddle(spots.columns[0], float(spots.iloc[0, 0]), 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dk.CalendarGapWarning)
        dk.hedged_pnl(book, spots, 0.3)
        dk.hedged_pnl(BOOK, frame(pd.bdate_range("2024-01-02", periods=60)), 0.2)


def test_weekly_data_with_a_missing_week_warns():
    dates = pd.date_range("2024-01-05", periods=12, freq="W-FRI").delete(6)
    with pytest.warns(dk.CalendarGapWarning, match="2024-02-09 00:00:00 -> 2024-02-23 00:00:00"):
        dk.hedged_pnl(dk.straddle("A", 100.0, 0.5), frame(dates), 0.2, dt=1 / 52)


def test_a_tenor_below_one_step_is_an_error():
    spots = frame(pd.bdate_range("2024-01-02", periods=8))
    with pytest.raises(ValueError, match=r"before the first step .*tenor is below one step"):
        dk.hedged_pnl(dk.straddle("A", 100.0, 0.5 * DT), spots, 0.2)
    with pytest.raises(ValueError, match="before the first step's date 2024-01-03"):
        dk.hedged_pnl(dk.straddle("A", 100.0, pd.Timestamp("2024-01-02 12:00")), spots, 0.2)
    dk.hedged_pnl(dk.straddle("A", 100.0, DT), spots, 0.2)  # exactly one step is fine


@pytest.mark.parametrize("expiry, dt", [(1e300, DT), (0.25, 1e-320), (1e17, 1e-3)])
def test_a_step_count_beyond_int64_never_settles_within_the_run(expiry, dt):
    # expiry / dt beyond int64 (or infinite, dt denormal) is clipped before the cast: the leg is
    # alive at every step, never settled at a wrapped-around step count.
    result = dk.hedged_pnl(dk.straddle(0, 100.0, expiry), np.linspace(100.0, 103.0, 4)[:, None], 0.2, dt=dt)
    assert (result.steps.gamma_theta_legs[0] != 0.0).all() or (result.steps.option_mtm[0] != 0.0).all()
    assert np.isfinite(result.summary.total).all()


def test_a_dated_leg_expiring_inside_a_gap_settles_at_the_first_date_after_it():
    dates = pd.bdate_range("2024-01-02", "2024-01-10").append(pd.bdate_range("2024-02-01", "2024-02-20"))
    spots = frame(dates)
    expiry = pd.Timestamp("2024-01-20")  # inside the hole: 18 calendar days, 12.4 steps of dt
    settle = int(np.flatnonzero(dates >= expiry)[0])  # row 7, 2024-02-01 (row count would say 13)
    book = dk.Book([dk.Leg("A", 100.0, expiry, True, 1.0), dk.Leg("A", 100.0, expiry, False, 1.0)])
    with pytest.warns(dk.CalendarGapWarning):
        result = dk.hedged_pnl(book, spots, 0.2, detail="steps")
    legs = result.steps.gamma_theta_legs[0]
    assert (legs[settle:] == 0.0).all() and (legs[: settle - 1] != 0.0).all()
    # Settled at intrinsic on the first date after the expiry: the straddle pays |S - K| there.
    strike, spot = 100.0, spots["A"].iloc[settle]
    years = (expiry - dates[0]).days / 365.0
    before = dk.bs_price(spots["A"].iloc[settle - 1], strike, years - (settle - 1) * DT, 0.2, 0, 0, True) + dk.bs_price(
        spots["A"].iloc[settle - 1], strike, years - (settle - 1) * DT, 0.2, 0, 0, False
    )
    np.testing.assert_allclose(result.steps.option_mtm[0, settle - 1], abs(spot - strike) - before, rtol=1e-12)
    assert (result.steps.option_mtm[0, settle:] == 0.0).all()
    with pytest.warns(dk.CalendarGapWarning):
        twin = dk.reference.hedged_pnl(book, spots, 0.2, detail="steps")
    np.testing.assert_allclose(twin.steps.net, result.steps.net, rtol=1e-11, atol=1e-11)


def test_rows_closer_than_dt_cannot_price_a_dated_leg_to_its_expiry():
    dates = pd.date_range("2024-01-01", periods=40, freq="D")  # every calendar day, dt = one trading day
    expiry = pd.Timestamp("2024-01-31")
    with pytest.raises(ValueError, match="rows are closer together than dt; pass the dt of the data"):
        dk.hedged_pnl(dk.straddle("A", 100.0, expiry), frame(dates), 0.2)
    result = dk.hedged_pnl(dk.straddle("A", 100.0, expiry), frame(dates), 0.2, dt=1 / 365)
    assert np.isfinite(result.summary.total).all()


def test_time_zone_aware_dates_take_plain_expiry_dates_in_their_zone():
    dates = pd.bdate_range("2024-01-02", periods=30, tz="America/New_York")
    result = dk.hedged_pnl(dk.straddle("A", 100.0, pd.Timestamp("2024-01-24")), frame(dates), 0.2, detail="steps")
    assert (result.steps.gamma_theta_legs[0, 16:] == 0.0).all()  # settled on 2024-01-24, row 16
    with pytest.raises(ValueError, match="has a time zone but the dates do not"):
        dk.hedged_pnl(
            dk.straddle("A", 100.0, pd.Timestamp("2024-01-24", tz="UTC")), frame(dates.tz_localize(None)), 0.2
        )
