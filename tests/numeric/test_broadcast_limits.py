"""Broadcast inputs are validated on their distinct elements; impossible sizes fail at once.

A scalar broadcast to 2**40 paths or dates is one value: checks on it must not scan 2**40
elements, and an output or contiguous copy that cannot fit in memory must be a ValueError
naming the argument before any O(size) work (it used to scan for hours, then fail or be
killed).
"""

import time

import numpy as np
import pytest

import dispersionkit as dk
import dispersionkit._validation as validation

HUGE = 2**40


def test_broadcast_inputs_are_checked_once_and_impossible_sizes_fail_at_once(monkeypatch):
    one = np.full((1, 4, 2), 100.0)
    book = dk.straddle(0, 100.0, 0.25)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"spots: shape \(1099511627776, 4, 2\) needs 64 TiB, more than this machine"):
        dk.hedged_pnl(book, np.broadcast_to(one, (2**40, 4, 2)), np.broadcast_to(0.2, (2**40, 4, 2)))
    assert time.perf_counter() - start < 5.0  # it used to scan all 2**43 spots first
    # A moderate broadcast runs, and its validation still finds a bad value without scanning paths.
    paths = 2**14
    vols = np.broadcast_to(np.array([0.2, 0.3]), (paths, 4, 2))
    broadcast = dk.hedged_pnl(book, np.broadcast_to(one, (paths, 4, 2)), vols)
    np.testing.assert_array_equal(broadcast.summary.total, dk.hedged_pnl(book, one, [0.2, 0.3]).summary.total[0])
    bad = np.array([0.2, -0.3])
    with pytest.raises(ValueError, match=r"vols: -0\.3 found"):
        dk.hedged_pnl(book, np.broadcast_to(one, (paths, 4, 2)), np.broadcast_to(bad, (paths, 4, 2)))
    # Outputs are sized before they are allocated: on a machine with 4 MiB, detail="steps" does not fit.

    monkeypatch.setattr(validation, "physical_memory", lambda: 4 * 2**20)
    spots = np.full((paths, 4, 2), 100.0)
    dk.hedged_pnl(book, spots, 0.2, detail="summary")
    with pytest.raises(ValueError, match=r"detail='steps': the per-step outputs of \(paths, steps, legs\)"):
        dk.hedged_pnl(book, spots, 0.2, detail="steps")


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: dk.implied_correlation(
                np.broadcast_to(0.2, (HUGE,)), np.broadcast_to([0.3, 0.3], (HUGE, 2)), [0.5, 0.5]
            ),
            r"index_vol, vols, weights: one correlation per date: shape \(1099511627776,\) needs 8 TiB",
        ),
        (
            lambda: dk.index_variance([0.5, 0.5], np.broadcast_to([0.3, 0.3], (HUGE, 2)), np.eye(2)),
            r"one variance per scenario and date: shape \(1, 1099511627776\) needs 8 TiB",
        ),
        (lambda: dk.realized_vol(np.broadcast_to([0.01, 0.02], (HUGE, 2)), 20), r"returns: shape \(1099511627776, 2\)"),
        (lambda: dk.realized_correlation(np.broadcast_to([0.01, 0.02], (HUGE, 2)), 20), r"returns: shape"),
        (
            lambda: dk.average_correlation(np.broadcast_to(np.eye(3), (HUGE, 3, 3))),
            r"corr: shape \(1099511627776, 3, 3\)",
        ),
    ],
)
def test_correlation_functions_reject_impossible_sizes_at_once(call, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        call()
    assert time.perf_counter() - start < 5.0


def test_rows_repeated_over_dates_are_neither_scanned_nor_copied():
    T = 2**16
    vols = np.broadcast_to([0.3, 0.3], (T, 2))
    est = dk.implied_correlation(np.broadcast_to(0.2, (T,)), vols, [0.5, 0.5])
    assert est.value.shape == (T,)
    np.testing.assert_array_equal(est.value, dk.implied_correlation(0.2, [0.3, 0.3], [0.5, 0.5]).value)
    np.testing.assert_array_equal(dk.index_variance([0.5, 0.5], vols, np.eye(2)), np.full(T, 0.045))
    with pytest.raises(ValueError, match="vols: must be >= 0"):
        dk.implied_correlation(0.2, np.broadcast_to([0.3, -0.3], (T, 2)), [0.5, 0.5])
    # A name axis broadcast from one value keeps its names.
    assert dk.implied_correlation(0.2, np.broadcast_to(0.3, (2,)), np.broadcast_to(0.5, (2,))).value == pytest.approx(
        (0.04 - 0.045) / 0.045
    )
