"""simulate_market: RNG known answers, core vs NumPy twin, invariance, statistics, regimes, bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import dispersionkit as dk
from dispersionkit import _core
from dispersionkit.numeric.correlation_matrix import psd_cholesky
from dispersionkit.reference._philox import open_unit, philox4x32_10

# Random123 known-answer vectors (kat_vectors): counter[4], key[2] -> output[4].
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


def equicorrelation(n, rho):
    matrix = np.full((n, n), rho)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def market(n=5, seed=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(20, 200, n), rng.uniform(0.1, 0.6, n), dk.random_correlation(n, factors=n + 2, rng=rng)


def assert_same(a, b):
    np.testing.assert_array_equal(a.components, b.components)
    np.testing.assert_array_equal(a.index, b.index)
    if a.regime is None:
        assert b.regime is None
    else:
        np.testing.assert_array_equal(a.regime, b.regime)


def assert_close(core, ref):
    np.testing.assert_allclose(core.components, ref.components, rtol=1e-12, atol=0)
    np.testing.assert_allclose(core.index, ref.index, rtol=1e-12, atol=0)
    if ref.regime is None:
        assert core.regime is None
    else:
        np.testing.assert_array_equal(core.regime, ref.regime)


def sample_average_correlation(returns):
    """Average off-diagonal sample correlation of (samples, n) returns."""
    matrix = np.corrcoef(returns, rowvar=False)
    n = matrix.shape[0]
    return (matrix.sum() - n) / (n * (n - 1))


# --- the random number generator -------------------------------------------------------------


@pytest.mark.parametrize("counter, key, expected", PHILOX_KAT)
def test_philox_known_answers_core(counter, key, expected):
    assert _core.philox4x32_10(counter=counter, key=key) == expected


@pytest.mark.parametrize("counter, key, expected", PHILOX_KAT)
def test_philox_known_answers_reference(counter, key, expected):
    words = philox4x32_10(*(np.uint64(c) for c in counter), *key)
    assert tuple(int(w) for w in words) == expected


def test_open_unit_stays_inside_zero_one():
    lo = np.array([0, 0xFFFFFFFF], dtype=np.uint64)
    u = open_unit(lo, lo)
    assert u[0] == 0.5 * 2.0**-52 and u[1] == 1.0 - 0.5 * 2.0**-52


# --- core vs NumPy twin ---------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 7),
    steps=st.integers(1, 12),
    paths=st.integers(0, 40),
    seed=st.integers(0, 2**64 - 1),
    first_path=st.sampled_from([0, 13, 2**32 - 7, 2**40]),
    per_step=st.booleans(),
    vector_drift=st.booleans(),
    data_seed=st.integers(0, 1000),
)
def test_core_matches_reference(n, steps, paths, seed, first_path, per_step, vector_drift, data_seed):
    rng = np.random.default_rng(data_seed)
    spot0, vols, corr = market(n, data_seed)
    if per_step:
        vols = rng.uniform(0.05, 0.8, (steps, n))
    drift = rng.uniform(-0.1, 0.2, n) if vector_drift else 0.07
    weights = rng.uniform(0.1, 1.0, n)
    kwargs = dict(
        steps=steps,
        paths=paths,
        drift=drift,
        index_weights=weights,
        index0=1000.0,
        seed=seed,
        first_path=first_path,
        dt=1 / 52,
    )
    assert_close(
        dk.simulate_market(spot0, vols, corr, **kwargs), dk.reference.simulate_market(spot0, vols, corr, **kwargs)
    )


@settings(max_examples=15, deadline=None)
@given(
    k=st.integers(1, 3),
    steps=st.integers(1, 30),
    paths=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    markov=st.booleans(),
    data_seed=st.integers(0, 1000),
)
def test_core_matches_reference_with_regimes(k, steps, paths, seed, markov, data_seed):
    rng = np.random.default_rng(data_seed)
    n = 4
    spot0, vols, _ = market(n, data_seed)
    matrices = np.stack([dk.random_correlation(n, factors=n + 2, rng=rng) for _ in range(k)])
    if markov:
        transition = rng.dirichlet(np.ones(k), size=k)
        regimes = dk.Regimes(matrices, transition=transition, initial=int(rng.integers(k)))
    else:
        regimes = dk.Regimes(matrices, schedule=rng.integers(0, k, steps))
    kwargs = dict(steps=steps, paths=paths, seed=seed, regimes=regimes)
    assert_close(
        dk.simulate_market(spot0, vols, None, **kwargs), dk.reference.simulate_market(spot0, vols, None, **kwargs)
    )


# --- determinism: seeds, threads, chunking --------------------------------------------------


def test_same_seed_same_paths_any_thread_count():
    spot0, vols, corr = market(6)
    runs = [dk.simulate_market(spot0, vols, corr, steps=60, paths=1003, seed=11, threads=t) for t in (1, 2, 3, None)]
    for run in runs[1:]:
        assert_same(runs[0], run)


def test_different_seeds_differ():
    spot0, vols, corr = market(3)
    a = dk.simulate_market(spot0, vols, corr, steps=5, paths=4, seed=1)
    b = dk.simulate_market(spot0, vols, corr, steps=5, paths=4, seed=2)
    assert not np.any(a.components[:, 1:] == b.components[:, 1:])


@pytest.mark.parametrize("cuts", [(0, 1, 2, 50), (0, 17, 33, 50), (0, 16, 32, 48, 50), (0, 49, 50)])
def test_any_split_of_paths_reproduces_the_full_run(cuts):
    spot0, vols, corr = market(5)
    transition = np.array([[0.9, 0.1], [0.3, 0.7]])
    regimes = dk.Regimes(np.stack([corr, equicorrelation(5, 0.8)]), transition=transition)
    full = dk.simulate_market(spot0, vols, None, steps=40, paths=50, seed=5, regimes=regimes)
    parts = [
        dk.simulate_market(spot0, vols, None, steps=40, paths=b - a, first_path=a, seed=5, regimes=regimes, threads=1)
        for a, b in itertools.pairwise(cuts)
    ]
    np.testing.assert_array_equal(np.concatenate([p.components for p in parts]), full.components)
    np.testing.assert_array_equal(np.concatenate([p.index for p in parts]), full.index)
    np.testing.assert_array_equal(np.concatenate([p.regime for p in parts]), full.regime)
    assert parts[1].first_path == cuts[1]


# --- the model --------------------------------------------------------------------------------


def test_first_row_index_and_echo():
    spot0, vols, corr = market(4)
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    out = dk.simulate_market(spot0, vols, corr, steps=10, paths=7, index_weights=weights, index0=250.0, seed=9)
    assert out.components.shape == (7, 11, 4) and out.index.shape == (7, 11) and out.regime is None
    np.testing.assert_array_equal(out.components[:, 0], np.broadcast_to(spot0, (7, 4)))
    np.testing.assert_allclose(out.index[:, 0], 250.0, rtol=1e-14)
    np.testing.assert_allclose(out.weights, weights / weights.sum(), rtol=1e-15)
    np.testing.assert_allclose(out.shares * spot0 / 250.0, out.weights, rtol=1e-14)
    np.testing.assert_allclose(out.index, out.components @ out.shares, rtol=1e-13)
    assert (out.paths, out.steps, out.n, out.dt, out.seed, out.first_path) == (7, 10, 4, 1 / 252, 9, 0)
    np.testing.assert_allclose(out.times[-1], 10 / 252)
    np.testing.assert_array_equal(out.corr, corr)


def test_zero_vol_is_deterministic_growth():
    spot0 = np.array([50.0, 80.0])
    out = dk.simulate_market(spot0, [0.0, 0.0], np.eye(2), steps=252, paths=3, drift=[0.05, -0.02], dt=1 / 252)
    np.testing.assert_allclose(
        out.components[:, -1], np.broadcast_to(spot0 * np.exp([0.05, -0.02]), (3, 2)), rtol=1e-12
    )


def test_returns_reproduce_correlation_vols_and_drift():
    n, steps, paths, dt = 4, 250, 1200, 1 / 252
    rng = np.random.default_rng(0)
    corr = dk.random_correlation(n, factors=n + 2, rng=rng)
    vols = np.array([0.15, 0.25, 0.4, 0.6])
    drift = np.array([0.0, 0.05, 0.1, -0.05])
    out = dk.simulate_market(np.full(n, 100.0), vols, corr, steps=steps, paths=paths, drift=drift, dt=dt, seed=21)
    r = out.log_returns().reshape(-1, n)
    samples = r.shape[0]  # iid across paths and steps

    sample_corr = np.corrcoef(r, rowvar=False)
    corr_se = (1 - corr**2) / np.sqrt(samples)  # large-sample s.e. of a normal sample correlation
    off = ~np.eye(n, dtype=bool)
    assert np.all(np.abs(sample_corr - corr)[off] < 5 * corr_se[off] + 1e-12)

    realized = r.std(axis=0, ddof=1) / np.sqrt(dt)
    assert np.all(np.abs(realized - vols) < 5 * vols / np.sqrt(2 * samples))

    mean = r.mean(axis=0)
    expected = (drift - 0.5 * vols**2) * dt
    assert np.all(np.abs(mean - expected) < 5 * vols * np.sqrt(dt) / np.sqrt(samples))

    normals = (r - expected) / (vols * np.sqrt(dt))
    kurtosis = np.mean(normals**4, axis=0)
    assert np.all(np.abs(kurtosis - 3.0) < 5 * np.sqrt(96 / samples))  # Gaussian tails, not just variance
    # Whole distribution: Kolmogorov-Smirnov distance below its 0.1% critical value.
    for column in normals.T:
        assert stats.kstest(column, "norm").statistic < 1.95 / np.sqrt(samples)


def test_per_step_vols_are_used_step_by_step():
    steps, paths = 20, 20000
    vols = np.where(np.arange(steps) < 10, 0.1, 0.5)[:, None] * np.ones((1, 2))
    out = dk.simulate_market([100.0, 100.0], vols, equicorrelation(2, 0.5), steps=steps, paths=paths, seed=4)
    realized = out.log_returns().std(axis=0, ddof=1) * np.sqrt(252)  # across paths, per step
    assert np.all(np.abs(realized - vols) < 5 * vols / np.sqrt(2 * paths))


def test_singular_correlation_moves_names_together():
    matrix = np.ones((3, 3))
    factor = psd_cholesky(matrix)
    np.testing.assert_allclose(factor @ factor.T, matrix, atol=1e-14)
    out = dk.simulate_market([10.0, 20.0, 30.0], 0.3, matrix, steps=30, paths=5, seed=1)
    growth = out.components / out.components[:, :1]
    np.testing.assert_allclose(growth[..., 0], growth[..., 2], rtol=1e-13)


def test_psd_cholesky_reproduces_random_matrices():
    rng = np.random.default_rng(2)
    for n in (1, 2, 10, 40):
        matrix = dk.random_correlation(n, factors=n + 2, rng=rng)
        factor = psd_cholesky(matrix)
        np.testing.assert_allclose(factor @ factor.T, matrix, atol=1e-13)
        np.testing.assert_allclose(factor, np.linalg.cholesky(matrix), atol=1e-12)


def test_nan_propagates_to_its_component_and_the_index():
    spot0, vols, corr = market(3)
    base = dk.simulate_market(spot0, vols, corr, steps=8, paths=4, seed=2)
    spot_nan = spot0.copy()
    spot_nan[1] = np.nan
    out = dk.simulate_market(spot_nan, vols, corr, steps=8, paths=4, seed=2)
    assert np.isnan(out.components[:, :, 1]).all() and np.isnan(out.index).all()
    np.testing.assert_array_equal(out.components[:, :, [0, 2]], base.components[:, :, [0, 2]])
    vols_nan = vols.copy()
    vols_nan[0] = np.nan
    out = dk.simulate_market(spot0, vols_nan, corr, steps=8, paths=4, seed=2)
    assert np.isnan(out.components[:, 1:, 0]).all()
    np.testing.assert_array_equal(out.components[:, :, 1:], base.components[:, :, 1:])


# --- regimes --------------------------------------------------------------------------------


def test_markov_regimes_produce_the_crisis_correlation_spike():
    n, steps, paths = 5, 250, 400
    calm, crisis = equicorrelation(n, 0.3), equicorrelation(n, 0.9)
    transition = np.array([[0.97, 0.03], [0.10, 0.90]])
    regimes = dk.Regimes(np.stack([calm, crisis]), transition=transition, initial=0)
    out = dk.simulate_market(np.full(n, 100.0), 0.25, None, steps=steps, paths=paths, regimes=regimes, seed=8)
    r = out.log_returns()
    for state, rho in ((0, 0.3), (1, 0.9)):
        sample = r[out.regime == state]
        se = (1 - rho**2) / np.sqrt(sample.shape[0])
        assert abs(sample_average_correlation(sample) - rho) < 5 * se
    # The chain spends about pi_crisis = 0.03 / 0.13 of the time in crisis (fraction over
    # 100k autocorrelated steps; margin far above its sampling error).
    assert abs(np.mean(out.regime[:, 50:] == 1) - 0.03 / 0.13) < 0.03
    assert (out.regime[:, 0] == 0).all()


def test_regime_transitions_follow_the_matrix():
    transition = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # a deterministic cycle
    regimes = dk.Regimes(np.stack([np.eye(2)] * 3), transition=transition, initial=2)
    out = dk.simulate_market([1.0, 1.0], 0.2, None, steps=9, paths=3, regimes=regimes)
    np.testing.assert_array_equal(out.regime, np.broadcast_to((np.arange(9) + 2) % 3, (3, 9)))
    absorbing = dk.Regimes(np.stack([np.eye(2)] * 2), transition=np.eye(2), initial=1)
    assert (dk.simulate_market([1.0, 1.0], 0.2, None, steps=30, paths=50, regimes=absorbing).regime == 1).all()


def test_schedule_regimes():
    n = 3
    schedule = np.array([0] * 100 + [1] * 100)
    regimes = dk.Regimes(np.stack([equicorrelation(n, 0.0), equicorrelation(n, 0.95)]), schedule=schedule)
    out = dk.simulate_market(np.ones(n), 0.2, None, steps=200, paths=300, regimes=regimes, seed=3)
    np.testing.assert_array_equal(out.regime, np.broadcast_to(schedule, (300, 200)))
    r = out.log_returns()
    samples = 300 * 100
    assert abs(sample_average_correlation(r[:, :100].reshape(-1, n))) < 5 / np.sqrt(samples)
    assert abs(sample_average_correlation(r[:, 100:].reshape(-1, n)) - 0.95) < 5 * (1 - 0.95**2) / np.sqrt(samples)


# --- bad input --------------------------------------------------------------------------------

GOOD = dict(spot0=[100.0, 50.0], vols=[0.2, 0.3], corr=[[1.0, 0.5], [0.5, 1.0]])


def call(**changes):
    args = {**GOOD, **changes}
    kwargs = {k: v for k, v in args.items() if k not in GOOD}
    kwargs.setdefault("steps", 3)
    kwargs.setdefault("paths", 2)
    return dk.simulate_market(args["spot0"], args["vols"], args["corr"], **kwargs)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(corr=[[1.0, 0.5], [0.4, 1.0]]), "corr: not symmetric"),
        (dict(corr=[[1.0, 0.5], [0.5, 0.9]]), "corr: diagonal is not 1"),
        (dict(corr=[[1.0, np.nan], [np.nan, 1.0]]), "corr: contains NaN"),
        (dict(corr=np.eye(3)), r"corr: expected shape \(2, 2\)"),
        (dict(corr=[[1.0, 1.2], [1.2, 1.0]]), "corr: not positive semidefinite"),
        (dict(corr=None), "corr: required"),
        (dict(spot0=[100.0, -1.0]), "spot0: prices must be > 0"),
        (dict(spot0=[[100.0, 50.0]]), r"spot0: expected shape \(n,\)"),
        (dict(vols=[0.2, -0.1]), "vols: must be >= 0"),
        (dict(vols=[0.2, 0.3, 0.4]), "vols: expected a scalar, shape"),
        (dict(vols=np.full((4, 2), 0.2)), "vols: expected a scalar, shape"),
        (dict(drift=[0.1, 0.2, 0.3]), "drift: expected a scalar"),
        (dict(steps=0), r"steps: must be in \[1"),
        (dict(paths=-1), r"paths: must be in \[0"),
        (dict(seed=-1), r"seed: must be in \[0"),
        (dict(seed=2**64), r"seed: must be in \[0"),
        (dict(first_path=2**64 - 1), "first_path: must be in"),
        (dict(dt=0.0), "dt: must be > 0"),
        (dict(index0=np.nan), "index0: must be finite"),
        (dict(index_weights=[1.0, -0.5]), "index_weights: must be finite, >= 0"),
        (dict(index_weights=[1.0]), r"index_weights: expected shape \(2,\)"),
        (dict(threads=0), "threads: must be >= 1"),
    ],
)
def test_bad_input_raises_value_error(changes, message):
    with pytest.raises(ValueError, match=message):
        call(**changes)


def test_not_psd_is_rejected():
    bad = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    with pytest.raises(ValueError, match="corr: not positive semidefinite"):
        dk.simulate_market([1.0, 1.0, 1.0], 0.2, bad, steps=2, paths=1)


@pytest.mark.parametrize(
    "changes, error",
    [
        (dict(steps=2.5), TypeError),
        (dict(seed="1"), TypeError),
        (dict(threads=True), TypeError),
        (dict(spot0=["a", "b"]), TypeError),
        (dict(regimes="crisis", corr=None), TypeError),
    ],
)
def test_bad_types_raise_type_error(changes, error):
    with pytest.raises(error):
        call(**changes)


def test_bad_regimes():
    eye = np.eye(2)
    pair = np.stack([eye, equicorrelation(2, 0.5)])
    with pytest.raises(ValueError, match="exactly one of transition"):
        dk.Regimes(pair)
    with pytest.raises(ValueError, match="exactly one of transition"):
        dk.Regimes(pair, transition=np.eye(2), schedule=[0, 1])
    with pytest.raises(ValueError, match="rows must sum to 1"):
        dk.Regimes(pair, transition=[[0.5, 0.4], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"regimes.transition: expected shape \(2, 2\)"):
        dk.Regimes(pair, transition=np.eye(3))
    with pytest.raises(ValueError, match=r"regimes.initial: must be in \[0, 2\)"):
        dk.Regimes(pair, transition=np.eye(2), initial=2)
    with pytest.raises(ValueError, match=r"regimes.schedule: regime indices must be in \[0, 2\)"):
        dk.Regimes(pair, schedule=[0, 2])
    with pytest.raises(ValueError, match=r"regimes\.initial: only used with transition"):
        dk.Regimes(pair, schedule=[0, 1], initial=1)
    with pytest.raises(TypeError, match=r"regimes\.schedule: expected integer"):
        dk.Regimes(pair, schedule=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"regimes.matrices\[1\]: not symmetric"):
        dk.Regimes(np.stack([eye, [[1.0, 0.2], [0.3, 1.0]]]), transition=np.eye(2))
    with pytest.raises(ValueError, match=r"regimes.matrices: expected shape \(k, n, n\)"):
        dk.Regimes(eye, transition=[[1.0]])
    schedule = dk.Regimes(pair, schedule=[0, 1, 1])
    with pytest.raises(ValueError, match=r"regimes.schedule: expected shape \(5,\)"):
        dk.simulate_market([1.0, 1.0], 0.2, None, steps=5, paths=1, regimes=schedule)
    with pytest.raises(ValueError, match="corr: must be None when regimes is given"):
        dk.simulate_market([1.0, 1.0], 0.2, eye, steps=3, paths=1, regimes=schedule)
    with pytest.raises(ValueError, match=r"regimes\.matrices: cover 2 components, spot0 has 3"):
        dk.simulate_market([1.0, 1.0, 1.0], 0.2, None, steps=3, paths=1, regimes=schedule)


def test_results_are_frozen():
    out = call()
    with pytest.raises(AttributeError):
        out.index = None
    regimes = dk.Regimes(np.eye(2)[None], schedule=[0, 0, 0])
    with pytest.raises(ValueError):
        regimes.matrices[0, 0, 0] = 2.0
