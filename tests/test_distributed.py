"""dispersionkit.distributed on a real dask.distributed LocalCluster (2 worker processes on
loopback, no dashboard): Monte-Carlo P&L bit-identical to one process, stress grids split by
scenario bit-identical to one call, backtest sweeps equal to the backtests run one by one."""

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

distributed = pytest.importorskip("dask.distributed", reason="the dask extra (dask[distributed]) is not installed")
from dispersionkit import distributed as dkd  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


N = 8
NAMES = [f"S{i}" for i in range(N)] + ["INDEX"]


def book():
    return dk.straddle("INDEX", 100.0, 0.2, -1.0) + dk.Book([dk.straddle(f"S{i}", 100.0, 0.2, 0.15) for i in range(N)])


def one_process(paths, seed):
    """The single-process computation: all paths in one simulate_market and one hedged_pnl call."""
    market = dk.simulate_market(
        np.full(N, 100.0), 0.3, dk.random_correlation(N, rng=1), steps=40, paths=paths, seed=seed
    )
    spots = np.concatenate([market.components, market.index[..., None]], axis=-1)
    implied = np.array([0.28] * N + [0.18])
    return dk.hedged_pnl(book(), spots, implied, names=NAMES, detail="summary", policy=dk.HedgePolicy(1, None, 1.0))


def monte_carlo(paths, seed, **kwargs):
    return dkd.monte_carlo_pnl(
        book(),
        np.full(N, 100.0),
        0.3,
        dk.random_correlation(N, rng=1),
        steps=40,
        paths=paths,
        seed=seed,
        implied_vols=np.array([0.28] * N + [0.18]),
        names=NAMES,
        policy=dk.HedgePolicy(1, None, 1.0),
        **kwargs,
    )


def assert_bits(a: dk.PnLResult, b: dk.PnLResult):
    for name in a.summary.__dataclass_fields__:
        x, y = getattr(a.summary, name), getattr(b.summary, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        np.testing.assert_array_equal(x.view(np.uint8), y.view(np.uint8), err_msg=name)


def test_monte_carlo_on_the_cluster_is_bit_identical_to_one_process(client):
    expected = one_process(2_000, seed=42)
    on_cluster = monte_carlo(2_000, 42, chunk_paths=300, client=client)  # uneven chunks: 6 x 300 + 200
    assert_bits(expected, on_cluster)
    assert_bits(expected, monte_carlo(2_000, 42, chunk_paths=700))  # client=None: in this process
    assert on_cluster.n_paths == 2_000 and on_cluster.steps is None
    assert not np.array_equal(monte_carlo(300, 43).summary.total, expected.summary.total[:300])


def test_monte_carlo_checks_arguments_before_sending_work(client):
    with pytest.raises(ValueError, match="names: expected 9 names"):
        dkd.monte_carlo_pnl(book(), np.full(N, 100.0), 0.3, None, steps=5, paths=5, implied_vols=0.2,
                            names=NAMES[:-1], client=client)  # fmt: skip
    with pytest.raises(ValueError, match="corr"):
        dkd.monte_carlo_pnl(book(), np.full(N, 100.0), 0.3, np.eye(N + 1), steps=5, paths=5, implied_vols=0.2,
                            names=NAMES, client=client)  # fmt: skip
    with pytest.raises(TypeError, match=r"client: expected a dask\.distributed\.Client"):
        dkd.monte_carlo_pnl(book(), [100.0], 0.3, None, steps=5, paths=5, implied_vols=0.2, client="tcp://x")


def test_stress_grid_split_by_scenario_is_bit_identical(client, synthetic_market):
    market = synthetic_market(n_dates=70)
    position = dk.DispersionTrade().position(market, market.dates[-1])
    spots, vols, levels = np.linspace(-0.2, 0.2, 11), [0.0, 0.05, 0.1], [0.2, 0.5, 0.8, 0.95]
    expected = dk.stress_grid(position, spots, vols, levels)
    for chunks in (None, 3, 11):
        split = dkd.stress_grid(position, spots, vols, levels, chunks=chunks, client=client)
        np.testing.assert_array_equal(split.spot_shocks, expected.spot_shocks)
        np.testing.assert_array_equal(split.pnl.view(np.uint64), expected.pnl.view(np.uint64))
        np.testing.assert_array_equal(split.index_vols, expected.index_vols)
    with pytest.raises(ValueError, match="spot_shocks: must be > -1"):
        dkd.stress_grid(position, [-2.0], client=client)


def test_sweep_runs_every_combination_like_single_backtests(client, synthetic_market):
    market = synthetic_market(n_dates=150)
    trades = {"vega": dk.DispersionTrade(), "gamma": dk.DispersionTrade(sizing="gamma")}
    rules = [dk.BacktestRules(exit=[dk.ExpiryExit()])]
    universes = {"all": market, "three": ["AAA", "BBB", "CCC"]}
    table = dkd.sweep(market, trades, rules, universes=universes, client=client)
    assert table.index.names == ["universe", "trade", "rules"] and len(table) == 4
    direct = dk.backtest(dkd.restrict(market, ["AAA", "BBB", "CCC"]), trades["gamma"], rules[0])
    row = table.loc[("three", "gamma", "rules0")]
    assert row["total_return"] == direct.metrics.total_return and row["sharpe"] == direct.metrics.sharpe
    assert row["final_equity"] == direct.equity.iloc[-1]
    pd.testing.assert_frame_equal(dkd.sweep(market, trades, rules, universes=universes), table)


def test_restrict_renormalizes_weights(synthetic_market):
    market = synthetic_market(n_dates=60)
    sub = dkd.restrict(market, ["AAA", "CCC"])
    assert list(sub.tickers) == ["AAA", "CCC"]
    np.testing.assert_allclose(sub.weights.to_numpy(), [0.6, 0.4])
    with pytest.raises(ValueError, match="tickers not in the market"):
        dkd.restrict(market, ["AAA", "ZZZ"])
    with pytest.raises(ValueError, match="at least 2 components"):
        dkd.restrict(market, ["AAA"])


def test_book_risk_on_the_cluster_is_bit_identical(client, synthetic_market):
    market = synthetic_market(n_dates=120)
    position = dk.DispersionTrade().position(market, market.dates[-1])
    kwargs = dict(paths=700, scenario=["base", "correlation 0.9"], seed=3)
    expected = dk.book_risk(position, market, **kwargs)
    split = dkd.book_risk(position, market, chunk_paths=250, client=client, **kwargs)
    np.testing.assert_array_equal(split.pnl.view(np.uint64), expected.pnl.view(np.uint64))
    pd.testing.assert_frame_equal(split.to_frame(), expected.to_frame())
