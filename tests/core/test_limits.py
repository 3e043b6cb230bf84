"""Limits of the public API at the binding boundary: integers beyond int64 are named errors, empty
date axes give empty results whatever their memory layout, and an expiry too far away to count
in int64 steps never expires within the run."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

BEYOND_INT64 = (2**70, -(2**70))
RETURNS = np.random.default_rng(5).normal(0.0, 0.01, (60, 3))
CORR = np.full((3, 3), 0.3) + 0.7 * np.eye(3)

PUBLIC_INTEGER_ARGUMENTS = {
    "steps": lambda v: dk.simulate_market(np.full(3, 100.0), 0.2, CORR, steps=v, paths=2),
    "paths": lambda v: dk.simulate_market(np.full(3, 100.0), 0.2, CORR, steps=2, paths=v),
    "seed": lambda v: dk.simulate_market(np.full(3, 100.0), 0.2, CORR, steps=2, paths=2, seed=v),
    "first_path": lambda v: dk.simulate_market(np.full(3, 100.0), 0.2, CORR, steps=2, paths=2, first_path=v),
    "window": lambda v: dk.realized_correlation(RETURNS, v),
    "min_periods": lambda v: dk.realized_correlation(RETURNS, 10, min_periods=v),
    "threads": lambda v: dk.bs_price(100.0, 100.0, 1.0, 0.2, threads=v),
    "every": lambda v: dk.HedgePolicy(every=v),
}
THREADED = {
    "bs_greeks": lambda t: dk.bs_greeks(100.0, 100.0, 1.0, 0.2, threads=t),
    "implied_vol": lambda t: dk.implied_vol(10.0, 100.0, 100.0, 1.0, threads=t),
    "realized_vol": lambda t: dk.realized_vol(RETURNS, 10, threads=t),
    "realized_correlation": lambda t: dk.realized_correlation(RETURNS, 10, threads=t),
    "index_variance": lambda t: dk.index_variance(np.full(3, 1 / 3), np.full(3, 0.2), CORR, threads=t),
    "implied_correlation": lambda t: dk.implied_correlation(0.2, np.full(3, 0.3), np.full(3, 1 / 3), threads=t),
    "simulate_market": lambda t: dk.simulate_market(np.full(3, 100.0), 0.2, CORR, steps=2, paths=2, threads=t),
    "hedged_pnl": lambda t: dk.hedged_pnl(dk.straddle(0, 100.0, 0.5, 1.0), np.full((3, 1), 100.0), 0.2, threads=t),
}


@pytest.mark.parametrize("value", BEYOND_INT64)
@pytest.mark.parametrize("name", sorted(PUBLIC_INTEGER_ARGUMENTS))
def test_integers_beyond_int64_are_named_errors(name, value):
    with pytest.raises(ValueError, match=rf"^{name}: must be") as error:
        PUBLIC_INTEGER_ARGUMENTS[name](value)
    assert "incompatible function arguments" not in str(error.value)


@pytest.mark.parametrize("name", sorted(THREADED))
def test_threads_limits_are_checked_in_python(name):
    call = THREADED[name]
    for value in BEYOND_INT64:
        with pytest.raises(ValueError, match=r"^threads: must be"):
            call(value)
    with pytest.raises(TypeError, match=r"^threads: expected"):
        call(2.0)
    call(10**6)  # any count up to MAX_THREADS is accepted


def layouts(rows, cols):
    """Empty (rows = 0) arrays as NumPy may hand them over: C, Fortran, sliced, transposed, broadcast."""
    yield "C", np.zeros((rows, cols))
    yield "F", np.asfortranarray(np.zeros((rows, cols)))
    yield "strided", np.zeros((rows, 2 * cols))[:, ::2]
    yield "transposed", np.zeros((cols, rows)).T
    yield "broadcast", np.broadcast_to(np.zeros(cols), (rows, cols))


@pytest.mark.parametrize("layout", [name for name, _ in layouts(0, 3)])
def test_empty_date_axes_give_empty_results_whatever_the_layout(layout):
    vols = dict(layouts(0, 3))[layout]
    weights = np.full(3, 1 / 3)
    assert dk.index_variance(weights, vols, CORR).shape == (0,)
    assert dk.index_variance(np.broadcast_to(weights, (0, 3)), vols, CORR).shape == (0,)
    assert dk.index_variance(weights, vols, np.zeros((0, 3, 3))).shape == (0,)
    assert dk.index_variance(weights, vols, np.stack([CORR, CORR]), scenarios=True).shape == (2, 0)
    assert dk.implied_correlation(np.zeros(0), vols, weights).value.shape == (0,)
    assert dk.breakeven_correlation(np.zeros(0), vols, weights).value.shape == (0,)
    assert dk.realized_vol(vols, 5).shape == (0, 3)
    assert dk.realized_correlation(vols, 5).shape == (0,)
    assert dk.realized_correlation(vols, 5, method="implied_formula").shape == (0,)
    assert dk.realized_correlation(vols, 5, method="matrix").shape == (0, 3, 3)
    frame = pd.DataFrame(vols, columns=list("ABC"), index=pd.DatetimeIndex([]))
    assert dk.index_variance(weights, frame, CORR).shape == (0,)


def test_expiries_beyond_int64_steps_never_expire_within_the_run():
    # 1e300 years / dt used to overflow the int64 step count into a leg expiring at step 1.
    spots = np.linspace(100.0, 105.0, 6)[:, None]
    far = dk.hedged_pnl(dk.Book([dk.Leg(0, 100.0, 1e300, True, 1.0)]), spots, 0.2)
    assert (far.steps.option_mtm != 0.0).all()  # alive (marked) at every step, never settled
    assert np.isfinite(far.summary.total).all()
