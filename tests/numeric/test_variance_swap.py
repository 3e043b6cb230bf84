"""Variance swaps: the replication strike against QuantLib, the flat-vol identity, the NumPy
twin on random strips, error estimates under a smile, and the term-sheet payoff maths."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk

ql = pytest.importorskip("QuantLib")


def quantlib_variance(strikes, vols, spot, rate, days, dk_spacing):
    """QuantLib's ReplicatingVarianceSwapEngine on one strip (no dividends: its forward is S e^{rT}).

    The vols are a BlackVarianceSurface with the strip's strikes as nodes, so each option is
    priced at its own vol; S* (the put/call boundary QuantLib takes as min call = max put
    strike) is the largest strike <= the forward, as in dispersionkit.
    """
    today = ql.Date(15, 6, 2021)
    ql.Settings.instance().evaluationDate = today
    day_count, calendar = ql.Actual365Fixed(), ql.NullCalendar()
    maturity = today + days
    matrix = ql.Matrix(len(strikes), 2)
    for i, vol in enumerate(vols):
        matrix[i][0] = matrix[i][1] = float(vol)
    surface = ql.BlackVarianceSurface(
        today, calendar, [maturity, maturity + 365], [float(k) for k in strikes], matrix, day_count
    )
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, day_count)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, rate, day_count)),
        ql.BlackVolTermStructureHandle(surface),
    )
    tau = days / 365.0
    forward = spot * np.exp(rate * tau)
    star = strikes[strikes <= forward].max()
    calls = [float(k) for k in strikes if k >= star]
    puts = [float(k) for k in strikes if k <= star]
    engine = ql.ReplicatingVarianceSwapEngine(process, float(dk_spacing), calls, puts)
    swap = ql.VarianceSwap(ql.Position.Long, 0.04, 1e6, today, maturity)
    swap.setPricingEngine(engine)
    return swap.variance(), forward, tau


QUANTLIB_CASES = {
    # The skewed example of Demeterfi et al. (puts 50-100, calls 100-135, vol +1 point per 5 strike points down).
    "ddkz_skew": (np.arange(50.0, 140.0, 5.0), lambda k: 0.20 - 0.002 * (k - 100.0), 100.0, 0.05, 91, 5.0),
    "smile_half_year": (np.linspace(70, 130, 25), lambda k: 0.25 - 0.1 * np.log(k / 100) + 0.3 * np.log(k / 100) ** 2,
                        100.0, 0.03, 182, 2.5),
    # Uneven spacing inside, 10 at both ends (QuantLib takes one end spacing for both sides).
    "uneven": (np.array([60, 70, 80, 85, 90, 95, 100, 102.5, 105, 110, 120, 130, 140.0]),
               lambda k: 0.3 - 0.15 * np.log(k / 100), 97.0, 0.01, 30, 10.0),
    "forward_between_strikes": (np.arange(40.0, 200.0, 8.0), lambda k: np.full_like(k, 0.45), 117.0, 0.08, 400, 8.0),
}  # fmt: skip


@pytest.mark.parametrize("case", QUANTLIB_CASES)
def test_strike_equals_quantlib_replicating_engine(case):
    strikes, smile, spot, rate, days, spacing = QUANTLIB_CASES[case]
    vols = smile(strikes)
    expected, forward, tau = quantlib_variance(strikes, vols, spot, rate, days, spacing)
    result = dk.variance_swap_strike(strikes, vols, forward, tau, rate)
    assert result.strike == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_demeterfi_example_value():
    # Demeterfi et al.'s skew example, 3 months: the strip replicates a variance of about (20.46%)^2.
    strikes = np.arange(50.0, 140.0, 5.0)
    result = dk.variance_swap_strike(strikes, 0.20 - 0.002 * (strikes - 100.0), 100.0 * np.exp(0.05 * 0.25), 0.25)
    assert result.vol == pytest.approx(0.2046, abs=5e-4)


FLAT_STRIPS = {
    "wide": (np.linspace(50, 150, 50), 100.0, 0.25, 0.2),
    "narrow": (np.linspace(90, 110, 9), 100.0, 0.25, 0.2),
    "forward_off_grid": (np.linspace(60, 160, 21), 103.7, 1.0, 0.35),
    "all_strikes_above_forward": (np.linspace(105, 200, 20), 100.0, 0.1, 0.3),
    "all_strikes_below_forward": (np.linspace(20, 95, 16), 100.0, 2.0, 0.25),
    "two_strikes": (np.array([95.0, 105.0]), 100.0, 0.5, 0.3),
    "log_spaced": (dk.replication_strikes(50.0, 3.0, 0.6), 50.0, 3.0, 0.6),
    "short_dated_high_vol": (np.linspace(20, 300, 200), 100.0, 7 / 365, 1.2),
}


@pytest.mark.parametrize("case", FLAT_STRIPS)
def test_flat_vol_identity(case):
    strikes, forward, tau, vol = FLAT_STRIPS[case]
    result = dk.variance_swap_strike(strikes, np.full(strikes.size, vol), forward, tau)
    # The strip's value is vol^2 within the estimated errors ...
    assert abs(result.strike - vol**2) <= result.error_bound * (1 + 1e-9) + 1e-15
    # ... and, a flat vol being the estimates' own model, exactly so once they are removed.
    assert result.corrected == pytest.approx(vol**2, rel=1e-12)
    assert result.discretisation_error >= 0.0


def test_discretisation_error_falls_with_the_square_of_the_spacing():
    errors = [
        dk.variance_swap_strike(np.linspace(40, 160, n), 0.25, 100.0, 0.5).discretisation_error for n in (25, 49, 97)
    ]
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.03)
    assert errors[1] / errors[2] == pytest.approx(4.0, rel=0.03)


def smile(strikes, forward):
    x = np.log(strikes / forward)
    return 0.2 - 0.06 * np.tanh(2 * x) + 0.05 * (1 - np.exp(-x * x / 0.05))


@pytest.mark.parametrize(
    "strikes", [dk.replication_strikes(100.0, 0.5, 0.22), np.arange(50.0, 155.0, 2.5)], ids=["log_spaced", "listed"]
)
def test_error_estimates_under_a_skewed_smile(strikes):
    # The exact value: a strip 10 standard deviations wide with 40,001 strikes (its own errors < 1e-7).
    dense = 100.0 * np.exp(np.linspace(-5, 5, 40_001))
    exact = dk.variance_swap_strike(dense, smile(dense, 100.0), 100.0, 0.5).strike
    result = dk.variance_swap_strike(strikes, smile(strikes, 100.0), 100.0, 0.5)
    assert abs(result.strike - exact) <= result.error_bound
    assert abs(result.corrected - exact) < abs(result.strike - exact) / 3


def test_rate_cancels_and_broadcasting_matches_single_strips():
    rng = np.random.default_rng(5)
    strikes = np.linspace(60, 140, 17)
    vols = rng.uniform(0.15, 0.4, (3, 4, 17))
    forward = np.array([90.0, 100.0, 105.0, 120.0])
    batch = dk.variance_swap_strike(strikes, vols, forward, 0.3, rate=0.05)
    assert batch.strike.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = dk.variance_swap_strike(strikes, vols[i, j], forward[j], 0.3)
            assert one.strike == batch.strike[i, j]
            assert one.truncation_error == batch.truncation_error[i, j]
            assert one.discretisation_error == batch.discretisation_error[i, j]


def test_identical_for_any_thread_count_and_split():
    rng = np.random.default_rng(6)
    rows = 3000
    strikes = np.sort(rng.uniform(30, 250, (rows, 50)), axis=1)
    vols = rng.uniform(0.1, 0.9, (rows, 50))
    forward, tau = rng.uniform(60, 150, rows), rng.uniform(0.05, 2.0, rows)
    one = dk.variance_swap_strike(strikes, vols, forward, tau, threads=1)
    two = dk.variance_swap_strike(strikes, vols, forward, tau, threads=2)
    halves = [
        dk.variance_swap_strike(strikes[s], vols[s], forward[s], tau[s], threads=2)
        for s in (slice(0, 1234), slice(1234, None))
    ]
    for name in ("strike", "truncation_error", "discretisation_error"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
        np.testing.assert_array_equal(getattr(one, name), np.concatenate([getattr(h, name) for h in halves]))


def test_missing_quote_gives_nan_for_its_strip_only():
    strikes = np.linspace(60, 140, 17)
    vols = np.full((3, 17), 0.25)
    vols[1, 5] = np.nan
    forward = np.array([100.0, 100.0, np.nan])
    result = dk.variance_swap_strike(strikes, vols, forward, 0.25)
    assert np.isfinite(result.strike[0])
    assert np.isnan(result.strike[1:]).all() and np.isnan(result.truncation_error[1:]).all()
    twin = dk.reference.variance_swap_strike(strikes, vols, forward, 0.25)
    np.testing.assert_array_equal(np.isnan(twin.strike), np.isnan(result.strike))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(strikes=[100.0]), "strikes: a strip needs at least 2"),
        (dict(strikes=[100.0, 90.0, 110.0]), "strikes: must increase strictly"),
        (dict(strikes=[90.0, 100.0, 100.0]), "strikes: must increase strictly"),
        (dict(strikes=[-1.0, 100.0, 110.0]), "strikes: must be finite and > 0"),
        (dict(strikes=[90.0, np.nan, 110.0]), "strikes: must be finite and > 0"),
        (dict(vols=[0.2, 0.0, 0.2]), "vols: implied vols"),
        (dict(vols=[0.2, -0.1, 0.2]), "vols: implied vols"),
        (dict(vols=[0.2, 0.2]), "vols: 2 vols on the last axis for 3 strikes"),
        (dict(forward=np.inf), "forward: forwards must be > 0"),
        (dict(forward=0.0), "forward: forwards must be > 0"),
        (dict(tau=0.0), "tau: times to expiry"),
        (dict(rate=np.nan), "rate: must be finite"),
        (dict(vols=np.full((2, 3), 0.2), forward=[100.0, 100.0, 100.0]), "do not broadcast"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    args = dict(strikes=[90.0, 100.0, 110.0], vols=[0.2, 0.2, 0.2], forward=100.0, tau=0.25, rate=0.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        dk.variance_swap_strike(**args)
    with pytest.raises(TypeError, match="strikes: expected real numbers"):
        dk.variance_swap_strike(["a", "b"], 0.2, 100.0, 0.25)


def test_non_contiguous_and_shared_inputs():
    strikes = np.linspace(60, 140, 34)[::2]  # stride 16 bytes
    result = dk.variance_swap_strike(strikes, 0.3, 100.0, 0.5)
    assert result.strike == dk.variance_swap_strike(np.ascontiguousarray(strikes), 0.3, 100.0, 0.5).strike
    assert repr(result).startswith("VarianceSwapStrike(strike=0.0894762 (vol 29.91%), truncation_error=-1.38e-03")
    frame = dk.variance_swap_strike(strikes, [[0.2], [0.3]], 100.0, 0.5).to_frame(index=["A", "B"])
    assert list(frame.columns) == ["strike", "vol", "truncation_error", "discretisation_error", "corrected"]
    assert frame.loc["B", "corrected"] == pytest.approx(0.09, rel=1e-12)


@st.composite
def strips(draw):
    n = draw(st.integers(2, 40))
    forward = draw(st.floats(5.0, 500.0))
    logs = np.sort(np.array(draw(st.lists(st.floats(-1.5, 1.5), min_size=n, max_size=n, unique=True))))
    strikes = forward * np.exp(logs)
    if not (np.diff(strikes) > 1e-9 * strikes[1:]).all():
        strikes = forward * np.exp(np.linspace(-1.0, 1.0, n))
    vols = np.array(draw(st.lists(st.floats(0.03, 1.5), min_size=n, max_size=n)))
    tau = draw(st.floats(1 / 365, 5.0))
    return strikes, vols, forward, tau


@settings(max_examples=150, deadline=None)
@given(strips())
def test_core_matches_numpy_twin(strip):
    strikes, vols, forward, tau = strip
    core = dk.variance_swap_strike(strikes, vols, forward, tau)
    twin = dk.reference.variance_swap_strike(strikes, vols, forward, tau)
    scale = max(core.strike, float(np.max(vols)) ** 2)
    for name in ("strike", "truncation_error", "discretisation_error"):
        assert getattr(core, name) == pytest.approx(getattr(twin, name), rel=1e-10, abs=1e-12 * scale), name


# ---- realized variance, notionals, payoff, mark-to-market -------------------------------------


def test_realized_variance_term_sheet_definition():
    returns = np.array([0.01, -0.02, 0.03])
    assert dk.realized_variance(returns) == pytest.approx(252 / 3 * 0.0014)
    assert dk.realized_variance(returns, days=5) == pytest.approx(252 / 5 * 0.0014)  # seasoned: N fixed at trade date
    frame = pd.DataFrame({"A": [0.01, 0.02], "B": [0.0, np.nan]})
    out = dk.realized_variance(frame)
    assert list(out.index) == ["A", "B"] and np.isnan(out["B"])
    paths = np.ones((7, 10, 3)) * 0.01
    np.testing.assert_allclose(dk.realized_variance(paths, axis=1), np.full((7, 3), 252 * 1e-4))
    with pytest.raises(ValueError, match="days: 2 observations fixed"):
        dk.realized_variance(returns, days=2)
    with pytest.raises(ValueError, match="returns: contains"):
        dk.realized_variance([0.01, np.inf])
    with pytest.raises(ValueError, match=r"returns: no returns along axis 0 \(shape \(0,\)\)"):
        dk.realized_variance(np.array([]))  # a long-fuzz finding: was a ZeroDivisionError


def test_notional_conversion_and_payoff_known_values():
    assert dk.variance_notional(100_000, 0.20) == pytest.approx(2_500.0)  # vega / (2 x 20 points)
    assert dk.vega_notional(2_500.0, 0.20) == pytest.approx(100_000.0)
    np.testing.assert_allclose(dk.vega_notional(dk.variance_notional([1.0, 7.0], [0.1, 0.4]), [0.1, 0.4]), [1.0, 7.0])
    # Realized 22 vs strike 20 vol points: 2,500 x (484 - 400) = 210,000.
    assert dk.variance_swap_payoff(0.22**2, 0.20**2, 2_500.0) == pytest.approx(210_000.0)
    # Capped at 2.5 x 20 = 50 vol points: 2,500 x (2,500 - 400).
    assert dk.variance_swap_payoff(0.80**2, 0.20**2, 2_500.0, cap=2.5) == pytest.approx(2_500 * 2_100)
    assert dk.variance_swap_payoff(0.80**2, 0.20**2, 2_500.0) == pytest.approx(2_500 * 6_000)
    # For small moves the payoff is close to vega notional x (realized - strike) in vol points.
    assert dk.variance_swap_payoff(0.201**2, 0.04, 2_500.0) == pytest.approx(100_000 * 0.1, rel=0.01)
    with pytest.raises(ValueError, match="cap: a multiple"):
        dk.variance_swap_payoff(0.05, 0.04, 1.0, cap=0.5)
    with pytest.raises(ValueError, match="vol_strike: must be finite and > 0"):
        dk.variance_notional(1.0, 0.0)


def test_seasoned_value_runs_from_fair_strike_to_payoff(gbm):
    returns = np.diff(np.log(gbm(1, 63, 1 / 252, 0.3, seed=2)[0, :, 0]))
    strike, notional, total = 0.25**2, 1_000.0, 63
    payoff = dk.variance_swap_payoff(dk.realized_variance(returns), strike, notional)
    at_maturity = dk.variance_swap_value(
        strike, notional, realized_variance=dk.realized_variance(returns), elapsed_days=63, total_days=total,
        implied_variance=0.3**2, tau=0.0,
    )  # fmt: skip
    assert at_maturity == pytest.approx(payoff)
    fresh = dk.variance_swap_value(
        strike, notional, realized_variance=np.nan, elapsed_days=0, total_days=total, implied_variance=0.3**2,
        tau=0.25, rate=0.04,
    )  # fmt: skip
    assert fresh == pytest.approx(notional * 1e4 * np.exp(-0.01) * (0.09 - 0.0625))
    # Halfway: realized so far weighted by the observed share; the same sum as the final payoff's.
    half = dk.variance_swap_value(
        strike, notional, realized_variance=dk.realized_variance(returns[:21]), elapsed_days=21, total_days=total,
        implied_variance=strike, tau=0.1,
    )  # fmt: skip
    expected = notional * 1e4 * np.exp(0.0) * (dk.realized_variance(returns[:21], days=63) - 21 / 63 * strike)
    assert half == pytest.approx(expected)


def test_fair_strike_is_the_expected_realized_variance_on_simulated_paths():
    vol = 0.3
    paths = dk.simulate_market(np.array([100.0]), vol, np.eye(1), steps=63, paths=20_000, seed=11)
    realized = dk.realized_variance(paths.log_returns()[..., 0], axis=1)
    tau = 63 / 252
    fair = dk.variance_swap_strike(dk.replication_strikes(100.0, tau, vol), vol, 100.0, tau).corrected
    standard_error = realized.std() / np.sqrt(realized.size)
    assert abs(realized.mean() - fair) < 4 * standard_error


def test_a_cap_whose_square_overflows_caps_nothing_and_a_zero_strike_caps_at_zero():
    # Found by the long fuzz campaign: cap**2 overflowed to inf and inf x 0 warned and gave NaN.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = dk.variance_swap_payoff(0.09, 0.04, 1.0, cap=1.34e154)
        assert huge == dk.variance_swap_payoff(0.09, 0.04, 1.0)
        assert dk.variance_swap_payoff(0.09, 0.0, 1.0, cap=1.34e154) == 0.0
        capped = dk.variance_swap_payoff(np.array([0.09, 0.01]), np.array([0.04, 0.0]), 1.0, cap=1.2)
        np.testing.assert_allclose(capped, [(1.44 * 0.04 - 0.04) * 1e4, 0.0], rtol=1e-12)
