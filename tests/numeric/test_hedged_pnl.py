"""hedged_pnl: core against the NumPy twin, thread/chunk invariance, expiry, financing oracles."""

from dataclasses import fields

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import dispersionkit as dk
from dispersionkit.numeric.pnl_result import PnLSteps, PnLSummary

DT = 1.0 / 252.0


def _random_case(gbm, seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 5))
    paths, steps = int(rng.integers(1, 30)), int(rng.integers(1, 25))
    spots = gbm(paths, steps, DT, rng.uniform(0.1, 0.5, m), underlyings=m, seed=seed, spot=rng.uniform(20, 200, m))
    legs = []
    for _ in range(int(rng.integers(1, 9))):
        u = int(rng.integers(0, m))
        legs.append(
            dk.Leg(
                u,
                float(spots[0, 0, u] * rng.uniform(0.8, 1.2)),
                float(max(rng.uniform(0.5, 1.5) * steps, 1.0) * DT),  # a tenor below one step is an error
                bool(rng.integers(0, 2)),
                float(rng.normal(0, 3)),
            )
        )
    vols = rng.uniform(0.15, 0.4, (paths, steps + 1, m))
    policy = dk.HedgePolicy(
        every=int(rng.integers(1, 4)),
        band=[None, 0.3][int(rng.integers(0, 2))],
        hedge_cost_bps=float(rng.uniform(0, 5)),
        option_half_spread=float(rng.uniform(0, 1)),
    )
    kwargs = dict(rate=float(rng.uniform(-0.01, 0.05)), div_yield=rng.uniform(0, 0.03, m), dt=DT, policy=policy)
    return dk.Book(legs), spots, vols, kwargs


def _assert_results_close(a, b, rtol=1e-9):
    scale = max(1.0, float(np.abs(b.summary.option_mtm).max()), float(np.abs(b.summary.total).max()))
    for f in fields(PnLSummary):
        np.testing.assert_allclose(
            getattr(a.summary, f.name), getattr(b.summary, f.name), rtol=rtol, atol=rtol * scale, err_msg=f.name
        )
    for f in fields(PnLSteps):
        np.testing.assert_allclose(
            getattr(a.steps, f.name), getattr(b.steps, f.name), rtol=rtol, atol=rtol * scale, err_msg=f.name
        )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31))
def test_core_matches_reference_on_random_books(gbm, seed):
    book, spots, vols, kwargs = _random_case(gbm, seed)
    core = dk.hedged_pnl(book, spots, vols, detail="steps", **kwargs)
    ref = dk.reference.hedged_pnl(book, spots, vols, detail="steps", **kwargs)
    np.testing.assert_array_equal(core.summary.n_rebalances, ref.summary.n_rebalances)
    _assert_results_close(core, ref)


def test_identical_for_any_thread_count_and_any_split_of_paths(gbm):
    book, case_spots, _, kwargs = _random_case(gbm, 3)
    m = case_spots.shape[2]
    spots = gbm(301, 20, DT, 0.3, underlyings=m, seed=9)
    vols = np.full((301, 21, m), 0.25)
    one = dk.hedged_pnl(book, spots, vols, detail="steps", threads=1, **kwargs)
    for threads in (2, 3):
        other = dk.hedged_pnl(book, spots, vols, detail="steps", threads=threads, **kwargs)
        for f in fields(PnLSteps):
            np.testing.assert_array_equal(getattr(one.steps, f.name), getattr(other.steps, f.name))
        for f in fields(PnLSummary):
            np.testing.assert_array_equal(getattr(one.summary, f.name), getattr(other.summary, f.name))
    for cut in (1, 37, 150):
        parts = [
            dk.hedged_pnl(book, spots[a:b], vols[a:b], detail="steps", threads=2, **kwargs)
            for a, b in ((0, cut), (cut, 301))
        ]
        for f in fields(PnLSummary):
            joined = np.concatenate([getattr(p.summary, f.name) for p in parts])
            np.testing.assert_array_equal(joined, getattr(one.summary, f.name), err_msg=f.name)
        np.testing.assert_array_equal(np.concatenate([p.steps.net for p in parts]), one.steps.net)


def test_summary_detail_matches_steps_detail(gbm):
    book, spots, vols, kwargs = _random_case(gbm, 5)
    full = dk.hedged_pnl(book, spots, vols, detail="steps", **kwargs)
    summary = dk.hedged_pnl(book, spots, vols, detail="summary", **kwargs)
    assert summary.steps is None
    for f in fields(PnLSummary):
        np.testing.assert_array_equal(getattr(full.summary, f.name), getattr(summary.summary, f.name))


def test_unhedged_option_held_to_expiry_pays_payoff_minus_financed_premium(gbm):
    rate, steps = 0.04, 30
    spots = gbm(20, steps, DT, 0.3, seed=2)
    book = dk.Book([dk.Leg(0, 95.0, steps * DT, False, 3.0)])
    policy = dk.HedgePolicy(hedge_instrument="none")
    total = dk.hedged_pnl(book, spots, 0.3, rate=rate, dt=DT, policy=policy).summary.total
    premium = float(dk.bs_price(100.0, 95.0, steps * DT, 0.3, rate, is_call=False))
    payoff = np.maximum(95.0 - spots[:, -1, 0], 0.0)
    # The cash account earns rate * dt per step on its balance (simple, compounded per step).
    np.testing.assert_allclose(total, 3.0 * (payoff - premium * (1 + rate * DT) ** steps), rtol=1e-10, atol=1e-10)


def test_hedge_earns_dividends_and_financing_on_cash():
    rate, q = 0.05, 0.03
    spots = np.array([[100.0], [101.0]])
    book = dk.Book([dk.Leg(0, 100.0, 0.5, True, 1.0)])
    s = dk.hedged_pnl(book, spots, 0.2, rate=rate, div_yield=q, dt=DT).steps
    g = dk.bs_greeks(100.0, 100.0, 0.5, 0.2, rate, q)
    cash = -float(g.price) + float(g.delta) * 100.0  # bought the call, sold delta shares
    expected = cash * rate * DT - float(g.delta) * q * 100.0 * DT
    np.testing.assert_allclose(s.financing[0, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(s.hedge_pnl[0, 0], -float(g.delta) * 1.0, rtol=1e-12)


def test_expired_leg_settles_at_intrinsic_and_stays_flat(gbm):
    spots = gbm(3, 12, DT, 0.3, seed=4, underlyings=2)
    book = dk.Book([dk.Leg(0, 100.0, 5 * DT, True, 2.0), dk.Leg(1, 100.0, 1.0, False, 1.0)])
    s = dk.hedged_pnl(book, spots, 0.3, dt=DT, detail="steps").steps
    g4 = dk.bs_greeks(spots[:, 4, 0], 100.0, DT, 0.3)
    intrinsic = np.maximum(spots[:, 5, 0] - 100.0, 0.0)
    alone = dk.hedged_pnl(dk.Book([book.legs[1]]), spots, 0.3, dt=DT, detail="steps").steps
    # Step 4 -> 5 carries the settlement; from step 5 on only the second leg moves the book.
    np.testing.assert_allclose(
        s.option_mtm[:, 4] - alone.option_mtm[:, 4], 2.0 * (intrinsic - g4.price), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(s.net[:, 5:], alone.net[:, 5:], rtol=1e-12, atol=1e-12)
    assert np.all(s.gamma_theta_legs[:, 5:, 0] == 0.0)
    # The hedge of underlying 0 was unwound at the expiry step: no delta P&L on it afterwards.
    np.testing.assert_allclose(s.dollar_delta[:, 5:], alone.dollar_delta[:, 5:], atol=1e-9)


def test_dataframe_names_dates_and_to_frame(gbm):
    dates = pd.bdate_range("2024-01-02", periods=11)
    frame = pd.DataFrame(gbm(1, 10, DT, 0.2, underlyings=2, seed=1)[0], index=dates, columns=["SPX", "AAPL"])
    by_name = dk.straddle("AAPL", 100.0, pd.Timestamp("2024-03-15"), 1.0)
    by_index = dk.straddle(1, 100.0, (pd.Timestamp("2024-03-15") - dates[0]).days / 365.0, 1.0)
    named = dk.hedged_pnl(by_name, frame, 0.25)
    plain = dk.hedged_pnl(by_index, frame.to_numpy(), 0.25, detail="steps")
    np.testing.assert_array_equal(named.steps.net, plain.steps.net)
    table = named.to_frame()
    assert list(table.index) == list(dates[1:]) and table.shape == (10, 17)
    np.testing.assert_array_equal(table["cumulative"].to_numpy(), named.steps.cumulative[0])


def test_vols_per_leg_equal_vols_per_underlying(gbm):
    spots = gbm(4, 8, DT, 0.2, underlyings=2, seed=8)
    vols = np.random.default_rng(0).uniform(0.15, 0.3, (4, 9, 2))
    book = dk.straddle(0, 100.0, 0.3, 1.0) + dk.Book([dk.Leg(1, 90.0, 0.4, False, -1.0)])
    per_leg = vols[:, :, [0, 0, 1]]
    a = dk.hedged_pnl(book, spots, vols, detail="steps")
    b = dk.hedged_pnl(book, spots, per_leg, detail="steps", vols_by="leg")
    np.testing.assert_array_equal(a.steps.net, b.steps.net)


def test_straddle_legs_priced_together_match_legs_priced_alone(gbm):
    # A call and a put with the same terms share one Greeks evaluation; each leg's numbers
    # must be exactly those of the leg priced on its own.
    spots = gbm(40, 15, DT, 0.3, underlyings=2, seed=12)
    vols = np.random.default_rng(1).uniform(0.15, 0.35, (40, 16, 2))
    pair = dk.straddle(1, 100.0, 0.2, 2.0)
    together = dk.hedged_pnl(pair, spots, vols, detail="steps").steps.gamma_theta_legs
    for k, leg in enumerate(pair):
        alone = dk.hedged_pnl(dk.Book([leg]), spots, vols, detail="steps").steps.gamma_theta_legs
        np.testing.assert_array_equal(together[:, :, k], alone[:, :, 0])


def test_zero_vol_legs_use_the_deterministic_limits_like_the_reference(gbm):
    spots = gbm(20, 12, DT, 0.3, underlyings=2, seed=13)
    vols = np.random.default_rng(2).uniform(0.1, 0.3, (20, 13, 2))
    vols[::3, 4:7, 0] = 0.0
    book = dk.straddle(0, 90.0, 0.2, 1.0) + dk.Book(
        [dk.Leg(1, 110.0, 0.3, False, -2.0), dk.Leg(0, 120.0, 0.3, True, 1.0)]
    )
    core = dk.hedged_pnl(book, spots, vols, rate=0.01, detail="steps")
    ref = dk.reference.hedged_pnl(book, spots, vols, rate=0.01, detail="steps")
    assert np.isfinite(core.steps.net).all()
    _assert_results_close(core, ref)


def test_wide_books_run_in_smaller_batches_with_the_same_numbers(gbm):
    # Above ~146 legs the engine runs 16 paths per batch instead of 32 (its per-step working set
    # then stays in cache). Same numbers as the twin, and the same bits for any split of the
    # paths (which moves each path to another batch and lane).
    m, paths, steps = 80, 37, 12
    rng = np.random.default_rng(4)
    spots = gbm(paths, steps, DT, rng.uniform(0.15, 0.45, m), underlyings=m, seed=4, spot=rng.uniform(20, 200, m))
    legs = [
        dk.Leg(j, float(spots[0, 0, j]), 20 * DT, call, 1.0 if j else -5.0) for j in range(m) for call in (True, False)
    ]
    book = dk.Book(legs)
    assert len(legs) == 160
    vols = rng.uniform(0.15, 0.4, (paths, steps + 1, m))
    kwargs = dict(rate=0.02, div_yield=np.full(m, 0.01), dt=DT, policy=dk.HedgePolicy(every=2, hedge_cost_bps=1.0))
    core = dk.hedged_pnl(book, spots, vols, detail="steps", threads=2, **kwargs)
    _assert_results_close(core, dk.reference.hedged_pnl(book, spots, vols, detail="steps", **kwargs))
    parts = [
        dk.hedged_pnl(book, spots[a:b], vols[a:b], detail="steps", threads=1, **kwargs) for a, b in ((0, 5), (5, 37))
    ]
    for f in fields(PnLSummary):
        joined = np.concatenate([getattr(p.summary, f.name) for p in parts])
        np.testing.assert_array_equal(joined, getattr(core.summary, f.name), err_msg=f.name)
    np.testing.assert_array_equal(np.concatenate([p.steps.net for p in parts]), core.steps.net)


def test_leg_numbers_do_not_depend_on_position_chunking_or_vol_layout(gbm):
    # The engine prices and books legs a chunk at a time (a call/put pair shares one evaluation
    # only inside a chunk) and stages vols once when they are the same on every path and step.
    # A leg's numbers must not depend on where it sits in the book, and broadcast vols must give
    # the bits of the same vols written out in full. 300 legs over 41 steps: many chunks, and the
    # spot staging ring (a few steps for a wide book) wraps many times.
    m, paths, steps = 150, 9, 40
    rng = np.random.default_rng(6)
    spots = gbm(paths, steps, DT, rng.uniform(0.15, 0.45, m), underlyings=m, seed=6, spot=rng.uniform(20, 200, m))
    strikes = spots[0, 0] * rng.uniform(0.9, 1.1, m)
    quantity = rng.normal(0, 2, m)
    expiry = np.where(np.arange(m) % 3 == 0, 25 * DT, 0.3)  # a third settle inside the run

    def leg(j, call):
        return dk.Leg(j, float(strikes[j]), float(expiry[j]), call, float(quantity[j]))

    paired = dk.Book([leg(j, call) for j in range(m) for call in (True, False)])
    apart = dk.Book([leg(j, True) for j in range(m)] + [leg(j, False) for j in range(m)])
    order = np.array([j + (0 if call else m) for j in range(m) for call in (True, False)])
    flat = rng.uniform(0.15, 0.4, m)
    kwargs = dict(rate=0.02, div_yield=np.full(m, 0.01), dt=DT, policy=dk.HedgePolicy(every=2, hedge_cost_bps=1.0))

    a = dk.hedged_pnl(paired, spots, flat, detail="steps", threads=2, **kwargs)
    b = dk.hedged_pnl(apart, spots, flat, detail="steps", threads=1, **kwargs)
    np.testing.assert_array_equal(a.summary.gamma_theta_legs, b.summary.gamma_theta_legs[:, order])
    np.testing.assert_array_equal(a.steps.gamma_theta_legs, b.steps.gamma_theta_legs[:, :, order])
    np.testing.assert_allclose(b.steps.net, a.steps.net, rtol=1e-9, atol=1e-9 * float(np.abs(a.steps.net).max()))
    _assert_results_close(a, dk.reference.hedged_pnl(paired, spots, flat, detail="steps", **kwargs))

    per_step = rng.uniform(0.15, 0.4, (1, steps + 1, m))
    for broadcast in (flat, per_step):
        full = np.array(np.broadcast_to(broadcast, (paths, steps + 1, m)))
        one = dk.hedged_pnl(paired, spots, broadcast, detail="steps", threads=2, **kwargs)
        other = dk.hedged_pnl(paired, spots, full, detail="steps", threads=1, **kwargs)
        for part, cls in (("summary", PnLSummary), ("steps", PnLSteps)):
            for f in fields(cls):
                np.testing.assert_array_equal(
                    getattr(getattr(one, part), f.name), getattr(getattr(other, part), f.name), err_msg=f.name
                )
