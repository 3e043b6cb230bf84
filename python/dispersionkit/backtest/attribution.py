"""Daily P&L attribution of one trade's hedged run, from dk.hedged_pnl's steps.

Greek attribution: the engine's delta/gamma/theta/vega/vanna/volga/financing/costs/residual
lines (costs negative = paid), which sum to the P&L exactly. Volatility vs correlation: the
legs' gamma-theta, 0.5 x cash gamma x (r^2 - sigma^2 dt), split by replacing the index's
realized squared return r_I^2 with what the implied correlation would have given on the
components' realized moves, sum w_i^2 r_i^2 + rho_impl [(sum w_i v_i)^2 - sum w_i^2 v_i^2]:
the index legs' P&L difference is the correlation part, the rest of gamma-theta is the
volatility part. Returns are simple (dS/S), as in the engine; rho_impl is the implied
correlation at the step's start; r_I is the index's own return.

v_i is component i's realized move per step over the whole run, sqrt(mean_t r_i,t^2), not
the day's |r_i,t|: summed over the run, the cross term is then rho_impl x the cross term of
the realized vols, so a book whose names realize their implied vols and whose index realizes
rho_impl shows no correlation P&L on average. The day's |r_i||r_j| is biased low (for
normal returns E|r_i||r_j| is about 2/pi of sigma_i sigma_j dt at low correlation), which
moved about a third of the correlation edge into volatility and turned the bundled
1990-2022 correlation P&L negative. A one-step run has v_i = |r_i|: nothing better exists.
With a real index that is not the basket of its modelled components (e.g. the bundled
S&P 500 vs 20 stocks), the correlation part also carries that basis.
"""

from __future__ import annotations

import numpy as np

from ..numeric.greeks import bs_greeks
from ..numeric.pnl_result import PnLSteps
from ..strategy.position import Position

GREEK_COLUMNS = ("delta", "gamma", "theta", "vega", "vanna", "volga", "financing", "costs", "residual")
SPLIT_COLUMNS = ("gamma_theta", "volatility", "correlation")


def greek_lines(steps: PnLSteps) -> dict[str, np.ndarray]:
    """Per-step attribution lines of path 0; their sum is steps.net."""
    return {
        "delta": steps.delta_pnl[0],
        "gamma": steps.gamma_pnl[0],
        "theta": steps.theta_pnl[0],
        "vega": steps.vega_pnl[0],
        "vanna": steps.vanna_pnl[0],
        "volga": steps.volga_pnl[0],
        "financing": steps.financing[0],
        "costs": -steps.costs[0],
        "residual": steps.residual[0],
    }


def correlation_split(
    position: Position, steps: PnLSteps, spots: np.ndarray, vols: np.ndarray, implied_correlation: np.ndarray, dt: float
) -> dict[str, np.ndarray]:
    """gamma_theta, volatility and correlation P&L per step (module docstring).

    spots / vols: the run's (T+1, n + 1) closes and implied vols, the components in
    ``position.weights`` order then the index; the index legs' cash gammas come from one
    batched bs_greeks call over (steps, index legs).
    """
    n_steps = steps.net.shape[1]
    gamma_theta = steps.gamma_theta_legs[0].sum(axis=1)
    legs = position.legs[position.index_mask()]
    s = spots[:n_steps, -1:]
    tau = legs["tau"].to_numpy()[None, :] - dt * np.arange(n_steps)[:, None]
    alive = tau > 0
    g = bs_greeks(
        s,
        legs["strike"].to_numpy(),
        np.where(alive, tau, 1.0),
        vols[:n_steps, -1:],
        legs["rate"].to_numpy(),
        legs["div_yield"].to_numpy(),
        legs["is_call"].to_numpy(),
    )
    cash = np.where(alive, g.gamma * s * s * legs["quantity"].to_numpy(), 0.0).sum(axis=1)
    r_all = spots[1 : n_steps + 1] / spots[:n_steps] - 1.0
    r, r_index = r_all[:, :-1], r_all[:, -1]
    w = position.weights.to_numpy()
    own = np.sum((w * r) ** 2, axis=1)
    u = w * np.sqrt(np.mean(r * r, axis=0))
    as_implied = own + implied_correlation[:n_steps] * (np.sum(u) ** 2 - np.sum(u * u))
    correlation = 0.5 * cash * (r_index**2 - as_implied)
    return {"gamma_theta": gamma_theta, "volatility": gamma_theta - correlation, "correlation": correlation}
