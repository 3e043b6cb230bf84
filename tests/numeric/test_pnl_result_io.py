"""PnLResult: save/load bit for bit (special floats included), short reprs; Book shows its legs."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk


@pytest.fixture(scope="module")
def pnl():
    n = 4
    paths = dk.simulate_market(
        np.full(n, 100.0), np.full(n, 0.3), np.full((n, n), 0.4) + 0.6 * np.eye(n), steps=21, paths=30, seed=2
    )
    spots = np.concatenate([paths.index[..., None], paths.components], axis=-1)
    book = dk.straddle(0, 100.0, 0.1, -1.0) + dk.Book([dk.straddle(i, 100.0, 0.1, 0.25) for i in range(1, n + 1)])
    return dk.hedged_pnl(book, spots, np.array([0.22] + [0.3] * n), detail="steps", policy=dk.HedgePolicy(1, None, 1.0))


def bits(array: np.ndarray) -> np.ndarray:
    return array.view(np.uint64) if array.dtype == np.float64 else array


def test_round_trip_is_bit_identical(pnl, tmp_path):
    loaded = dk.PnLResult.load(pnl.save(tmp_path / "pnl"))
    for part in ("summary", "steps"):
        for field in dataclasses.fields(getattr(pnl, part)):
            a, b = getattr(getattr(pnl, part), field.name), getattr(getattr(loaded, part), field.name)
            assert a.dtype == b.dtype and a.shape == b.shape, field.name
            np.testing.assert_array_equal(bits(a), bits(b), err_msg=field.name)
    pd.testing.assert_index_equal(loaded.step_labels, pnl.step_labels, exact=True)
    assert loaded.leg_labels == pnl.leg_labels


def test_special_floats_survive(pnl, tmp_path):
    weird = np.array([np.nan, -0.0, np.inf, -np.inf, 5e-324, np.nextafter(1.0, 2.0)])
    payload = np.frombuffer(np.uint64(0x7FF8_0000_DEAD_BEEF).tobytes(), np.float64)  # a NaN with a payload
    total = pnl.summary.total.copy()
    total[: weird.size] = weird
    total[weird.size] = payload[0]
    odd = dataclasses.replace(pnl, summary=dataclasses.replace(pnl.summary, total=total))
    back = dk.PnLResult.load(odd.save(tmp_path / "odd"))
    np.testing.assert_array_equal(bits(back.summary.total), bits(total))


def test_dated_steps_round_trip(tmp_path):
    dates = pd.bdate_range("2024-01-01", periods=6, name="date")
    spots = pd.DataFrame({"A": np.linspace(100, 105, 6)}, index=dates)
    result = dk.hedged_pnl(dk.straddle("A", 100.0, 0.5), spots, 0.2)
    back = dk.PnLResult.load(result.save(tmp_path / "dated"))
    pd.testing.assert_index_equal(back.step_labels, result.step_labels, exact=True)
    pd.testing.assert_frame_equal(back.to_frame(), result.to_frame())


def test_repr_is_short(pnl):
    text = repr(pnl)
    assert len(text.splitlines()) == 2 and len(text) < 300
    assert "30 paths x 21 steps" in text and "10 legs" in text
    assert "<table" in pnl._repr_html_()


def test_book_shows_its_legs():
    book = dk.straddle("SPX", 4000.0, 0.25, -2.0) + dk.Book([dk.Leg("AAPL", 190.0, 0.25, "put", 3.0)])
    frame = book.to_frame()
    assert list(frame.columns) == ["underlying", "type", "strike", "expiry", "quantity"]
    assert list(frame["type"]) == ["call", "put", "put"] and list(frame["quantity"]) == [-2.0, -2.0, 3.0]
    text = repr(book)
    assert text.startswith("Book(3 legs)") and "AAPL" in text and "SPX" in text
    big = dk.Book([dk.straddle(i, 100.0, 0.5) for i in range(30)])
    assert len(repr(big).splitlines()) < 20 and "..." in repr(big)
    assert "<table" in big._repr_html_()
