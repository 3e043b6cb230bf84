"""StressResult and Position display and persistence; the correlation P&L profile."""

import numpy as np
import pytest

import dispersionkit as dk


@pytest.fixture(scope="module")
def position(synthetic_market):
    market = synthetic_market(n_dates=80)
    return dk.DispersionTrade().position(market, market.dates[-1])


def test_stress_round_trip_and_repr(position, tmp_path):
    stress = dk.stress_grid(position, [-0.1, 0.0, 0.1], [0.0, 0.05], [0.3, 0.6, 0.9])
    back = dk.StressResult.load(stress.save(tmp_path / "s"))
    for name in ("spot_shocks", "vol_shocks", "corr_levels", "pnl", "index_vols"):
        np.testing.assert_array_equal(getattr(back, name).view(np.uint64), getattr(stress, name).view(np.uint64))
    assert back.base_value == stress.base_value and back.current_correlation == stress.current_correlation
    text = repr(stress)
    assert len(text.splitlines()) == 2 and "3 spot x 2 vol x 3 correlation" in text and "worst P&L" in text
    assert "<table" in stress._repr_html_()


def test_position_shows_its_legs(position):
    text = repr(position)
    first = text.splitlines()[0]
    assert first.startswith("Position(long dispersion on") and "premium" in first
    assert "INDEX" in text and "AAA" in text and len(text.splitlines()) < 20
    assert "<table" in position._repr_html_()


def test_profile_crosses_zero_at_the_implied_correlation(position):
    implied = dk.implied_correlation(position.index_vol, position.vols.to_numpy(), position.weights.to_numpy()).value
    levels = [0.0, 0.2, 0.4, 0.6, 0.8]
    table = dk.correlation_profile(position, levels, paths=400, seed=3)
    assert list(table.index) == levels and table.index.name == "realized_correlation"
    assert table["implied"].iloc[0] == pytest.approx(implied, rel=1e-9)
    # Linear approximation: zero at the implied correlation, falling in rho for long dispersion.
    slope = np.diff(table["expected"]) / 0.2
    np.testing.assert_allclose(slope, slope[0], rtol=1e-9)
    assert slope[0] < 0
    assert np.interp(0.0, -table["expected"].to_numpy(), table.index.to_numpy()) == pytest.approx(implied, abs=1e-9)
    # Simulated: falls with rho, crosses zero near the implied correlation, band around the mean.
    mean = table["mean"].to_numpy()
    assert np.all(np.diff(mean) < 0)
    crossing = np.interp(0.0, -mean, np.asarray(levels))
    assert crossing == pytest.approx(implied, abs=0.08)
    assert np.all(table["p05"] < table["mean"]) and np.all(table["mean"] < table["p95"])
    # Same seed, same numbers; no simulation when paths=0.
    again = dk.correlation_profile(position, levels, paths=400, seed=3)
    np.testing.assert_array_equal(again["mean"], table["mean"])
    assert list(dk.correlation_profile(position, levels, paths=0).columns) == ["expected", "implied"]
    with pytest.raises(ValueError, match="corr_levels: expected correlations in"):
        dk.correlation_profile(position, [1.5])
