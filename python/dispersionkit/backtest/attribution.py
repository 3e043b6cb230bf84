"""Where a dispersion book's P&L comes from: Greek lines and the complete explain.

Greek lines (:func:`greek_lines`): the engine's delta/gamma/theta/vega/vanna/volga/financing/
costs/residual, which sum to the P&L exactly.

The explain (:func:`explain_lines`, docs/methodology.md "P&L explain") splits the same P&L into
what a dispersion trader asks about. The index legs' gamma-theta, 1/2 CG_I (r_I^2 - sigma_I^2 dt)
with CG_I = sum over index legs of Gamma S^2 q at the step's start, is split by the
variance-dispersion identity (r_B = sum_i w_i r_i the basket's return, sigma the implied vols at
the step's start, rho_impl their equicorrelation, m_i a realized move per step of name i):

    basis             1/2 CG_I (r_I^2 - r_B^2)
    idiosyncratic     1/2 CG_I sum_i w_i^2 (r_i^2 - sigma_i^2 dt)
    cross_volatility  1/2 CG_I rho_impl sum_{i!=j} w_i w_j (m_i m_j / b - sigma_i sigma_j dt)
    correlation       1/2 CG_I sum_{i!=j} w_i w_j (r_i r_j - rho_impl m_i m_j / b)

which add up to the index legs' gamma-theta because sigma_I^2 = sum w_i^2 sigma_i^2 + rho_impl
sum_{i!=j} w_i w_j sigma_i sigma_j defines rho_impl. m_i = sqrt(mean r_i^2) over a sample of
N steps, and b = 1 - (1 - rho^2) / (2N) removes the small-sample bias of the product m_i m_j
(E[m_i m_j] = b sigma_i sigma_j dt for normal returns with correlation rho; rho is estimated
from the same sample). Two samples give two versions, whose other lines are identical (only
cross_volatility and correlation move, their sum does not depend on m):

- causal, day by day: the ``window`` steps up to the step's start (nothing after it);
- at close, per trade: the trade's own steps.

The other lines: component_volatility (the component legs' gamma-theta: names realizing vs
their implied vols), correlation_mtm and vol_level (the vega P&L: the index legs' vega times
the move of the index implied vol caused by the move of implied correlation at the new
component vols, and the rest of the vega P&L, i.e. the vol level), vanna_volga, delta (what
the hedge leaves), carry (theta from rates and dividends: gamma + theta minus gamma-theta),
financing, costs (negative = paid) and residual = P&L minus all of the above, so the lines sum
to the P&L exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..numeric.greeks import Greeks, bs_greeks
from ..numeric.pnl_result import PnLSteps
from ..strategy.position import LegArrays

GREEK_COLUMNS = ("delta", "gamma", "theta", "vega", "vanna", "volga", "financing", "costs", "residual")
SPLIT_COLUMNS = ("gamma_theta", "basis", "volatility", "correlation")
EXPLAIN_COLUMNS = (
    "basis",
    "idiosyncratic",
    "cross_volatility",
    "correlation",
    "component_volatility",
    "correlation_mtm",
    "vol_level",
    "vanna_volga",
    "delta",
    "carry",
    "financing",
    "costs",
    "residual",
)
"""Lines of the explain, in display order; they sum to the P&L exactly."""


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


def index_leg_split(cash_gamma, r_index, r, weights, vols, index_vol, moves, bias, dt) -> dict[str, np.ndarray]:
    """The index legs' gamma-theta 1/2 CG_I (r_I^2 - sigma_I^2 dt) in four lines (module docstring).

    Arrays broadcast over leading axes (paths, steps): ``cash_gamma`` CG_I = sum Gamma S^2 q of
    the index legs at each step's start (0 once they expired), ``r_index`` the index's simple
    return over the step, ``index_vol`` its implied vol at the start, ``bias`` the factor b;
    ``r``, ``weights``, ``vols``, ``moves`` per name on the last axis (simple returns, index
    weights and implied vols at the start, realized moves per step). ``dt`` years per step.
    Returns basis, idiosyncratic, cross_volatility, correlation and implied_correlation.
    """
    half = 0.5 * np.asarray(cash_gamma)
    wr = weights * r
    r_basket = wr.sum(axis=-1)
    own_r = (wr * wr).sum(axis=-1)
    ws = weights * vols
    own_s = (ws * ws).sum(axis=-1)
    cross_s = ws.sum(axis=-1) ** 2 - own_s
    rho = (index_vol**2 - own_s) / cross_s
    wm = weights * moves
    cross_m = (wm.sum(axis=-1) ** 2 - (wm * wm).sum(axis=-1)) / bias
    return {
        "basis": half * (r_index**2 - r_basket**2),
        "idiosyncratic": half * (own_r - own_s * dt),
        "cross_volatility": half * rho * (cross_m - cross_s * dt),
        "correlation": half * (r_basket**2 - own_r - rho * cross_m),
        "implied_correlation": rho,
    }


def sample_moves(r, weights) -> tuple[np.ndarray, np.ndarray]:
    """(moves m_i = sqrt(mean r_i^2), bias b = 1 - (1 - rho^2) / (2N)) over the N steps of a sample.

    ``r``: simple returns (..., N, n); ``weights`` (N, n) or broadcastable. rho is the sample's
    equicorrelation sum_{i!=j} w_i w_j mean(r_i r_j) / sum_{i!=j} w_i w_j m_i m_j (weights
    averaged over the sample), clipped to [-1, 1]. Returns moves (..., n) and bias (...).
    """
    r = np.asarray(r, dtype=np.float64)
    w = np.broadcast_to(weights, r.shape)
    moves = np.sqrt(np.mean(r * r, axis=-2))
    basket_square = np.mean(np.sum(w * r, axis=-1) ** 2, axis=-1)
    return moves, _bias(basket_square, w.mean(axis=-2), moves, r.shape[-2])


def trailing_moves(returns: np.ndarray, weights: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal moves and bias per row t from the ``window`` returns up to row t (rows t-window+1..t).

    ``returns``: simple returns (..., T, n), row t the return from t-1 to t (NaN = missing);
    ``weights`` (T, n), the index weights at each close (the basket of row t holds those of
    t-1). Row t uses only returns known at the close of t. NaN where the window is not yet
    full or has a missing return of a name in the basket.
    """
    returns = np.asarray(returns, dtype=np.float64)
    weights = np.nan_to_num(np.asarray(weights, dtype=np.float64))
    held = np.concatenate([np.zeros_like(weights[:1]), weights[:-1]], axis=0)
    valid = np.isfinite(returns)
    clean = np.where(valid, returns, 0.0)
    basket = np.sum(held * clean, axis=-1)
    basket_ok = ~np.any((held > 0) & ~valid, axis=-1)
    mean_squares = _rolling_mean(clean * clean, valid, window)
    basket_square = _rolling_mean((basket * basket)[..., None], basket_ok[..., None], window)[..., 0]
    moves = np.sqrt(mean_squares)
    return moves, _bias(basket_square, weights, moves, window)


def _rolling_mean(values: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """Mean over the last ``window`` rows (axis -2); NaN unless all of them are valid."""
    zeros = np.zeros_like(values[..., :1, :])
    total = np.cumsum(np.concatenate([zeros, values], axis=-2), axis=-2)
    count = np.cumsum(np.concatenate([zeros, valid.astype(np.float64)], axis=-2), axis=-2)
    out = np.full(values.shape, np.nan)
    if values.shape[-2] >= window:
        sums = total[..., window:, :] - total[..., :-window, :]
        full = (count[..., window:, :] - count[..., :-window, :]) == window
        out[..., window - 1 :, :] = np.where(full, sums / window, np.nan)
    return out


def _bias(basket_square, weights, moves, n_steps: int) -> np.ndarray:
    wm = weights * moves
    own = (wm * wm).sum(axis=-1)
    cross = wm.sum(axis=-1) ** 2 - own
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.clip((basket_square - own) / cross, -1.0, 1.0)
    return 1.0 - (1.0 - rho * rho) / (2.0 * n_steps)


@dataclass(frozen=True, eq=False)
class RunTerms:
    """The parts of a run's explain that do not depend on the realized moves (arrays (P, T))."""

    cash_gamma: np.ndarray  # CG_I of the index legs
    r_index: np.ndarray
    r: np.ndarray  # (P, T, n)
    weights: np.ndarray  # (T, n) at each step's start
    vols: np.ndarray  # (P, T, n)
    index_vol: np.ndarray
    dt: float
    fixed: dict  # the lines that do not depend on the moves
    net: np.ndarray


def run_terms(
    legs: LegArrays,
    columns: np.ndarray,
    spots: np.ndarray,
    vols: np.ndarray,
    weights: np.ndarray,
    steps: PnLSteps,
    greeks: Greeks,
    *,
    dt: float,
) -> RunTerms:
    """Everything of the explain but the index-leg split's moves, for a run of hedged_pnl.

    ``columns`` (L,): each leg's spot column; ``spots``/``vols`` (P, T+1, n+1) with the
    components in ``weights`` order and the index last; ``weights`` (T+1, n) the index weights
    of every row; ``steps`` the run's per-step detail; ``greeks`` (P, T+1, L) the legs' Greeks
    as the engine marks them (:func:`leg_greeks`).
    """
    _, T1, m = spots.shape
    T, n = T1 - 1, m - 1
    q = legs.quantity
    leg_spots = spots[:, :T, columns]
    cash_gamma = np.sum((greeks.gamma[:, :T] * leg_spots * leg_spots * q)[..., legs.is_index], axis=-1)
    index_vega = np.sum((greeks.vega[:, :T] * q)[..., legs.is_index], axis=-1)
    r_all = spots[:, 1:, :] / spots[:, :-1, :] - 1.0
    sigma = np.broadcast_to(vols, spots.shape)
    index_vol = sigma[:, :, n]
    # The index vol at the new component vols and the old implied correlation: the part of the
    # index vol's move that the vol level explains; the rest is the move of implied correlation.
    ws0, ws1 = weights[:-1] * sigma[:, :-1, :n], weights[1:] * sigma[:, 1:, :n]
    own0, own1 = (ws0 * ws0).sum(-1), (ws1 * ws1).sum(-1)
    rho0 = (index_vol[:, :-1] ** 2 - own0) / (ws0.sum(-1) ** 2 - own0)
    mid = np.sqrt(np.maximum(own1 + rho0 * (ws1.sum(-1) ** 2 - own1), 0.0))
    correlation_mtm = index_vega * (index_vol[:, 1:] - mid)
    gamma_theta = steps.gamma_theta_legs
    fixed = {
        "component_volatility": gamma_theta[..., ~legs.is_index].sum(axis=-1),
        "correlation_mtm": correlation_mtm,
        "vol_level": steps.vega_pnl - correlation_mtm,
        "vanna_volga": steps.vanna_pnl + steps.volga_pnl,
        "delta": steps.delta_pnl,
        "carry": steps.gamma_pnl + steps.theta_pnl - gamma_theta.sum(axis=-1),
        "financing": steps.financing,
        "costs": -steps.costs,
    }
    return RunTerms(
        cash_gamma,
        r_all[..., n],
        r_all[..., :n],
        weights[:-1],
        sigma[:, :-1, :n],
        index_vol[:, :-1],
        dt,
        fixed,
        steps.net,
    )


def explain_lines(terms: RunTerms, moves: np.ndarray, bias: np.ndarray) -> dict[str, np.ndarray]:
    """The explain lines (:data:`EXPLAIN_COLUMNS`, arrays (P, T)) with the given realized moves
    ((P, T, n) or (P, 1, n)) and bias ((P, T) or (P, 1)); residual = net - the other lines."""
    split = index_leg_split(
        terms.cash_gamma,
        terms.r_index,
        terms.r,
        terms.weights,
        terms.vols,
        terms.index_vol,
        moves,
        bias,
        terms.dt,
    )
    lines = {name: split[name] for name in ("basis", "idiosyncratic", "cross_volatility", "correlation")}
    lines.update(terms.fixed)
    explained = sum(lines.values())
    lines["residual"] = terms.net - explained
    return {name: lines[name] for name in EXPLAIN_COLUMNS}


def leg_greeks(legs: LegArrays, columns, spots, vols, *, rate, div_yield, dt, expiry_step, leg_vols=None) -> Greeks:
    """Greeks of every leg at every row (P, T+1, L) as the engine marks them: time to expiry
    tau - k dt at row k, the leg's underlying's spot and vol (or the leg's own vol from
    ``leg_vols`` (P, T+1, L) when the legs carry their own); 0 from the row it settles at.

    ``columns`` (L,) each leg's column of ``spots``/``vols`` (P, T+1, m); ``div_yield`` (m,);
    ``expiry_step`` (L,) the row each leg settles at.
    """
    T1 = spots.shape[1]
    rows = np.arange(T1)[:, None]
    alive = rows < np.asarray(expiry_step)[None, :]
    tau = legs.tau[None, :] - dt * rows
    g = bs_greeks(
        spots[:, :, columns],
        legs.strike,
        np.where(alive, tau, 1.0),
        np.broadcast_to(vols, spots.shape)[:, :, columns] if leg_vols is None else leg_vols,
        rate,
        np.asarray(div_yield)[columns],
        legs.is_call,
    )
    for array in g.arrays():
        array[...] = np.where(alive, array, 0.0)
    return g
