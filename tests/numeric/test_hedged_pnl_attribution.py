"""P&L attribution: identities that must hold exactly, and the residual's size and convergence."""

import numpy as np

import dispersionkit as dk

HORIZON = 21.0 / 252.0


def _vol_paths(paths, steps, dt, seed, level=0.25, vol_of_vol=0.5):
    """Implied vols wandering as a driftless lognormal walk (annual vol of vol)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((paths, steps, 1))
    walk = np.concatenate([np.zeros((paths, 1, 1)), np.cumsum(vol_of_vol * np.sqrt(dt) * z, axis=1)], axis=1)
    return level * np.exp(walk - 0.5 * vol_of_vol**2 * dt * np.arange(steps + 1)[None, :, None])


def _run(gbm, steps, seed=11, paths=400):
    dt = HORIZON / steps
    book = dk.straddle(0, 100.0, 0.5, 1.0) + dk.Book([dk.Leg(0, 110.0, 0.5, True, -2.0)])
    spots = gbm(paths, steps, dt, 0.25, seed=seed)
    vols = _vol_paths(paths, steps, dt, seed + 1)
    return dk.hedged_pnl(book, spots, vols, dt=dt, rate=0.02, detail="steps")


def test_lines_add_up_and_attribution_closes(gbm):
    s = _run(gbm, 21).steps
    np.testing.assert_allclose(s.net, s.option_mtm + s.hedge_pnl + s.financing - s.costs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.cumulative, np.cumsum(s.net, axis=1), rtol=0, atol=1e-11)
    explained = s.delta_pnl + s.gamma_pnl + s.theta_pnl + s.vega_pnl + s.vanna_pnl + s.volga_pnl + s.financing - s.costs
    np.testing.assert_allclose(s.net - explained, s.residual, rtol=0, atol=1e-12)


def test_residual_small_for_daily_steps_and_shrinking_with_dt(gbm):
    gross, resid = [], []
    for steps in (21, 84, 336):
        s = _run(gbm, steps).steps
        gross.append(np.abs(s.option_mtm).sum())
        resid.append(np.abs(s.residual).sum())
    assert resid[0] / gross[0] < 0.01, resid[0] / gross[0]
    # Per step the residual is O(dt^1.5), so over a fixed horizon it falls like sqrt(dt):
    # about 1/2 for each 4x refinement.
    assert resid[1] / resid[0] < 0.65 and resid[2] / resid[1] < 0.65, resid


def test_gamma_plus_theta_is_the_per_leg_gamma_theta_when_rates_are_zero(gbm):
    # With r = q = 0, BSM gives theta = -0.5 vol^2 S^2 gamma, so gamma_pnl + theta_pnl equals
    # sum over legs of 0.5 x cash gamma x (r^2 - vol^2 dt) exactly.
    dt = 1.0 / 252.0
    book = dk.straddle(0, 100.0, 0.3, 2.0) + dk.straddle(1, 50.0, 0.3, -3.0)
    spots = gbm(50, 10, dt, [0.3, 0.2], underlyings=2, seed=5, spot=np.array([100.0, 50.0]))
    s = dk.hedged_pnl(book, spots, [0.25, 0.3], dt=dt, detail="steps").steps
    np.testing.assert_allclose(s.gamma_pnl + s.theta_pnl, s.gamma_theta_legs.sum(axis=2), rtol=1e-10, atol=1e-12)


def test_summary_equals_summed_steps(gbm):
    result = _run(gbm, 21)
    s, m = result.steps, result.summary
    pairs = {
        "option_mtm": s.option_mtm,
        "hedge_pnl": s.hedge_pnl,
        "financing": s.financing,
        "total_costs": s.costs,
        "delta": s.delta_pnl,
        "gamma": s.gamma_pnl,
        "theta": s.theta_pnl,
        "vega": s.vega_pnl,
        "vanna": s.vanna_pnl,
        "volga": s.volga_pnl,
        "residual": s.residual,
    }
    for name, per_step in pairs.items():
        np.testing.assert_allclose(getattr(m, name), per_step.sum(axis=1), rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(m.total, s.cumulative[:, -1])
    np.testing.assert_allclose(m.gamma_theta_legs, s.gamma_theta_legs.sum(axis=1), rtol=1e-12, atol=1e-14)
    drawdown = (np.maximum.accumulate(np.maximum(s.cumulative, 0.0), axis=1) - s.cumulative).max(axis=1)
    np.testing.assert_allclose(m.max_drawdown, np.maximum(drawdown, 0.0), rtol=1e-12, atol=1e-12)
