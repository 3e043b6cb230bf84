"""Contracts between Python and the C++ core are by name: the core exports its lists of names,
the Python results are checked against them, every _core function takes keyword arguments only
and answers a malformed argument with an error naming it (never pybind11's signature dump)."""

import inspect
from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pytest

import dispersionkit as dk
from dispersionkit import _core

BEYOND_INT64 = (2**70, -(2**70))


def test_greeks_fields_are_the_core_greeks():
    assert tuple(f.name for f in fields(dk.Greeks)) == _core.GREEK_NAMES
    assert len(_core.GREEK_NAMES) == 10


def test_iv_status_mirrors_the_codes_the_kernel_writes():
    assert {s.name: int(s) for s in dk.IVStatus} == _core.IV_STATUS
    res = dk.implied_vol(
        [10.0, 0.0, -1.0, 200.0, np.nan], 100.0, [100.0, 150.0, 100.0, 100.0, 100.0], 1.0, return_status=True
    )
    assert [dk.IVStatus(s).name for s in res.status] == [
        "OK",
        "AT_INTRINSIC",
        "BELOW_INTRINSIC",
        "ABOVE_MAX",
        "INVALID_INPUT",
    ]


def test_pnl_result_fields_are_the_core_rows():
    summary = {f.name for f in fields(dk.PnLSummary)} - {"gamma_theta_legs"}
    steps = {f.name for f in fields(dk.PnLSteps)} - {"gamma_theta_legs"}
    assert summary == set(_core.PNL_SUMMARY_ROWS) and len(summary) == len(_core.PNL_SUMMARY_ROWS)
    assert steps == set(_core.PNL_STEP_ROWS) and len(steps) == len(_core.PNL_STEP_ROWS)


def test_pnl_rows_are_read_by_name():
    # A row written by the kernel lands in the field of the same name: the cumulative P&L of the
    # last step is the total, and net is the sum of its lines.
    spots = np.linspace(100.0, 110.0, 11)[:, None] * np.ones((1, 2))
    result = dk.hedged_pnl(dk.straddle(0, 100.0, 0.2, 1.0), spots, 0.2, policy=dk.HedgePolicy(hedge_cost_bps=5.0))
    s = result.steps
    np.testing.assert_array_equal(s.cumulative[:, -1], result.summary.total)
    np.testing.assert_allclose(s.net, s.option_mtm + s.hedge_pnl + s.financing - s.costs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.summary.total_costs, s.costs.sum(axis=1), rtol=1e-12)
    assert result.summary.n_rebalances.dtype == np.int64


def core_functions():
    return {name: f for name, f in vars(_core).items() if callable(f) and not isinstance(f, type)}


@pytest.mark.parametrize("name", sorted(core_functions()))
def test_core_functions_take_keywords_only(name):
    function = core_functions()[name]
    if name == "hardware_threads":
        assert function() >= 1
        return
    with pytest.raises(TypeError):
        function(np.zeros(3))
    assert "*" in function.__doc__.splitlines()[0]  # pybind11 shows keyword-only arguments after '*'


def iv_kwargs(n=4):
    return dict(
        price=np.full(n, 10.0),
        spot=np.full(n, 100.0),
        strike=np.full(n, 100.0),
        tau=np.ones(n),
        rate=np.zeros(n),
        div_yield=np.zeros(n),
        is_call=np.ones(n, bool),
    )


def bs_kwargs(n=4):
    kwargs = iv_kwargs(n)
    del kwargs["price"]
    return {**kwargs, "vol": np.full(n, 0.2)}


def legs(**override):
    values = dict(
        underlying=np.zeros(1, np.int64),
        vol_column=np.zeros(1, np.int64),
        expiry_step=np.full(1, 2, np.int64),
        strike=np.full(1, 100.0),
        expiry=np.full(1, 0.05),
        is_call=np.ones(1),
        quantity=np.ones(1),
    )
    return SimpleNamespace(**{**values, **override})


def rules(**override):
    return _core.HedgeRules(**{**dict(hedge=True, every=1, band=None, cost_bps=0.0, half_spread_vol=0.0), **override})


def book_kwargs(**override):
    kwargs = dict(
        legs=legs(),
        spots=np.full((1, 4, 1), 100.0),
        vols=np.full((1, 4, 1), 0.2),
        div_yield=np.zeros(1),
        rate=0.0,
        dt=0.01,
        rules=rules(),
        summary=np.empty((len(_core.PNL_SUMMARY_ROWS), 1)),
        leg_gamma_theta=np.empty((1, 1)),
        steps=None,
        leg_steps=None,
        threads=1,
    )
    return {**kwargs, **override}


def model(**override):
    paths = dk.numeric._path_model.prepare(
        np.full(2, 100.0),
        0.2,
        np.eye(2),
        steps=3,
        paths=2,
        dt=1 / 252,
        drift=0.0,
        index_weights=None,
        index0=100.0,
        regimes=None,
        seed=0,
        first_path=0,
    )
    return SimpleNamespace(**{**{f.name: getattr(paths, f.name) for f in fields(paths)}, **override})


def paths_kwargs(**override):
    kwargs = dict(model=model(), components=np.empty((2, 4, 2)), index=np.empty((2, 4)), regime=None, threads=1)
    return {**kwargs, **override}


def rolling_kwargs(**override):
    returns = np.random.default_rng(0).normal(0, 0.01, (30, 3))
    kwargs = dict(returns=returns, window=5, min_periods=5, weights=None, avg=np.empty(30), matrix=None, threads=1)
    return {**kwargs, **override}


# Every integer argument of every _core function, as (call, argument name).
INTEGER_ARGUMENTS = [
    (lambda v: _core.bs_greeks(**bs_kwargs(), out=dk.Greeks.empty(4), threads=v), "threads"),
    (lambda v: _core.bs_price(**bs_kwargs(), out=np.empty(4), threads=v), "threads"),
    (lambda v: _core.implied_vol(**iv_kwargs(), out=np.empty(4), status=None, threads=v), "threads"),
    (
        lambda v: _core.quadform_shared(
            corr=np.eye(2)[None], weights=np.ones((3, 2)), vols=np.ones((3, 2)), out=np.empty((1, 3)), threads=v
        ),
        "threads",
    ),
    (
        lambda v: _core.quadform_per_date(
            corr=np.ones((3, 2, 2)), weights=np.ones((3, 2)), vols=np.ones((3, 2)), out=np.empty(3), threads=v
        ),
        "threads",
    ),
    (lambda v: _core.symmetry_gap(corr=np.eye(2)[None], threads=v), "threads"),
    (
        lambda v: _core.equicorrelation(
            index_vol=np.ones(3), vols=np.ones((3, 2)), weights=np.ones((3, 2)), out=np.empty(3), threads=v
        ),
        "threads",
    ),
    (
        lambda v: _core.rolling_std(
            returns=np.ones((5, 2)), window=v, min_periods=2, scale=1.0, out=np.empty((5, 2)), threads=1
        ),
        "window",
    ),
    (
        lambda v: _core.rolling_std(
            returns=np.ones((5, 2)), window=3, min_periods=v, scale=1.0, out=np.empty((5, 2)), threads=1
        ),
        "min_periods",
    ),
    (
        lambda v: _core.rolling_std(
            returns=np.ones((5, 2)), window=3, min_periods=2, scale=1.0, out=np.empty((5, 2)), threads=v
        ),
        "threads",
    ),
    (lambda v: _core.rolling_pairwise_corr(**rolling_kwargs(window=v)), "window"),
    (lambda v: _core.rolling_pairwise_corr(**rolling_kwargs(min_periods=v)), "min_periods"),
    (lambda v: _core.rolling_pairwise_corr(**rolling_kwargs(threads=v)), "threads"),
    (lambda v: _core.simulate_market(**paths_kwargs(threads=v)), "threads"),
    (lambda v: _core.simulate_market(**paths_kwargs(model=model(seed=v))), "model.seed"),
    (lambda v: _core.simulate_market(**paths_kwargs(model=model(first_path=v))), "model.first_path"),
    (lambda v: _core.philox4x32_10(counter=(v, 0, 0, 0), key=(0, 0)), "counter"),
    (lambda v: _core.philox4x32_10(counter=(0, 0, 0, 0), key=(0, v)), "key"),
    (lambda v: _core.hedged_pnl(**book_kwargs(threads=v)), "threads"),
    (lambda v: rules(every=v), "every"),
]


@pytest.mark.parametrize("value", BEYOND_INT64)
@pytest.mark.parametrize(
    ("call", "name"), INTEGER_ARGUMENTS, ids=[f"{i}-{n}" for i, (_, n) in enumerate(INTEGER_ARGUMENTS)]
)
def test_core_names_an_out_of_range_integer(call, name, value):
    with pytest.raises(ValueError, match=rf"^{name}: must be in") as error:
        call(value)
    assert "incompatible function arguments" not in str(error.value)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda v: _core.hedged_pnl(**book_kwargs(rate=v)), "rate"),
        (lambda v: _core.hedged_pnl(**book_kwargs(dt=v)), "dt"),
        (lambda v: rules(band=v), "band"),
        (
            lambda v: _core.rolling_std(
                returns=np.ones((5, 2)), window=3, min_periods=2, scale=v, out=np.empty((5, 2)), threads=1
            ),
            "scale",
        ),
    ],
)
def test_core_names_a_real_beyond_float64(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call(10**400)
    with pytest.raises(TypeError, match=rf"^{name}: expected a real number"):
        call("1.0")


def test_core_names_wrong_types():
    with pytest.raises(TypeError, match=r"^threads: expected an int, got bool"):
        _core.bs_price(**bs_kwargs(), out=np.empty(4), threads=True)
    with pytest.raises(TypeError, match=r"^threads: expected an int, got float"):
        _core.bs_price(**bs_kwargs(), out=np.empty(4), threads=1.0)
    with pytest.raises(TypeError, match=r"^spot: expected a numpy.ndarray, got list"):
        _core.bs_price(**{**bs_kwargs(), "spot": [100.0] * 4}, out=np.empty(4), threads=1)
    with pytest.raises(TypeError, match=r"^rules: expected a _core.HedgeRules"):
        _core.hedged_pnl(**book_kwargs(rules=(True, 1, -1.0, 0.0, 0.0)))
    with pytest.raises(TypeError, match=r"^legs.quantity: missing"):
        _core.hedged_pnl(
            **book_kwargs(legs=SimpleNamespace(**{k: v for k, v in vars(legs()).items() if k != "quantity"}))
        )
    with pytest.raises(TypeError, match=r"^model.log_spot0: missing"):
        _core.simulate_market(**paths_kwargs(model=SimpleNamespace(spot0=np.ones(2))))


def test_outputs_are_never_converted_copies():
    # A list would be converted to a fresh array, filled, and dropped: the caller would see nothing.
    out = [0.0] * 4
    with pytest.raises(TypeError, match=r"^out: expected a numpy.ndarray, got list"):
        _core.bs_price(**bs_kwargs(), out=out, threads=1)
    with pytest.raises(TypeError, match=r"^out.vega: expected a numpy.ndarray, got list"):
        _core.bs_greeks(**bs_kwargs(), out=SimpleNamespace(**{**vars(dk.Greeks.empty(4)), "vega": out}), threads=1)
    with pytest.raises(TypeError, match=r"^status: expected a numpy.ndarray"):
        _core.implied_vol(**iv_kwargs(), out=np.empty(4), status=[0] * 4, threads=1)


def test_greeks_are_written_by_name():
    # Any object with one array per Greek name works, whatever the order of its attributes.
    out = SimpleNamespace(**{name: np.empty(4) for name in reversed(_core.GREEK_NAMES)})
    _core.bs_greeks(**bs_kwargs(), out=out, threads=1)
    expected = dk.bs_greeks(100.0, 100.0, 1.0, 0.2, 0.0, 0.0, True)
    for name in _core.GREEK_NAMES:
        np.testing.assert_array_equal(getattr(out, name), np.full(4, getattr(expected, name)))


def test_hedge_rules_are_typed_and_checked():
    r = rules(every=None, band=2.5)
    assert (r.hedge, r.every, r.band, r.cost_bps, r.half_spread_vol) == (True, None, 2.5, 0.0, 0.0)
    assert "band=2.5" in repr(r)
    assert dk.HedgePolicy(every=5, band=None, hedge_cost_bps=1.0).core_rules().every == 5
    assert dk.HedgePolicy(hedge_instrument="none").core_rules().hedge is False
    for bad, error in [
        (dict(every=0), "every: must be in"),
        (dict(band=-1.0), "band: must be >= 0"),
        (dict(cost_bps=-1.0), "cost_bps: must be >= 0"),
        (dict(half_spread_vol=float("nan")), "half_spread_vol: must be finite"),
    ]:
        with pytest.raises(ValueError, match=error):
            rules(**bad)
    with pytest.raises(ValueError, match="every: must be in"):
        dk.HedgePolicy(every=2**70)


def test_no_entry_point_writes_through_a_missing_output():
    # Both optional outputs None used to write the average through a null pointer (segfault).
    with pytest.raises(ValueError, match="avg and matrix are both None"):
        _core.rolling_pairwise_corr(**rolling_kwargs(avg=None, matrix=None))
    # Every other optional output is independent of the rest.
    T, L = 3, 1
    for steps, leg_steps in [(np.empty((len(_core.PNL_STEP_ROWS), 1, T)), None), (None, np.empty((1, T, L)))]:
        kwargs = book_kwargs(steps=steps, leg_steps=leg_steps)
        _core.hedged_pnl(**kwargs)
        assert np.isfinite(kwargs["summary"]).all()
    _core.implied_vol(**iv_kwargs(), out=np.empty(4), status=None, threads=1)
    with_regimes = dk.simulate_market(
        np.full(2, 100.0),
        0.2,
        None,
        steps=3,
        paths=2,
        regimes=dk.Regimes([np.eye(2), np.ones((2, 2))], schedule=[0, 1, 0]),
    )
    kwargs = paths_kwargs(
        model=model(chol=np.ascontiguousarray(np.stack([np.eye(2), np.eye(2)])), schedule=np.array([0, 1, 0], np.int32))
    )
    _core.simulate_market(**kwargs)  # regime=None with regimes: no regime output written
    assert with_regimes.regime.shape == (2, 3)


@pytest.mark.parametrize("function", ["bs_greeks", "implied_vol", "hedged_pnl", "simulate_market"])
def test_docstrings_say_what_ctrl_c_does(function):
    assert "KeyboardInterrupt" in inspect.getdoc(getattr(dk, function))
