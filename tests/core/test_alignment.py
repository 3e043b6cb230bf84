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
    rolling = dict(window=20, min_periods=20, threads=1)
    with pytest.raises(ValueError, match="returns: not aligned"):
        _core.rolling_std(returns=unaligned(returns), scale=1.0, out=out, **rolling)
    with pytest.raises(ValueError, match="out: not aligned"):
        _core.rolling_std(returns=returns, scale=1.0, out=unaligned(out), **rolling)
    with pytest.raises(ValueError, match="returns: not aligned"):
        _core.rolling_pairwise_corr(returns=unaligned(returns), weights=None, avg=np.empty(300), matrix=None, **rolling)
    n = returns.shape[1]
    with pytest.raises(ValueError, match="vols: not aligned"):
        _core.quadform_shared(
            corr=np.eye(n)[None], weights=returns, vols=unaligned(returns), out=np.empty((1, 300)), threads=1
        )
    with pytest.raises(ValueError, match="corr: not aligned"):
        _core.symmetry_gap(corr=unaligned(np.eye(n)[None]), threads=1)
    with pytest.raises(ValueError, match="corr: not aligned"):
        _core.quadform_per_date(
            corr=unaligned(np.broadcast_to(np.eye(n), (300, n, n))),
            weights=returns,
            vols=returns,
            out=np.empty(300),
            threads=1,
        )
    with pytest.raises(ValueError, match="index_vol: not aligned"):
        _core.equicorrelation(
            index_vol=unaligned(np.full(300, 0.2)), vols=returns, weights=returns, out=np.empty(300), threads=1
        )


def test_public_api_copies_unaligned_input(returns):
    np.testing.assert_array_equal(dk.realized_vol(unaligned(returns), 20), dk.realized_vol(returns, 20))
    np.testing.assert_array_equal(dk.realized_correlation(unaligned(returns), 20), dk.realized_correlation(returns, 20))


def test_strided_kernels_gather_unaligned_input():
    rng = np.random.default_rng(4)
    n = 1000
    inputs = dict(
        spot=rng.uniform(50, 150, n),
        strike=rng.uniform(50, 150, n),
        tau=rng.uniform(0.1, 2, n),
        vol=rng.uniform(0.1, 0.5, n),
        rate=np.full(n, 0.01),
        div_yield=np.zeros(n),
        is_call=np.ones(n, bool),
    )
    want, got = dk.Greeks.empty(n), dk.Greeks.empty(n)
    _core.bs_greeks(**inputs, out=want, threads=1)
    # is_call is bytes (no alignment to break); every float64 input is unaligned.
    moved = {name: unaligned(x) if x.dtype == np.float64 else x for name, x in inputs.items()}
    _core.bs_greeks(**moved, out=got, threads=1)
    for w, g in zip(want.arrays(), got.arrays()):
        np.testing.assert_array_equal(g, w)
