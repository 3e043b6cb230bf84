import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

TICKERS = ["AAPL", "MSFT", "JPM", "XOM", "JNJ"]
WEIGHTS = pd.Series([0.3, 0.25, 0.2, 0.15, 0.1], index=TICKERS)


def _implied_correlation(index_vol, vols, weights):
    """The equicorrelation formula in plain NumPy, the oracle for the market's own computation."""
    u = np.asarray(weights) * np.asarray(vols)
    own = np.sum(u * u, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.asarray(index_vol) ** 2 - own) / (np.sum(u, axis=-1) ** 2 - own)


def make_market_inputs(n_dates=200, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=n_dates)
    returns = rng.normal(0, 0.012, (n_dates, len(TICKERS))) + rng.normal(0, 0.01, (n_dates, 1))
    spots = pd.DataFrame(100 * np.exp(np.cumsum(returns, axis=0)), index=dates, columns=TICKERS)
    index = (spots / spots.iloc[0] * WEIGHTS).sum(axis=1) * 4000
    vols = pd.DataFrame(rng.uniform(0.15, 0.45, spots.shape), index=dates, columns=TICKERS)
    index_vol = pd.Series(rng.uniform(0.12, 0.3, n_dates), index=dates)
    return spots, index, vols, index_vol


def test_market_vols_are_kept_and_labelled_market():
    spots, index, vols, index_vol = make_market_inputs()
    market = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS, rate=0.02)
    assert market.vol_source == "market"
    assert (market.index_vol_origin == "market").all()
    assert market.missing.empty
    pd.testing.assert_frame_equal(market.vols, vols)
    assert list(market.tickers) == TICKERS
    assert market.rate == 0.02
    assert "5 tickers" in repr(market)


def test_columns_in_another_order_are_aligned_to_spots():
    spots, index, vols, index_vol = make_market_inputs()
    shuffled = vols[TICKERS[::-1]]
    market = dk.MarketData(spots, index, vols=shuffled, index_vol=index_vol, weights=WEIGHTS[TICKERS[::-1]])
    pd.testing.assert_frame_equal(market.vols, vols)
    pd.testing.assert_series_equal(market.weights, WEIGHTS)


def test_missing_values_are_reported_and_propagate():
    spots, index, vols, index_vol = make_market_inputs()
    spots.iloc[10, 1] = np.nan
    spots.iloc[12, 1] = np.nan
    index_vol.iloc[5] = np.nan
    market = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS)
    report = market.missing.set_index(["field", "column"])
    assert report.loc[("spots", "MSFT"), "count"] == 2
    assert report.loc[("spots", "MSFT"), "first"] == spots.index[10]
    assert report.loc[("spots", "MSFT"), "last"] == spots.index[12]
    assert report.loc[("index_vol", "index_vol"), "count"] == 1
    assert len(market.spots) == len(spots)
    returns = market.log_returns()["MSFT"]
    assert returns.iloc[[10, 11, 12, 13]].isna().all() and returns.iloc[[9, 14]].notna().all()
    assert market.index_vol_origin.iloc[5] == "missing"
    assert np.isnan(market.implied_correlation().iloc[5])


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda s: s.iloc[[1, 0, 2]], "spots: dates not sorted"),
        (lambda s: s.iloc[[0, 1, 1, 2]], "spots: duplicate dates"),
        (lambda s: s.reset_index(drop=True), "spots: index must be a DatetimeIndex"),
        (lambda s: s.rename(columns={"AAPL": 1}), "spots: ticker column labels must be str"),
        (lambda s: s.set_axis(["A", "A", "B", "C", "D"], axis=1), "spots: duplicate tickers"),
        (lambda s: s.iloc[:0], "spots: is empty"),
        (lambda s: s.astype(str), "spots: column 'AAPL' expected real numbers"),
    ],
)
def test_bad_spots_are_rejected_by_name(mutate, match):
    spots, _, _, _ = make_market_inputs(n_dates=5)
    bad = mutate(spots)
    index = pd.Series(1000.0, index=bad.index) if isinstance(bad.index, pd.DatetimeIndex) else None
    with pytest.raises((ValueError, TypeError), match=match):
        dk.MarketData(bad, index, weights=None)


def test_nonpositive_spot_names_ticker_and_date():
    spots, index, vols, index_vol = make_market_inputs(n_dates=20)
    spots.iloc[7, 2] = -1.0
    with pytest.raises(ValueError, match=r"spots: must be > 0, got -1.0 at 'JPM' on 2021-01-13"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol)


def test_calendar_and_ticker_mismatches_name_the_argument():
    spots, index, vols, index_vol = make_market_inputs(n_dates=30)
    with pytest.raises(
        ValueError, match=r"index: calendar differs from spots: 1 spots dates missing \(first 2021-01-05\)"
    ):
        dk.MarketData(spots, index.drop(index.index[1]), vols=vols, index_vol=index_vol)
    with pytest.raises(ValueError, match="index_vol: calendar differs from spots: 1 dates not in spots"):
        extra = pd.concat([index_vol, pd.Series([0.2], index=[pd.Timestamp("2030-01-01")])])
        dk.MarketData(spots, index, vols=vols, index_vol=extra)
    with pytest.raises(ValueError, match=r"vols: tickers differ from spots: missing \['JNJ'\], unexpected \['IBM'\]"):
        dk.MarketData(spots, index, vols=vols.rename(columns={"JNJ": "IBM"}), index_vol=index_vol)
    with pytest.raises(ValueError, match="weights: tickers differ"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS.iloc[:4] / WEIGHTS.iloc[:4].sum())
    with pytest.raises(TypeError, match="index: expected a pandas Series"):
        dk.MarketData(spots, index.to_numpy(), vols=vols, index_vol=index_vol)
    with pytest.raises(ValueError, match="vols: must be >= 0"):
        dk.MarketData(spots, index, vols=-vols, index_vol=index_vol)


def test_weights_must_sum_to_one():
    spots, index, vols, index_vol = make_market_inputs(n_dates=10)
    with pytest.raises(ValueError, match="weights: must sum to 1, got 2"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS * 2)
    per_date = pd.DataFrame(np.tile(WEIGHTS.to_numpy(), (10, 1)), index=spots.index, columns=TICKERS)
    per_date.iloc[3] *= 0.5
    with pytest.raises(ValueError, match=r"weights: must sum to 1 on 2021-01-07, got 0\.5"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=per_date)
    with pytest.raises(ValueError, match="weights: must be >= 0"):
        dk.MarketData(
            spots, index, vols=vols, index_vol=index_vol, weights=pd.Series([1.2, -0.2, 0, 0, 0], index=TICKERS)
        )
    with pytest.raises(ValueError, match=r"weights: constant weights must not be missing, NaN for \['JPM'\]"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS.where(WEIGHTS.index != "JPM"))
    per_date.iloc[3] = np.nan
    gappy = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=per_date)
    assert (gappy.missing["field"] == "weights").sum() == len(TICKERS)
    assert (
        np.isnan(gappy.implied_correlation().iloc[3]) and gappy.implied_correlation().drop(spots.index[3]).notna().all()
    )
    equal = dk.MarketData(spots, index, vols=vols, index_vol=index_vol)
    assert np.allclose(equal.weights_frame().to_numpy(), 0.2)


def test_rate_and_dividends_shapes():
    spots, index, vols, index_vol = make_market_inputs(n_dates=10)
    rate = pd.Series(0.01, index=spots.index)
    divs = pd.Series(0.01, index=TICKERS[::-1])
    market = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, rate=rate, div_yields=divs)
    assert list(market.div_yields.index) == TICKERS
    with pytest.raises(ValueError, match="rate: must be finite"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, rate=np.inf)
    with pytest.raises(ValueError, match=r"div_yields: per-ticker yields must not be missing, NaN for \['MSFT'\]"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, div_yields=divs.where(divs.index != "MSFT"))
    with pytest.raises(TypeError, match="div_yields: expected a real number"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, div_yields="0.01")


def test_unused_model_inputs_are_rejected():
    spots, index, vols, index_vol = make_market_inputs(n_dates=10)
    vix = pd.Series(20.0, index=spots.index)
    with pytest.raises(ValueError, match="vix: only used to model an absent index_vol"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, vix=vix)
    with pytest.raises(ValueError, match="vol_model: unused"):
        dk.MarketData(spots, index, vols=vols, index_vol=index_vol, vol_model=dk.ImpliedVolModel())
    with pytest.raises(TypeError, match="vol_model: expected an ImpliedVolModel"):
        dk.MarketData(spots, index, vol_model="model")


def test_documented_implied_correlation_check_values():
    dates = pd.bdate_range("2022-01-03", periods=3)
    for n, s, s_index, expected in [(10, 0.35, 0.20, 0.25170), (5, 0.40, 0.25, 0.2383)]:
        tickers = [f"T{i}" for i in range(n)]
        spots = pd.DataFrame(100.0, index=dates, columns=tickers)
        market = dk.MarketData(
            spots,
            pd.Series(1000.0, index=dates),
            vols=pd.DataFrame(s, index=dates, columns=tickers),
            index_vol=pd.Series(s_index, index=dates),
        )
        assert np.allclose(market.implied_correlation(), expected, atol=5e-5)


def numpy_realized_vol(returns: np.ndarray, window: int) -> np.ndarray:
    out = np.full(returns.shape, np.nan)
    for t in range(window, returns.shape[0]):
        out[t] = np.std(returns[t - window + 1 : t + 1], axis=0, ddof=1) * np.sqrt(252)
    return out


def test_model_fills_vols_with_the_configured_correlation_premium():
    spots, index, _, _ = make_market_inputs(n_dates=150, seed=3)
    model = dk.ImpliedVolModel(window=40, variance_premium=1.44, correlation_premium=0.12)
    market = dk.MarketData(spots, index, weights=WEIGHTS, vol_model=model)
    assert market.vol_source.startswith(
        "model: ImpliedVolModel(window=40, variance_premium=1.44, correlation_premium=0.12 (assumed, constant))"
    )
    assert market.vol_model is model

    log_index = np.log(index.to_numpy())
    index_returns = np.concatenate([[np.nan], np.diff(log_index)])
    realized_index = numpy_realized_vol(index_returns[:, None], 40)[:, 0]
    np.testing.assert_allclose(market.index_vol.to_numpy(), 1.2 * realized_index, rtol=1e-12, equal_nan=True)
    assert (market.index_vol_origin.iloc[:40] == "missing").all()
    assert (market.index_vol_origin.iloc[40:] == "model").all()

    component_returns = np.vstack([np.full(len(TICKERS), np.nan), np.diff(np.log(spots.to_numpy()), axis=0)])
    realized = numpy_realized_vol(component_returns, 40)
    ratio = market.vols.to_numpy()[40:] / realized[40:]
    np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones_like(ratio), rtol=1e-12)

    w = np.broadcast_to(WEIGHTS.to_numpy(), realized.shape)
    implied = _implied_correlation(market.index_vol.to_numpy(), market.vols.to_numpy(), w)
    realized_corr = _implied_correlation(realized_index, realized, w)
    np.testing.assert_allclose((implied - realized_corr)[40:], 0.12, atol=1e-12)
    report = market.missing.set_index(["field", "column"])
    assert report.loc[("vols", "AAPL"), "count"] == 40


def test_model_takes_index_vol_from_vix_where_available():
    spots, index, vols, _ = make_market_inputs(n_dates=120, seed=4)
    vix = pd.Series(np.where(np.arange(120) % 2 == 0, 25.0, np.nan), index=spots.index)
    market = dk.MarketData(spots, index, vols=vols, vix=vix, vol_model=dk.ImpliedVolModel(window=20))
    from_vix = market.index_vol_origin == "vix"
    assert from_vix.sum() == 60
    assert np.all(market.index_vol[from_vix] == 0.25)
    assert (market.index_vol_origin.iloc[21::2] == "model").all()
    assert market.vol_source.startswith("mixed: ")
    assert "index vol from VIX on 60 and realized x premium on 50 of 120 dates" in market.vol_source
    pd.testing.assert_frame_equal(market.vols, vols)


def test_model_ignores_zero_weight_names_with_missing_prices():
    spots, index, _, index_vol = make_market_inputs(n_dates=80, seed=5)
    spots.iloc[:, -1] = np.nan
    weights = pd.Series([0.4, 0.3, 0.2, 0.1, 0.0], index=TICKERS)
    market = dk.MarketData(spots, index, index_vol=index_vol, weights=weights, vol_model=dk.ImpliedVolModel(window=20))
    assert market.vols.iloc[25:, :4].notna().all().all()
    assert market.vols["JNJ"].isna().all()
    assert market.vol_source.startswith("mixed: ") and "index vol from market" in market.vol_source


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"window": 1}, ValueError, "window: must be >= 2"),
        ({"window": 2.5}, TypeError, "window: expected an int"),
        ({"window": 10, "min_periods": 20}, ValueError, "min_periods: must be <= window"),
        ({"variance_premium": 0.0}, ValueError, "variance_premium: must be > 0"),
        ({"correlation_premium": 2.0}, ValueError, r"correlation_premium: must be in \[-1, 1\]"),
        ({"correlation_premium": float("nan")}, ValueError, "correlation_premium: must be finite"),
        ({"correlation_premium": "vix"}, ValueError, "correlation_premium: expected 'from_index_vol'"),
        ({"component_variance_premium": -1.0}, ValueError, "component_variance_premium: must be > 0"),
    ],
)
def test_vol_model_parameters_are_validated(kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.ImpliedVolModel(**kwargs)


def test_arrays_are_the_market_on_its_calendar_built_once():
    spots, index, vols, index_vol = make_market_inputs()
    rate = pd.Series(0.01, index=spots.index)
    market = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS, rate=rate, div_yields=0.02)
    arrays = market.arrays
    assert arrays is market.arrays
    assert arrays.tickers == tuple(TICKERS) and arrays.dates.equals(spots.index)
    np.testing.assert_array_equal(arrays.spots, spots.to_numpy())
    np.testing.assert_array_equal(arrays.vols, vols.to_numpy())
    np.testing.assert_array_equal(arrays.index_vol, index_vol.to_numpy())
    np.testing.assert_array_equal(arrays.weights, market.weights_frame().to_numpy())
    assert arrays.rate.shape == (len(spots),) and (arrays.div_yields == 0.02).all()
    view = arrays.window(10, 19)
    assert len(view.dates) == 10 and view.dates[0] == spots.index[10]
    np.testing.assert_array_equal(view.index, index.to_numpy()[10:20])
    assert arrays.row(spots.index[7]) == 7
    with pytest.raises(ValueError, match="is not a date of the market data"):
        arrays.row("2021-01-02")  # a Saturday


def test_snapshot_holds_the_positive_weight_names_as_arrays():
    spots, index, vols, index_vol = make_market_inputs()
    weights = pd.DataFrame(np.tile(WEIGHTS.to_numpy(), (len(spots), 1)), index=spots.index, columns=TICKERS)
    weights.iloc[5] = [0.5, 0.0, 0.5, 0.0, 0.0]
    spots.iloc[5, 1] = np.nan  # a zero-weight name may be missing
    market = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=weights)
    snap = dk.market.snapshot(market, spots.index[5])
    assert snap.names == ("AAPL", "JPM") and snap.columns.tolist() == [0, 2] and snap.row == 5
    np.testing.assert_array_equal(snap.spots, spots.iloc[5, [0, 2]].to_numpy())
    np.testing.assert_array_equal(snap.weights, [0.5, 0.5])
    assert snap.index_spot == index.iloc[5] and snap.index_vol == index_vol.iloc[5]
    vols.iloc[6, 3] = np.nan
    broken = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=weights)
    with pytest.raises(ValueError, match=r"implied vol missing on 2021-01-12 for \['XOM'\]"):
        dk.market.snapshot(broken, spots.index[6])


def test_default_model_takes_the_premium_from_the_index_vol_not_an_assumption():
    """By default names carry no variance premium and the correlation premium is what the index
    vol implies: measured where VIX exists, (variance_premium - 1) s_R^2 / C elsewhere."""
    spots, index, _, _ = make_market_inputs(n_dates=160, seed=6)
    vix = pd.Series(np.where(np.arange(160) >= 100, 30.0, np.nan), index=spots.index)
    market = dk.MarketData(spots, index, weights=WEIGHTS, vix=vix, vol_model=dk.ImpliedVolModel(window=40))
    assert "correlation_premium=from_index_vol (not assumed" in market.vol_source
    component_returns = np.vstack([np.full(len(TICKERS), np.nan), np.diff(np.log(spots.to_numpy()), axis=0)])
    realized = numpy_realized_vol(component_returns, 40)
    np.testing.assert_allclose(market.vols.to_numpy(), realized, rtol=1e-12, equal_nan=True)
    index_returns = np.concatenate([[np.nan], np.diff(np.log(index.to_numpy()))])
    realized_index = numpy_realized_vol(index_returns[:, None], 40)[:, 0]
    w = np.broadcast_to(WEIGHTS.to_numpy(), realized.shape)
    premium = _implied_correlation(market.index_vol.to_numpy(), market.vols.to_numpy(), w) - _implied_correlation(
        realized_index, realized, w
    )
    u = w * realized
    cross = u.sum(axis=1) ** 2 - (u * u).sum(axis=1)
    np.testing.assert_allclose(premium[40:100], 0.2 * realized_index[40:100] ** 2 / cross[40:100], rtol=1e-9)
    measured = _implied_correlation(0.30, realized[100:], w[100:]) - _implied_correlation(
        realized_index[100:], realized[100:], w[100:]
    )
    np.testing.assert_allclose(premium[100:], measured, rtol=1e-12)
    assert np.std(premium[40:100]) > 0  # time-varying, not a constant


def test_basket_index_earns_the_weighted_returns_of_the_previous_close():
    spots, _, _, _ = make_market_inputs(n_dates=60, seed=7)
    level = dk.basket_index(spots, WEIGHTS, base=250.0)
    assert level.iloc[0] == 250.0 and level.index.equals(spots.index)
    r = spots.pct_change().iloc[1:]
    np.testing.assert_allclose(level.pct_change().iloc[1:], r @ WEIGHTS, rtol=1e-12)
    # Weights per date: the return of day t uses the weights of t-1 (cap weights drift with prices).
    caps = spots * pd.Series([5.0, 4.0, 3.0, 2.0, 1.0], index=TICKERS)
    cap_weights = caps.div(caps.sum(axis=1), axis=0)
    cap_level = dk.basket_index(spots, cap_weights, base=1.0)
    np.testing.assert_allclose(cap_level.to_numpy(), caps.sum(axis=1).to_numpy() / caps.sum(axis=1).iloc[0], rtol=1e-12)
    # A name out of the basket may be missing; one in it may not.
    gappy = spots.copy()
    gappy.iloc[10:20, 4] = np.nan
    weights = pd.Series([0.25, 0.25, 0.25, 0.25, 0.0], index=TICKERS)
    assert dk.basket_index(gappy, weights).notna().all()
    with pytest.raises(ValueError, match=r"no return for 'JNJ' on 2021-01-18"):
        dk.basket_index(gappy, WEIGHTS)


def test_basket_market_scales_vix_by_the_ratio_of_realized_vols():
    spots, index, _, _ = make_market_inputs(n_dates=150, seed=8)
    vix = pd.Series(np.where(np.arange(150) >= 90, 20.0, np.nan), index=spots.index)
    market = dk.MarketData(spots, index, weights=WEIGHTS, vix=vix, vol_model=dk.ImpliedVolModel(window=30))
    basket = market.with_basket_index()
    pd.testing.assert_series_equal(
        basket.index, dk.basket_index(spots, WEIGHTS, base=float(index.iloc[0])).rename("index")
    )
    assert (basket.index_vol_origin.iloc[90:] == "vix-scaled").all()
    assert "VIX scaled by realized(index) / realized(VIX's index)" in basket.vol_source
    log = lambda x: np.concatenate([[np.nan], np.diff(np.log(x.to_numpy()))])  # noqa: E731
    ratio = numpy_realized_vol(log(basket.index)[:, None], 30)[:, 0] / numpy_realized_vol(log(index)[:, None], 30)[:, 0]
    np.testing.assert_allclose(basket.index_vol.to_numpy()[90:], 0.20 * ratio[90:], rtol=1e-12)
    pd.testing.assert_frame_equal(basket.vols, market.vols)
    with pytest.raises(ValueError, match="vix_reference: only used to scale a vix"):
        dk.MarketData(spots, index, weights=WEIGHTS, vix_reference=index)


def test_with_vol_model_rebuilds_only_the_modelled_vols():
    spots, index, vols, index_vol = make_market_inputs(n_dates=100, seed=9)
    market = dk.MarketData(spots, index, vols=vols, weights=WEIGHTS, vol_model=dk.ImpliedVolModel(window=20))
    other = market.with_vol_model(dk.ImpliedVolModel(window=30, variance_premium=1.5))
    pd.testing.assert_frame_equal(other.vols, vols)
    assert other.index_vol.notna().sum() == 100 - 30 and "variance_premium=1.5" in other.vol_source
    full = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS)
    with pytest.raises(ValueError, match="nothing to model"):
        full.with_vol_model(dk.ImpliedVolModel())


def test_forward_premium_compares_implied_with_the_next_days_realized():
    spots, index, vols, index_vol = make_market_inputs(n_dates=120, seed=10)
    market = dk.MarketData(spots, index, vols=vols, index_vol=index_vol, weights=WEIGHTS)
    table = dk.forward_premium(market, horizon=15, window=30)
    component_returns = np.vstack([np.full(len(TICKERS), np.nan), np.diff(np.log(spots.to_numpy()), axis=0)])
    index_returns = np.concatenate([[np.nan], np.diff(np.log(index.to_numpy()))])
    w = WEIGHTS.to_numpy()
    t = 40
    ahead = slice(t + 1, t + 16)
    s = np.std(component_returns[ahead], axis=0, ddof=1) * np.sqrt(252)
    s_index = np.std(index_returns[ahead], ddof=1) * np.sqrt(252)
    assert table["forward_realized_correlation"].iloc[t] == pytest.approx(_implied_correlation(s_index, s, w), rel=1e-9)
    implied = _implied_correlation(index_vol.iloc[t], vols.iloc[t].to_numpy(), w)
    assert table["forward_premium"].iloc[t] == pytest.approx(implied - _implied_correlation(s_index, s, w), rel=1e-9)
    assert table["forward_premium"].iloc[-15:].isna().all() and table["forward_premium"].iloc[-16:-15].notna().all()
    # The index here is a constant-share basket, close to but not the rebalanced basket.
    gap = (table["forward_realized_correlation"] - table["forward_basket_correlation"]).abs()
    assert 0 < gap.max() < 0.05
    basket = dk.MarketData(spots, dk.basket_index(spots, WEIGHTS), vols=vols, index_vol=index_vol, weights=WEIGHTS)
    same = dk.forward_premium(basket, horizon=15, window=30)
    np.testing.assert_allclose(same["forward_realized_correlation"], same["forward_basket_correlation"], atol=1e-12)
