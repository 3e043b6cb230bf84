import numpy as np
import pytest

import dispersionkit as dk

DATE = "2020-03-02"


@pytest.fixture(scope="module")
def position(synthetic_market):
    return dk.DispersionTrade().position(synthetic_market(), DATE)


def test_current_correlation_and_zero_shocks_reprice_to_zero(position):
    result = dk.stress_grid(position, [0.0], [0.0], None)
    assert result.current_correlation == pytest.approx(0.6, abs=1e-12)
    assert result.index_vols[0, 0] == pytest.approx(position.index_vol, rel=1e-14)
    assert abs(result.pnl[0, 0, 0]) < 1e-9 * position.premium
    assert result.base_value == pytest.approx(position.value, rel=1e-12)
    # The same point inside a larger grid.
    grid = dk.stress_grid(position, [-0.1, 0.0, 0.1], [-0.05, 0.0], [0.2, result.current_correlation, 0.95])
    assert abs(grid.pnl[1, 1, 1]) < 1e-9 * position.premium


def test_correlation_up_hurts_long_dispersion_and_matches_index_vol(position):
    result = dk.stress_grid(position, [0.0], [0.0, 0.05], [0.3, 0.6, 0.9, 0.95])
    assert np.all(np.diff(result.pnl[0], axis=1) < 0)
    assert result.pnl[0, 0, 0] > 0 > result.pnl[0, 0, 3]
    w = position.weights.to_numpy()
    for j, shock in enumerate([0.0, 0.05]):
        for k, c in enumerate([0.3, 0.6, 0.9, 0.95]):
            u = w * (position.vols.to_numpy() + shock)
            expected = np.sqrt(np.sum(u * u) + c * (np.sum(u) ** 2 - np.sum(u * u)))
            assert result.index_vols[j, k] == pytest.approx(expected, rel=1e-12)


def test_each_point_is_a_full_repricing(position):
    result = dk.stress_grid(position, [-0.2, 0.15], [0.03], [0.9])
    legs = position.legs
    is_index = position.index_mask()
    for i, s in enumerate([-0.2, 0.15]):
        vol = np.where(is_index, result.index_vols[0, 0], legs["vol"].to_numpy() + 0.03)
        prices = dk.reference.bs_price(
            legs["spot"].to_numpy() * (1 + s),
            legs["strike"].to_numpy(),
            legs["tau"].to_numpy(),
            vol,
            0.0,
            0.0,
            legs["is_call"].to_numpy(),
        )
        expected = prices @ legs["quantity"].to_numpy() - position.value
        assert result.pnl[i, 0, 0] == pytest.approx(expected, rel=1e-10, abs=1e-8 * position.premium)


def test_core_matches_reference_and_threads_are_bit_identical(position):
    args = (np.linspace(-0.3, 0.3, 13), np.linspace(-0.1, 0.2, 7), np.linspace(0.0, 0.95, 5))
    one = dk.stress_grid(position, *args, threads=1)
    two = dk.stress_grid(position, *args, threads=2)
    ref = dk.reference.stress_grid(position, *args)
    np.testing.assert_array_equal(one.pnl, two.pnl)
    np.testing.assert_allclose(one.pnl, ref.pnl, rtol=1e-10, atol=1e-9 * position.premium)
    frame = one.to_frame()
    assert len(frame) == 13 * 7 * 5
    assert frame["pnl"].min() == one.worst()["pnl"]


def test_trade_stress_and_bad_grids(synthetic_market, position):
    market = synthetic_market()
    via_trade = dk.DispersionTrade().stress(market, DATE, [0.0, 0.1], [0.0], [0.9])
    np.testing.assert_allclose(via_trade.pnl, dk.stress_grid(position, [0.0, 0.1], [0.0], [0.9]).pnl)
    with pytest.raises(ValueError, match="corr_levels"):
        dk.stress_grid(position, [0.0], [0.0], [1.2])
    with pytest.raises(ValueError, match="spot_shocks"):
        dk.stress_grid(position, [-1.0], [0.0])
    with pytest.raises(ValueError, match="vol_shocks"):
        dk.stress_grid(position, [0.0], [np.nan])
    with pytest.raises(TypeError, match="position"):
        dk.stress_grid("book", [0.0], [0.0])
