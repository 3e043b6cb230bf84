"""pandas at the edge: remember the labels of pandas inputs, hand NumPy to the kernels, relabel outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd


def date_index(*values, per_date=()):
    """The date index of the first pandas input that has one, else None.

    A DataFrame's rows are dates; a Series is indexed by dates only when its position is in
    `per_date` (e.g. an index vol per date), otherwise its index holds names (weights, vols).
    """
    for position, value in enumerate(values):
        if isinstance(value, pd.DataFrame) or (isinstance(value, pd.Series) and position in per_date):
            return value.index
    return None


def columns_of(value):
    """Column labels of a DataFrame (or the index of a Series of per-name values), else None."""
    if isinstance(value, pd.DataFrame):
        return value.columns
    return None


def as_series(values: np.ndarray, index, name: str | None = None):
    """`values` as a Series on `index` when the input was pandas, else the array unchanged."""
    if index is None or values.ndim != 1 or len(index) != values.shape[0]:
        return values
    return pd.Series(values, index=index, name=name)


def as_frame(values: np.ndarray, index, columns):
    """`values` (T, n) as a DataFrame when the input was pandas, else the array unchanged."""
    if index is None:
        return values
    return pd.DataFrame(values, index=index, columns=columns)
