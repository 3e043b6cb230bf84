"""Malformed calls straight into _core (bypassing the Python layer) must raise, never crash."""

import numpy as np
import pytest

from dispersionkit import _core


def iv_inputs(n):
    return dict(
        price=np.full(n, 10.0),
        spot=np.full(n, 100.0),
        strike=np.full(n, 100.0),
        tau=np.full(n, 1.0),
        rate=np.zeros(n),
        div_yield=np.zeros(n),
        is_call=np.ones(n, bool),
    )


@pytest.mark.parametrize("status", [7, 1.5, object(), b"x" * 100, memoryview(bytearray(200)), [0] * 10])
def test_implied_vol_status_must_be_an_array(status):
    # A non-array status used to be reinterpreted as an ndarray: its dtype read from the wrong
    # object (segfault for ints, bytes, memoryviews).
    n = 10
    with pytest.raises(TypeError, match="status"):
        _core.implied_vol(**iv_inputs(n), out=np.empty(n), status=status, threads=1)


def test_implied_vol_status_array_still_accepted():
    n = 10
    vol, status = np.empty(n), np.empty(n, dtype=np.int8)
    _core.implied_vol(**iv_inputs(n), out=vol, status=status, threads=1)
    _core.implied_vol(**iv_inputs(n), out=vol, status=None, threads=1)
    assert np.isfinite(vol).all()
