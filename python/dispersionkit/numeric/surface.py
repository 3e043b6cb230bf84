"""Implied-volatility surface grids on the C++ core: construction from rows, queries, delta strikes.

A grid holds many smiles at once (one *group* per date and underlying, one *slice* per expiry,
one *node* per strike) as flat arrays; :class:`dispersionkit.VolSurface` puts dates and
underlyings on top. Conventions (docs/volatility-surfaces.md):

* k = ln(K/F) is the log-forward-moneyness, w = vol^2 tau the total implied variance, tau in
  years (ACT/365), y = ln(F/S) the log-forward of a slice.
* Across strikes: monotone cubic (SciPy's PCHIP slopes) in w(k) through a slice's nodes, flat
  vol beyond its outermost strikes. Across expiries at fixed k: linear in w between slices;
  before the first and after the last slice the vol at fixed k is held. y(tau) is linear
  in tau between slices from y(0) = 0 and keeps the last slice's carry rate beyond it.
* Flags on input nodes: 1 = calendar arbitrage (w below the previous expiry's w at the same k,
  or above the next one's), 2 = butterfly arbitrage (a call spread outside [0, dK] or a call
  butterfly with negative price, undiscounted, per unit of forward), beyond ``tolerance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core
from .._validation import as_float_array, as_non_negative, resolve_threads

CALENDAR = 1
BUTTERFLY = 2


@dataclass(frozen=True, eq=False, repr=False)
class SurfaceGrid:
    """The arrays of a built surface (offsets are int64, values float64).

    group_start (G+1) -> slices; slice_tau, slice_logfwd (S); slice_start (S+1) -> nodes;
    node_k, node_w, node_slope (N); node_flags (N, uint8); node_row (N): the input row of
    each node, so node arrays are the input rows taken in ``node_row`` order.
    """

    group_start: np.ndarray
    slice_tau: np.ndarray
    slice_logfwd: np.ndarray
    slice_start: np.ndarray
    node_k: np.ndarray
    node_w: np.ndarray
    node_slope: np.ndarray
    node_flags: np.ndarray
    node_row: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.group_start) - 1

    def core(self) -> dict:
        return {
            "group_start": self.group_start,
            "slice_tau": self.slice_tau,
            "slice_logfwd": self.slice_logfwd,
            "slice_start": self.slice_start,
            "node_k": self.node_k,
            "node_w": self.node_w,
            "node_slope": self.node_slope,
        }

    def __repr__(self) -> str:
        return f"SurfaceGrid({self.n_groups} groups, {len(self.slice_tau)} slices, {len(self.node_k)} nodes)"


def _rows(group, tau, k, w, logfwd):
    group = np.asarray(group)
    if group.dtype.kind not in "iu":
        raise TypeError(f"group: expected integers, got dtype {group.dtype}")
    arrays = [as_float_array(v, name) for v, name in ((tau, "tau"), (k, "k"), (w, "w"), (logfwd, "logfwd"))]
    n = group.shape[0] if group.ndim == 1 else -1
    for name, a in zip(("group", "tau", "k", "w", "logfwd"), [group, *arrays]):
        if a.ndim != 1 or a.shape[0] != n:
            raise ValueError(f"{name}: expected a 1-D array of the same length as group ({n}), got shape {a.shape}")
    tau, k, w, logfwd = (np.ascontiguousarray(a) for a in arrays)
    if not (np.isfinite(tau) & (tau > 0)).all():
        raise ValueError("tau: every row needs a finite tau > 0 (years to expiry)")
    if not np.isfinite(k).all() or not np.isfinite(logfwd).all():
        raise ValueError("k, logfwd: must be finite")
    if not (np.isfinite(w) & (w >= 0)).all():
        raise ValueError("w: total variances must be finite and >= 0")
    return np.ascontiguousarray(group, dtype=np.int64), tau, k, w, logfwd


def slice_starts(row_start: np.ndarray, tau_sorted: np.ndarray) -> np.ndarray:
    """Row offsets of the slices of rows sorted by (group, tau, k), given the groups' row
    offsets ``row_start``: a slice is a run of one (group, tau). Returns slice_start (S+1)."""
    n = len(tau_sorted)
    new = np.zeros(n, dtype=bool)
    if n:
        new[1:] = tau_sorted[1:] != tau_sorted[:-1]
        new[row_start[:-1][row_start[:-1] < n]] = True
    return np.append(np.flatnonzero(new), n).astype(np.int64)


def group_slices(row_start: np.ndarray, slice_start: np.ndarray) -> np.ndarray:
    """Slice offsets of each group (G+1) from the groups' row offsets."""
    return np.searchsorted(slice_start[:-1], row_start, side="left").astype(np.int64)


def build_surface_grid(group, tau, k, w, logfwd, n_groups: int, *, tolerance=1e-6, threads=None) -> SurfaceGrid:
    """Build a grid from rows (group in [0, n_groups), tau > 0, k, w >= 0, logfwd per row).

    Rows of one (group, tau) form a slice and must share logfwd (the first row's is used);
    two rows of one slice must not share k (the caller removes duplicate strikes).
    """
    nthreads = resolve_threads(threads)
    tolerance = as_non_negative(tolerance, "tolerance")
    group, tau, k, w, logfwd = _rows(group, tau, k, w, logfwd)
    if len(group) and (group.min() < 0 or group.max() >= n_groups):
        raise ValueError(f"group: values must lie in [0, {n_groups})")
    n = len(group)
    group_start = np.empty(int(n_groups) + 1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    t, kk, ww, yy = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    _core.surface_sort(
        group=group,
        tau=tau,
        k=k,
        w=w,
        logfwd=logfwd,
        n_groups=int(n_groups),
        group_start=group_start,
        order=order,
        tau_out=t,
        k_out=kk,
        w_out=ww,
        logfwd_out=yy,
        threads=nthreads,
    )
    slice_start = slice_starts(group_start, t)
    same_slice = np.ones(n, dtype=bool)
    same_slice[slice_start[:-1]] = False
    repeated = np.flatnonzero((kk[1:] == kk[:-1]) & same_slice[1:])
    if repeated.size:
        raise ValueError(f"k: rows {order[repeated[0]]} and {order[repeated[0] + 1]} share group, tau and k")
    first = slice_start[:-1]
    grid = {
        "group_start": group_slices(group_start, slice_start),
        "slice_tau": np.ascontiguousarray(t[first]),
        "slice_logfwd": np.ascontiguousarray(yy[first]),
        "slice_start": slice_start,
        "node_k": kk,
        "node_w": ww,
    }
    slope = np.empty(len(kk))
    flags = np.empty(len(kk), dtype=np.uint8)
    _core.surface_slopes(surface=grid, tolerance=tolerance, slope=slope, flags=flags, threads=nthreads)
    return SurfaceGrid(**grid, node_slope=slope, node_flags=flags, node_row=order)


def _queries(group, tau, x, name):
    group = np.asarray(group)
    if group.dtype.kind not in "iu":
        raise TypeError(f"group: expected integers, got dtype {group.dtype}")
    try:
        g, t, v = np.broadcast_arrays(group, as_float_array(tau, "tau"), as_float_array(x, name))
    except ValueError:
        raise ValueError(
            f"group, tau, {name}: shapes {np.shape(group)}, {np.shape(tau)}, {np.shape(x)} do not broadcast"
        ) from None
    shape = g.shape
    flat = [np.ascontiguousarray(a.ravel(), dtype=d) for a, d in ((g, np.int64), (t, np.float64), (v, np.float64))]
    return shape, flat


def query_surface(grid: SurfaceGrid, group, tau, x, *, log_spot_moneyness: bool, threads=None):
    """(vol, logfwd) at broadcast (group, tau, x); x = ln(K/S) if log_spot_moneyness else ln(K/F).

    NaN where group is -1 (no surface), tau <= 0 or x is NaN.
    """
    nthreads = resolve_threads(threads)
    shape, (g, t, v) = _queries(group, tau, x, "x")
    vol, logfwd = np.empty(len(g)), np.empty(len(g))
    _core.surface_query(
        surface=grid.core(),
        group=g,
        tau=t,
        x=v,
        log_spot_moneyness=bool(log_spot_moneyness),
        vol=vol,
        logfwd=logfwd,
        threads=nthreads,
    )
    return vol.reshape(shape), logfwd.reshape(shape)


def delta_strike(grid: SurfaceGrid, group, tau, d1, *, threads=None):
    """(k, vol, logfwd) where d1 = -k/sqrt(w(k)) + sqrt(w(k))/2 at the surface's own w equals ``d1``."""
    nthreads = resolve_threads(threads)
    shape, (g, t, target) = _queries(group, tau, d1, "d1")
    k, vol, logfwd = np.empty(len(g)), np.empty(len(g)), np.empty(len(g))
    _core.surface_delta_strike(
        surface=grid.core(), group=g, tau=t, d1=target, k=k, vol=vol, logfwd=logfwd, threads=nthreads
    )
    return k.reshape(shape), vol.reshape(shape), logfwd.reshape(shape)
