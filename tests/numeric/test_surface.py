"""Surface kernels (dispersionkit.numeric.surface) against the NumPy twin, SciPy's PCHIP and
known answers (flat surfaces, exact interpolation identities, arbitrage constructed on purpose)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import PchipInterpolator

from dispersionkit import _core
from dispersionkit import reference as ref
from dispersionkit.numeric import surface as ns

TAUS = np.array([0.02, 0.08, 0.25, 0.5, 1.0, 2.0])


def ssvi(k, theta, rho=-0.5, eta=1.0):
    phi = eta / (theta**0.3 * (1 + theta) ** 0.7)
    return 0.5 * theta * (1 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1 - rho**2))


def random_rows(seed, n_groups, clean=True):
    """Rows of random smiles; ``clean`` draws them from arbitrage-free SSVI, else adds noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        taus = np.sort(rng.choice(TAUS, size=rng.integers(1, 5), replace=False))
        level = rng.uniform(0.1, 0.6)
        for tau in taus:
            k = np.sort(rng.choice(np.linspace(-0.8, 0.8, 41), size=rng.integers(1, 9), replace=False))
            w = ssvi(k, level**2 * tau)
            if not clean:
                w = w * np.exp(rng.normal(0, 0.05, len(k)))
            rows += [(g, tau, kk, ww, 0.02 * tau) for kk, ww in zip(k, w)]
    a = np.array(rows)
    perm = rng.permutation(len(a))
    a = a[perm]
    return a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3], a[:, 4]


def build_both(rows, n_groups, **kwargs):
    return ns.build_surface_grid(*rows, n_groups, **kwargs), ref.surface.build_surface_grid(*rows, n_groups, **kwargs)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_groups=st.integers(1, 40), clean=st.booleans())
def test_build_and_query_match_the_twin(seed, n_groups, clean):
    rows = random_rows(seed, n_groups, clean)
    core, twin = build_both(rows, n_groups + 2)  # two groups without rows
    for name in ("group_start", "slice_start", "slice_tau", "slice_logfwd", "node_k", "node_w", "node_row"):
        np.testing.assert_array_equal(getattr(core, name), getattr(twin, name), err_msg=name)
    np.testing.assert_allclose(core.node_slope, twin.node_slope, rtol=1e-14, atol=1e-300)
    np.testing.assert_array_equal(core.node_flags, twin.node_flags)
    rng = np.random.default_rng(seed + 1)
    m = 2000
    group = rng.integers(-1, n_groups + 2, m)
    tau = rng.uniform(0.005, 3.0, m)
    x = rng.uniform(-1.2, 1.2, m)
    for spot in (True, False):
        v1, y1 = ns.query_surface(core, group, tau, x, log_spot_moneyness=spot)
        v2, y2 = ref.surface.query_surface(twin, group, tau, x, log_spot_moneyness=spot)
        np.testing.assert_allclose(v1, v2, rtol=1e-13, equal_nan=True)
        np.testing.assert_allclose(y1, y2, rtol=1e-13, equal_nan=True)
    if clean:
        d1 = rng.uniform(-2.5, 2.5, m)
        k1, vol1, _ = ns.delta_strike(core, group, tau, d1)
        k2, vol2, _ = ref.surface.delta_strike(twin, group, tau, d1)
        np.testing.assert_allclose(k1, k2, rtol=0, atol=1e-11, equal_nan=True)
        np.testing.assert_allclose(vol1, vol2, rtol=1e-10, equal_nan=True)


def test_slopes_and_values_match_scipy_pchip():
    rows = random_rows(3, 60, clean=False)
    grid, _ = build_both(rows, 60)
    checked = 0
    for j in range(len(grid.slice_tau)):
        lo, hi = grid.slice_start[j], grid.slice_start[j + 1]
        if hi - lo < 2:
            continue
        k, w = grid.node_k[lo:hi], grid.node_w[lo:hi]
        pchip = PchipInterpolator(k, w)
        np.testing.assert_allclose(grid.node_slope[lo:hi], pchip.derivative()(k), rtol=1e-12, atol=1e-14)
        inside = np.linspace(k[0], k[-1], 17)
        group = np.searchsorted(grid.group_start, j, side="right") - 1
        vol, _ = ns.query_surface(grid, group, grid.slice_tau[j], inside, log_spot_moneyness=False)
        np.testing.assert_allclose(vol**2 * grid.slice_tau[j], pchip(inside), rtol=1e-12)
        checked += 1
    assert checked > 50


def test_flat_surface_returns_its_vol_everywhere():
    grid = ns.build_surface_grid([0, 1], [1.0, 1.0], [0.0, 0.0], [0.04, 0.09], [0.01, -0.02], 2)
    rng = np.random.default_rng(0)
    tau, x = rng.uniform(0.001, 10, 500), rng.uniform(-3, 3, 500)
    for group, vol in ((0, 0.2), (1, 0.3)):
        v, y = ns.query_surface(grid, group, tau, x, log_spot_moneyness=True)
        np.testing.assert_allclose(v, vol, rtol=1e-15)
        np.testing.assert_allclose(y, (0.01 if group == 0 else -0.02) * tau, rtol=1e-14)
        # Flat vol: d1 = -k / (vol sqrt(tau)) + vol sqrt(tau) / 2 inverts in closed form.
        d1 = rng.uniform(-2, 2, 500)
        k, kv, _ = ns.delta_strike(grid, group, tau, d1)
        sd = vol * np.sqrt(tau)
        np.testing.assert_allclose(k, -d1 * sd + 0.5 * sd * sd, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(kv, vol, rtol=1e-15)


def test_term_interpolation_is_linear_in_total_variance_at_fixed_k():
    # Two flat smiles: 20% at 0.25y, 30% at 1y (w = 0.01 and 0.09).
    grid = ns.build_surface_grid([0, 0], [0.25, 1.0], [0.0, 0.0], [0.01, 0.09], [0.005, 0.02], 1)
    tau = np.array([0.05, 0.25, 0.4, 0.625, 1.0, 3.0])
    vol, y = ns.query_surface(grid, 0, tau, 0.3, log_spot_moneyness=False)
    w = np.where(tau <= 0.25, 0.04 * tau, np.where(tau >= 1.0, 0.09 * tau, 0.01 + (tau - 0.25) / 0.75 * 0.08))
    np.testing.assert_allclose(vol, np.sqrt(w / tau), rtol=1e-15)
    yy = np.where(tau <= 0.25, 0.02 * tau, np.where(tau >= 1.0, 0.02 * tau, 0.005 + (tau - 0.25) / 0.75 * 0.015))
    np.testing.assert_allclose(y, yy, rtol=1e-14)


def test_analytic_surface_is_recovered_between_nodes():
    # SSVI with theta proportional to tau: w(k, tau) = tau * f(k), so the linear-in-w term
    # interpolation is exact and only the strike interpolation errs.
    taus = np.array([0.1, 0.3, 0.7, 1.5])
    k = np.linspace(-1.0, 1.0, 41)
    f = ssvi(k, 0.04) / 0.04 * 0.04  # total variance per year
    rows = [(0, t, kk, ff * t, 0.0) for t in taus for kk, ff in zip(k, f)]
    a = np.array(rows)
    grid = ns.build_surface_grid(a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3], a[:, 4], 1)
    assert not grid.node_flags.any()
    kq = np.linspace(-0.95, 0.95, 301)
    for tau in (0.1, 0.2, 0.5, 1.5):
        vol, _ = ns.query_surface(grid, 0, tau, kq, log_spot_moneyness=False)
        exact = np.sqrt(ssvi(kq, 0.04))
        assert np.max(np.abs(vol - exact)) < 2e-4
    # At the nodes the surface returns its input exactly.
    vol, _ = ns.query_surface(grid, 0, 0.3, k, log_spot_moneyness=False)
    np.testing.assert_allclose(vol**2 * 0.3, f * 0.3, rtol=1e-14)
    # Flat beyond the quoted strikes.
    vol, _ = ns.query_surface(grid, 0, 0.3, [-3.0, 3.0], log_spot_moneyness=False)
    np.testing.assert_allclose(vol, np.sqrt(f[[0, -1]]), rtol=1e-15)


def test_arbitrage_flags_constructed_cases():
    k = np.linspace(-0.4, 0.4, 9)
    good = ssvi(k, 0.04 * 0.25)
    # Calendar: the 0.5y slice sits below the 0.25y slice at k >= 0.
    later = ssvi(k, 0.04 * 0.5)
    later[k >= 0] = good[k >= 0] * 0.9
    # Butterfly: a spike in the middle of a smile.
    spiky = ssvi(k, 0.04 * 1.0)
    spiky[4] *= 1.6
    rows = [(0, 0.25, kk, w, 0.0) for kk, w in zip(k, good)]
    rows += [(0, 0.5, kk, w, 0.0) for kk, w in zip(k, later)]
    rows += [(1, 1.0, kk, w, 0.0) for kk, w in zip(k, spiky)]
    a = np.array(rows)
    core, twin = build_both((a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3], a[:, 4]), 2)
    np.testing.assert_array_equal(core.node_flags, twin.node_flags)
    flags = core.node_flags
    later_nodes = slice(core.slice_start[1], core.slice_start[2])
    assert (flags[later_nodes][k >= 0] & ns.CALENDAR).all()
    assert not (flags[later_nodes][k < -0.06] & ns.CALENDAR).any()
    spike = core.slice_start[2] + 4
    assert flags[spike] & ns.BUTTERFLY
    assert not (flags[: core.slice_start[1]] & ns.BUTTERFLY).any()


def test_same_bits_for_any_thread_count():
    rows = random_rows(11, 3000)
    one = ns.build_surface_grid(*rows, 3000, threads=1)
    two = ns.build_surface_grid(*rows, 3000, threads=2)
    for name in ("node_row", "node_slope", "node_flags"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    rng = np.random.default_rng(2)
    m = 50_000
    args = (rng.integers(0, 3000, m), rng.uniform(0.01, 2, m), rng.uniform(-1, 1, m))
    a = ns.query_surface(one, *args, log_spot_moneyness=True, threads=1)
    b = ns.query_surface(one, *args, log_spot_moneyness=True, threads=2)
    np.testing.assert_array_equal(a[0], b[0])
    c = ns.delta_strike(one, *args, threads=1)
    d = ns.delta_strike(one, *args, threads=2)
    np.testing.assert_array_equal(c[0], d[0])


def test_bad_rows_are_errors_naming_the_argument():
    ok = dict(group=[0, 0], tau=[0.5, 0.5], k=[0.0, 0.1], w=[0.02, 0.02], logfwd=[0.0, 0.0])

    def build(**change):
        args = {**ok, **change}
        return ns.build_surface_grid(args["group"], args["tau"], args["k"], args["w"], args["logfwd"], 1)

    with pytest.raises(ValueError, match="group: values must lie in"):
        build(group=[0, 1])
    with pytest.raises(ValueError, match="tau"):
        build(tau=[0.5, np.nan])
    with pytest.raises(ValueError, match="tau"):
        build(tau=[0.5, 0.0])
    with pytest.raises(ValueError, match="w: total variances"):
        build(w=[0.02, -1.0])
    with pytest.raises(ValueError, match="share group, tau and k"):
        build(k=[0.1, 0.1])
    with pytest.raises(TypeError, match="group: expected integers"):
        build(group=[0.0, 0.0])
    with pytest.raises(ValueError, match="same length"):
        build(tau=[0.5])


def test_binding_rejects_inconsistent_offsets():
    grid = ns.build_surface_grid([0, 0], [0.5, 0.5], [0.0, 0.1], [0.02, 0.02], [0.0, 0.0], 1)
    core = grid.core()
    out = np.empty(1)
    bad = dict(core, slice_start=np.array([0, 5], dtype=np.int64))
    with pytest.raises(ValueError, match="slice_start"):
        _core.surface_query(
            surface=bad,
            group=np.zeros(1, np.int64),
            tau=np.ones(1),
            x=np.zeros(1),
            log_spot_moneyness=False,
            vol=out,
            logfwd=np.empty(1),
            threads=1,
        )
    with pytest.raises(ValueError, match="missing array 'node_slope'"):
        _core.surface_query(
            surface={k: v for k, v in core.items() if k != "node_slope"},
            group=np.zeros(1, np.int64),
            tau=np.ones(1),
            x=np.zeros(1),
            log_spot_moneyness=False,
            vol=out,
            logfwd=np.empty(1),
            threads=1,
        )
    one = np.ones(1)
    with pytest.raises(ValueError, match="group: every value"):
        _core.surface_sort(
            group=np.array([3], np.int64), tau=one, k=one, w=one, logfwd=one, n_groups=1,
            group_start=np.empty(2, np.int64), order=np.empty(1, np.int64),
            tau_out=np.empty(1), k_out=np.empty(1), w_out=np.empty(1), logfwd_out=np.empty(1), threads=1,
        )  # fmt: skip
