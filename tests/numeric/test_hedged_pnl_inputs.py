"""Bad input to Leg, Book, HedgePolicy and hedged_pnl: named errors, never a crash."""

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

SPOTS = np.full((6, 2), 100.0)
BOOK = dk.straddle(0, 100.0, 0.25, 1.0)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((-1, 100.0, 0.25), ValueError, "underlying"),
        ((1.5, 100.0, 0.25), TypeError, "underlying"),
        ((0, 0.0, 0.25), ValueError, "strike"),
        ((0, np.nan, 0.25), ValueError, "strike"),
        ((0, "100", 0.25), TypeError, "strike"),
        ((0, 100.0, 0.0), ValueError, "expiry"),
        ((0, 100.0, -0.1), ValueError, "expiry"),
        ((0, 100.0, 0.25, "straddle"), ValueError, "is_call"),
        ((0, 100.0, 0.25, 1), TypeError, "is_call"),
        ((0, 100.0, 0.25, True, np.inf), ValueError, "quantity"),
    ],
)
def test_leg_rejects(args, error, match):
    with pytest.raises(error, match=match):
        dk.Leg(*args)


def test_short_legs_are_allowed_and_puts_by_word():
    leg = dk.Leg(0, 100.0, 0.25, "put", -3.0)
    assert leg.quantity == -3.0 and leg.is_call is False


def test_book_rejects_empty_and_foreign_items():
    with pytest.raises(ValueError, match="legs"):
        dk.Book([])
    with pytest.raises(TypeError, match="legs"):
        dk.Book([1])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(every=0), ValueError, "every"),
        (dict(every=1.5), TypeError, "every"),
        (dict(band=-1.0), ValueError, "band"),
        (dict(every=None), ValueError, "every and band"),
        (dict(hedge_cost_bps=-1.0), ValueError, "hedge_cost_bps"),
        (dict(option_half_spread=np.nan), ValueError, "option_half_spread"),
        (dict(hedge_instrument="futures"), ValueError, "hedge_instrument"),
    ],
)
def test_policy_rejects(kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.HedgePolicy(**kwargs)


@pytest.mark.parametrize(
    "book, spots, vols, kwargs, error, match",
    [
        (dk.straddle(2, 100.0, 0.25), SPOTS, 0.2, {}, ValueError, "underlying: column 2"),
        (dk.straddle("MSFT", 100.0, 0.25), SPOTS, 0.2, dict(names=["A", "B"]), ValueError, "'MSFT'"),
        (dk.straddle("A", 100.0, 0.25), SPOTS, 0.2, {}, ValueError, "no column names"),
        (dk.straddle(0, 100.0, dt.date(2024, 1, 1)), SPOTS, 0.2, {}, ValueError, "no dates"),
        (
            dk.straddle(0, 100.0, dt.date(2023, 12, 1)),
            SPOTS,
            0.2,
            dict(dates=pd.bdate_range("2024-01-02", periods=6)),
            ValueError,
            "not after the first date",
        ),
        (
            BOOK,
            np.where(np.arange(12).reshape(6, 2) == 7, np.nan, SPOTS),
            0.2,
            {},
            ValueError,
            "path 0, step 3, underlying 1",
        ),
        (BOOK, -SPOTS, 0.2, {}, ValueError, "spots"),
        (BOOK, SPOTS[:1], 0.2, {}, ValueError, "two dates"),
        (BOOK, SPOTS[0], 0.2, {}, ValueError, "spots: expected shape"),
        (BOOK, SPOTS.astype(str), 0.2, {}, TypeError, "spots"),
        (BOOK, SPOTS, np.full((5, 2), 0.2), {}, ValueError, "vols: shape"),
        (BOOK, SPOTS, np.full((6, 3), 0.2), {}, ValueError, "vols: shape"),
        (BOOK, SPOTS, -0.2, {}, ValueError, "vols"),
        (BOOK, SPOTS, np.nan, {}, ValueError, "vols"),
        (BOOK, SPOTS, 0.2, dict(vols_by="strike"), ValueError, "vols_by"),
        (BOOK, SPOTS, 0.2, dict(dt=0.0), ValueError, "dt"),
        (BOOK, SPOTS, 0.2, dict(rate=np.nan), ValueError, "rate"),
        (BOOK, SPOTS, 0.2, dict(div_yield=[0.1, 0.2, 0.3]), ValueError, "div_yield"),
        (BOOK, SPOTS, 0.2, dict(detail="everything"), ValueError, "detail"),
        (BOOK, SPOTS, 0.2, dict(threads=0), ValueError, "threads"),
        (BOOK, SPOTS, 0.2, dict(policy="daily"), TypeError, "policy"),
        (BOOK, SPOTS, 0.2, dict(names=["A"]), ValueError, "names"),
        (BOOK.legs, SPOTS, 0.2, {}, TypeError, "book"),
    ],
)
def test_hedged_pnl_rejects(book, spots, vols, kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.hedged_pnl(book, spots, vols, **kwargs)
    if "threads" not in kwargs:  # the NumPy twin accepts and ignores threads
        with pytest.raises(error, match=match):
            dk.reference.hedged_pnl(book, spots, vols, **kwargs)


def test_to_frame_needs_steps_and_a_valid_path():
    result = dk.hedged_pnl(BOOK, np.stack([SPOTS, SPOTS]), 0.2)
    with pytest.raises(ValueError, match="detail='steps'"):
        result.to_frame()
    stepped = dk.hedged_pnl(BOOK, np.stack([SPOTS, SPOTS]), 0.2, detail="steps")
    with pytest.raises(IndexError, match="path"):
        stepped.to_frame(path=2)


def test_core_rejects_out_of_range_indices_without_crashing():
    # The binding re-checks what the Python layer validated: a direct call with a bad leg raises.
    from dispersionkit import _core

    spots = np.full((1, 3, 1), 100.0)
    vols = np.full((1, 3, 1), 0.2)
    rules = _core.HedgeRules(hedge=True, every=1, band=None, cost_bps=0.0, half_spread_vol=0.0)
    terms = dict(strike=np.array([100.0]), expiry=np.array([0.1]), is_call=np.ones(1), quantity=np.ones(1))
    for field, bad in (("underlying", 1), ("vol_column", 1), ("expiry_step", 0)):
        index = dict(
            underlying=np.zeros(1, np.int64), vol_column=np.zeros(1, np.int64), expiry_step=np.ones(1, np.int64)
        )
        index[field] = np.array([bad], dtype=np.int64)
        with pytest.raises(ValueError, match=f"legs.{field}"):
            _core.hedged_pnl(
                legs=SimpleNamespace(**index, **terms),
                spots=spots,
                vols=vols,
                div_yield=np.zeros(1),
                rate=0.0,
                dt=0.01,
                rules=rules,
                summary=np.empty((len(_core.PNL_SUMMARY_ROWS), 1)),
                leg_gamma_theta=np.empty((1, 1)),
                steps=None,
                leg_steps=None,
                threads=1,
            )


def test_core_propagates_nan_spots_without_crashing():
    # hedged_pnl refuses NaN spots; the kernel itself must still propagate them, not crash.
    from dispersionkit import _core

    spots = np.full((2, 4, 1), 100.0)
    spots[1, 2, 0] = np.nan
    vols = np.full((2, 4, 1), 0.2)
    summary, legs = np.empty((len(_core.PNL_SUMMARY_ROWS), 2)), np.empty((2, 1))
    leg = SimpleNamespace(
        underlying=np.zeros(1, np.int64),
        vol_column=np.zeros(1, np.int64),
        expiry_step=np.array([50], np.int64),
        strike=np.array([100.0]),
        expiry=np.array([0.2]),
        is_call=np.ones(1),
        quantity=np.ones(1),
    )
    _core.hedged_pnl(
        legs=leg,
        spots=spots,
        vols=vols,
        div_yield=np.zeros(1),
        rate=0.0,
        dt=0.01,
        rules=_core.HedgeRules(hedge=True, every=1, band=None, cost_bps=0.0, half_spread_vol=0.0),
        summary=summary,
        leg_gamma_theta=legs,
        steps=None,
        leg_steps=None,
        threads=1,
    )
    assert np.isfinite(summary[:, 0]).all()
    assert np.isnan(summary[0, 1]) and np.isnan(legs[1, 0])


def test_vols_frame_must_carry_the_spots_columns_and_dates():
    dates = pd.bdate_range("2021-01-04", periods=5)
    spots = pd.DataFrame({"A": [100, 101, 102, 101, 100.0], "B": [50, 50.5, 51, 50, 49.0]}, index=dates)
    vols = pd.DataFrame({"A": 0.2, "B": 0.4}, index=dates)
    book = dk.straddle("A", 100.0, 0.1)
    with pytest.raises(ValueError, match=r"vols: columns \['B', 'A'\] differ from the spot names \['A', 'B'\]"):
        dk.hedged_pnl(book, spots, vols[["B", "A"]])
    with pytest.raises(ValueError, match="vols: its dates differ"):
        dk.hedged_pnl(book, spots, vols.set_axis(dates + pd.Timedelta(days=1)))
    by_frame = dk.hedged_pnl(book, spots, vols).summary.total
    np.testing.assert_array_equal(by_frame, dk.hedged_pnl(book, spots, vols.to_numpy()).summary.total)
