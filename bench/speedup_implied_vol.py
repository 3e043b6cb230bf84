"""Speed and accuracy table for implied volatility: core vs the NumPy reference and py_vollib_vectorized.

    python bench/speedup_implied_vol.py      (or: python -m bench.speedup implied_vol)

One row per (case, N, threads): median wall times of repeated, interleaved runs in this
process (the machine is shared; compare ratios, not absolute times), the speedup of the core
over each comparator, and each implementation's worst relative vol error on the options it
solved, with the share it solved. Timed prices come from the core's bs_price; the accuracy columns use a separate
sample of 5000 options priced exactly (mpmath), since float BSM prices carry their own
rounding error in the tails.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np

import dispersionkit as dk

try:
    import py_vollib_vectorized as pvv
except ImportError:  # optional comparator ([bench] extra)
    pvv = None


def make_case(name: str, n: int, seed: int = 0):
    """Options with known vols. 'body': K/S 0.5-2, tau 1 week-2 years, vol 5-100%.
    'wide': K/S 0.2-5, tau 1 day-30 years, vol 1-300% (the accuracy grid of the tests)."""
    rng = np.random.default_rng(seed)
    lo_m, hi_m, lo_t, hi_t, lo_v, hi_v = {
        "body": (0.5, 2.0, 7 / 365, 2.0, 0.05, 1.0),
        "wide": (0.2, 5.0, 1 / 365, 30.0, 0.01, 3.0),
    }[name]
    S = 100.0
    K = S * np.exp(rng.uniform(np.log(lo_m), np.log(hi_m), n))
    T = np.exp(rng.uniform(np.log(lo_t), np.log(hi_t), n))
    vol = np.exp(rng.uniform(np.log(lo_v), np.log(hi_v), n))
    r, q = 0.03, 0.01
    call = rng.integers(0, 2, n).astype(bool)
    price = dk.bs_price(S, K, T, vol, r, q, call)
    return dict(price=price, S=S, K=K, T=T, r=r, q=q, call=call, vol=vol)


def run_core(c, threads):
    return dk.implied_vol(c["price"], c["S"], c["K"], c["T"], c["r"], c["q"], c["call"], threads=threads)


def run_reference(c):
    return dk.reference.implied_vol(c["price"], c["S"], c["K"], c["T"], c["r"], c["q"], c["call"])


def run_pvv(c):
    flag = np.where(c["call"], "c", "p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pvv.vectorized_implied_volatility(
            c["price"],
            c["S"],
            c["K"],
            c["T"],
            c["r"],
            flag,
            q=c["q"],
            model="black_scholes_merton",
            return_as="numpy",
            on_error="ignore",
        )


def exact_case(name: str, n: int, seed: int = 1):
    """A smaller case with prices exact to rounding (mpmath, 30 digits) for the accuracy columns."""
    import mpmath as mp

    c = make_case(name, n, seed)
    price, cond = np.empty(n), np.empty(n)
    with mp.workdps(30):
        S, r, q = mp.mpf(c["S"]), mp.mpf(c["r"]), mp.mpf(c["q"])
        for i in range(n):
            K, T, v = mp.mpf(c["K"][i]), mp.mpf(c["T"][i]), mp.mpf(c["vol"][i])
            sd = v * mp.sqrt(T)
            d1 = (mp.log(S / K) + (r - q) * T) / sd + sd / 2
            fwd, kd = S * mp.exp(-q * T), K * mp.exp(-r * T)
            if c["call"][i]:
                p = fwd * mp.ncdf(d1) - kd * mp.ncdf(d1 - sd)
            else:
                p = kd * mp.ncdf(sd - d1) - fwd * mp.ncdf(-d1)
            vega = fwd * mp.npdf(d1) * mp.sqrt(T)
            price[i] = float(p)
            cond[i] = float(p / (v * vega)) if vega > 0 else np.inf
    c["price"], c["cond"] = price, cond
    return c


def accuracy(vol_hat, c):
    """(worst |vol_hat - vol| / vol / max(1, cond) over well-posed options, share of them solved).

    cond = price / (vol * vega) is the relative change of vol per relative change of price;
    well-posed: cond < 1e6 (at least ~10 digits of information about vol) and a price above
    1e-290 S (not near the subnormal range).
    """
    cond = c["cond"]
    posed = (cond < 1e6) & (c["price"] > 1e-290 * c["S"])
    solved = posed & np.isfinite(vol_hat)
    err = np.abs(vol_hat[solved] - c["vol"][solved]) / c["vol"][solved] / np.maximum(cond[solved], 1.0)
    return (float(err.max()) if err.size else float("nan")), float(solved.sum() / posed.sum())


def median_times(fns, repeats):
    """Median seconds per function over interleaved repeats (one warm-up call each)."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def table(n: int = 100_000, repeats: int = 7, n_exact: int = 5_000):
    rows = []
    for case in ("body", "wide"):
        c = make_case(case, n)
        fns = {"core1": lambda: run_core(c, 1), "core2": lambda: run_core(c, 2), "ref": lambda: run_reference(c)}
        if pvv is not None:
            fns["pvv"] = lambda: run_pvv(c)
        t = median_times(fns, repeats)
        e = exact_case(case, n_exact)
        exact_fns = {"core1": lambda: run_core(e, 1), "core2": lambda: run_core(e, 2), "ref": lambda: run_reference(e)}
        if pvv is not None:
            exact_fns["pvv"] = lambda: run_pvv(e)
        acc = {k: accuracy(fn(), e) for k, fn in exact_fns.items()}
        for threads in (1, 2):
            core = t[f"core{threads}"]
            row = dict(
                case=case,
                n=n,
                threads=threads,
                ref_s=t["ref"],
                core_s=core,
                speedup_ref=t["ref"] / core,
                mopt_s=n / core / 1e6,
                core_err=acc[f"core{threads}"][0],
                core_solved=acc[f"core{threads}"][1],
                ref_err=acc["ref"][0],
            )
            if pvv is not None:
                row.update(pvv_s=t["pvv"], speedup_pvv=t["pvv"] / core, pvv_err=acc["pvv"][0], pvv_solved=acc["pvv"][1])
            rows.append(row)
    return rows


COLUMNS = [
    "kernel",
    "N",
    "threads",
    "ref_s",
    "core_s",
    "speedup",
    "M_per_s",
    "pvv_s",
    "vs_pvv",
    "err_core",
    "err_ref",
    "err_pvv",
]


def rows(n: int = 100_000, repeats: int = 7, n_exact: int = 5_000) -> list[dict]:
    """Rows for `python -m bench.speedup implied_vol` (vs_pvv = py_vollib_vectorized time / core time)."""
    out = []
    for r in table(n, repeats, n_exact):
        row = dict(
            kernel=f"implied_vol[{r['case']}]",
            N=r["n"],
            threads=r["threads"],
            ref_s=r["ref_s"],
            core_s=r["core_s"],
            speedup=r["speedup_ref"],
            M_per_s=r["mopt_s"],
            err_core=r["core_err"],
            err_ref=r["ref_err"],
        )
        if "pvv_s" in r:
            row.update(pvv_s=r["pvv_s"], vs_pvv=r["speedup_pvv"], err_pvv=r["pvv_err"])
        out.append(row)
    return out


def main():
    rows = table()
    print("Times: medians of interleaved runs at N. Errors (on 5000 options with mpmath-exact prices): worst")
    print("|dvol|/vol / max(1, cond) over options with cond < 1e6; 'solved' = share of those returned finite.")
    print(
        "kernel       case  N        thr  ref s     core s    x ref   M opt/s  pvv s     x pvv   "
        "err core  err ref   err pvv   pvv solved"
    )
    for r in rows:
        pv = f"{r['pvv_s']:.4f}    {r['speedup_pvv']:6.1f}  " if "pvv_s" in r else "-         -       "
        pe = f"{r['pvv_err']:.1e}   {r['pvv_solved']:.3f}" if "pvv_err" in r else "-"
        print(
            f"implied_vol  {r['case']:<5} {r['n']:<8d} {r['threads']:<4d} {r['ref_s']:.4f}    {r['core_s']:.4f}    "
            f"{r['speedup_ref']:6.1f}  {r['mopt_s']:7.2f}  {pv}{r['core_err']:.1e}   {r['ref_err']:.1e}   {pe}"
        )
    print(
        "Floor: the kernel is compute-bound (~60 bytes in / 8 out per option; the 2-core bandwidth "
        "floor is ~0.4 G options/s), so the distance to it is the M opt/s column over ~400."
    )


if __name__ == "__main__":
    main()
