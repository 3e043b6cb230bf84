"""NumPy twin of :func:`dispersionkit.hedged_pnl`: vectorized over paths, looping over steps.

Same arguments, conventions and outputs as the core (see dispersionkit.book); Greeks come
from :func:`dispersionkit.reference.bs_greeks`, net deltas per underlying from a (legs x
underlyings) incidence matrix product.
"""

from __future__ import annotations

import numpy as np

from ..numeric._hedged_pnl_inputs import prepare
from ..numeric.hedge_policy import HedgePolicy
from ..numeric.pnl_result import STEP_ROWS, SUMMARY_ROWS, PnLResult, PnLSteps, PnLSummary
from .greeks import bs_greeks

# Inputs for legs that are not alive at a step: any valid option, weighted by zero.
_DUMMY_TAU, _DUMMY_VOL = 1.0, 0.2
# Hedge trades of at most this many shares are rounding noise: not executed, not counted (as in the core).
_MIN_TRADE = 1e-12


def hedged_pnl(
    book,
    spots,
    vols,
    *,
    rate=0.0,
    div_yield=0.0,
    dt=1.0 / 252.0,
    policy=HedgePolicy(),
    detail="auto",
    names=None,
    dates=None,
    vols_by=None,
    threads=None,
) -> PnLResult:
    """NumPy twin of :func:`dispersionkit.hedged_pnl` (``threads`` is accepted and ignored)."""
    x = prepare(
        book,
        spots,
        vols,
        rate=rate,
        div_yield=div_yield,
        dt=dt,
        policy=policy,
        detail=detail,
        names=names,
        dates=dates,
        vols_by=vols_by,
    )
    S, V = x.spots, x.vols
    P, T1, m = S.shape
    T = T1 - 1
    legs = x.legs
    u, col, expiry_step = legs.underlying, legs.vol_column, legs.expiry_step
    K, expiry, q = legs.strike, legs.expiry, legs.quantity
    L = K.shape[0]
    is_call = legs.is_call != 0.0
    hedging, every, band = policy.hedge_instrument == "underlying", policy.every, policy.band
    cost_rate, spread = policy.hedge_cost_bps * 1e-4, policy.option_half_spread * 0.01
    incidence = np.zeros((L, m))
    incidence[np.arange(L), u] = 1.0
    div = x.div_yield
    r, dt = x.rate, x.dt

    def greeks(t):
        alive = expiry_step > t
        spot = np.where(alive, S[:, t, u], K)
        tau = np.where(alive, expiry - t * dt, _DUMMY_TAU)
        vol = np.where(alive, V[:, t, col], _DUMMY_VOL)
        return alive, bs_greeks(spot, K, tau, vol, r, div[u], is_call)

    cash = np.zeros(P)
    hedge = np.zeros((P, m))
    n_rebalances = np.zeros(P)

    def rebalance(net_delta, spot, need):
        nonlocal cash, hedge
        gap = net_delta + hedge
        traded = need & (np.abs(gap) > _MIN_TRADE)
        trade = np.where(traded, -gap, 0.0)
        cash = cash - (trade * spot).sum(1)
        hedge = np.where(traded, -net_delta, hedge)
        n_rebalances[:] += traded.sum(1)
        return (cost_rate * np.abs(trade) * spot).sum(1)

    alive, g = greeks(0)
    cost = (np.abs(q) * g.vega * spread).sum(1)
    cash = -(q * g.price).sum(1) - cost
    if hedging:
        trade_cost = rebalance((q * g.delta) @ incidence, S[:, 0], np.ones((P, m), dtype=bool))
        cash -= trade_cost
        cost = cost + trade_cost
    pending = cost

    sums = {name: np.zeros(P) for name in SUMMARY_ROWS}
    leg_sum = np.zeros((P, L))
    steps = np.empty((len(STEP_ROWS), P, T)) if x.steps else None
    leg_steps = np.empty((P, T, L)) if x.steps else None
    cumulative, peak = np.zeros(P), np.zeros(P)

    with np.errstate(all="ignore"):
        for t in range(T):
            alive_next, gn = greeks(t + 1)
            settle = alive & ~alive_next
            last = t + 1 == T
            w = np.where(alive, q, 0.0)
            s0, s1 = S[:, t, u], S[:, t + 1, u]
            dS, dv = s1 - s0, V[:, t + 1, col] - V[:, t, col]
            v0 = V[:, t, col]
            intrinsic = np.maximum(np.where(is_call, s1 - K, K - s1), 0.0)
            value_next = np.where(alive_next, gn.price, intrinsic)

            mtm = (w * (value_next - g.price)).sum(1)
            a_delta = (w * g.delta * dS).sum(1)
            a_gamma = (0.5 * w * g.gamma * dS * dS).sum(1)
            a_theta = (w * g.theta * dt).sum(1)
            a_vega = (w * g.vega * dv).sum(1)
            a_vanna = (w * g.vanna * dS * dv).sum(1)
            a_volga = (0.5 * w * g.volga * dv * dv).sum(1)
            cash_gamma = 0.5 * w * g.gamma * s0 * s0
            gamma_theta = cash_gamma * ((dS / s0) ** 2 - v0 * v0 * dt)

            St, Sn = S[:, t], S[:, t + 1]
            hedge_pnl = (hedge * (Sn - St)).sum(1)
            financing = cash * r * dt + (hedge * div * St * dt).sum(1)
            dollar_delta = (w * g.delta * s0).sum(1) + (hedge * St).sum(1)
            step_cost = pending
            cash = cash + financing + (np.where(settle, q, 0.0) * intrinsic).sum(1)
            if last:
                step_cost = step_cost + (np.where(alive_next, np.abs(q), 0.0) * gn.vega * spread).sum(1)
                step_cost = step_cost + (cost_rate * np.abs(hedge) * Sn).sum(1)
            elif hedging:
                net_delta = (np.where(alive_next, q, 0.0) * gn.delta) @ incidence
                scheduled = every is not None and (t + 1) % every == 0
                forced = (settle.astype(float) @ incidence) > 0
                need = scheduled | forced | (band is not None and np.abs(net_delta + hedge) > band)
                pending = rebalance(net_delta, Sn, need)
                cash -= pending
            else:
                pending = np.zeros(P)

            net = mtm + hedge_pnl + financing - step_cost
            cumulative = cumulative + net
            peak = np.maximum(peak, cumulative)
            sums["max_drawdown"] = np.maximum(sums["max_drawdown"], peak - cumulative)
            residual = mtm - (a_delta + a_gamma + a_theta + a_vega + a_vanna + a_volga)
            for name, value in (
                ("total_costs", step_cost),
                ("option_mtm", mtm),
                ("hedge_pnl", hedge_pnl),
                ("financing", financing),
                ("delta", a_delta + hedge_pnl),
                ("gamma", a_gamma),
                ("theta", a_theta),
                ("vega", a_vega),
                ("vanna", a_vanna),
                ("volga", a_volga),
                ("residual", residual),
            ):
                sums[name] = sums[name] + value
            leg_sum += gamma_theta
            if steps is not None and leg_steps is not None:
                row = (
                    mtm,
                    hedge_pnl,
                    financing,
                    step_cost,
                    net,
                    cumulative,
                    dollar_delta,
                    cash_gamma.sum(1),
                    (w * g.vega).sum(1),
                    (w * g.theta).sum(1),
                    a_delta + hedge_pnl,
                    a_gamma,
                    a_theta,
                    a_vega,
                    a_vanna,
                    a_volga,
                    residual,
                )
                for k, value in enumerate(row):
                    steps[k, :, t] = value
                leg_steps[:, t] = gamma_theta
            alive, g = alive_next, gn

    sums["total"] = cumulative
    sums["n_rebalances"] = n_rebalances
    summary = np.stack([sums[name] for name in SUMMARY_ROWS])
    return PnLResult(
        summary=PnLSummary.from_core(summary, leg_sum),
        steps=None if steps is None or leg_steps is None else PnLSteps.from_core(steps, leg_steps),
        step_labels=x.step_labels,
        leg_labels=x.leg_labels,
    )
