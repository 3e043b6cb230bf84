"""Speedup tables for variance-swap strikes and the path risk of a book.

    python -m bench.speedup swaps

Variance strikes: strips of 50 strikes (log-spaced, a skewed smile), one strip and batches of
1,000 and 100,000 strips; dk.variance_swap_strike against its NumPy twin and against QuantLib's
ReplicatingVarianceSwapEngine (the peer; a Python loop over strips, timed on fewer strips and
scaled per strip). Book risk: a 40-leg book (index + 19 names, ATM straddles, vega-neutral long
dispersion, 91-day options) over 63 trading days, base scenario; dk.book_risk paths against the
same setup run through the NumPy twins of simulate_market and hedged_pnl. Times are medians of
interleaved repeats in this process; say how busy the machine was (uptime) with the numbers.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import dispersionkit as dk

from .timing import interleaved_medians

COLUMNS = ["kernel", "size", "threads", "ref_s", "core_s", "speedup", "per_s", "vs_peer"]
STRIKES = 50


def strips(rows: int, seed: int = 0):
    """(strikes (rows, 50), vols (rows, 50), forward (rows,), tau (rows,)): log-spaced strips with a skew."""
    rng = np.random.default_rng(seed)
    forward = rng.uniform(50.0, 150.0, rows)
    tau = rng.uniform(0.05, 1.0, rows)
    atm = rng.uniform(0.15, 0.5, rows)
    strikes = dk.replication_strikes(forward, tau, atm, count=STRIKES)
    x = np.log(strikes / forward[:, None])
    vols = atm[:, None] - 0.15 * x + 0.3 * x * x
    return strikes, vols, forward, tau


def quantlib_strikes(strikes, vols, forward, tau) -> np.ndarray:
    """QuantLib's ReplicatingVarianceSwapEngine strip by strip (zero rate: its forward is the spot)."""
    import QuantLib as ql

    today = ql.Date(15, 6, 2021)
    ql.Settings.instance().evaluationDate = today
    day_count, calendar = ql.Actual365Fixed(), ql.NullCalendar()
    rates = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, day_count))
    out = np.empty(len(forward))
    for row, (k, v, f, t) in enumerate(zip(strikes, vols, forward, tau)):
        days = max(1, round(t * 365))
        maturity = today + days
        matrix = ql.Matrix(len(k), 2)
        for i, vol in enumerate(v):
            matrix[i][0] = matrix[i][1] = float(vol)
        surface = ql.BlackVarianceSurface(
            today, calendar, [maturity, maturity + 365], list(map(float, k)), matrix, day_count
        )
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(float(f))), rates, rates, ql.BlackVolTermStructureHandle(surface)
        )
        star = k[k <= f].max() if (k <= f).any() else k[0]
        engine = ql.ReplicatingVarianceSwapEngine(
            process, float(k[-1] - k[-2]), [float(x) for x in k if x >= star], [float(x) for x in k if x <= star]
        )
        swap = ql.VarianceSwap(ql.Position.Long, 0.04, 1.0, today, maturity)
        swap.setPricingEngine(engine)
        out[row] = swap.variance()
    return out


def variance_rows(sizes=(1, 1_000, 100_000), threads=(1, 2), repeat=7) -> list[dict]:
    peer_strips = strips(200, seed=1)
    start = time.perf_counter()
    quantlib_strikes(*peer_strips)
    peer_per_strip = (time.perf_counter() - start) / 200
    out = []
    for rows in sizes:
        k, v, f, t = strips(rows)
        expected = dk.reference.variance_swap_strike(k, v, f, t).strike
        funcs = {"reference": lambda: dk.reference.variance_swap_strike(k, v, f, t)}
        for th in threads:
            np.testing.assert_allclose(dk.variance_swap_strike(k, v, f, t, threads=th).strike, expected, rtol=1e-10)
            funcs[th] = lambda th=th: dk.variance_swap_strike(k, v, f, t, threads=th)
        times = interleaved_medians(funcs, repeat=repeat if rows < 100_000 else 3)
        for th in threads:
            out.append(
                {
                    "kernel": "variance_swap_strike",
                    "size": f"{rows} strips x {STRIKES}",
                    "threads": th,
                    "ref_s": times["reference"],
                    "core_s": times[th],
                    "speedup": times["reference"] / times[th],
                    "per_s": f"{rows / times[th]:,.0f} strips/s",
                    "vs_peer": f"{peer_per_strip * rows / times[th]:,.0f}x QuantLib",
                }
            )
    return out


def book_setup(paths_horizon: int = 63):
    """A 40-leg book (index + 19 names) on the bundled market, 91-day straddles, 63-day horizon."""
    market = dk.data.sample_market()
    names = list(market.tickers[:19])
    weights = pd.Series(0.0, index=market.tickers)
    weights[names] = 1.0 / len(names)
    sub = dk.MarketData(market.spots, market.index, vols=market.vols, index_vol=market.index_vol, weights=weights)
    position = dk.DispersionTrade(tenor=91 / 365).position(sub, "2016-06-01")
    assert len(position.legs) == 40
    return dk.prepare_book_risk(position, sub, horizon=paths_horizon, scenario="base", seed=0)


def book_rows(sizes=(2_000, 10_000), threads=(1, 2), repeat=3) -> list[dict]:
    from dispersionkit.reference.book_risk import run_paths

    setup = book_setup()
    out = []
    for paths in sizes:
        twin = run_paths(setup, 0, paths).pnl
        funcs = {"reference": lambda: run_paths(setup, 0, paths)}
        for th in threads:
            np.testing.assert_allclose(setup.run_paths(0, paths, threads=th).pnl, twin, rtol=1e-9, atol=1e-6)
            funcs[th] = lambda th=th: setup.run_paths(0, paths, threads=th)
        times = interleaved_medians(funcs, repeat=repeat, warmup=0)
        for th in threads:
            out.append(
                {
                    "kernel": "book_risk (base)",
                    "size": f"{paths} paths x 63 days x 40 legs",
                    "threads": th,
                    "ref_s": times["reference"],
                    "core_s": times[th],
                    "speedup": times["reference"] / times[th],
                    "per_s": f"{paths / times[th]:,.0f} paths/s",
                }
            )
    return out


def rows() -> list[dict]:
    return variance_rows() + book_rows()


if __name__ == "__main__":
    from .timing import print_table

    print_table(rows(), COLUMNS)
