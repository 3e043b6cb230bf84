"""Malformed calls straight into _core (bypassing the Python layer) must raise, never crash."""

import numpy as np
import pytest

from dispersionkit import _core


@pytest.mark.parametrize("status", [7, 1.5, object(), b"x" * 100, memoryview(bytearray(200)), [0] * 10])
def test_implied_vol_status_must_be_an_array(status):
    # A non-array status used to be reinterpreted as an ndarray: its dtype read from the wrong
    # object (segfault for ints, bytes, memoryviews).
    n = 10
    inputs = [
        np.full(n, 10.0),
        np.full(n, 100.0),
        np.full(n, 100.0),
        np.full(n, 1.0),
        np.zeros(n),
        np.zeros(n),
        np.ones(n),
    ]
    with pytest.raises(TypeError):
        _core.implied_vol(inputs, np.empty(n), status, 1)


def test_implied_vol_status_array_still_accepted():
    n = 10
    inputs = [
        np.full(n, 10.0),
        np.full(n, 100.0),
        np.full(n, 100.0),
        np.full(n, 1.0),
        np.zeros(n),
        np.zeros(n),
        np.ones(n),
    ]
    vol, status = np.empty(n), np.empty(n, dtype=np.int8)
    _core.implied_vol(inputs, vol, status, 1)
    _core.implied_vol(inputs, vol, None, 1)
    assert np.isfinite(vol).all()
