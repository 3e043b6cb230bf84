"""Arrays that went through pickle (Dask workers, multiprocessing, joblib) carry a float64
dtype equal to, but not the same object as, NumPy's: the core must accept them."""

import pickle

import numpy as np

import dispersionkit as dk


def unpickled(values):
    array = pickle.loads(pickle.dumps(np.asarray(values, dtype=np.float64)))
    assert array.dtype == np.float64 and array.dtype is not np.dtype(np.float64)
    return array


def test_kernels_accept_unpickled_float64_arrays():
    spot = unpickled(np.linspace(80, 120, 5))
    assert np.array_equal(dk.bs_price(spot, 100.0, 0.25, 0.2), dk.bs_price(np.linspace(80, 120, 5), 100.0, 0.25, 0.2))
    strikes = unpickled(np.linspace(50, 150, 20))
    assert (
        dk.variance_swap_strike(strikes, 0.2, 100.0, 0.25).strike
        == dk.variance_swap_strike(np.linspace(50, 150, 20), 0.2, 100.0, 0.25).strike
    )
    book = dk.straddle(0, 100.0, 0.25, 1.0) + dk.straddle(1, 100.0, 0.25, -1.0)
    spots = np.full((3, 2), 100.0)
    result = dk.hedged_pnl(book, unpickled(spots), 0.2, div_yield=unpickled([0.0, 0.01]))
    assert np.isfinite(result.summary.total).all()


def test_book_risk_setup_survives_pickle(synthetic_market):
    market = synthetic_market(n_dates=120, seed=2)
    position = dk.DispersionTrade().position(market, market.dates[80])
    setup = dk.prepare_book_risk(position, market, scenario=["base", "correlation 0.9"])
    shipped = pickle.loads(pickle.dumps(setup))
    chunk = pickle.loads(pickle.dumps(shipped.run_paths(10, 20)))
    np.testing.assert_array_equal(chunk.pnl, setup.run_paths(10, 20).pnl)
    assert setup.combine([setup.run_paths(0, 10), chunk]).paths == 30
