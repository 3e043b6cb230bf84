"""Buffers NumPy flags unaligned (np.frombuffer at an odd offset): the core must not read them
through double pointers (undefined behaviour, reported by the UBSan build). Bindings that
take contiguous arrays raise; the public API copies such input; strided inputs are gathered."""

import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import _core


def unaligned(values):
    values = np.asarray(values, dtype=np.float64)
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    array = np.ndarray(values.shape, dtype=np.float64, buffer=raw.data, offset=1)
    array[...] = values
    assert not array.flags.aligned and array.flags.c_contiguous
    return array


@pytest.fixture
def returns():
    return np.random.default_rng(3).normal(0.0, 0.01, size=(300, 4))


def test_contiguous_bindings_reject_unaligned_arrays(returns):
    out = np.empty_like(returns)
    with pytest.raises(ValueError, match="returns: not aligned"):
        _core.rolling_std(unaligned(returns), 20, 20, 1.0, out, 1)
    with pytest.raises(ValueError, match="out: not aligned"):
        _core.rolling_std(returns, 20, 20, 1.0, unaligned(out), 1)
    with pytest.raises(ValueError, match="returns: not aligned"):
        _core.rolling_pairwise_corr(unaligned(returns), 20, 20, None, np.empty(300), None, 1)
    n = returns.shape[1]
    with pytest.raises(ValueError, match="u: not aligned"):
        _core.quadform_shared(np.eye(n)[None], unaligned(returns), np.empty((1, 300)), 1)
    with pytest.raises(ValueError, match="corr: not aligned"):
        _core.quadform_per_date(unaligned(np.broadcast_to(np.eye(n), (300, n, n))), returns, np.empty(300), 1)
    with pytest.raises(ValueError, match="index_vol: not aligned"):
        _core.equicorrelation(unaligned(np.full(300, 0.2)), returns, returns, np.empty(300), 1)


def test_public_api_copies_unaligned_input(returns):
    np.testing.assert_array_equal(dk.realized_vol(unaligned(returns), 20), dk.realized_vol(returns, 20))
    np.testing.assert_array_equal(dk.realized_correlation(unaligned(returns), 20), dk.realized_correlation(returns, 20))


def test_strided_kernels_gather_unaligned_input():
    rng = np.random.default_rng(4)
    n = 1000
    cols = [
        rng.uniform(50, 150, n),
        rng.uniform(50, 150, n),
        rng.uniform(0.1, 2, n),
        rng.uniform(0.1, 0.5, n),
        np.full(n, 0.01),
        np.zeros(n),
        np.ones(n),
    ]
    want = [np.empty(n) for _ in range(10)]
    got = [np.empty(n) for _ in range(10)]
    _core.bs_greeks(cols, want, 1)
    _core.bs_greeks([unaligned(c) for c in cols], got, 1)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)
