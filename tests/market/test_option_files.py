"""Option files: the long format and the vendor readers on the bundled samples and on broken
copies of them (missing columns, bad dates and numbers, duplicate keys, wrong units)."""

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

NAMES = {900001: "ALFA", 900002: "BRVO", 900003: "CHRL", 900004: "DLTA", 900005: "ECHO", 900100: "IDX"}


def sample(name):
    return dk.data.sample_file(name)


def text_of(name):
    path = sample(name)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return handle.read().splitlines()


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def edit(lines, line, column, value):
    """Set one cell: ``line`` counts the header as line 1, like the error messages."""
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    out = list(lines)
    out[line - 1] = ",".join(cells)
    return out


# -- the long format -------------------------------------------------------------------


def test_long_format_sample_reads_and_keeps_row_numbers():
    frame = dk.read_options(sample("options_long.csv.gz"))
    assert list(frame.columns[:6]) == ["date", "underlying", "expiry", "strike", "option_type", "implied_vol"]
    assert frame.index[0] == 1 and frame.index.name == "row"
    assert frame["implied_vol"].isna().sum() == 4  # the sample's deliberate gaps, kept
    assert set(frame["option_type"]) == {"C", "P"}


def test_long_format_parquet_round_trip(tmp_path):
    frame = dk.read_options(sample("options_long.csv.gz"))
    path = tmp_path / "options.parquet"
    frame.to_parquet(path)
    again = dk.read_options(path)
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), again.reset_index(drop=True))


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (5, "date", "2023-13-45", r"column 'date', row 4 \(line 5\): cannot parse '2023-13-45' as a date"),
        (7, "expiry", "03/17/2023", r"column 'expiry', row 6 \(line 7\): cannot parse '03/17/2023'"),
        (9, "strike", "abc", r"column 'strike', row 8 \(line 9\): non-numeric value 'abc'"),
        (11, "option_type", "X", r"column 'option_type', row 10 \(line 11\): option type 'X' is not C, P"),
        (13, "underlying", " ", r"column 'underlying', row 12 \(line 13\): blank underlying"),
    ],
)
def test_long_format_errors_name_file_column_and_line(tmp_path, line, column, value, message):
    lines = text_of("options_long.csv.gz")[:40]
    path = write(tmp_path, "bad.csv", edit(lines, line, column, value))
    with pytest.raises(ValueError, match=rf"options: .*bad\.csv: {message}"):
        dk.read_options(path)


def test_long_format_missing_column_and_percent_units(tmp_path):
    lines = text_of("options_long.csv.gz")[:40]
    dropped = [",".join(c for i, c in enumerate(line.split(",")) if i != 5) for line in lines]
    with pytest.raises(ValueError, match=r"missing columns \['implied_vol'\]"):
        dk.read_options(write(tmp_path, "a.csv", dropped))
    header, *rows = lines
    col = header.split(",").index("implied_vol")
    percent = [header] + [
        ",".join(f"{float(c) * 100:.2f}" if i == col and c else c for i, c in enumerate(r.split(","))) for r in rows
    ]
    with pytest.raises(ValueError, match=r"b\.csv: column 'implied_vol': median implied vol .* looks like percent"):
        dk.read_options(write(tmp_path, "b.csv", percent))


def test_market_from_long_format_reports_the_sample_defects():
    market = sample_market()
    report = market.options_report
    assert report["missing implied vol"] == 4
    assert report["crossed quote: bid_vol > ask_vol"] == 2
    assert report["exact duplicate of an earlier row"] == 1
    assert report["expired: expiry on or before the date"] == 1
    assert report["underlying not in the market"] == 1
    assert report.sum() == len(dk.read_options(sample("options_long.csv.gz")))
    rejected = market.surface.rejected
    assert (rejected.loc[rejected["reason"] == "underlying not in the market", "underlying"] == "ZZZZ").all()
    assert market.surface.arbitrage.empty  # the sample's SSVI surface is free of arbitrage


def sample_market():
    return dk.MarketData.from_files(
        sample("spots.csv.gz"),
        sample("index.csv.gz"),
        weights=sample("weights.csv.gz"),
        rate=0.04,
        div_yields=pd.Series({"ALFA": 0.01, "BRVO": 0.02, "CHRL": 0.0, "DLTA": 0.015, "ECHO": 0.025}),
        options=sample("options_long.csv.gz"),
        index_underlying="IDX",
    )


# -- OptionMetrics ---------------------------------------------------------------------


def read_om(**files):
    return dk.read_optionmetrics(names=NAMES, **files)


def test_optionmetrics_samples():
    data = read_om(
        surface=sample("optionmetrics_vsurfd.csv.gz"),
        standardized=sample("optionmetrics_stdopd.csv.gz"),
        prices=sample("optionmetrics_secprd.csv.gz"),
    )
    assert data.spots.shape == (60, 6)
    assert (data.spots.to_numpy() > 0).all()
    assert any("2 closes were bid/ask midpoints" in note for note in data.notes)
    assert any("3 impl_volatility values were -99.99" in note for note in data.notes)
    assert data.options["implied_vol"].isna().sum() == 3
    assert data.options["source"].iloc[0] == "optionmetrics_vsurfd.csv.gz:row 1"
    assert "forward" in data.options
    surface = dk.VolSurface.from_options(data.options, data.spots, rate=0.04)
    assert surface.report["missing implied vol"] == 3
    assert surface.report["used"] > 0.45 * len(data.options)
    bad = surface.rejected[surface.rejected["reason"] == "missing implied vol"]
    assert bad["source"].str.startswith("optionmetrics_vsurfd.csv.gz:row ").all()


def test_optionmetrics_unknown_secid_is_rejected_not_dropped():
    data = dk.read_optionmetrics(
        surface=sample("optionmetrics_vsurfd.csv.gz"),
        prices=sample("optionmetrics_secprd.csv.gz"),
        names={900001: "ALFA"},
    )
    spots = data.spots[["ALFA"]]
    surface = dk.VolSurface.from_options(data.options, spots)
    others = (data.options["underlying"] != "ALFA") & data.options["implied_vol"].notna()
    assert surface.report["underlying not in the market"] == others.sum()
    assert "secid 900100" in set(surface.rejected["underlying"])


def test_optionmetrics_malformed_files(tmp_path):
    lines = text_of("optionmetrics_vsurfd.csv.gz")[:200]
    prices = sample("optionmetrics_secprd.csv.gz")
    cases = [
        (edit(lines, 3, "date", "2023-02-30"), r"column 'date', row 2 \(line 3\): cannot parse '2023-02-30'"),
        (edit(lines, 4, "impl_volatility", "n/a?"), r"column 'impl_volatility', row 3 \(line 4\): non-numeric"),
        (edit(lines, 5, "days", "30.5"), r"column 'days', row 4 \(line 5\): expected a whole number of days"),
        (edit(lines, 6, "cp_flag", "Q"), r"column 'cp_flag', row 5 \(line 6\): option type 'Q'"),
    ]
    for i, (bad, message) in enumerate(cases):
        with pytest.raises(ValueError, match=message):
            read_om(surface=write(tmp_path, f"v{i}.csv", bad))
    header = lines[0].split(",")
    missing = [",".join(c for j, c in enumerate(r.split(",")) if header[j] != "impl_strike") for r in lines]
    with pytest.raises(ValueError, match=r"surface: .*missing columns \['impl_strike'\]"):
        read_om(surface=write(tmp_path, "m.csv", missing))
    col = header.index("impl_strike")
    scaled = [lines[0]] + [
        ",".join(f"{float(c) * 1000:.0f}" if j == col else c for j, c in enumerate(r.split(","))) for r in lines[1:]
    ]
    with pytest.raises(ValueError, match=r"impl_strike'.*x the spot: strikes look scaled by 1000"):
        read_om(surface=write(tmp_path, "x.csv", scaled), prices=prices)
    col = header.index("impl_volatility")
    percent = [lines[0]] + [
        ",".join(f"{float(c) * 100:.4f}" if j == col else c for j, c in enumerate(r.split(","))) for r in lines[1:]
    ]
    with pytest.raises(ValueError, match=r"impl_volatility'.*looks like percent"):
        read_om(surface=write(tmp_path, "p.csv", percent))


def test_optionmetrics_duplicate_rows_and_conflicting_spots(tmp_path):
    lines = text_of("optionmetrics_vsurfd.csv.gz")[:61]
    doubled = lines + lines[11:21]
    data = read_om(surface=write(tmp_path, "d.csv", doubled), prices=sample("optionmetrics_secprd.csv.gz"))
    surface = dk.VolSurface.from_options(data.options, data.spots, rate=0.04)
    assert surface.report["exact duplicate of an earlier row"] == 10
    prices = text_of("optionmetrics_secprd.csv.gz")
    clash = edit([*prices, prices[1]], len(prices) + 1, "close", "1.0")
    with pytest.raises(ValueError, match=r"prices: ALFA has two spot prices on 2023-01-03"):
        read_om(prices=write(tmp_path, "s.csv", clash))


# -- ORATS -----------------------------------------------------------------------------


def test_orats_samples():
    data = dk.read_orats(strikes=sample("orats_strikes.csv.gz"), summaries=sample("orats_summaries.csv.gz"))
    assert set(data.spots.columns) == {"ALFA", "BRVO", "CHRL", "DLTA", "ECHO", "IDX"}
    strikes = data.options[data.options["source"].str.contains("orats_strikes")]
    assert set(strikes["option_type"]) == {"C", "P"}
    assert {"bid_vol", "ask_vol"} <= set(strikes.columns)
    summaries = dk.read_orats(summaries=sample("orats_summaries.csv.gz"))
    surface = dk.VolSurface.from_options(summaries.options, summaries.spots)
    assert surface.report["used"] == len(summaries.options)  # one ATM quote per tenor, all usable
    iv30 = pd.read_csv(sample("orats_summaries.csv.gz"), parse_dates=["tradeDate"]).pivot(
        index="tradeDate", columns="ticker", values="iv30d"
    )
    np.testing.assert_allclose(surface.atm(30)[iv30.columns].to_numpy(), iv30.to_numpy(), rtol=1e-12)


def test_orats_malformed_files(tmp_path):
    lines = text_of("orats_strikes.csv.gz")[:100]
    with pytest.raises(ValueError, match=r"column 'tradeDate', row 1 \(line 2\): cannot parse 'yesterday'"):
        dk.read_orats(strikes=write(tmp_path, "a.csv", edit(lines, 2, "tradeDate", "yesterday")))
    with pytest.raises(ValueError, match=r"column 'putMidIv', row 2 \(line 3\): non-numeric value '0.2x'"):
        dk.read_orats(strikes=write(tmp_path, "b.csv", edit(lines, 3, "putMidIv", "0.2x")))
    header = lines[0].split(",")
    missing = [",".join(c for j, c in enumerate(r.split(",")) if header[j] != "callMidIv") for r in lines]
    with pytest.raises(ValueError, match=r"strikes: .*missing columns \['callMidIv'\]"):
        dk.read_orats(strikes=write(tmp_path, "c.csv", missing))
    # A call side without a quote: ORATS writes 0; the surface rejects it with a reason.
    zero = edit(lines, 4, "callMidIv", "0")
    data = dk.read_orats(strikes=write(tmp_path, "d.csv", zero))
    surface = dk.VolSurface.from_options(data.options, data.spots, quotes="calls")
    assert surface.report["implied vol not > 0"] == 1
    assert surface.rejected.loc[surface.rejected["reason"] == "implied vol not > 0", "source"].iloc[0] == "d.csv:row 3"
    with pytest.raises(ValueError, match=r"summaries: .*no at-the-money IV column"):
        dk.read_orats(summaries=write(tmp_path, "e.csv", ["ticker,tradeDate,stockPrice", "AAA,2023-01-03,10"]))


# -- CBOE ------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["VIX", "VIX3M", "COR1M", "COR3M", "COR6M", "DSPX"])
def test_cboe_samples(symbol):
    series = dk.read_cboe(sample(f"{symbol}_History.csv"))
    assert series.name == symbol
    assert len(series) == 120 and series.index.is_monotonic_increasing
    assert series.index[0] == pd.Timestamp("2023-01-03")
    assert series.notna().all()


def test_cboe_layouts_and_errors(tmp_path):
    two = write(tmp_path, "custom.csv", ["DATE,SKEW", "01/03/2023,130.5", "01/04/2023,", "01/05/2023,128"])
    series = dk.read_cboe(two)
    assert series.name == "SKEW" and np.isnan(series.iloc[1])
    lines = text_of("VIX_History.csv")[:10]
    with pytest.raises(ValueError, match=r"column 'DATE', row 3 \(line 4\): cannot parse '2023-01-05'"):
        dk.read_cboe(write(tmp_path, "VIX_History.csv", edit(lines, 4, "DATE", "2023-01-05")))
    repeated = [*lines[:4], lines[3]]
    with pytest.raises(ValueError, match=r"row 4 \(line 5\): date 2023-01-05 repeats"):
        dk.read_cboe(write(tmp_path, "VIX3M_History.csv", repeated))
    with pytest.raises(ValueError, match="non-numeric value 'x'"):
        dk.read_cboe(write(tmp_path, "COR1M_History.csv", edit(lines, 3, "CLOSE", "x")))
    with pytest.raises(ValueError, match="expected DATE,OPEN,HIGH,LOW,CLOSE or DATE,<SYMBOL>"):
        dk.read_cboe(write(tmp_path, "odd.csv", ["DATE,A,B", "01/03/2023,1,2"]))


def test_gzip_and_plain_csv_read_alike(tmp_path):
    plain = tmp_path / "options.csv"
    with gzip.open(sample("options_long.csv.gz"), "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    pd.testing.assert_frame_equal(dk.read_options(plain), dk.read_options(sample("options_long.csv.gz")))
