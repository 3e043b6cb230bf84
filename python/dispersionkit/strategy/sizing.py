"""Leg quantities for a dispersion book: vega-, theta-, gamma-neutral, notional, premium budget.

Pure functions on per-name numbers (NumPy arrays or pandas Series indexed by ticker; Series
are aligned by ticker and returned as Series). Quantities are unsigned numbers of option
units (straddles by default); the trade direction (long dispersion = short index, long
components) is applied by the caller. Greeks are per unit, library conventions: vega per
1.00 of vol, theta per year, gamma per 1.00 of spot. NaN inputs give NaN quantities.

The neutral sizings (docs/methodology.md): the index leg's exposure X_I * q_I is spread over the
components in proportion to the cap weights c_i, so q_i = q_I * c_i * X_I / X_i and
sum_i q_i X_i = q_I X_I * sum_i c_i (= q_I X_I when the weights sum to 1).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from .._validation import as_float_array, as_scalar, overflow_is_error
from ..numeric.greeks import Greeks, bs_greeks


def straddle_greeks(spot, strike, tau, vol, rate=0.0, div_yield=0.0, *, threads=None) -> Greeks:
    """Price and Greeks of one call plus one put (same strike and expiry), via dk.bs_greeks."""
    call = bs_greeks(spot, strike, tau, vol, rate, div_yield, True, threads=threads)
    put = bs_greeks(spot, strike, tau, vol, rate, div_yield, False, threads=threads)
    # A Greek that overflows to +inf for the call and -inf for the put (spot and strike near
    # 1e308) has no float sum: NaN, as the kernel gives for any value it cannot represent.
    with np.errstate(invalid="ignore"):
        return Greeks(*(getattr(call, f.name) + getattr(put, f.name) for f in fields(Greeks)))


def vega_neutral(index_qty, index_vega, component_vega, weights):
    """Component quantities with sum_i q_i Vega_i = q_I Vega_I, allocated by cap weight."""
    return _neutral_from(index_qty, index_vega, component_vega, weights, "index_vega", "component_vega")


def theta_neutral(index_qty, index_theta, component_theta, weights):
    """Component quantities with sum_i q_i Theta_i = q_I Theta_I, allocated by cap weight."""
    return _neutral_from(index_qty, index_theta, component_theta, weights, "index_theta", "component_theta")


def gamma_neutral(index_qty, index_gamma, index_spot, component_gamma, component_spots, weights):
    """Component quantities matching cash gamma (Gamma * S^2): sum_i q_i G_i S_i^2 = q_I G_I S_I^2.

    Raw gammas are per dollar of each underlying, so they are made comparable as cash gamma
    (P&L per unit squared return, up to the common factor 1/2).
    """
    spot = as_scalar(index_spot, "index_spot", positive=True)
    with overflow_is_error("index_gamma, index_spot: the index cash gamma"):
        index_cash = _finite_nonzero_scalar(index_gamma, "index_gamma") * spot * spot
    named = {"component_gamma": component_gamma, "component_spots": component_spots, "weights": weights}
    arrays, labels = _align(named)
    spots = _positive(arrays["component_spots"], "component_spots")
    with overflow_is_error("component_gamma, component_spots: the cash gammas"):
        cash = arrays["component_gamma"] * spots * spots
    return _neutral(index_qty, index_cash, cash, arrays["weights"], labels, "index_gamma", "component_gamma")


def notional_weighted(index_notional, component_spots, weights):
    """Shares-equivalent quantities q_i = c_i * index_notional / S_i (index notional in currency)."""
    total = as_scalar(index_notional, "index_notional")
    if total < 0:
        raise ValueError(f"index_notional: must be >= 0, got {total}")
    arrays, labels = _align({"component_spots": component_spots, "weights": weights})
    spots = _positive(arrays["component_spots"], "component_spots")
    with overflow_is_error("index_notional, component_spots: the quantities"):
        return _wrap(_weights(arrays["weights"]) * total / spots, labels)


@dataclass(frozen=True)
class BudgetScaling:
    """Quantities scaled so the book's premium equals ``budget * capital``.

    ``scale`` multiplies every input quantity; ``premium`` is the premium before scaling
    (on the chosen basis); ``quantities`` keeps the input's type (array or Series) and signs.
    """

    scale: float
    premium: float
    target: float
    quantities: np.ndarray | pd.Series


def book_premium(quantities, prices, basis: str = "gross") -> float:
    """Book premium: "gross" = sum |q| * price over legs, "net" = |sum q * price| (signed q)."""
    arrays, _ = _align({"quantities": quantities, "prices": prices})
    q, p = arrays["quantities"], arrays["prices"]
    if np.any(p < 0):
        raise ValueError("prices: must be >= 0")
    with overflow_is_error("quantities, prices: the premium"):
        if basis == "gross":
            return float(np.sum(np.abs(q) * p))
        if basis == "net":
            return float(abs(np.sum(q * p)))
    raise ValueError(f"basis: expected 'gross' or 'net', got {basis!r}")


def scale_to_budget(quantities, prices, capital, budget: float = 0.05, basis: str = "gross") -> BudgetScaling:
    """Scale all legs by one factor so the premium is ``budget`` (fraction) of ``capital``.

    Usual limit: premium at risk <= 5% of capital. ``quantities`` are signed leg
    quantities (index leg included); ``prices`` per unit, same order or same tickers.
    """
    capital = as_scalar(capital, "capital", positive=True)
    budget = as_scalar(budget, "budget")
    if not 0 < budget <= 1:
        raise ValueError(f"budget: a fraction of capital in (0, 1], got {budget}")
    paid = book_premium(quantities, prices, basis)
    if not np.isfinite(paid):
        raise ValueError("quantities, prices: the premium is NaN (missing values)")
    # A net premium is a difference: legs that cancel leave rounding noise, not a premium.
    noise = 4.0 * np.finfo(np.float64).eps * book_premium(quantities, prices, "gross")
    if not paid > noise:
        within = "" if paid == 0 else " within rounding"
        raise ValueError(f"quantities, prices: the book's {basis} premium is 0{within}; nothing to scale")
    target = budget * capital
    arrays, labels = _align({"quantities": quantities})
    scale = target / paid
    if not np.isfinite(scale):  # a premium of 1e-12 against a target of 1e296
        raise ValueError(f"capital, quantities, prices: scaling the premium {paid:.3g} to {target:.3g} overflows")
    if not scale > 0:  # a target of 5e-324 against a premium of 2: every quantity would become 0
        raise ValueError(f"capital, budget: the target {target:.3g} is too small to scale the premium {paid:.3g} to")
    with overflow_is_error("capital, quantities, prices: scaling the premium to the budget"):
        scaled = _wrap(arrays["quantities"] * scale, labels)
    try:  # a target within rounding of the float range: the scaled book's own premium overflows
        book_premium(scaled, prices, basis)
    except ValueError:
        message = f"capital, budget: the target {target:.3g} is too close to the float range to size a book"
        raise ValueError(message) from None
    return BudgetScaling(scale=scale, premium=paid, target=target, quantities=scaled)


def _neutral(index_qty, index_exposure, component, weights, labels, index_name, component_name):
    qty = as_scalar(index_qty, "index_qty")
    if qty < 0:
        raise ValueError(f"index_qty: must be >= 0 (direction is applied by the caller), got {qty}")
    exposure = _finite_nonzero_scalar(index_exposure, index_name)
    zero = np.flatnonzero(component == 0)
    if zero.size:
        at = labels[zero[0]] if labels is not None else int(zero[0])
        raise ValueError(f"{component_name}: must be nonzero, entry {at!r} is 0")
    with overflow_is_error(f"index_qty, {index_name}, {component_name}: the quantities"):
        return _wrap(qty * _weights(weights) * exposure / component, labels)


def _neutral_from(index_qty, index_exposure, component_exposure, weights, index_name, component_name):
    arrays, labels = _align({component_name: component_exposure, "weights": weights})
    component = arrays[component_name]
    return _neutral(index_qty, index_exposure, component, arrays["weights"], labels, index_name, component_name)


def _align(named: dict) -> tuple[dict[str, np.ndarray], pd.Index | None]:
    """1-D float arrays of one length; Series must share one label set and follow the first's order."""
    labels, first, out = None, None, {}
    for name, value in named.items():
        if isinstance(value, pd.Series):
            if value.index.has_duplicates:
                raise ValueError(f"{name}: duplicate labels")
            if labels is None:
                labels, first = value.index, name
            elif len(value.index) != len(labels) or set(value.index) != set(labels):
                diff = sorted(map(str, set(value.index) ^ set(labels)))
                raise ValueError(f"{name}: labels differ from {first}'s: {diff}")
            value = value.reindex(labels)
        array = as_float_array(value, name)
        if array.ndim != 1:
            raise ValueError(f"{name}: expected one value per name (1-D), got shape {array.shape}")
        if np.isinf(array).any():
            raise ValueError(f"{name}: must be finite or NaN")
        out[name] = array
    lengths = {name: len(a) for name, a in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs have different lengths: {lengths}")
    return out, labels


def _wrap(values: np.ndarray, labels):
    return values if labels is None else pd.Series(values, index=labels)


def _weights(weights: np.ndarray) -> np.ndarray:
    if np.any(weights < 0):
        raise ValueError("weights: must be >= 0")
    return weights


def _positive(values: np.ndarray, name: str) -> np.ndarray:
    if np.any(values <= 0):
        raise ValueError(f"{name}: must be > 0")
    return values


def _finite_nonzero_scalar(value, name: str) -> float:
    result = as_scalar(value, name)
    if result == 0:
        raise ValueError(f"{name}: must be nonzero")
    return result
