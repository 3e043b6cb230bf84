"""Delta-hedged P&L of an option book over one history or many simulated paths, on the C++ core.

Conventions (all in the currency units of the spots, per option unit, no multiplier):

* Grid: spots[t] are closes at t = 0..T, t * dt years after the start (dt = 1/252 by
  default); a leg's time to expiry at step t is ``expiry - t * dt`` (expiries in years,
  ACT/365 when given as dates). Legs are priced with Black-Scholes-Merton (rate r, the
  underlying's dividend yield q, the leg's implied vol at t).
* Dates (a DataFrame's DatetimeIndex or ``dates=``) must be strictly increasing: an unsorted
  or repeated date is a ValueError naming it. A step whose calendar length is more than dt + 6
  days (a hole in the data; weekends, holidays and closures of up to a week stay below) or
  less than dt / 10 raises :class:`CalendarGapWarning` naming its dates: the engine still
  prices it as one step of dt. A DataFrame index that is not made of dates means no dates.
* Timing: at the close of step t the book is marked with the Greeks at (S_t, vol_t, tau_t);
  the same evaluation sets the hedge (hedge shares = -net option delta of each underlying,
  when the policy rebalances) and is the base of the attribution of step t -> t+1. Step t's
  P&L covers (t, t+1]; arrays have T steps.
* Cash: the book starts with zero wealth; premiums, hedge purchases, settlements and costs
  go through a cash account that earns ``rate * dt`` per step (simple, on the balance at the
  start of the step, including accumulated P&L). The hedge earns dividends ``q * S_t * dt``
  per share per step (a short hedge pays them). financing = interest + dividends.
* Costs: see :class:`HedgePolicy` (hedge trades in bps of traded notional; option
  half-spread in vol points on entry and exit). Costs of trades made at the close of t are
  charged to step t; at the end of the run (step T) the book is closed: options still alive
  pay the exit half-spread and the hedge unwind pays bps, both charged to the last step.
* Expiry: a leg settles at intrinsic value at the first step on or after its expiry (spot
  of that step); the proceeds go to cash, its hedge is unwound at that step (the underlying
  is rebalanced) and it contributes nothing afterwards. An expiry in years is grid time (the
  first t with t * dt >= expiry); an expiry given as a date is calendar time (the first date
  on or after it, so a leg expiring inside a hole in the data settles on the first date after
  the hole). A leg expiring before the first step (a tenor below one step), or whose step
  count expiry / dt does not fit in 64 bits, is a ValueError; so is a dated leg whose grid
  time would run past its expiry before the expiry date (rows closer together than dt).
* Attribution of step t (Greeks at t, dS = S_{t+1} - S_t, dvol = vol_{t+1} - vol_t):
  delta = option delta x dS + hedge P&L, gamma = 0.5 gamma dS^2, theta = theta x dt (theta per
  year), vega = vega x dvol, vanna = vanna x dS x dvol, volga = 0.5 volga x dvol^2;
  residual = net - (delta + gamma + theta + vega + vanna + volga + financing - costs), which
  is the option mark-to-market the expansion misses; it is reported, never folded in.
  Per leg, gamma-theta = 0.5 x cash gamma x (r^2 - vol^2 dt) with cash gamma = gamma S^2 qty
  and r = dS / S ("cash gamma times realized minus implied variance").
* Missing data: spots and vols must be finite (spots > 0, vols >= 0). A NaN raises
  ValueError naming the path, step and underlying; nothing is filled or skipped silently.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from .._validation import resolve_threads
from ._hedged_pnl_inputs import BookInputs, prepare
from .hedge_policy import HedgePolicy
from .pnl_result import STEP_ROWS, SUMMARY_ROWS, PnLResult, PnLSteps, PnLSummary


def _outputs(inputs: BookInputs):
    P, T1, _ = inputs.spots.shape
    L = inputs.legs.strike.size
    summary = np.empty((len(SUMMARY_ROWS), P))
    legs = np.empty((P, L))
    steps = np.empty((len(STEP_ROWS), P, T1 - 1)) if inputs.steps else None
    leg_steps = np.empty((P, T1 - 1, L)) if inputs.steps else None
    return summary, legs, steps, leg_steps


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
    """P&L, Greeks and attribution of a delta-hedged option book (conventions: module docstring).

    book: a :class:`Book` (legs name spot columns by index or name).
    spots: (T+1, m) for one history, (P, T+1, m) for P paths, or a DataFrame (T+1, m) whose
        columns name the underlyings and whose index gives the dates.
    vols: implied vols (decimals) per underlying, broadcastable to (P, T+1, m), or per leg,
        broadcastable to (P, T+1, L). ``vols_by`` = "underlying" / "leg" says which; None infers
        it from the last axis (per underlying when it matches both m and L).
    rate: continuous risk-free rate (also the cash account's rate). div_yield: scalar or per
        underlying (m,). dt: years per step.
    policy: :class:`HedgePolicy`. detail: "summary" (per-path totals only; memory O(P x L)),
        "steps" (also per-step arrays, O(P x T x L)), "auto" (steps for a single history).
    names / dates: spot column names and the T+1 dates, when spots is not a DataFrame.
    threads: None = all cores; results are identical for any thread count and any split of
        the paths into calls.
    Returns a :class:`PnLResult`; every array keeps the path axis (P = 1 for one history).
    Ctrl-C stops a long run within about 0.1 s with KeyboardInterrupt (docs/methodology.md,
    "Threads and interrupts").
    """
    nthreads = resolve_threads(threads)
    inputs = prepare(
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
    summary, legs, steps, leg_steps = _outputs(inputs)
    _core.hedged_pnl(
        legs=inputs.legs,
        spots=inputs.spots,
        vols=inputs.vols,
        div_yield=inputs.div_yield,
        rate=inputs.rate,
        dt=inputs.dt,
        rules=policy.core_rules(),
        summary=summary,
        leg_gamma_theta=legs,
        steps=steps,
        leg_steps=leg_steps,
        threads=nthreads,
    )
    return PnLResult(
        summary=PnLSummary.from_core(summary, legs),
        steps=None if steps is None else PnLSteps.from_core(steps, leg_steps),
        step_labels=inputs.step_labels,
        leg_labels=inputs.leg_labels,
    )
