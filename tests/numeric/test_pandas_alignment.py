"""pandas inputs whose labels disagree are errors, not silently paired by position."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

NAMES = ["AAA", "BBB", "CCC"]
DATES = pd.bdate_range("2021-01-04", periods=4)


def test_weights_ordered_differently_from_vols_raise():
    weights = pd.Series([0.5, 0.3, 0.2], index=NAMES)
    vols = pd.Series([0.4, 0.3, 0.2], index=NAMES[::-1])
    with pytest.raises(ValueError, match="weights: its names differ from vols"):
        dk.implied_correlation(0.2, vols, weights)
    with pytest.raises(ValueError, match="vols: its names differ from weights"):
        dk.index_vol(weights, vols, np.eye(3))
    aligned = dk.implied_correlation(0.2, vols.reindex(NAMES), weights).value
    expected = dk.implied_correlation(0.2, vols.reindex(NAMES).to_numpy(), weights.to_numpy()).value
    assert aligned == expected


def test_index_vol_on_other_dates_than_vols_raises():
    vols = pd.DataFrame(0.3, index=DATES, columns=NAMES)
    index_vol = pd.Series(0.2, index=DATES + pd.Timedelta(days=365))
    with pytest.raises(ValueError, match="vols: its dates differ from index_vol"):
        dk.implied_correlation(index_vol, vols, pd.Series(1 / 3, index=NAMES))
    corr = pd.DataFrame(np.eye(3), index=NAMES[::-1], columns=NAMES[::-1])
    with pytest.raises(ValueError, match="corr: its names differ"):
        dk.index_variance(pd.Series(1 / 3, index=NAMES), vols, corr)


def test_realized_correlation_checks_weights_and_index_dates():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2021-01-04", periods=30)
    returns = pd.DataFrame(rng.normal(0, 0.01, (30, 3)), index=dates, columns=NAMES)
    with pytest.raises(ValueError, match="weights: its names differ from returns"):
        dk.realized_correlation(returns, 10, weights=pd.Series([0.5, 0.3, 0.2], index=NAMES[::-1]))
    shifted = pd.Series(returns.mean(axis=1).to_numpy(), index=dates + pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="index_returns: its dates differ from returns"):
        dk.realized_correlation(returns, 10, method="implied_formula", index_returns=shifted)
    same = returns.mean(axis=1)
    assert dk.realized_correlation(returns, 10, method="implied_formula", index_returns=same).index.equals(dates)


def test_correlation_matrix_and_weights_with_other_names_raise():
    corr = pd.DataFrame([[1.0, 0.2, 0.4], [0.2, 1.0, 0.6], [0.4, 0.6, 1.0]], index=NAMES, columns=NAMES)
    weights = pd.Series([0.6, 0.3, 0.1], index=NAMES[::-1])
    with pytest.raises(ValueError, match="weights: its names differ from corr"):
        dk.average_correlation(corr, weights)
    with pytest.raises(ValueError, match="weights: its names differ from corr"):
        dk.stress_correlation(corr, 0.9, weights)
    aligned = weights.reindex(NAMES)
    assert dk.average_correlation(corr, aligned) == pytest.approx(
        dk.average_correlation(corr.to_numpy(), aligned.to_numpy())
    )


@pytest.mark.parametrize("bad, error", [("x", TypeError), (None, TypeError), (np.inf, ValueError), (0, ValueError)])
def test_realized_vol_annualization_errors_name_it(bad, error):
    with pytest.raises(error, match="annualization"):
        dk.realized_vol(np.zeros((10, 2)), 5, annualization=bad)
