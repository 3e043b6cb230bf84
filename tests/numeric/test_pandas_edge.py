"""pandas at the kernel edge: labelled inputs give labelled outputs, labels are never realigned
silently, option types come as pandas string or categorical columns."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk


@pytest.fixture
def chain():
    index = pd.Index(["AAPL 190C", "AAPL 190P", "MSFT 420C", "MSFT 400P"], name="contract")
    return pd.DataFrame(
        {
            "spot": [190.0, 190.0, 415.0, 415.0],
            "strike": [190.0, 190.0, 420.0, 400.0],
            "tau": [0.25, 0.25, 0.5, 0.5],
            "vol": [0.25, 0.27, 0.22, 0.24],
            "type": pd.Categorical(["call", "put", "C", "p"]),
        },
        index=index,
    )


def test_bs_price_and_greeks_keep_the_labels(chain):
    price = dk.bs_price(chain.spot, chain.strike, chain.tau, chain.vol, 0.03, 0.0, chain.type)
    assert isinstance(price, pd.Series) and price.name == "price" and price.index.equals(chain.index)
    flags = np.array([True, False, True, False])
    plain = dk.bs_price(chain.spot.to_numpy(), chain.strike.to_numpy(), chain.tau.to_numpy(), chain.vol.to_numpy(),
                        0.03, 0.0, flags)  # fmt: skip
    np.testing.assert_array_equal(price.to_numpy(), plain)
    g = dk.bs_greeks(chain.spot, chain.strike, chain.tau, chain.vol, 0.03, 0.0, chain.type)
    assert isinstance(g.delta, pd.Series) and g.delta.index.equals(chain.index)
    frame = g.to_frame()
    assert list(frame.columns) == ["price", "delta", "gamma", "vega", "theta", "rho", "epsilon", "vanna", "volga",
                                   "charm"]  # fmt: skip
    assert frame.index.equals(chain.index) and frame.loc["AAPL 190P", "delta"] < 0 < frame.loc["AAPL 190C", "delta"]
    np.testing.assert_array_equal(frame["price"].to_numpy(), plain)


def test_implied_vol_round_trips_with_labels(chain):
    price = dk.bs_price(chain.spot, chain.strike, chain.tau, chain.vol, 0.03, 0.0, chain.type)
    vol = dk.implied_vol(price, chain.spot, chain.strike, chain.tau, 0.03, 0.0, chain.type)
    assert isinstance(vol, pd.Series) and vol.name == "implied_vol" and vol.index.equals(chain.index)
    np.testing.assert_allclose(vol, chain.vol, rtol=1e-12)
    with_status = dk.implied_vol(price, chain.spot, chain.strike, chain.tau, 0.03, 0.0, chain.type, return_status=True)
    assert with_status.vol.index.equals(chain.index)


def test_dataframes_in_dataframes_out():
    dates = pd.bdate_range("2024-01-01", periods=3, name="date")
    spots = pd.DataFrame({"A": [100.0, 101.0, 99.0], "B": [50.0, 51.0, 52.0]}, index=dates)
    price = dk.bs_price(spots, 100.0, 0.25, 0.2)
    assert isinstance(price, pd.DataFrame) and price.index.equals(dates) and list(price.columns) == ["A", "B"]
    g = dk.bs_greeks(spots, 100.0, 0.25, 0.2)
    assert isinstance(g.vega, pd.DataFrame)
    assert g.to_frame()[("delta", "B")].equals(g.delta["B"])


def test_differently_labelled_inputs_are_an_error(chain):
    shuffled = chain.strike.iloc[::-1]
    with pytest.raises(ValueError, match="strike: its labels differ from spot's"):
        dk.bs_price(chain.spot, shuffled, 0.25, 0.2)


def test_option_types_as_pandas_columns():
    types = pd.Series(["c", "P", "Call", "put"], dtype="string")
    price = dk.bs_price(100.0, 100.0, 0.5, 0.2, 0.0, 0.0, types)
    np.testing.assert_array_equal(price.to_numpy()[[0, 2]], dk.bs_price(100.0, 100.0, 0.5, 0.2, 0.0, 0.0, True))
    np.testing.assert_array_equal(price.to_numpy()[[1, 3]], dk.bs_price(100.0, 100.0, 0.5, 0.2, 0.0, 0.0, False))
    with pytest.raises(ValueError, match="is_call: expected 'call'/'put'"):
        dk.bs_price(100.0, 100.0, 0.5, 0.2, 0.0, 0.0, pd.Series(["call", None], dtype=object))
    with pytest.raises(ValueError, match="is_call: expected 'call'/'put'"):
        dk.bs_price(100.0, 100.0, 0.5, 0.2, 0.0, 0.0, pd.Categorical(["call", "straddle"]))


def test_arrays_in_arrays_out():
    assert isinstance(dk.bs_price(np.array([100.0]), 100.0, 0.5, 0.2), np.ndarray)
    assert isinstance(dk.bs_greeks(np.array([100.0]), 100.0, 0.5, 0.2).price, np.ndarray)
    frame = dk.bs_greeks(np.array([90.0, 110.0]), 100.0, 0.5, 0.2).to_frame()
    assert list(frame.index) == [0, 1]


def test_realized_correlation_series_has_a_name():
    rng = np.random.default_rng(0)
    returns = pd.DataFrame(rng.normal(0, 0.01, (80, 3)), index=pd.bdate_range("2024-01-01", periods=80),
                           columns=list("XYZ"))  # fmt: skip
    assert dk.realized_correlation(returns, 21).name == "realized_correlation_pairwise_21d"
