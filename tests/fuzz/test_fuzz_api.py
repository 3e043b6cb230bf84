"""Fuzzing every public name of ``dk``: hostile arguments of any type, then the strategy and
market layers with plausible but extreme values, then threads (see conftest.py)."""

from __future__ import annotations

import concurrent.futures
import enum
import inspect

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dispersionkit as dk

NAN, INF = float("nan"), float("inf")
DATES = pd.bdate_range("2021-01-04", periods=4)

# Values of every kind a caller might pass by mistake. Lazily built: some need the package.
POOL = [
    lambda: None,
    lambda: True,
    lambda: 0,
    lambda: 1,
    lambda: -1,
    lambda: 3,
    lambda: 2**63,
    lambda: -(2**70),
    lambda: 0.0,
    lambda: -0.0,
    lambda: 0.5,
    lambda: 1e-320,
    lambda: 1e308,
    lambda: NAN,
    lambda: INF,
    lambda: -INF,
    lambda: "",
    lambda: "long",
    lambda: "2021-01-05",
    lambda: b"\x00",
    list,
    lambda: [1.0, 2.0],
    lambda: [[1.0, 0.5], [0.5, 1.0]],
    lambda: (1, "a"),
    lambda: {"a": 1},
    lambda: object(),
    lambda: np.array([]),
    lambda: np.array([1.0, NAN, INF]),
    lambda: np.zeros((2, 2)),
    lambda: np.eye(3),
    lambda: np.full((3, 4, 2), 100.0),
    lambda: np.array(["a", "b"]),
    lambda: np.array([1 + 1j]),
    lambda: np.array([1.0, 2.0], dtype=object),
    lambda: np.array([1, 2], dtype=np.int8),
    lambda: np.broadcast_to(0.2, (2**20, 2)),
    lambda: pd.Series([0.1, 0.2, NAN, 0.4], index=DATES),
    lambda: pd.DataFrame({"A": [100.0, 101, 99, 100], "B": [50.0, 51, 52, 50]}, index=DATES),
    lambda: pd.Timestamp("2021-01-05"),
    lambda: pd.Timestamp("2021-01-05", tz="UTC"),
    lambda: dk.HedgePolicy(),
    lambda: dk.straddle(0, 100.0, 0.25),
    lambda: dk.DispersionTrade(),
    lambda: dk.ImpliedVolModel(),
    lambda: slice(None),
]


# Callables that need minutes for some valid arguments (whole backtests and Monte-Carlo runs):
# fuzzed with hostile types only, never with a working market.
def _fuzzable(value) -> bool:
    # An Enum class called with several arguments is the standard library's functional API
    # (it builds a new enum): its errors are Python's, not the library's.
    is_enum = isinstance(value, type) and issubclass(value, enum.Enum)
    return callable(value) and not inspect.ismodule(value) and not is_enum


PUBLIC = sorted(name for name in dk.__all__ if _fuzzable(getattr(dk, name)) and name != "hardware_threads")


def test_every_public_name_rejects_hostile_arguments_by_name(fuzz):
    def prop(name, positional, keywords):
        function = getattr(dk, name)
        try:
            parameters = list(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            parameters = []
        args = [POOL[i]() for i in positional]
        kwargs = {parameters[k % len(parameters)]: POOL[i]() for k, i in keywords} if parameters else {}
        kwargs = {k: v for k, v in kwargs.items() if k not in ("self", "args", "kwargs", "rules")}
        paths = kwargs.get("paths")
        if isinstance(paths, (int, np.integer)) and not isinstance(paths, bool) and paths > 2:
            kwargs["paths"] = 2  # keeps a Monte-Carlo call that happens to be valid short
        fuzz.call(name, function, *args, **kwargs)

    index = st.integers(0, len(POOL) - 1)
    fuzz.run(
        prop,
        st.sampled_from(PUBLIC),
        st.lists(index, max_size=4),
        st.lists(st.tuples(st.integers(0, 12), index), max_size=3),
        weight=25,
    )


def test_sizing_and_risk_with_extreme_values(fuzz):
    def prop(qty, exposure, component, weights, spots, capital, budget, basis):
        n = min(len(component), len(weights), len(spots))
        c, w, s = np.array(component[:n]), np.array(weights[:n]), np.array(spots[:n])
        for name, function, args in (
            ("vega_neutral", dk.vega_neutral, (qty, exposure, c, w)),
            ("theta_neutral", dk.theta_neutral, (qty, exposure, c, w)),
            ("gamma_neutral", dk.gamma_neutral, (qty, exposure, 100.0, c, s, w)),
            ("notional_weighted", dk.notional_weighted, (qty, s, w)),
            ("book_premium", dk.book_premium, (c, s, basis)),
            ("scale_to_budget", dk.scale_to_budget, (c, s, capital, budget, basis)),
            ("position_size", dk.position_size, (capital, exposure, budget)),
            ("survivability", dk.survivability, (capital, exposure, qty)),
        ):
            result, error = fuzz.call(name, function, *args)
            if error is None and name == "scale_to_budget":
                assert np.isfinite(result.scale) and result.scale > 0
                assert np.isclose(dk.book_premium(result.quantities, s, basis), result.target, rtol=1e-9)

    values = fuzz.floats()
    vector = st.lists(values, min_size=1, max_size=4)
    fuzz.run(prop, values, values, vector, vector, vector, values, values, st.sampled_from(["gross", "net", "mid"]))


def test_swap_payoffs_and_marks_with_extreme_values(fuzz):
    def prop(a, b, c, d, e, f, g):
        for name, function, args, kwargs in (
            ("variance_notional", dk.variance_notional, (a, b), {}),
            ("vega_notional", dk.vega_notional, (a, b), {}),
            ("variance_swap_payoff", dk.variance_swap_payoff, (a, b, c), {"cap": d}),
            ("correlation_swap_payoff", dk.correlation_swap_payoff, (a, b, c), {}),
            (
                "variance_swap_value",
                dk.variance_swap_value,
                (a, b),
                dict(realized_variance=c, elapsed_days=d, total_days=e, implied_variance=f, tau=g),
            ),
            (
                "correlation_swap_value",
                dk.correlation_swap_value,
                (a, b),
                dict(realized_correlation=c, elapsed_days=d, total_days=e, implied_correlation=f, tau=g),
            ),
            ("correlation_swap_strike", dk.correlation_swap_strike, (a, np.array([b, c]), np.array([0.5, 0.5])), {}),
        ):
            result, error = fuzz.call(name, function, *args, **kwargs)
            if error is None and name == "correlation_swap_strike":
                assert np.isnan(result.value) or not result.undefined

    values = fuzz.floats()
    fuzz.run(prop, values, values, values, values, values, values, values, weight=2)


def test_realized_variance_and_swap_correlation(fuzz):
    def prop(returns, days):
        fuzz.call("realized_variance", dk.realized_variance, returns, days=days)
        result, error = fuzz.call("swap_realized_correlation", dk.swap_realized_correlation, returns)
        if error is None:
            assert np.isnan(result) or -1 - 1e-12 <= result <= 1 + 1e-12

    shapes = st.sampled_from([(5, 2), (2, 2), (10, 3), (1, 2), (4,)])
    data = shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=fuzz.floats()))
    fuzz.run(prop, data, st.one_of(st.none(), st.integers(-2, 300), st.just(NAN)))


def test_market_data_and_its_views_with_hostile_frames(fuzz, synthetic_market):
    def prop(spot_values, vol_values, index_vol, weights, rate):
        T, n = spot_values.shape
        dates = pd.bdate_range("2021-01-04", periods=T)
        names = [f"N{i}" for i in range(n)]
        spots = pd.DataFrame(spot_values, index=dates, columns=names)
        market, error = fuzz.call(
            "MarketData",
            dk.MarketData,
            spots,
            spots.sum(axis=1),
            vols=pd.DataFrame(vol_values[:T, :n], index=dates, columns=names),
            index_vol=pd.Series(index_vol, index=dates),
            weights=pd.Series(np.resize(np.array(weights), n), index=names),
            rate=rate,
        )
        if error is not None:
            return
        estimate, _ = fuzz.call("MarketData.implied_correlation", market.implied_correlation, estimate=True)
        assert (estimate.undefined & ~np.isnan(estimate.value.to_numpy())).sum() == 0
        fuzz.call("MarketData.log_returns", market.log_returns)

    shape = st.tuples(st.integers(1, 6), st.integers(1, 3))
    spot = st.one_of(st.floats(1e-3, 1e6), st.sampled_from([NAN, 0.0, -1.0, INF, 1e-300]))
    vol = st.one_of(st.floats(0, 3), st.sampled_from([NAN, 0.0, -0.1, INF]))
    fuzz.run(
        prop,
        shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=spot)),
        hnp.arrays(np.float64, (6, 3), elements=vol),
        st.one_of(st.floats(0, 2), st.just(NAN)),
        st.lists(st.one_of(st.floats(0, 1), st.just(NAN)), min_size=1, max_size=3),
        fuzz.floats(),
    )


def test_trades_on_a_market_with_extreme_choices(fuzz, synthetic_market):
    market = synthetic_market(n_dates=90)
    dates = market.dates

    def prop(direction, tenor, sizing, budget, strikes, structure, day, capital):
        trade, error = fuzz.call(
            "DispersionTrade",
            dk.DispersionTrade,
            direction=direction,
            tenor=tenor,
            sizing=sizing,
            budget=budget,
            strikes=strikes,
            structure=structure,
        )
        if error is not None:
            return
        date = dates[day % len(dates)]
        position, error = fuzz.call("DispersionTrade.position", trade.position, market, date, capital)
        if error is not None:
            return
        fuzz.call("DispersionTrade.breakeven_correlation", trade.breakeven_correlation, market, date, capital=capital)
        fuzz.call("stress_grid", dk.stress_grid, position, [-0.1, 0.0], [0.0, 0.05], [0.2, 0.9])

    fuzz.run(
        prop,
        st.sampled_from(["long", "short", "flat"]),
        st.one_of(st.floats(1e-6, 5), st.sampled_from([0.0, NAN, 1e300])),
        st.sampled_from(["vega", "theta", "gamma", "notional", "delta"]),
        st.one_of(st.none(), st.floats(0, 1.5)),
        st.one_of(st.just("atm"), st.floats(0.01, 5), st.just(0.0)),
        st.sampled_from(["straddle", "strangle", "call", "put", "fly"]),
        st.integers(0, 200),
        st.one_of(st.floats(1, 1e12), st.sampled_from([0.0, -1.0, NAN, 1e300])),
        weight=0.5,
    )


def test_rules_and_metrics_with_extreme_states(fuzz):
    def prop(values, equity_values):
        vix, change, implied, realized = values
        state, error = fuzz.call("MarketState", dk.MarketState, vix, change, implied, realized)
        if error is None:
            fuzz.call(
                "evaluate_rules",
                dk.evaluate_rules,
                dk.any_of(dk.LongDispersionEntry(), dk.ShortDispersionEntry()),
                state,
            )
            fuzz.call("RegimeClassifier.classify", dk.RegimeClassifier().classify, state)
        position, error = fuzz.call(
            "PositionState", dk.PositionState, vix, 1000.0, change, implied, realized, vix, change, implied
        )
        if error is None:
            fuzz.call("evaluate_rules", dk.evaluate_rules, dk.default_exit_rules("long"), position)
        equity = pd.Series(equity_values, index=pd.bdate_range("2021-01-04", periods=len(equity_values)))
        fuzz.call("compute_metrics", dk.compute_metrics, equity)

    fuzz.run(prop, st.lists(fuzz.floats(), min_size=4, max_size=4), st.lists(fuzz.floats(), min_size=0, max_size=8))


def test_concurrent_calls_give_the_serial_results(fuzz):
    def prop(seed, size):
        rng = np.random.default_rng(seed)
        spot = rng.uniform(50, 150, size)
        returns = rng.normal(0, 0.01, (max(size // 10, 30), 5))
        returns[rng.random(returns.shape) < 0.05] = np.nan
        jobs = [
            lambda: dk.bs_greeks(spot, 100.0, 0.5, 0.2, threads=2).price,
            lambda: dk.implied_vol(dk.bs_price(spot, 100.0, 0.5, 0.2), spot, 100.0, 0.5),
            lambda: dk.realized_correlation(returns, 20, threads=2),
            lambda: dk.realized_vol(returns, 20, threads=3),
            lambda: dk.index_vol(np.full(5, 0.2), np.abs(returns[:, :]), dk.random_correlation(5, rng=seed)),
        ]
        serial = [job() for job in jobs]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(jobs[k % len(jobs)]) for k in range(12)]
            for k, future in enumerate(futures):
                assert fuzz.same(future.result(), serial[k % len(jobs)]), f"job {k % len(jobs)} differs under threads"

    fuzz.run(prop, st.integers(0, 2**31), st.integers(1, 60_000), weight=0.25)


def test_hedged_pnl_with_hostile_dates(fuzz):
    def prop(offsets, expiry_days, dt, tz):
        dates = pd.Timestamp("2021-01-04") + pd.to_timedelta(offsets, unit="D")
        if tz:
            dates = dates.tz_localize("UTC")
        spots = pd.DataFrame({"A": np.linspace(100, 110, len(offsets)), "B": 50.0}, index=dates)
        expiry = pd.Timestamp("2021-01-04") + pd.Timedelta(days=expiry_days)
        for expiry_value in (expiry, expiry_days / 365.0):
            book, error = fuzz.call("straddle", dk.straddle, "A", 100.0, expiry_value)
            if error is not None:
                continue
            result, error = fuzz.call("hedged_pnl", dk.hedged_pnl, book, spots, 0.2, dt=dt)
            if error is None:
                assert np.isfinite(result.summary.total).all()

    fuzz.run(
        prop,
        st.lists(st.one_of(st.integers(-5, 400), st.floats(-2, 400)), min_size=2, max_size=12),
        st.one_of(st.floats(-10, 800), st.sampled_from([0.0, 1e6])),
        st.one_of(st.floats(1e-4, 1.0), st.sampled_from([1 / 252, 1 / 365, 1e-300, 1e300])),
        st.booleans(),
    )


def test_csv_reader_with_hostile_text(fuzz, tmp_path_factory):
    from dispersionkit.market.tables import read_dated_table

    folder = tmp_path_factory.mktemp("csv")

    def prop(text):
        path = folder / "t.csv"
        path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        table, error = fuzz.call("read_dated_table", read_dated_table, path, "spots")
        if error is None:
            assert table.index.is_monotonic_increasing and table.index.is_unique
            assert table.dtypes.eq(np.float64).all()

    cell = st.sampled_from(
        [
            "2021-01-04",
            "2021-01-05",
            "2021-01-05 16:00",
            "2021-01-06T00:00+02:00",
            "1.5",
            "",
            "NA",
            "x",
            " A",
            "A",
            "nan",
            "1e400",
            '"1,5"',
            "-0",
        ]
    )
    line = st.lists(cell, min_size=0, max_size=5).map(",".join)
    text = st.lists(line, min_size=0, max_size=6).map("\n".join)
    fuzz.run(prop, st.one_of(text, st.binary(max_size=200)), weight=2)
