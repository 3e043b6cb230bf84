"""Path risk of a live book: split and thread invariance, the statistics' definitions, the
scenarios' known answers, and the tail of correlation 0.9 against the instantaneous stress."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk


@pytest.fixture(scope="module")
def market(synthetic_market):
    return synthetic_market(n_dates=260, realized_corr=0.3, implied_corr=0.6, seed=3)


@pytest.fixture(scope="module")
def position(market):
    return dk.DispersionTrade().position(market, market.dates[100])


JUMPY = dk.Scenario("jumps", jumps=dk.Jumps(intensity=12.0, mean=-0.05, sd=0.03))


@pytest.fixture(scope="module")
def history():
    return dk.data.load_sp500()


@pytest.fixture(scope="module")
def setup(position, market, history):
    scenarios = ["base", "correlation 0.9", "2008-09/10", JUMPY]
    return dk.prepare_book_risk(
        position, market, scenario=scenarios, policy=dk.HedgePolicy(hedge_cost_bps=1.0), seed=7, history=history
    )


def test_results_do_not_depend_on_threads_or_the_split_of_paths(setup, position, market, history):
    whole = setup.combine([setup.run_paths(0, 700, threads=1)])
    parts = [setup.run_paths(450, 250, threads=2), setup.run_paths(0, 123, threads=1), setup.run_paths(123, 327)]
    split = setup.combine(parts)
    np.testing.assert_array_equal(whole.pnl, split.pnl)
    direct = dk.book_risk(
        position, market, scenario=["base", "correlation 0.9", "2008-09/10", JUMPY],
        policy=dk.HedgePolicy(hedge_cost_bps=1.0), seed=7, paths=700, threads=2, history=history,
    )  # fmt: skip
    np.testing.assert_array_equal(whole.pnl, direct.pnl)
    # A later range alone is the same numbers as inside the whole run.
    np.testing.assert_array_equal(setup.run_paths(300, 50).pnl, whole.pnl[:, 300:350])


def test_combine_rejects_gaps_overlaps_and_other_setups(setup, position, market):
    a, b = setup.run_paths(0, 10), setup.run_paths(12, 10)
    with pytest.raises(ValueError, match="gap between paths 10 and 12"):
        setup.combine([a, b])
    with pytest.raises(ValueError, match="overlap"):
        setup.combine([a, setup.run_paths(5, 10)])
    other = dk.prepare_book_risk(position, market, scenario="base", seed=8)
    with pytest.raises(ValueError, match="different setup"):
        setup.combine([a, other.run_paths(10, 5)])
    with pytest.raises(ValueError, match="nothing to combine"):
        setup.combine([])


def test_statistics_follow_their_definitions(setup):
    risk = setup.combine([setup.run_paths(0, 400)])
    frame = risk.to_frame()
    assert list(frame.index) == ["base", "correlation 0.9", "2008-09/10", "jumps"]
    for name in frame.index:
        pnl = risk.distribution(name)
        ordered = np.sort(pnl)
        assert frame.loc[name, "mean"] == pytest.approx(pnl.mean())
        assert frame.loc[name, "sd"] == pytest.approx(pnl.std(ddof=1))
        assert frame.loc[name, "VaR 95%"] == pytest.approx(-ordered[19])  # 20 worst of 400
        assert frame.loc[name, "ES 95%"] == pytest.approx(-ordered[:20].mean())
        assert frame.loc[name, "ES 99%"] == pytest.approx(-ordered[:4].mean())
        assert frame.loc[name, "P(lose premium)"] == pytest.approx(np.mean(pnl <= -risk.premium))
        assert risk.expected_shortfall(0.95, name) == pytest.approx(frame.loc[name, "ES 95%"])
    check = risk.survivability(0.95)
    worst = frame["ES 95%"].max()
    expected = dk.survivability(risk.capital, worst, risk.premium)
    assert check.ratio == pytest.approx(expected.ratio) and check.passed == expected.passed
    assert np.isnan(frame.loc["base", "stress"]) and np.isfinite(frame.loc["correlation 0.9", "stress"])
    assert np.isfinite(frame.loc["2008-09/10", "replay"]) and np.isnan(frame.loc["base", "replay"])
    assert set(risk.greeks.index) >= {"dollar_delta", "dollar_gamma", "vega_per_point", "theta_per_day"}
    assert repr(risk).startswith("BookRisk(") and "400 paths" in repr(risk)
    text = risk.text()
    assert "Greeks at start" in text and "ES 95%" in text and "survivability" in text
    assert "not compensated" in text  # the jumps' assumption is printed with the numbers


def test_fair_world_has_zero_expected_pnl(position, market):
    # Realized vols at implied and realized correlation at the implied level (equal vols, index =
    # basket): the hedged book is a fair game, up to hedging noise.
    implied = float(
        dk.implied_correlation(position.index_vol, position.vols.to_numpy(), position.weights.to_numpy()).value
    )
    risk = dk.book_risk(position, market, scenario=dk.Scenario("fair", correlation=implied), paths=3000, seed=1)
    pnl = risk.distribution("fair")
    assert abs(pnl.mean()) < 4 * pnl.std(ddof=1) / math.sqrt(pnl.size)
    # The move is no move: the instantaneous stress at today's implied correlation is zero.
    assert abs(risk.stress["fair"]) < 1e-6 * risk.premium


def test_correlation_jump_costs_the_instantaneous_stress_on_average_and_more_in_the_tail(position, market):
    risk = dk.book_risk(position, market, scenario=["correlation 0.9", "correlation 0.9, marks unchanged"], paths=3000)
    frame = risk.to_frame()
    stress = frame.loc["correlation 0.9", "stress"]
    assert stress < 0
    for name in frame.index:
        pnl = risk.distribution(name)
        standard_error = pnl.std(ddof=1) / math.sqrt(pnl.size)
        # The expected loss is the repricing of the jump (plus a little theta / hedging drift) ...
        assert frame.loc[name, "mean"] == pytest.approx(stress, abs=4 * standard_error + 0.03 * abs(stress))
        # ... and the 5% tail is well beyond it: the instantaneous stress understates the tail.
        assert frame.loc[name, "ES 95%"] > 1.3 * abs(stress)
    # Hedging at stale marks leaves more of the index's realized variance unhedged: a fatter tail.
    assert frame.loc["correlation 0.9, marks unchanged", "ES 95%"] > frame.loc["correlation 0.9", "ES 95%"]


def test_vol_shift_and_jumps_move_the_distribution(position, market):
    flat = dk.Scenario("no jumps", jumps=dk.Jumps(intensity=50.0, mean=0.0, sd=0.0))
    risk = dk.book_risk(position, market, scenario=["base", flat, JUMPY, "vols +10"], paths=500, seed=2)
    np.testing.assert_array_equal(
        risk.distribution("base"), risk.distribution("no jumps")
    )  # size-0 jumps change nothing
    assert not np.array_equal(risk.distribution("base"), risk.distribution("jumps"))
    # The vol-shift scenario's mark-to-market on day 1 is the stress grid's repricing.
    assert risk.stress["vols +10"] == pytest.approx(dk.stress_grid(position, [0.0], [0.10]).pnl[0, 0, 0], rel=1e-12)


def test_historical_windows_from_caller_data_or_the_market(position, market, history):
    prices, index = history
    subset = (prices[["AAPL", "JPM", "XOM"]], index)  # the book's names take these stocks' returns in turn
    risk = dk.book_risk(position, market, scenario="2020-02/03", paths=200, history=subset)
    assert np.isfinite(risk.replay["2020-02/03"]) and np.isfinite(risk.distribution("2020-02/03")).all()
    window = dk.Scenario("1987", history=("1987-10-01", "1987-10-30"))
    with pytest.raises(ValueError, match="scenario '1987': history: fewer than 2 trading days"):
        dk.book_risk(position, market, scenario=window, paths=10, history=history)
    # The synthetic market starts in 2020: by default its own closes cannot replay 2008, and the
    # default scenarios say so instead of dropping it silently.
    default = dk.book_risk(position, market, paths=50)
    assert "2008-09/10" not in default.scenarios and "base" in default.scenarios
    assert any(note.startswith("2008-09/10: not run") for note in default.skipped)
    assert "2008-09/10: not run" in default.text()
    with pytest.raises(ValueError, match=r"scenario '2008-09/10'.*pass history="):
        dk.book_risk(position, market, scenario="2008-09/10", paths=10)
    # The bundled market carries its own history: no history argument needed.
    bundled = dk.data.sample_market()
    book = dk.DispersionTrade().position(bundled, "2016-06-01")
    own = dk.book_risk(book, bundled, scenario="2008-09/10", paths=50)
    given = dk.book_risk(book, bundled, scenario="2008-09/10", paths=50, history=history)
    np.testing.assert_allclose(own.pnl, given.pnl, rtol=1e-12)


def test_horizon_and_trade_inputs(position, market):
    short = dk.book_risk(position, market, position.date, horizon=5, scenario="base", paths=100)
    assert short.horizon == 5
    from_trade = dk.book_risk(dk.DispersionTrade(), market, position.date, scenario="base", paths=100)
    assert from_trade.pnl.shape == (1, 100)
    with pytest.raises(ValueError, match="horizon: must be in \\[1, 21\\]"):
        dk.book_risk(position, market, horizon=30, scenario="base", paths=10)
    with pytest.raises(ValueError, match="differs from the position's date"):
        dk.book_risk(position, market, market.dates[5], scenario="base", paths=10)
    with pytest.raises(ValueError, match="not a named scenario"):
        dk.book_risk(position, market, scenario="crash", paths=10)
    with pytest.raises(ValueError, match="names must be unique"):
        dk.book_risk(position, market, scenario=["base", "base"], paths=10)
    with pytest.raises(TypeError, match="position: expected a Position"):
        dk.book_risk("book", market)
    with pytest.raises(ValueError, match="correlation: must lie in"):
        dk.Scenario("bad", correlation=1.5)
    with pytest.raises(ValueError, match="history: a replayed window sets returns itself"):
        dk.Scenario("bad", history=("2008-09-01", "2008-10-31"), vol_shift=0.1)
    with pytest.raises(ValueError, match="makes a component vol <= 0"):
        dk.book_risk(position, market, scenario=dk.Scenario("down", vol_shift=-0.5), paths=10)


def test_regime_scenario(position, market):
    n = len(position.weights)
    calm = np.full((n, n), 0.2) + 0.8 * np.eye(n)
    crisis = np.full((n, n), 0.9) + 0.1 * np.eye(n)
    regimes = dk.Regimes(np.stack([calm, crisis]), transition=np.array([[0.9, 0.1], [0.1, 0.9]]))
    risk = dk.book_risk(position, market, scenario=dk.Scenario("regimes", regimes=regimes), paths=300)
    assert "2 correlation regimes" in risk.descriptions[0]
    calm_only = dk.Regimes(np.stack([calm, crisis]), schedule=np.zeros(21, dtype=int))
    crisis_only = dk.Regimes(np.stack([calm, crisis]), schedule=np.ones(21, dtype=int))
    both = dk.book_risk(
        position,
        market,
        scenario=[dk.Scenario("calm", regimes=calm_only), dk.Scenario("crisis", regimes=crisis_only)],
        paths=300,
    )
    # Long dispersion loses when correlation is high.
    assert both.distribution("crisis").mean() < both.distribution("calm").mean()


@pytest.mark.slow
def test_tail_claim_on_the_bundled_market():
    """Measured for docs/methodology.md: a vega-neutral 30-day long-dispersion book held to expiry
    at realized correlation 0.9 loses about twice the instantaneous stress in its 5% tail when it
    is hedged at unchanged implied vols; re-marking the index vol on day one narrows it."""
    market = dk.data.sample_market()
    position = dk.DispersionTrade().position(market, "2016-06-01")
    risk = dk.book_risk(
        position, market, scenario=["correlation 0.9", "correlation 0.9, marks unchanged"], paths=10_000
    )
    ratio = risk.to_frame()["ES 95% / |stress|"]
    assert 1.8 < ratio["correlation 0.9, marks unchanged"] < 2.6
    assert 1.1 < ratio["correlation 0.9"] < 1.6
    assert isinstance(risk.to_frame(), pd.DataFrame)


def test_core_matches_numpy_twin(position, market, history):
    scenarios = ["base", "correlation 0.9, marks unchanged", "2008-09/10", JUMPY]
    core = dk.book_risk(position, market, scenario=scenarios, paths=200, seed=4, history=history)
    twin = dk.reference.book_risk(position, market, scenario=scenarios, paths=200, seed=4, history=history)
    np.testing.assert_allclose(core.pnl, twin.pnl, rtol=1e-10, atol=1e-9 * position.premium)


def test_a_scenario_draws_the_same_paths_whatever_else_runs(position, market, history):
    alone = dk.book_risk(position, market, scenario=["2008-09/10"], paths=100, history=history, seed=3)
    among = dk.book_risk(position, market, scenario=[JUMPY, "base", "2008-09/10"], paths=100, history=history, seed=3)
    np.testing.assert_array_equal(alone.distribution("2008-09/10"), among.distribution("2008-09/10"))


def test_legs_priced_on_a_surface_are_marked_at_their_own_vols():
    sample = dk.data.sample_file
    market = dk.MarketData.from_files(
        sample("spots.csv.gz"), sample("index.csv.gz"), weights=sample("weights.csv.gz"), rate=dk.data.SAMPLE_RATE,
        div_yields=pd.Series(dk.data.SAMPLE_DIV_YIELDS), options=dk.read_options(sample("options_long.csv.gz")),
        index_underlying="IDX",
    )  # fmt: skip
    position = dk.DispersionTrade(structure="strangle", strangle_width=0.1).position(market, market.dates[-40])
    leg_vols = position.legs["vol"].to_numpy()
    assert not np.allclose(leg_vols[0::2], leg_vols[1::2])  # the skew prices calls and puts apart
    setup = dk.prepare_book_risk(position, market, scenario=["base", "correlation 0.9"])
    base, jump = setup.models
    np.testing.assert_array_equal(base.vols, np.tile(leg_vols, (setup.horizon + 1, 1)))
    index = (position.legs["underlying"] == "INDEX").to_numpy()
    np.testing.assert_array_equal(jump.vols[0], leg_vols)
    ratio = jump.vols[1, index] / leg_vols[index]
    assert np.allclose(ratio, ratio[0]) and ratio[0] > 1  # the index's smile moves up as a whole
    np.testing.assert_array_equal(jump.vols[1, ~index], leg_vols[~index])
    assert np.isfinite(setup.combine([setup.run_paths(0, 50)]).pnl).all()
