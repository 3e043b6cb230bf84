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
    with pytest.raises(IsADirectoryError, match=r"spots: .* is a folder; expected a file"):
        dk.MarketData.from_files(tmp_path, good)
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


# ---- nothing is guessed or repaired: every malformed file is an error naming file, line, column


@pytest.mark.parametrize(
    "lines, match",
    [
        (
            ["date,A,B,C", "2022-01-03,1,2,3", "2022-01-04,1,2"],
            r"bad\.csv: line 3: 3 fields where the header has 4: column 'C' \(column 4\) is missing",
        ),
        (
            ["date,A,B", "2022-01-03,1,2,3"],
            r"bad\.csv: line 2: 4 fields where the header has 3: column 4 has no header",
        ),
        (["date,A, A,C", "2022-01-03,1,2,3"], r"bad\.csv: line 1: duplicate column names \['A'\] \(columns 2 and 3"),
        (
            ["date,A,B,C,", "2022-01-03,1,2,3,"],
            r"bad\.csv: line 1: column 5 of the header has no name \(a trailing comma",
        ),
        (["date,A,,C", "2022-01-03,1,2,3"], r"bad\.csv: line 1: column 3 of the header has no name"),
        (
            ["date,A", "2022-01-03,1", "2022-01-03 16:00,2"],
            r"bad\.csv: column 'date', row 2 \(line 3\): '2022-01-03 16:00' falls on the same day as '2022-01-03' "
            r"\(row 1, line 2\)",
        ),
        (
            ["date,A", "2022-01-03T00:00+00:00,1", "2022-01-04T00:00+05:00,2"],
            r"bad\.csv: column 'date', row 2 \(line 3\): '2022-01-04T00:00\+05:00' has UTC offset \+05:00 but "
            r"'2022-01-03T00:00\+00:00' \(row 1, line 2\) has UTC offset \+00:00",
        ),
        (
            ["date,A", "2022-01-03T16:00Z,1", "2022-01-04,2"],
            r"row 2 \(line 3\): '2022-01-04' has no UTC offset but '2022-01-03T16:00Z' \(row 1, line 2\)",
        ),
        (["date,A", '"2022-01-03,1'], r"bad\.csv: line 2: cannot parse as CSV"),
        ([], r"bad\.csv: the file has no header line"),
        (
            ["date,A", "2022-01-03,1", "2022-01-03,2"],
            r"row 2 \(line 3\): date 2022-01-03 repeats the previous row \(row 1, line 2",
        ),
    ],
)
def test_malformed_csv_is_an_error_naming_file_line_and_column(tmp_path, lines, match):
    path = csv_lines(tmp_path, "bad.csv", lines) if lines else tmp_path / "bad.csv"
    if not lines:
        path.write_text("")
    with pytest.raises(ValueError, match=match):
        dk.MarketData.from_files(path, path)


def test_csv_that_is_not_utf8_text_is_an_error(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"date,A\n2022-01-03,\xff\xfe\n")
    with pytest.raises(ValueError, match=r"binary\.csv: not UTF-8 text"):
        dk.MarketData.from_files(path, path)


def test_blank_lines_a_byte_order_mark_and_spaces_are_read_not_changed(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("\ufeffdate, AAPL ,MSFT\n\n2022-01-03, 1.5 ,2\n\n2022-01-04,,3\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,AAPL,MSFT\n\n2022-01-03,1.5,2\n\n2022-01-04,x,3\n")
    index = csv_lines(tmp_path, "index.csv", ["date,SPX", "2022-01-03,4000", "2022-01-04,4010"])
    market = dk.MarketData.from_files(path, index)
    assert list(market.tickers) == ["AAPL", "MSFT"]
    assert market.spots["AAPL"].iloc[0] == 1.5 and np.isnan(market.spots["AAPL"].iloc[1])
    with pytest.raises(ValueError, match=r"column 'AAPL', row 2 \(line 5\): non-numeric value 'x'"):
        dk.MarketData.from_files(bad, index)


def test_times_of_day_are_kept_when_every_row_has_one(tmp_path):
    path = csv_lines(
        tmp_path, "intraday.csv", ["date,A", "2022-01-03 10:00,1", "2022-01-03 16:00,2", "2022-01-04 10:00,3"]
    )
    from dispersionkit.market.tables import read_dated_table

    table = read_dated_table(path, "spots")
    assert list(table.index) == [
        pd.Timestamp("2022-01-03 10:00"),
        pd.Timestamp("2022-01-03 16:00"),
        pd.Timestamp("2022-01-04 10:00"),
    ]
    same = csv_lines(tmp_path, "utc.csv", ["date,A", "2022-01-03T16:00+02:00,1", "2022-01-04T16:00+02:00,2"])
    assert str(read_dated_table(same, "spots").index.tz) == "UTC+02:00"


@pytest.mark.parametrize(
    "columns, match",
    [
        (["date", "A", " A"], r"duplicate column names \['A'\]"),
        (["date", "A", ""], r"column 3 of the header has no name"),
        (["date", "A", "Unnamed: 2"], r"column 'Unnamed: 2' has no real name"),
    ],
)
def test_parquet_column_names_get_the_same_checks(tmp_path, columns, match):
    frame = pd.DataFrame([[pd.Timestamp("2022-01-03"), 1.0, 2.0]], columns=columns)
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    with pytest.raises(ValueError, match=match):
        dk.MarketData.from_files(path, path)


def test_parquet_dates_get_the_same_checks(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"date": ["2022-01-03T00:00+00:00", "2022-01-04T00:00+05:00"], "A": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(ValueError, match=r"p\.parquet: column 'date', row 2: .* has UTC offset \+05:00"):
        dk.MarketData.from_files(path, path)
    stamps = pd.to_datetime(["2022-01-03", "2022-01-03 16:00"], format="ISO8601")
    pd.DataFrame({"date": stamps, "A": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(
        ValueError, match=r"row 2: '2022-01-03 16:00:00' falls on the same day as '2022-01-03' \(row 1\)"
    ):
        dk.MarketData.from_files(path, path)
