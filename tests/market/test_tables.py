import numpy as np
import pandas as pd
import pytest

import dispersionkit as dk

TICKERS = ["AAPL", "MSFT", "JPM"]


def write_inputs(tmp_path, n_dates=30, suffix="csv"):
    rng = np.random.default_rng(1)
    dates = pd.bdate_range("2022-03-01", periods=n_dates)
    spots = pd.DataFrame(rng.uniform(50, 150, (n_dates, 3)), index=pd.Index(dates, name="date"), columns=TICKERS)
    index = pd.Series(rng.uniform(3000, 4000, n_dates), index=spots.index, name="SPX")
    vols = pd.DataFrame(rng.uniform(0.2, 0.4, (n_dates, 3)), index=spots.index, columns=TICKERS)
    index_vol = pd.Series(rng.uniform(0.15, 0.25, n_dates), index=spots.index, name="iv")
    paths = {}
    for name, table in (
        ("spots", spots),
        ("index", index.to_frame()),
        ("vols", vols),
        ("index_vol", index_vol.to_frame()),
    ):
        path = tmp_path / f"{name}.{suffix}"
        if suffix == "csv":
            table.to_csv(path)
        else:
            table.to_parquet(path)
        paths[name] = path
    return paths, spots, index, vols, index_vol


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_round_trip_from_files(tmp_path, suffix):
    paths, spots, index, vols, _index_vol = write_inputs(tmp_path, suffix=suffix)
    market = dk.MarketData.from_files(paths["spots"], paths["index"], vols=paths["vols"], index_vol=paths["index_vol"])
    np.testing.assert_allclose(market.spots.to_numpy(), spots.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(market.index.to_numpy(), index.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(market.vols.to_numpy(), vols.to_numpy(), rtol=1e-15)
    assert market.dates.equals(spots.index)
    assert market.vol_source == "market"


def csv_lines(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def spots_csv(n_rows=20):
    lines = ["date,AAPL,MSFT"]
    for i, day in enumerate(pd.bdate_range("2022-01-03", periods=n_rows)):
        lines.append(f"{day.date()},{100 + i},{200 + i}")
    return lines


def test_non_numeric_cell_names_file_column_and_row(tmp_path):
    lines = spots_csv()
    date = lines[17].split(",")[0]
    lines[17] = f"{date},oops,217"
    path = csv_lines(tmp_path, "prices.csv", lines)
    with pytest.raises(
        ValueError, match=r"spots: .*prices\.csv: column 'AAPL', row 17 \(line 18\): non-numeric value 'oops'"
    ):
        dk.MarketData.from_files(path, path)


def test_missing_tokens_become_reported_nans(tmp_path):
    lines = spots_csv()
    lines[3] = lines[3].split(",")[0] + ",,203"
    lines[5] = lines[5].split(",")[0] + ",N/A,205"
    spots = csv_lines(tmp_path, "spots.csv", lines)
    index = csv_lines(tmp_path, "index.csv", ["date,SPX"] + [f"{row.split(',')[0]},4000" for row in lines[1:]])
    market = dk.MarketData.from_files(spots, index)
    row = market.missing.set_index(["field", "column"]).loc[("spots", "AAPL")]
    assert row["count"] == 2
    assert row["first"] == pd.Timestamp("2022-01-05")
    assert np.isnan(market.spots["AAPL"].iloc[2]) and market.spots["MSFT"].notna().all()


def test_bad_dates_name_row(tmp_path):
    lines = spots_csv()
    lines[4] = "not-a-date,1,2"
    path = csv_lines(tmp_path, "s.csv", lines)
    with pytest.raises(
        ValueError, match=r"s\.csv: column 'date', row 4 \(line 5\): cannot parse 'not-a-date' as a date"
    ):
        dk.MarketData.from_files(path, path)
    for not_iso in ("01/07/2022", "7"):
        lines = spots_csv()
        lines[4] = f"{not_iso},1,2"
        path = csv_lines(tmp_path, "us.csv", lines)
        with pytest.raises(ValueError, match=f"us\\.csv: column 'date', row 4 \\(line 5\\): cannot parse '{not_iso}'"):
            dk.MarketData.from_files(path, path)
    lines = spots_csv()
    lines[6] = lines[5]
    path = csv_lines(tmp_path, "dup.csv", lines)
    with pytest.raises(
        ValueError, match=r"dup\.csv: column 'date', row 6 \(line 7\): date 2022-01-07 repeats the previous row"
    ):
        dk.MarketData.from_files(path, path)
    lines = spots_csv()
    lines[6], lines[7] = lines[7], lines[6]
    path = csv_lines(tmp_path, "order.csv", lines)
    with pytest.raises(ValueError, match=r"order\.csv: column 'date', row 7 \(line 8\): date 2022-01-10 is earlier"):
        dk.MarketData.from_files(path, path)


def test_file_level_errors(tmp_path):
    good = csv_lines(tmp_path, "good.csv", spots_csv())
    with pytest.raises(FileNotFoundError, match=r"spots: file not found: .*nope\.csv"):
        dk.MarketData.from_files(tmp_path / "nope.csv", good)
    with pytest.raises(ValueError, match=r"index: .*good\.xlsx: unsupported file type '\.xlsx'"):
        (tmp_path / "good.xlsx").write_text("x")
        dk.MarketData.from_files(good, tmp_path / "good.xlsx")
    with pytest.raises(
        ValueError, match=r"index: .*good\.csv: expected one value column besides the date, got \['AAPL', 'MSFT'\]"
    ):
        dk.MarketData.from_files(good, good)
    with pytest.raises(ValueError, match=r"duplicate column names \['AAPL'\]"):
        dk.MarketData.from_files(csv_lines(tmp_path, "d.csv", ["date,AAPL,AAPL", "2022-01-03,1,2"]), good)
    with pytest.raises(ValueError, match="no date column 'when'"):
        dk.MarketData.from_files(good, good, date_column="when")
    with pytest.raises(TypeError, match="spots: expected a file path"):
        dk.MarketData.from_files(123, good)
    with pytest.raises(ValueError, match=r"index: .*good\.csv: no column 'SPX'"):
        dk.MarketData.from_files(good, good, index_column="SPX")


def test_index_column_and_mixed_inputs(tmp_path):
    path = csv_lines(tmp_path, "both.csv", spots_csv())
    spots = pd.read_csv(path, index_col=0, parse_dates=True)[["AAPL"]]
    market = dk.MarketData.from_files(spots, path, index_column="MSFT")
    assert market.index.iloc[0] == 200.0
    assert market.vol_source.startswith("model: ")


def test_parquet_non_numeric_column(tmp_path):
    frame = pd.DataFrame(
        {"date": pd.bdate_range("2022-01-03", periods=4), "AAPL": ["1", "2", "x", "4"]},
    )
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    with pytest.raises(ValueError, match=r"p\.parquet: column 'AAPL', row 3: non-numeric value 'x'"):
        dk.MarketData.from_files(path, path)
