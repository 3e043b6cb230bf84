"""Writes the synthetic option-data samples in ``samples/`` (see NOTICE.md): ``python -m
dispersionkit.data._make_samples [DIR]``. Deterministic: the same bytes on every run (a test
checks that the shipped files are what this writes).

One synthetic market: five fictional stocks (ALFA, BRVO, CHRL, DLTA, ECHO) and their
cap-weighted index IDX over 120 business days from 2023-01-03. Prices follow a correlated
random walk; implied vols follow an SSVI surface (w(k) = theta/2 (1 + rho phi k +
sqrt((phi k + rho)^2 + 1 - rho^2)), phi = eta / (theta^0.3 (1 + theta)^0.7)) whose at-the-money
level makes the index's implied correlation move between about 0.3 and 0.6. The same market
is written in the project's long format and in the column layouts of OptionMetrics IvyDB
(vsurfd, stdopd, secprd), ORATS (strikes, summaries) and CBOE index histories. Nothing here
uses the code it tests: strikes for a delta are found by bisection on this file's own
Black-Scholes formulas.
"""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

TICKERS = ("ALFA", "BRVO", "CHRL", "DLTA", "ECHO")
INDEX = "IDX"
SECIDS = {"ALFA": 900001, "BRVO": 900002, "CHRL": 900003, "DLTA": 900004, "ECHO": 900005, INDEX: 900100}
RATE = 0.04
DIV_YIELDS = {"ALFA": 0.010, "BRVO": 0.020, "CHRL": 0.0, "DLTA": 0.015, "ECHO": 0.025}
N_DAYS = 120
VENDOR_DAYS = 60  # the OptionMetrics samples cover the first 60 dates (file size)
ORATS_DAYS = 30  # the ORATS strikes sample, 40 columns a row, the first 30
MONEYNESS = (0.85, 0.925, 1.0, 1.075, 1.15)
SMILE = {"component": (-0.35, 0.9), "index": (-0.75, 1.1)}  # SSVI (rho, eta)


def market():
    rng = np.random.default_rng(20230103)
    dates = pd.bdate_range("2023-01-03", periods=N_DAYS)
    n = len(TICKERS)
    vols = np.array([0.22, 0.28, 0.32, 0.36, 0.40])
    corr = np.full((n, n), 0.45) + 0.55 * np.eye(n)
    chol = np.linalg.cholesky(corr)
    shocks = rng.standard_normal((N_DAYS - 1, n)) @ chol.T * vols / np.sqrt(252)
    start = np.array([82.0, 145.0, 57.0, 231.0, 118.0])
    paths = start * np.exp(np.vstack([np.zeros(n), np.cumsum(shocks - 0.5 * (vols / np.sqrt(252)) ** 2, axis=0)]))
    spots = pd.DataFrame(np.round(paths, 2), index=dates, columns=list(TICKERS))
    shares = np.array([9.0, 4.0, 12.0, 3.0, 6.0])
    caps = spots.to_numpy() * shares
    weights = pd.DataFrame(caps / caps.sum(axis=1, keepdims=True), index=dates, columns=list(TICKERS))
    index = pd.Series(np.round(caps.sum(axis=1) / caps[0].sum() * 4000.0, 2), index=dates, name=INDEX)
    t = np.arange(N_DAYS)
    level = 1.1 + 0.15 * np.sin(2 * np.pi * t / 80) + 0.03 * rng.standard_normal(N_DAYS)
    base_corr = 0.45 + 0.1 * np.sin(2 * np.pi * t / 60 + 1.0) + 0.02 * rng.standard_normal(N_DAYS)
    return dates, spots, index, weights, vols, level, base_corr


def atm_vols(vols, level, base_corr, weights, tau):
    """ATM-forward vols at tenor tau (years): components (dates x n) and the index (dates)."""
    term = 1.0 + 0.06 * (np.exp(-tau / 0.3) - 0.5)
    comp = vols[None, :] * level[:, None] * term
    rho = np.clip(base_corr + 0.06 * (tau - 0.25), 0.05, 0.95)
    u = weights * comp
    var = np.sum(u * u, axis=1) + rho * (np.sum(u, axis=1) ** 2 - np.sum(u * u, axis=1))
    return comp, np.sqrt(var), rho


def ssvi_w(k, theta, kind):
    rho, eta = SMILE[kind]
    phi = eta / (theta**0.3 * (1.0 + theta) ** 0.7)
    return 0.5 * theta * (1.0 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1.0 - rho * rho))


def bs(S, K, T, vol, r, q, call):
    sd = vol * np.sqrt(T)
    d1 = (np.log(S / K) + (r - q) * T) / sd + 0.5 * sd
    d2 = d1 - sd
    s = np.where(call, 1.0, -1.0)
    price = s * (S * np.exp(-q * T) * ndtr(s * d1) - K * np.exp(-r * T) * ndtr(s * d2))
    delta = s * np.exp(-q * T) * ndtr(s * d1)
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    gamma = np.exp(-q * T) * pdf / (S * sd)
    vega = S * np.exp(-q * T) * pdf * np.sqrt(T)
    theta = -S * np.exp(-q * T) * pdf * vol / (2 * np.sqrt(T)) - s * r * K * np.exp(-r * T) * ndtr(s * d2)
    theta = theta + s * q * S * np.exp(-q * T) * ndtr(s * d1)
    return price, delta, gamma, vega, theta


def third_fridays(start, count):
    out: list[pd.Timestamp] = []
    month = pd.Timestamp(start).replace(day=1)
    while len(out) < count:
        fridays = pd.date_range(month, month + pd.offsets.MonthEnd(0), freq="W-FRI")
        out.append(fridays[2])
        month = month + pd.offsets.MonthBegin(1)
    return out


def expiries(date):
    monthly = [e for e in third_fridays(date, 16) if (e - date).days >= 8]
    e1, e2 = monthly[0], monthly[1]
    e3 = next(e for e in monthly[2:] if e.month % 3 == 0)
    e4 = next(e for e in monthly if e.month % 3 == 0 and (e - date).days >= 200)
    return [e1, e2, e3, e4]


def increment(price):
    return 25.0 if price > 1000 else 5.0 if price > 100 else 2.5


class Market:
    def __init__(self):
        self.dates, self.spots, self.index, self.weights, self.vols, self.level, self.base_corr = market()
        w = self.weights.to_numpy()
        self.div = pd.DataFrame(
            np.broadcast_to([DIV_YIELDS[t] for t in TICKERS], w.shape), index=self.dates, columns=list(TICKERS)
        )
        self.div[INDEX] = (w * self.div[list(TICKERS)].to_numpy()).sum(axis=1)
        self.all_spots = self.spots.copy()
        self.all_spots[INDEX] = self.index

    def theta(self, t, name, tau):
        comp, idx, _ = atm_vols(
            self.vols, self.level[t : t + 1], self.base_corr[t : t + 1], self.weights.to_numpy()[t : t + 1], tau
        )
        vol = idx[0] if name == INDEX else comp[0, TICKERS.index(name)]
        return vol * vol * tau

    def vol(self, t, name, tau, k):
        theta = self.theta(t, name, tau)
        return np.sqrt(ssvi_w(k, theta, "index" if name == INDEX else "component") / tau)

    def forward(self, t, name, tau):
        return self.all_spots[name].iloc[t] * np.exp((RATE - self.div[name].iloc[t]) * tau)

    def delta_strike(self, t, name, tau, delta):
        """Strikes whose Black-Scholes deltas at the smile's own vol are ``delta`` (bisection in k)."""
        S, F, q = self.all_spots[name].iloc[t], self.forward(t, name, tau), self.div[name].iloc[t]
        lo, hi = np.full(delta.shape, -3.0), np.full(delta.shape, 3.0)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            _, d, *_ = bs(S, F * np.exp(mid), tau, self.vol(t, name, tau, mid), RATE, q, delta > 0)
            # Call and put deltas both fall as the strike rises.
            above = d > delta
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        return F * np.exp(0.5 * (lo + hi))


def csv_gz(frame: pd.DataFrame, path: Path, **kwargs) -> None:
    text = frame.to_csv(index=False, lineterminator="\n", **kwargs)
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
        handle.write(text.encode())
    path.write_bytes(raw.getvalue())


def long_format(m: Market) -> pd.DataFrame:
    rows = []
    for t, date in enumerate(m.dates):
        for name in (*TICKERS, INDEX):
            S = m.all_spots[name].iloc[t]
            inc = increment(S)
            strikes = sorted({round(S * x / inc) * inc for x in MONEYNESS})
            atm = min(strikes, key=lambda K: abs(K - S))
            for expiry in expiries(date):
                tau = (expiry - date).days / 365.0
                F = m.forward(t, name, tau)
                for K in strikes:
                    vol = float(m.vol(t, name, tau, np.log(K / F)))
                    half = 0.005 + 0.01 * abs(np.log(K / F))
                    types = ("P", "C") if atm == K else ("P",) if K < S else ("C",)
                    for cp in types:
                        rows.append((date, name, expiry, K, cp, vol, vol - half, vol + half, F))
    frame = pd.DataFrame(
        rows,
        columns=[
            "date",
            "underlying",
            "expiry",
            "strike",
            "option_type",
            "implied_vol",
            "bid_vol",
            "ask_vol",
            "forward",
        ],
    )
    frame[["implied_vol", "bid_vol", "ask_vol"]] = frame[["implied_vol", "bid_vol", "ask_vol"]].round(4)
    frame["forward"] = frame["forward"].round(4)
    # Deliberate defects, documented in NOTICE.md: the reader must report each, not drop it.
    frame.loc[[10, 500, 4000, 9000], "implied_vol"] = np.nan
    frame.loc[[20, 700], ["bid_vol", "ask_vol"]] = frame.loc[[20, 700], ["ask_vol", "bid_vol"]].to_numpy()
    extra = frame.loc[[30]].copy()
    expired = frame.loc[[40]].copy()
    expired["expiry"] = expired["date"]
    stranger = frame.loc[[50]].copy()
    stranger["underlying"] = "ZZZZ"
    frame = pd.concat([frame, extra, expired, stranger], ignore_index=True)
    for column in ("date", "expiry"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    return frame


def optionmetrics(m: Market, rng) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    surf, std, prices = [], [], []
    for t, date in enumerate(m.dates[:VENDOR_DAYS]):
        for name in (*TICKERS, INDEX):
            S, q = m.all_spots[name].iloc[t], m.div[name].iloc[t]
            deltas = np.array([20, 35, 50, 65, 80, -20, -35, -50, -65, -80])
            for days in (30, 91, 182):
                tau = days / 365.0
                strikes = m.delta_strike(t, name, tau, deltas / 100.0)
                vols = m.vol(t, name, tau, np.log(strikes / m.forward(t, name, tau)))
                premiums = bs(S, strikes, tau, vols, RATE, q, deltas > 0)[0]
                for delta, K, vol, price in zip(deltas, strikes, vols, premiums):
                    cp = "C" if delta > 0 else "P"
                    surf.append((SECIDS[name], date, days, int(delta), vol, K, price, rng.uniform(0.004, 0.03), cp))
            for days in (30, 91, 182, 365):
                tau = days / 365.0
                F = m.forward(t, name, tau)
                vol = float(m.vol(t, name, tau, 0.0))
                for cp in ("C", "P"):
                    price, d, g, v, th = bs(S, F, tau, vol, RATE, q, cp == "C")
                    std.append((SECIDS[name], date, days, F, F, price, vol, d, g, th, v, cp))
            close = S
            prev = m.all_spots[name].iloc[t - 1] if t else np.nan
            prices.append(
                (
                    SECIDS[name],
                    date,
                    close * 0.99,
                    close * 1.01,
                    close * (1 + 0.003 * rng.standard_normal()),
                    close,
                    int(rng.integers(1e5, 5e6)),
                    close / prev - 1.0 if t else np.nan,
                    1.0,
                    250000 + SECIDS[name] % 100,
                    1.0,
                )
            )
    surf = pd.DataFrame(
        surf,
        columns=[
            "secid",
            "date",
            "days",
            "delta",
            "impl_volatility",
            "impl_strike",
            "impl_premium",
            "dispersion",
            "cp_flag",
        ],
    )
    surf["impl_volatility"] = surf["impl_volatility"].round(6)
    surf["impl_strike"] = surf["impl_strike"].round(4)
    surf["impl_premium"] = surf["impl_premium"].round(4)
    surf["dispersion"] = surf["dispersion"].round(6)
    surf.loc[[7, 1234, 5000], "impl_volatility"] = -99.99  # IvyDB's "not computed"
    std = pd.DataFrame(
        std,
        columns=[
            "secid",
            "date",
            "days",
            "forward_price",
            "strike_price",
            "premium",
            "impl_volatility",
            "delta",
            "gamma",
            "theta",
            "vega",
            "cp_flag",
        ],
    )
    std = std.round(
        {
            "forward_price": 4,
            "strike_price": 4,
            "premium": 4,
            "impl_volatility": 6,
            "delta": 6,
            "gamma": 6,
            "theta": 4,
            "vega": 4,
        }
    )
    prices = pd.DataFrame(
        prices,
        columns=["secid", "date", "low", "high", "open", "close", "volume", "return", "cfadj", "shrout", "cfret"],
    )
    prices = prices.round({"low": 4, "high": 4, "open": 4, "close": 4, "return": 6})
    # Two closes that were bid/ask midpoints (no trade): IvyDB writes them negative.
    prices.loc[[13, 200], "close"] *= -1.0
    for frame in (surf, std, prices):
        frame["date"] = pd.DatetimeIndex(frame["date"]).strftime("%Y-%m-%d")
    return surf, std, prices


ORATS_STRIKE_COLUMNS = [
    "ticker",
    "tradeDate",
    "expirDate",
    "dte",
    "strike",
    "stockPrice",
    "callVolume",
    "callOpenInterest",
    "callBidSize",
    "callAskSize",
    "putVolume",
    "putOpenInterest",
    "putBidSize",
    "putAskSize",
    "callBidPrice",
    "callValue",
    "callAskPrice",
    "putBidPrice",
    "putValue",
    "putAskPrice",
    "callBidIv",
    "callMidIv",
    "callAskIv",
    "smvVol",
    "putBidIv",
    "putMidIv",
    "putAskIv",
    "residualRate",
    "delta",
    "gamma",
    "theta",
    "vega",
    "rho",
    "phi",
    "driftlessTheta",
    "extSmvVol",
    "extCallValue",
    "extPutValue",
    "spotPrice",
    "updatedAt",
]
ORATS_SUMMARY_COLUMNS = [
    "ticker",
    "tradeDate",
    "stockPrice",
    "iv10d",
    "iv20d",
    "iv30d",
    "iv60d",
    "iv90d",
    "iv6m",
    "iv1y",
]


def orats(m: Market, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    strikes, summaries = [], []
    for t, date in enumerate(m.dates[:VENDOR_DAYS]):
        for name in (*TICKERS, INDEX):
            S, q = m.all_spots[name].iloc[t], m.div[name].iloc[t]
            inc = increment(S)
            grid = sorted({round(S * x / inc) * inc for x in MONEYNESS})
            for expiry in expiries(date)[:3] if t < ORATS_DAYS else ():
                tau = (expiry - date).days / 365.0
                F = m.forward(t, name, tau)
                for K in grid:
                    vol = float(m.vol(t, name, tau, np.log(K / F)))
                    half = 0.005 + 0.01 * abs(np.log(K / F))
                    cp, cd, cg, cv, ct = bs(S, K, tau, vol, RATE, q, True)
                    pp = bs(S, K, tau, vol, RATE, q, False)[0]
                    ch, ph = 0.5 * cv * half, 0.5 * cv * half
                    vols = rng.integers(0, 500, 4)
                    ois = rng.integers(0, 5000, 2)
                    sizes = rng.integers(1, 200, 4)
                    strikes.append(
                        (
                            name,
                            date,
                            expiry,
                            (expiry - date).days,
                            K,
                            S,
                            vols[0],
                            ois[0],
                            sizes[0],
                            sizes[1],
                            vols[1],
                            ois[1],
                            sizes[2],
                            sizes[3],
                            max(cp - ch, 0.0),
                            cp,
                            cp + ch,
                            max(pp - ph, 0.0),
                            pp,
                            pp + ph,
                            vol - half,
                            vol,
                            vol + half,
                            vol,
                            vol - half,
                            vol,
                            vol + half,
                            -q,
                            cd,
                            cg,
                            ct / 365.0,
                            cv / 100.0,
                            tau * K * np.exp(-RATE * tau) * cd / 100.0,
                            -tau * S * np.exp(-q * tau) * cd / 100.0,
                            ct / 365.0,
                            vol,
                            cp,
                            pp,
                            S,
                            f"{date.date()}T20:45:00Z",
                        )
                    )
            row = [name, date, S]
            for days in (10, 20, 30, 60, 90, 182, 365):
                row.append(float(m.vol(t, name, days / 365.0, 0.0)))
            summaries.append(row)
    strikes = pd.DataFrame(strikes, columns=ORATS_STRIKE_COLUMNS)
    floats = strikes.select_dtypes("float").columns
    strikes[floats] = strikes[floats].round(4)
    summaries = pd.DataFrame(summaries, columns=ORATS_SUMMARY_COLUMNS)
    summaries[ORATS_SUMMARY_COLUMNS[2:]] = summaries[ORATS_SUMMARY_COLUMNS[2:]].round(4)
    for frame, columns in ((strikes, ("tradeDate", "expirDate")), (summaries, ("tradeDate",))):
        for column in columns:
            frame[column] = pd.DatetimeIndex(frame[column]).strftime("%Y-%m-%d")
    return strikes, summaries


def cboe(m: Market, rng) -> dict[str, pd.DataFrame]:
    w = m.weights.to_numpy()
    out = {}

    def ohlc(close):
        noise = np.abs(rng.normal(0.0, 0.01, (len(close), 2)))
        frame = pd.DataFrame(
            {
                "DATE": m.dates.strftime("%m/%d/%Y"),
                "OPEN": close * (1 + rng.normal(0.0, 0.005, len(close))),
                "HIGH": close * (1 + noise[:, 0]),
                "LOW": close * (1 - noise[:, 1]),
                "CLOSE": close,
            }
        )
        frame["HIGH"] = frame[["OPEN", "HIGH", "CLOSE"]].max(axis=1)
        frame["LOW"] = frame[["OPEN", "LOW", "CLOSE"]].min(axis=1)
        return frame.round({"OPEN": 2, "HIGH": 2, "LOW": 2, "CLOSE": 2})

    for symbol, days in (("VIX", 30), ("VIX3M", 91)):
        _, idx, _ = atm_vols(m.vols, m.level, m.base_corr, w, days / 365.0)
        out[symbol] = ohlc(100.0 * idx * 1.06)  # a variance-swap-like premium over ATM
    for symbol, days in (("COR1M", 30), ("COR3M", 91), ("COR6M", 182)):
        _, _, rho = atm_vols(m.vols, m.level, m.base_corr, w, days / 365.0)
        out[symbol] = ohlc(100.0 * rho)
    comp, idx, _ = atm_vols(m.vols, m.level, m.base_corr, w, 30 / 365.0)
    out["DSPX"] = ohlc(100.0 * np.sqrt(np.maximum(np.sum(w * comp**2, axis=1) - idx**2, 0.0)))
    return out


def write(directory: Path) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    m = Market()
    rng = np.random.default_rng(7)
    written = []

    def save(frame, name, **kwargs):
        path = directory / name
        csv_gz(frame, path, **kwargs)
        written.append(path)

    save(long_format(m), "options_long.csv.gz")
    dated = m.spots.reset_index(names="date")
    dated["date"] = dated["date"].dt.strftime("%Y-%m-%d")
    save(dated, "spots.csv.gz")
    save(pd.DataFrame({"date": dated["date"], INDEX: m.index.to_numpy()}), "index.csv.gz")
    weights = m.weights.round(10)
    weights.iloc[:, -1] = 1.0 - weights.iloc[:, :-1].sum(axis=1)
    save(weights.reset_index(names="date").assign(date=dated["date"]), "weights.csv.gz", float_format="%.10f")
    surf, std, prices = optionmetrics(m, rng)
    save(surf, "optionmetrics_vsurfd.csv.gz")
    save(std, "optionmetrics_stdopd.csv.gz")
    save(prices, "optionmetrics_secprd.csv.gz")
    strikes, summaries = orats(m, rng)
    save(strikes, "orats_strikes.csv.gz")
    save(summaries, "orats_summaries.csv.gz")
    for symbol, frame in cboe(m, rng).items():
        path = directory / f"{symbol}_History.csv"
        path.write_text(frame.to_csv(index=False, lineterminator="\n"))
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("samples")
    for path in write(target):
        print(f"{path.stat().st_size:>9,d}  {path}")
