"""Fuzzing the numeric kernels: hostile values, every layout and dtype, threads, the NumPy twin
and exact arithmetic where they agree with the kernel by contract (see conftest.py)."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dispersionkit as dk
from dispersionkit import reference as ref

SHAPES = st.sampled_from([(), (1,), (3,), (2, 3), (3, 1)])


def elementwise(fuzz, count, domain=None):
    """``count`` broadcast-compatible float arrays (each () , (3,), (2, 3) ...) of hostile values."""
    elements = fuzz.floats() if domain is None else st.floats(*domain)
    return st.lists(
        SHAPES.flatmap(lambda shape: hnp.arrays(np.float64, shape, elements=elements)), min_size=count, max_size=count
    )


def check_layouts(fuzz, name, function, arrays: list, kwargs=None, *, tolerant=False):
    """Every argument in every equivalent layout gives the canonical call's outcome, bit for bit."""
    kwargs = kwargs or {}
    expected, error = fuzz.call(name, function, *arrays, **kwargs)
    labels = (
        set.intersection(*(set(fuzz.layouts(a)) for a in arrays if np.ndim(a) > 0))
        if any(np.ndim(a) for a in arrays)
        else set()
    )
    for label in sorted(labels):
        variant = [fuzz.layouts(a)[label] if np.ndim(a) > 0 else a for a in arrays]
        got, other = fuzz.call(name, function, *variant, **kwargs)
        assert (error is None) == (other is None), (
            f"{name}: layout {label!r} changes the outcome: {error!r} vs {other!r}"
        )
        if error is None:
            assert fuzz.same(expected, got), f"{name}: layout {label!r} changes the result"
        else:
            assert type(error) is type(other), f"{name}: layout {label!r}: {error!r} vs {other!r}"
    return expected, error


def test_black_scholes_contract(fuzz):
    def prop(values, call_flag, threads):
        spot, strike, tau, vol, rate, div = values
        args = [spot, strike, tau, vol, rate, div]
        for name, function in (("bs_price", dk.bs_price), ("bs_greeks", dk.bs_greeks)):
            result, error = check_layouts(fuzz, name, function, args, {"is_call": call_flag})
            if error is not None:
                continue
            again, _ = fuzz.call(name, function, *args, is_call=call_flag, threads=threads)
            assert fuzz.same(result, again), f"{name}: threads={threads} changes the result"
            price = result if name == "bs_price" else result.price
            # Element policy: NaN in any input gives NaN, never a number.
            nan_in = np.isnan(np.broadcast_arrays(*args)[0])
            for a in args[1:]:
                nan_in = nan_in | np.isnan(np.broadcast_to(a, np.shape(price)))
            assert np.isnan(np.asarray(price)[nan_in]).all(), f"{name}: NaN input gave a number"

    fuzz.run(prop, elementwise(fuzz, 6), st.booleans(), st.sampled_from([None, 1, 2, 3]), weight=2)


def test_black_scholes_matches_the_twin_on_the_ordinary_domain(fuzz):
    def prop(spot, strike, tau, vol, rate, div, call_flag):
        price, _ = fuzz.call("bs_price", dk.bs_price, spot, strike, tau, vol, rate, div, call_flag)
        twin = ref.bs_price(spot, strike, tau, vol, rate, div, call_flag)
        assert np.isclose(price, twin, rtol=1e-10, atol=1e-12 * (spot + strike)), (price, twin)

    fuzz.run(
        prop,
        st.floats(0.01, 1e4),
        st.floats(0.01, 1e4),
        st.floats(1e-4, 30),
        st.floats(1e-3, 4),
        st.floats(-0.1, 0.3),
        st.floats(0, 0.2),
        st.booleans(),
    )


def test_implied_vol_contract_and_round_trip(fuzz):
    def prop(values, call_flag, threads):
        price, spot, strike, tau, rate, div = values
        args = [price, spot, strike, tau, rate, div]
        result, error = check_layouts(
            fuzz, "implied_vol", dk.implied_vol, args, {"is_call": call_flag, "return_status": True}
        )
        if error is not None:
            return
        again, _ = fuzz.call(
            "implied_vol", dk.implied_vol, *args, is_call=call_flag, return_status=True, threads=threads
        )
        assert fuzz.same(result, again), f"implied_vol: threads={threads} changes the result"
        vol, status = np.asarray(result.vol), np.asarray(result.status)
        assert np.isin(status, [int(s) for s in dk.IVStatus]).all()
        solved = np.isin(status, [dk.IVStatus.OK, dk.IVStatus.AT_INTRINSIC])
        assert np.isnan(vol[~solved]).all(), "a vol without a solved status"
        assert (vol[solved] >= 0).all() and np.isfinite(vol[solved]).all()

    fuzz.run(prop, elementwise(fuzz, 6), st.booleans(), st.sampled_from([None, 1, 2]))


def test_implied_vol_reprices_on_the_ordinary_domain(fuzz):
    def prop(spot, moneyness, tau, vol, rate, call_flag):
        strike = spot * moneyness
        price = float(dk.bs_price(spot, strike, tau, vol, rate, 0.0, call_flag))
        result, _ = fuzz.call(
            "implied_vol", dk.implied_vol, price, spot, strike, tau, rate, 0.0, call_flag, return_status=True
        )
        if int(result.status) == dk.IVStatus.OK:
            back = float(dk.bs_price(spot, strike, tau, float(result.vol), rate, 0.0, call_flag))
            assert abs(back - price) <= 1e-12 * max(price, 1e-300) + 1e-13 * spot, (price, back)

    fuzz.run(
        prop,
        st.floats(1, 1e3),
        st.floats(0.3, 3),
        st.floats(1e-3, 10),
        st.floats(0.01, 2),
        st.floats(-0.05, 0.2),
        st.booleans(),
    )


def exact_equicorrelation(index_vol, vols, weights):
    u = [Fraction(w) * Fraction(s) if w != 0 else Fraction(0) for w, s in zip(weights, vols)]
    cross = sum(u) ** 2 - sum(x * x for x in u)
    scale = sum(abs(x) for x in u) ** 2
    return cross, scale, (None if cross == 0 else (Fraction(index_vol) ** 2 - sum(x * x for x in u)) / cross)


def test_implied_correlation_against_exact_fractions(fuzz):
    def prop(index_vol, vols, weights, breakeven):
        n = min(len(vols), len(weights))
        vols, weights = np.array(vols[:n]), np.array(weights[:n])
        function = dk.breakeven_correlation if breakeven else dk.implied_correlation
        name = function.__name__
        result, error = check_layouts(fuzz, name, function, [index_vol, vols, weights])
        if error is not None:
            return
        if not (np.isfinite(vols).all() and np.isfinite(weights).all() and np.isfinite(index_vol)):
            return
        cross, scale, exact = exact_equicorrelation(index_vol, vols, weights)
        value = float(result.value)
        eps = Fraction(float(np.finfo(float).eps))  # exact: a float eps x a Fraction scale of 1e-600 underflows
        if exact is None or abs(cross) <= 8 * eps * scale:  # undefined, or within rounding of the rule
            assume(exact is None or abs(cross) < 2 * eps * scale)
            assert np.isnan(value) and bool(result.undefined), (value, exact)
            return
        if abs(cross) <= 16 * eps * scale:
            return  # the boundary of the rule: either answer is right
        numerator = Fraction(index_vol) ** 2 + sum((Fraction(w) * Fraction(s)) ** 2 for w, s in zip(weights, vols))
        tolerance = Fraction(1, 10**13) * (numerator / abs(cross) + abs(exact))
        assert abs(Fraction(value) - exact) <= tolerance if np.isfinite(value) else abs(exact) > 1e300, (value, exact)
        assert bool(result.out_of_range) == (abs(value) > 1)

    vol = st.one_of(st.floats(0, 2), st.sampled_from([0.0, 1e-300, 1e-17, 5e-324]))
    weight = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1e-300, 1e-17, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.WeightsWarning)
        fuzz.run(
            prop,
            st.floats(0, 2),
            st.lists(vol, min_size=1, max_size=6),
            st.lists(weight, min_size=1, max_size=6),
            st.booleans(),
            weight=2,
        )


def test_index_variance_matches_the_twin(fuzz):
    def prop(n, seed, vols, weights, dated, threads):
        R = dk.random_correlation(n, rng=seed)
        s = np.resize(np.array(vols), (3, n) if dated else n)
        w = np.resize(np.array(weights), n)
        for name, function, twin in (
            ("index_variance", dk.index_variance, ref.index_variance),
            ("index_vol", dk.index_vol, ref.index_vol),
        ):
            result, error = check_layouts(fuzz, name, function, [w, s, R])
            if error is not None:
                continue
            again, _ = fuzz.call(name, function, w, s, R, threads=threads)
            assert fuzz.same(result, again)
            with np.errstate(all="ignore"):
                expected = twin(w, s, R)
            with np.errstate(invalid="ignore"):
                scale = np.where(w == 0, 0.0, np.abs(w) * np.abs(s)).sum(-1) ** 2
            if name == "index_vol":
                scale = np.sqrt(scale)
            ok = np.isfinite(expected) & np.isfinite(result)
            assert np.all(
                np.abs(np.asarray(result)[ok] - np.asarray(expected)[ok])
                <= 1e-12 * np.broadcast_to(scale, np.shape(result))[ok] + 1e-300
            )

    fuzz.run(
        prop,
        st.integers(1, 6),
        st.integers(0, 2**31),
        st.lists(st.one_of(st.floats(0, 3), st.just(np.nan)), min_size=1, max_size=18),
        st.lists(st.floats(-1, 1), min_size=1, max_size=6),
        st.booleans(),
        st.sampled_from([None, 1, 2]),
    )


def test_correlation_matrix_tools_contract(fuzz):
    def prop(matrix, target, weights):
        n = matrix.shape[0]
        sym = 0.5 * (matrix + matrix.T)
        fuzz.call("check_correlation", dk.check_correlation, sym)
        repaired, error = fuzz.call("nearest_correlation", dk.nearest_correlation, sym)
        if error is None:
            fuzz.call("check_correlation", dk.check_correlation, repaired, 1e-8)  # a valid matrix passes
            assert dk.check_correlation(repaired, 1e-8) is not None
        if n >= 2 and error is None:
            w = np.resize(np.array(weights), n)
            stressed, err = fuzz.call("stress_correlation", dk.stress_correlation, repaired, target, w)
            if err is None:
                dk.check_correlation(stressed, 1e-8)
                avg, _ = fuzz.call("average_correlation", dk.average_correlation, stressed, w)
                assert abs(avg - target) <= 1e-9, (avg, target)
        avg, err = check_layouts(fuzz, "average_correlation", dk.average_correlation, [matrix])
        if err is None and np.isfinite(matrix).all():
            assert np.isclose(avg, ref.average_correlation(matrix), rtol=1e-12, atol=1e-12 * np.abs(matrix).max())

    size = st.integers(1, 5)
    matrix = size.flatmap(
        lambda n: hnp.arrays(
            np.float64, (n, n), elements=st.one_of(st.floats(-1, 1), st.sampled_from([np.nan, 2.0, 1e300]))
        )
    )
    fuzz.run(
        prop, matrix, st.floats(-1, 1), st.lists(st.one_of(st.floats(0, 1), st.just(1e-300)), min_size=1, max_size=5)
    )


def test_realized_statistics_against_exact_arithmetic(fuzz, exact_rolling):
    def prop(x, window, min_periods, method, threads):
        args = [x]
        kwargs = {"min_periods": min_periods}
        vol, error = check_layouts(
            fuzz, "realized_vol", dk.realized_vol, args, {**kwargs, "window": window, "annualization": 1.0}
        )
        corr, error2 = check_layouts(
            fuzz, "realized_correlation", dk.realized_correlation, args, {**kwargs, "window": window, "method": method}
        )
        if error2 is None:
            again, _ = fuzz.call(
                "realized_correlation",
                dk.realized_correlation,
                x,
                window,
                method=method,
                min_periods=min_periods,
                threads=threads,
            )
            assert fuzz.same(corr, again)
        if error is not None or not np.isfinite(x[~np.isnan(x)]).all():
            return
        std, matrices = exact_rolling(x, window, min_periods)
        assert np.array_equal(np.isnan(vol), np.isnan(std))
        ok = np.isfinite(std)
        assert np.all(np.abs(vol[ok] - std[ok]) <= 1e-13 * std[ok]), "realized_vol off exact arithmetic"
        if method == "matrix" and error2 is None:
            assert np.array_equal(np.isnan(corr), np.isnan(matrices))
            assert np.nanmax(np.abs(corr - matrices), initial=0.0) <= 1e-13

    values = st.one_of(st.floats(-1e100, 1e100), st.sampled_from([np.nan, 0.0, 5e-324, 1e-300, 1e100, -1e100, 0.25]))
    data = st.tuples(st.integers(2, 30), st.integers(2, 4)).flatmap(
        lambda s: hnp.arrays(np.float64, s, elements=values)
    )
    window = st.integers(2, 12)
    fuzz.run(
        prop,
        data,
        window,
        st.one_of(st.none(), st.integers(1, 2)),
        st.sampled_from(["pairwise", "matrix", "implied_formula"]),
        st.sampled_from([None, 1, 2]),
        weight=2,
    )


def test_simulated_paths_match_the_twin(fuzz):
    def prop(n, steps, paths, seed, first_path, vol, threads):
        R = dk.random_correlation(n, rng=seed)
        args = dict(steps=steps, paths=paths, seed=seed, first_path=first_path)
        result, error = fuzz.call(
            "simulate_market", dk.simulate_market, np.full(n, 100.0), np.full(n, vol), R, **args, threads=threads
        )
        if error is not None:
            return
        twin = ref.simulate_market(np.full(n, 100.0), np.full(n, vol), R, **args)
        np.testing.assert_allclose(result.components, twin.components, rtol=1e-12)
        one, _ = fuzz.call(
            "simulate_market", dk.simulate_market, np.full(n, 100.0), np.full(n, vol), R, **args, threads=1
        )
        assert fuzz.same(result.components, one.components)

    fuzz.run(
        prop,
        st.integers(1, 4),
        st.integers(1, 6),
        st.integers(1, 9),
        st.integers(0, 2**40),
        st.integers(0, 2**20),
        st.floats(0, 2),
        st.sampled_from([None, 1, 2]),
    )


def test_hedged_pnl_matches_the_twin(fuzz):
    def prop(paths, steps, m, legs, vol_values, cost, every, threads, seed):
        rng = np.random.default_rng(seed)
        spots = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (paths, steps + 1, m)), axis=1))
        book = dk.Book([dk.Leg(int(u) % m, float(k), float(e), bool(c), float(q)) for u, k, e, c, q in legs])
        vols = np.resize(np.array(vol_values), (paths, steps + 1, m))
        policy = dk.HedgePolicy(every=every, hedge_cost_bps=cost)
        result, error = fuzz.call(
            "hedged_pnl", dk.hedged_pnl, book, spots, vols, policy=policy, detail="steps", threads=threads
        )
        if error is not None:
            return
        twin = ref.hedged_pnl(book, spots, vols, policy=policy, detail="steps")
        np.testing.assert_allclose(result.steps.net, twin.steps.net, rtol=1e-9, atol=1e-9)
        one, _ = fuzz.call("hedged_pnl", dk.hedged_pnl, book, spots, vols, policy=policy, detail="steps", threads=1)
        assert fuzz.same(result.summary, one.summary)

    leg = st.tuples(st.integers(0, 3), st.floats(50, 200), st.floats(1 / 252, 0.5), st.booleans(), st.floats(-5, 5))
    fuzz.run(
        prop,
        st.integers(1, 5),
        st.integers(1, 8),
        st.integers(1, 3),
        st.lists(leg, min_size=1, max_size=4),
        st.lists(st.one_of(st.floats(0, 2), st.just(0.0)), min_size=1, max_size=5),
        st.floats(0, 10),
        st.integers(1, 3),
        st.sampled_from([None, 1, 2]),
        st.integers(0, 2**31),
        weight=0.5,
    )


def test_variance_swap_strikes_match_the_twin(fuzz):
    def prop(forward, tau, vol, count, width, rate):
        strikes, error = fuzz.call(
            "replication_strikes", dk.replication_strikes, forward, tau, vol, count=count, width=width
        )
        if error is not None:
            return
        vols = np.full(np.shape(strikes), vol)
        result, error = check_layouts(
            fuzz,
            "variance_swap_strike",
            dk.variance_swap_strike,
            [strikes, vols],
            {"forward": forward, "tau": tau, "rate": rate},
        )
        if error is None and np.isfinite(result.strike):
            twin = ref.variance_swap_strike(strikes, vols, forward, tau, rate)
            assert np.isclose(result.strike, twin.strike, rtol=1e-10), (result.strike, twin.strike)

    fuzz.run(
        prop, fuzz.floats(), fuzz.floats(), fuzz.floats(), st.integers(-1, 60), fuzz.floats(), st.floats(-0.1, 0.2)
    )


def test_pandas_inputs_keep_their_labels(fuzz):
    def prop(T, n, seed, window):
        rng = np.random.default_rng(seed)
        dates = pd.bdate_range("2020-01-01", periods=T)
        returns = pd.DataFrame(rng.normal(0, 0.01, (T, n)), index=dates, columns=[f"N{i}" for i in range(n)])
        vol, error = fuzz.call("realized_vol", dk.realized_vol, returns, window)
        if error is None:
            assert vol.index.equals(dates) and list(vol.columns) == list(returns.columns)
            assert fuzz.same(vol.to_numpy(), dk.realized_vol(returns.to_numpy(), window))
        corr, error = fuzz.call("realized_correlation", dk.realized_correlation, returns, window)
        if error is None:
            assert corr.index.equals(dates)
        est, error = fuzz.call(
            "implied_correlation",
            dk.implied_correlation,
            pd.Series(0.2, index=dates),
            np.full((T, n), 0.3),
            np.full(n, 1 / n),
        )
        if error is None:
            assert est.value.index.equals(dates) and est.undefined.shape == (T,)

    fuzz.run(prop, st.integers(1, 40), st.integers(1, 4), st.integers(0, 2**31), st.integers(2, 10))
