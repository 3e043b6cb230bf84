"""NumPy/SciPy twin of the surface kernels (dispersionkit.numeric.surface): same grid, same rules.

Construction sorts with ``np.lexsort`` and computes the PCHIP slopes and arbitrage flags with
whole-array operations over all slices at once; lookups inside slices are a vectorised
binary search. The delta-strike root is found by bisection in the kernel's bracket.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc

from ..numeric.surface import BUTTERFLY, CALENDAR, SurfaceGrid, _queries, _rows, group_slices, slice_starts


def _sign(x):
    return np.sign(x)


def _edge(h0, h1, m0, m1):
    d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    wrong_sign = _sign(d) != _sign(m0)
    overshoot = (_sign(m0) != _sign(m1)) & (np.abs(d) > 3.0 * np.abs(m0))
    return np.where(wrong_sign, 0.0, np.where(overshoot, 3.0 * m0, d))


def _pchip_slopes(k, w, slice_start):
    n = len(k)
    counts = np.diff(slice_start)
    slice_id = np.repeat(np.arange(len(counts)), counts)
    pos = np.arange(n) - slice_start[:-1][slice_id]
    size = counts[slice_id]
    d = np.zeros(n)
    if n < 2:
        return d
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.diff(k)
        m = np.diff(w) / h
        two = np.flatnonzero(size == 2)
        first_of = two - pos[two]
        d[two] = m[first_of]
        inner = np.flatnonzero((pos > 0) & (pos < size - 1))
        hp, hn, mp, mn = h[inner - 1], h[inner], m[inner - 1], m[inner]
        w1, w2 = 2.0 * hn + hp, hn + 2.0 * hp
        flat = (_sign(mp) != _sign(mn)) | (mp == 0.0) | (mn == 0.0)
        d[inner] = np.where(flat, 0.0, 1.0 / ((w1 / mp + w2 / mn) / (w1 + w2)))
        first = np.flatnonzero((pos == 0) & (size >= 3))
        d[first] = _edge(h[first], h[first + 1], m[first], m[first + 1])
        last = np.flatnonzero((pos == size - 1) & (size >= 3))
        d[last] = _edge(h[last - 1], h[last - 2], m[last - 1], m[last - 2])
    return d


def _upper_bound(values, lo, hi, x):
    """First index in [lo, hi) with values > x, per element (a vectorised binary search)."""
    a, b = lo.copy(), hi.copy()
    while True:
        live = a < b
        if not live.any():
            return a
        mid = (a + b) // 2
        go = np.zeros(a.shape, dtype=bool)
        go[live] = values[mid[live]] <= x[live]
        a = np.where(live & go, mid + 1, a)
        b = np.where(live & ~go, mid, b)


def _slice_variance(grid, slope, j, k):
    lo, hi = grid.slice_start[j], grid.slice_start[j + 1]
    kk, ww = grid.node_k, grid.node_w
    i = np.clip(_upper_bound(kk, lo, hi, k) - 1, lo, np.maximum(hi - 2, lo))
    nxt = np.minimum(i + 1, hi - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = kk[nxt] - kk[i]
        dx = k - kk[i]
        m = (ww[nxt] - ww[i]) / h
        t = (slope[i] + slope[nxt] - 2.0 * m) / h
        c0 = t / h
        c1 = (m - slope[i]) / h - t
        inside = ((c0 * dx + c1) * dx + slope[i]) * dx + ww[i]
    left, right = k <= kk[lo], k >= kk[hi - 1]
    out = np.where(left, ww[lo], np.where(right, ww[hi - 1], inside))
    return np.where(np.isnan(k), np.nan, out)


def _normalized_call(k, w):
    strike = np.exp(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(w)
        d1 = -k / sd + 0.5 * sd
        d2 = d1 - sd
        price = 0.5 * erfc(-d1 / np.sqrt(2.0)) - strike * 0.5 * erfc(-d2 / np.sqrt(2.0))
    return np.where(w > 0.0, price, np.maximum(1.0 - strike, 0.0))


def _flags(grid, slope, tolerance):
    n = len(grid.node_k)
    flags = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return flags
    counts = np.diff(grid.slice_start)
    slice_id = np.repeat(np.arange(len(counts)), counts)
    k, w = grid.node_k, grid.node_w
    strike = np.exp(k)
    c = _normalized_call(k, w)
    same = slice_id[1:] == slice_id[:-1]
    dK = np.diff(strike)
    spread = c[:-1] - c[1:]
    bad = same & ((spread < -tolerance) | (spread > dK + tolerance))
    flags[1:][bad] |= BUTTERFLY
    triple = same[1:] & same[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        call_slope = -spread / dK
        bad = triple & ((call_slope[1:] - call_slope[:-1]) * dK[:-1] < -tolerance)
    flags[1:-1][bad] |= BUTTERFLY

    slice_group = np.repeat(np.arange(len(grid.group_start) - 1), np.diff(grid.group_start))
    node_group = slice_group[slice_id]
    for direction in (-1, 1):  # previous expiry, then next expiry
        other = slice_id + direction
        ok = (other >= 0) & (other < len(counts))
        ok[ok] &= slice_group[other[ok]] == node_group[ok]
        idx = np.flatnonzero(ok)
        o = other[idx]
        lo, hi = grid.slice_start[o], grid.slice_start[o + 1]
        inside = (k[idx] >= k[lo]) & (k[idx] <= k[hi - 1])
        idx, o = idx[inside], o[inside]
        w_other = _slice_variance(grid, slope, o, k[idx])
        bad = w[idx] < w_other - tolerance if direction == -1 else w_other < w[idx] - tolerance
        flags[idx[bad]] |= CALENDAR
    return flags


def build_surface_grid(group, tau, k, w, logfwd, n_groups: int, *, tolerance=1e-6, threads=None) -> SurfaceGrid:
    """Same as dispersionkit.numeric.surface.build_surface_grid (``threads`` is ignored)."""
    group, tau, k, w, logfwd = _rows(group, tau, k, w, logfwd)
    if len(group) and (group.min() < 0 or group.max() >= n_groups):
        raise ValueError(f"group: values must lie in [0, {n_groups})")
    order = np.lexsort((np.arange(len(group)), k, tau, group)).astype(np.int64)
    g, t, kk, ww, yy = (a[order] for a in (group, tau, k, w, logfwd))
    row_start = np.searchsorted(g, np.arange(n_groups + 1), side="left").astype(np.int64)
    slice_start = slice_starts(row_start, t)
    first = slice_start[:-1]
    base = SurfaceGrid(
        group_start=group_slices(row_start, slice_start),
        slice_tau=t[first],
        slice_logfwd=yy[first],
        slice_start=slice_start,
        node_k=kk,
        node_w=ww,
        node_slope=np.zeros(len(kk)),
        node_flags=np.zeros(len(kk), dtype=np.uint8),
        node_row=order,
    )
    slope = _pchip_slopes(kk, ww, slice_start)
    flags = _flags(base, slope, float(tolerance))
    return SurfaceGrid(**{**base.__dict__, "node_slope": slope, "node_flags": flags})


def _bracket(grid, g, tau):
    n_groups = len(grid.group_start) - 1
    valid = (g >= 0) & (g < n_groups) & (tau > 0) & np.isfinite(tau)
    gg = np.where(valid, g, 0)
    first = grid.group_start[gg]
    last = grid.group_start[gg + 1] - 1
    valid &= last >= first
    first, last = np.where(valid, first, 0), np.where(valid, last, 0)
    st, sy = grid.slice_tau, grid.slice_logfwd
    j = np.clip(_upper_bound(st, first, last + 1, np.where(valid, tau, 0.0)) - 1, first, last)
    before, after = tau <= st[first], tau >= st[last]
    j0 = np.where(before, first, np.where(after, last, j))
    j1 = np.where(before | after, -1, np.minimum(j + 1, last))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(before | after, tau / st[j0], 1.0)
        t = np.where(j1 >= 0, (tau - st[j0]) / (st[np.maximum(j1, 0)] - st[j0]), 0.0)
        y = np.where(j1 >= 0, sy[j0] + t * (sy[np.maximum(j1, 0)] - sy[j0]), sy[j0] * scale)
    return valid, j0, j1, t, scale, np.where(valid, y, np.nan)


def _total_variance(grid, bracket, k):
    _, j0, j1, t, scale, _ = bracket
    w0 = _slice_variance(grid, grid.node_slope, j0, k)
    w1 = _slice_variance(grid, grid.node_slope, np.maximum(j1, 0), k)
    return np.where(j1 < 0, w0 * scale, w0 + t * (w1 - w0))


def query_surface(grid: SurfaceGrid, group, tau, x, *, log_spot_moneyness: bool, threads=None):
    """Same as dispersionkit.numeric.surface.query_surface (``threads`` is ignored)."""
    shape, (g, t, x) = _queries(group, tau, x, "x")
    bracket = _bracket(grid, g, t)
    valid, y = bracket[0], bracket[5]
    k = x - y if log_spot_moneyness else x
    w = _total_variance(grid, bracket, np.where(valid, k, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        vol = np.where(valid & ~np.isnan(x) & (w >= 0), np.sqrt(np.maximum(w, 0.0) / t), np.nan)
    return vol.reshape(shape), y.reshape(shape)


def delta_strike(grid: SurfaceGrid, group, tau, d1, *, threads=None):
    """Same as dispersionkit.numeric.surface.delta_strike: the kernel's bracket, then bisection."""
    shape, (g, t, target) = _queries(group, tau, d1, "d1")
    bracket = _bracket(grid, g, t)
    valid, y = bracket[0], bracket[5]

    def gap(k):
        w = _total_variance(grid, bracket, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(w)
            return np.where(w > 0, -k / sd + 0.5 * sd - target, np.nan)

    w0 = _total_variance(grid, bracket, np.zeros(len(g)))
    ok = valid & (w0 > 0) & np.isfinite(target)
    with np.errstate(invalid="ignore"):
        sd0 = np.sqrt(np.where(ok, w0, 1.0))
    k0 = np.where(ok, -target * sd0 + 0.5 * np.where(ok, w0, 1.0), 0.0)
    f0 = gap(k0)
    ok &= np.isfinite(f0)
    direction = np.where(f0 > 0, 1.0, -1.0)
    step = np.maximum(sd0, 1e-3)
    a, c = k0.copy(), np.full(len(g), np.nan)
    found = ~ok | (f0 == 0)
    for _ in range(60):
        trial = k0 + direction * step
        f = gap(trial)
        searching = ~found
        ok &= ~(searching & ~np.isfinite(f))
        crossed = searching & np.isfinite(f) & (np.sign(f) != np.sign(f0))
        c = np.where(crossed, trial, c)
        a = np.where(searching & ~crossed, trial, a)
        found |= crossed | ~ok
        step = np.where(searching & ~crossed, step * 2.0, step)
    ok &= (f0 == 0) | np.isfinite(c)
    lo, hi = np.minimum(a, c), np.maximum(a, c)
    f_lo_sign = np.sign(gap(lo))
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        same = np.sign(gap(mid)) == f_lo_sign
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    k = np.where(f0 == 0, k0, 0.5 * (lo + hi))
    k = np.where(ok, k, np.nan)
    w = _total_variance(grid, bracket, np.where(ok, k, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        vol = np.where(ok & (w >= 0), np.sqrt(np.maximum(w, 0.0) / t), np.nan)
    return k.reshape(shape), vol.reshape(shape), y.reshape(shape)
