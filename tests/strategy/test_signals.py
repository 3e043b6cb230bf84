import math

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk


def position(**changes):
    base = dict(
        pnl=0.0,
        premium=10_000.0,
        elapsed=0.1,
        implied_correlation=0.6,
        realized_correlation=0.5,
        vix_at_entry=32.0,
        vix=30.0,
        days_to_expiry=30.0,
    )
    base.update(changes)
    return dk.PositionState(**base)


def path(field, values, **fixed):
    return [position(**{field: v}, **fixed) for v in values]


@pytest.mark.parametrize(
    "rule, states, fires_at, words",
    [
        (dk.ProfitTarget(0.5), path("pnl", [0, 2_000, 4_999, 5_000, 6_000]), 3, "P&L 5,000.00 >= target 5,000.00"),
        (dk.StopLoss(0.25), path("pnl", [1_000, -1_000, -2_400, -2_500]), 3, "stop -2,500.00"),
        (
            dk.TimeStop(0.5),
            path("elapsed", [0.1, 0.3, 0.49, 0.5, 0.7], pnl=-10.0),
            3,
            "50% of the time elapsed without profit",
        ),
        (
            dk.CorrelationExit(0.15),
            path("realized_correlation", [0.5, 0.7, 0.74, 0.75], implied_correlation=0.6),
            3,
            "+15.0 points",
        ),
        (
            dk.CorrelationExit(0.15, direction="short"),
            path("realized_correlation", [0.6, 0.5, 0.46, 0.45], implied_correlation=0.6),
            3,
            "-15.0 points",
        ),
        (dk.VixExit(10.0), path("vix", [30.0, 35.0, 41.9, 42.0]), 3, "VIX +10.0 points since entry"),
        (dk.VixExit(10.0, direction="short"), path("vix", [35.0, 25.0, 22.0]), 2, "VIX -10.0 points since entry"),
        (dk.ExpiryExit(5), path("days_to_expiry", [30, 10, 6, 5]), 3, "5 days to expiry (roll at <= 5)"),
    ],
)
def test_each_exit_fires_exactly_when_crossed(rule, states, fires_at, words):
    results = [rule.evaluate(s) for s in states]
    assert [r.fired for r in results] == [i >= fires_at for i in range(len(states))]
    assert words in results[fires_at].reason
    assert results[fires_at].rule == type(rule).__name__
    assert all(r.action is None for r in results[:fires_at])
    assert dk.first_firing(rule, states)[0] == fires_at


def test_time_stop_does_not_fire_in_profit():
    result = dk.TimeStop().evaluate(position(elapsed=0.8, pnl=100.0))
    assert not result.fired and "in profit" in result.reason


def test_expiry_actions():
    assert dk.ExpiryExit().evaluate(position(days_to_expiry=3)).action == "roll"
    assert dk.ExpiryExit(action="close").evaluate(position(days_to_expiry=3)).action == "exit"
    assert dk.ProfitTarget().evaluate(position(pnl=9e9)).action == "exit"


def test_any_of_reports_the_first_firing_rule_in_order():
    rules = dk.any_of(dk.StopLoss(), dk.VixExit(), dk.ExpiryExit())
    state = position(vix=45.0, days_to_expiry=2)
    result = rules.evaluate(state)
    assert result.rule == "VixExit" and result.fired and result.action == "exit"
    assert dk.evaluate_rules([dk.ExpiryExit(), dk.VixExit()], state).rule == "ExpiryExit"
    quiet = rules.evaluate(position())
    assert not quiet.fired and quiet.reason == "no rule fired"
    assert dk.first_firing(rules, [position(), position(), state]) == (2, result)
    assert dk.first_firing(rules, [position()]) is None


def test_default_exit_rules_on_a_crafted_path():
    states = [
        position(pnl=100.0, elapsed=0.1),
        position(pnl=-100.0, elapsed=0.3),
        position(pnl=-100.0, elapsed=0.55),
    ]
    index, result = dk.first_firing(dk.default_exit_rules(), states)
    assert index == 2 and result.rule == "TimeStop"
    states = [position(), position(realized_correlation=0.8, pnl=-3_000.0)]
    assert dk.first_firing(dk.default_exit_rules(), states)[1].rule == "StopLoss"


def market(vix=35.0, change=-3.0, implied=0.7, realized=0.5):
    return dk.MarketState(vix=vix, vix_change=change, implied_correlation=implied, realized_correlation=realized)


def test_long_entry_rules():
    rule = dk.LongDispersionEntry()
    hit = rule.evaluate(market())
    assert hit.fired and hit.action == "enter_long" and "premium 20.0 points" in hit.reason
    assert not rule.evaluate(market(vix=28.0)).fired
    rising = rule.evaluate(market(change=2.0))
    assert not rising.fired and "VIX not falling (+2.0 points)" in rising.reason
    assert not rule.evaluate(market(implied=0.55)).fired
    thin = rule.evaluate(market(realized=0.65))
    assert not thin.fired and "premium 5.0 <= 10 points" in thin.reason
    crisis = dk.LongDispersionEntry(require_falling_vix=False).evaluate(market(change=12.0))
    assert not crisis.fired and crisis.reason.startswith("crisis starting")
    assert dk.LongDispersionEntry(require_falling_vix=False).evaluate(market(change=2.0)).fired
    assert not rule.evaluate(market(implied=math.nan)).fired


def test_short_entry_rules():
    rule = dk.ShortDispersionEntry()
    hit = rule.evaluate(market(vix=13.0, implied=0.2))
    assert hit.fired and hit.action == "enter_short"
    miss = rule.evaluate(market(vix=16.0, implied=0.3))
    assert not miss.fired and miss.reason == "VIX 16.0 >= 15; implied correlation 30% >= 25%"
    assert (
        dk.evaluate_rules([dk.LongDispersionEntry(), dk.ShortDispersionEntry()], market(vix=12.0, implied=0.18)).action
        == "enter_short"
    )


def test_market_state_from_series():
    dates = pd.bdate_range("2020-03-02", periods=8)
    vix = pd.Series([40, 50, 60, 55, 52, 48, 45, 41.0], index=dates)
    implied = pd.Series(0.7, index=dates)
    realized = pd.Series(0.55, index=dates)
    state = dk.MarketState.from_series(vix, implied, realized, dates[7], lookback=5)
    assert state.vix == 41.0 and state.vix_change == 41.0 - 60.0
    assert state.premium == pytest.approx(0.15)
    early = dk.MarketState.from_series(vix, implied, realized, dates[2], lookback=5)
    assert math.isnan(early.vix_change)
    assert dk.LongDispersionEntry().evaluate(state).fired
    with pytest.raises(ValueError, match="implied_correlation: no value on"):
        dk.MarketState.from_series(vix, implied.iloc[:3], realized, dates[7])
    with pytest.raises(ValueError, match="lookback: expected an int >= 1"):
        dk.MarketState.from_series(vix, implied, realized, dates[7], lookback=0)


@pytest.mark.parametrize(
    "vix, label",
    [(12.0, "calm"), (18.0, "normal"), (30.0, "elevated"), (40.0, "high"), (65.0, "crisis")],
)
def test_regime_labels_follow_vix_bands(vix, label):
    regime = dk.RegimeClassifier().classify(market(vix=vix, change=0.0, implied=0.3, realized=0.25))
    assert regime.label == label and regime.vix_trend == "flat"
    assert regime.reasons[0] == f"VIX {vix:.1f} in the {label} band"


def test_regime_reasons_cover_trend_correlation_and_premium():
    regime = dk.RegimeClassifier().classify(market(vix=30.0, change=-4.0, implied=0.7, realized=0.5))
    assert regime.vix_trend == "falling"
    assert "implied correlation 70% above the typical 40%-60% for this band" in regime.reasons
    assert "dispersion premium +20.0 correlation points" in regime.reasons
    assert str(regime).startswith("elevated (VIX falling): ")
    calm = dk.RegimeClassifier().classify(market(vix=12.0, change=2.0, implied=0.1, realized=0.1))
    assert calm.vix_trend == "rising" and "below the typical" in calm.reasons[2]
    assert dk.RegimeClassifier().classify(market(vix=math.nan)).label == "unknown"


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: position(premium=0.0), ValueError, "premium: must be > 0"),
        (lambda: position(pnl="1"), TypeError, "pnl: expected a real number"),
        (lambda: dk.CorrelationExit(direction="up"), ValueError, "direction: expected 'long' or 'short'"),
        (lambda: dk.VixExit(points=-1), ValueError, "points: must be > 0"),
        (lambda: dk.ProfitTarget(fraction=float("nan")), ValueError, "fraction: must be finite"),
        (lambda: dk.ExpiryExit(action="hold"), ValueError, "action: expected 'roll' or 'close'"),
        (lambda: dk.any_of(), ValueError, "rules: need at least one rule"),
        (lambda: dk.any_of(dk.StopLoss(), "x"), TypeError, "has no evaluate"),
        (lambda: dk.evaluate_rules("x", position()), TypeError, "rules: expected a rule or a list"),
        (lambda: dk.StopLoss().evaluate(market()), TypeError, "state: expected a PositionState"),
        (lambda: dk.LongDispersionEntry().evaluate(position()), TypeError, "state: expected a MarketState"),
        (lambda: dk.RegimeClassifier(vix_bands=(30, 20, 40, 50)), ValueError, "vix_bands: expected 4 increasing"),
        (lambda: dk.default_exit_rules("sideways"), ValueError, "direction: expected"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rules_are_frozen():
    with pytest.raises(AttributeError):
        dk.StopLoss().fraction = 0.5
    assert np.isclose(dk.StopLoss(0.3).fraction, 0.3)


def test_long_entry_does_not_fire_on_a_premium_equal_to_its_threshold_up_to_rounding():
    """Implied correlation modelled as realized + 10 points: 0.7000000000000001 - 0.6 is
    0.10000000000000009, which is the 10-point threshold, not above it."""
    entry = dk.LongDispersionEntry()
    at_threshold = dk.MarketState(
        vix=35.0, vix_change=-2.0, implied_correlation=0.7000000000000001, realized_correlation=0.6
    )
    assert at_threshold.premium > 0.10
    result = entry.evaluate(at_threshold)
    assert not result.fired and "premium 10.0 <= 10 points" in result.reason
    above = dk.MarketState(vix=35.0, vix_change=-2.0, implied_correlation=0.71, realized_correlation=0.6)
    assert entry.evaluate(above).fired
