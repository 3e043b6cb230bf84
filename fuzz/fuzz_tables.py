"""Coverage-guided fuzzing (atheris) of the file readers on fuzzed CSV bytes.

Each input is one byte choosing the reader, then the bytes of the file: ``read_dated_table``
(the reader behind ``MarketData.from_files``), ``MarketData.from_files`` itself (the file as
spots and, its first value column, as the index), and the long-format option reader. The
contract: a table comes back that holds what the file says (float64 values, strictly
increasing dates), or a ValueError/TypeError names the problem; never another exception,
never a silently changed file.

    python fuzz/fuzz_tables.py <corpus dir> -max_total_time=30     (see fuzz/run.sh)
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings

import atheris
import numpy as np
import pandas as pd

import dispersionkit as dk
from dispersionkit.market import market_data, options, tables
from dispersionkit.market.tables import read_dated_table

# Coverage of the readers' own Python code (module by module: works for editable installs,
# whose import hooks atheris.instrument_imports cannot see through).
for _module in (tables, options, market_data):
    for _name, _value in vars(_module).items():
        if callable(_value) and getattr(_value, "__module__", None) == _module.__name__ and hasattr(_value, "__code__"):
            setattr(_module, _name, atheris.instrument_func(_value))

FOLDER = tempfile.mkdtemp(prefix="dk-fuzz-tables-")
PATH = os.path.join(FOLDER, "table.csv")
# The library's own warnings are allowed; pandas or numpy warnings are findings.
LIBRARY_WARNINGS = (dk.WeightsWarning, dk.CalendarGapWarning)


def _check_table(table: pd.DataFrame) -> None:
    assert isinstance(table.index, pd.DatetimeIndex), "dates are not a DatetimeIndex"
    assert table.index.is_monotonic_increasing and table.index.is_unique, "dates not strictly increasing"
    assert all(dtype == np.float64 for dtype in table.dtypes), "values are not float64"
    assert all(isinstance(c, str) and c == c.strip() and c for c in table.columns), "a column name is not clean"


def test_one_input(data: bytes) -> None:
    if not data:
        return
    reader, payload = data[0] % 3, data[1:]
    with open(PATH, "wb") as handle:
        handle.write(payload)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for category in LIBRARY_WARNINGS:
            warnings.simplefilter("ignore", category)
        try:
            if reader == 0:
                _check_table(read_dated_table(PATH, "spots"))
            elif reader == 1:
                table = read_dated_table(PATH, "spots")
                market = dk.MarketData.from_files(PATH, PATH, index_column=table.columns[0])
                _check_table(market.spots)
            else:
                options = dk.read_options(PATH)
                assert isinstance(options, pd.DataFrame)
        except (ValueError, TypeError):
            pass


atheris.instrument_func(test_one_input)
atheris.instrument_func(_check_table)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
