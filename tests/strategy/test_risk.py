import numpy as np
import pytest

import dispersionkit as dk


def test_position_size_from_risk_budget():
    assert dk.position_size(1_000_000, 2_000.0) == pytest.approx(25.0)
    assert dk.position_size(1_000_000, 2_000.0, risk_fraction=0.02) == pytest.approx(10.0)


def test_survivability_default_thresholds():
    ok = dk.survivability(100_000, 4_000, premium_at_risk=5_000)
    assert ok.passed and ok.reasons == ()
    assert ok.ratio == pytest.approx(0.96) and ok.loss_fraction == pytest.approx(0.04)
    assert ok.premium_fraction == pytest.approx(0.05)

    too_big = dk.survivability(100_000, 6_000)
    assert not too_big.passed
    assert too_big.reasons == ("worst case loses 6.00% of capital (limit < 5.00%)",)

    ruin = dk.survivability(100_000, 25_000)
    assert len(ruin.reasons) == 2 and "survivability 0.750 (limit > 0.800)" in ruin.reasons[1]

    rich = dk.survivability(100_000, 1_000, premium_at_risk=6_000)
    assert not rich.passed and "premium at risk 6.00%" in rich.reasons[0]

    loose = dk.survivability(100_000, 6_000, limits=dk.SurvivabilityLimits(max_worst_case_loss=0.10))
    assert loose.passed
    frame = ok.to_frame()
    assert frame.loc["survivability", "value"] == pytest.approx(0.96)


def test_greek_limits_table_per_100k():
    # 200k capital: vega 8000 per 1.00 vol = 80 per point = 40 per 100k; theta -29200/yr = -80/day = -40 per 100k;
    # dollar gamma 1000 = $0.10 of gamma P&L per 1% move = 0.05 per 100k
    table = dk.check_greek_limits(net_vega=8_000.0, net_dollar_gamma=1_000.0, net_theta=-29_200.0, capital=200_000)
    assert list(table.index) == ["vega", "gamma", "theta"]
    assert list(table.columns) == ["unit", "rule", "limit", "actual", "passed"]
    np.testing.assert_allclose(table["actual"].to_numpy(dtype=float), [40.0, 0.05, -40.0])
    assert table["passed"].all()
    assert table.loc["vega", "limit"] == 50.0 and table.loc["theta", "limit"] == -50.0

    table = dk.check_greek_limits(net_vega=-12_000.0, net_dollar_gamma=6_000.0, net_theta=-43_800.0, capital=200_000)
    assert not table["passed"].any()

    strict = dk.GreekLimits(max_abs_vega=30.0, max_abs_gamma=0.05, min_theta=-30.0)
    table = dk.check_greek_limits(
        net_vega=8_000.0, net_dollar_gamma=2_000.0, net_theta=-29_200.0, capital=200_000, limits=strict
    )
    assert not table["passed"].any()

    table = dk.check_greek_limits(net_vega=np.nan, net_dollar_gamma=0.0, net_theta=0.0, capital=100_000)
    assert list(table["passed"]) == [False, True, True]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: dk.position_size(0, 100.0), ValueError, "capital: must be > 0"),
        (lambda: dk.position_size(1e6, -5.0), ValueError, "worst_case_loss_per_unit: must be > 0"),
        (lambda: dk.position_size(1e6, 5.0, risk_fraction=2.0), ValueError, r"risk_fraction: a fraction in \(0, 1\]"),
        (lambda: dk.position_size("1e6", 5.0), TypeError, "capital: expected a real number"),
        (lambda: dk.survivability(1e5, float("nan")), ValueError, "worst_case_loss: must be finite"),
        (lambda: dk.survivability(1e5, 1.0, premium_at_risk=-1.0), ValueError, "premium_at_risk: must be >= 0"),
        (
            lambda: dk.survivability(1e5, 1.0, limits=dk.GreekLimits()),
            TypeError,
            "limits: expected SurvivabilityLimits",
        ),
        (lambda: dk.SurvivabilityLimits(min_survivability=0.0), ValueError, "min_survivability: a fraction"),
        (lambda: dk.GreekLimits(max_abs_vega=-1.0), ValueError, "max_abs_vega: must be >= 0"),
        (
            lambda: dk.check_greek_limits(net_vega=1.0, net_dollar_gamma=1.0, net_theta=1.0, capital=-5.0),
            ValueError,
            "capital: must be > 0",
        ),
        (
            lambda: dk.check_greek_limits(net_vega=1.0, net_dollar_gamma=None, net_theta=1.0, capital=1e5),
            TypeError,
            "net_dollar_gamma: expected a real number",
        ),
    ],
)
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_premium_sized_to_exactly_the_limit_passes_despite_rounding():
    # 5% of 1e6 as the budget scaling computes it: one ulp above 50000.
    assert dk.survivability(1_000_000, 0.0, premium_at_risk=50000.00000000001).passed
    assert not dk.survivability(1_000_000, 0.0, premium_at_risk=50000.01).passed


def test_gamma_limit_is_in_cash_gamma_not_raw_gamma(synthetic_market):
    """A raw gamma summed over names of different prices means nothing; the limit reads dollar gamma."""
    market = synthetic_market()
    position = dk.DispersionTrade(sizing="vega").position(market, "2020-03-02", capital=1e6)
    net = position.greeks().loc["net"]
    table = dk.check_greek_limits(
        net_vega=net["vega_per_point"] / dk.PER_VOL_POINT,
        net_dollar_gamma=net["dollar_gamma"],
        net_theta=net["theta_per_day"] / dk.PER_CALENDAR_DAY,
        capital=1e6,
    )
    assert table.loc["gamma", "actual"] == pytest.approx(net["cash_gamma_1pct"] / 10.0)
    assert "1% move" in table.loc["gamma", "unit"]
    with pytest.raises(TypeError):
        dk.check_greek_limits(1.0, 0.1, 1.0, 1e5)  # positional raw gamma: refused, not misread
