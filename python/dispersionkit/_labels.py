"""pandas at the edge: remember the labels of pandas inputs, hand NumPy to the kernels, relabel outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd


def date_index(*values):
    """The index of the first pandas Series/DataFrame among `values` that has one, else None."""
    for value in values:
        if isinstance(value, (pd.Series, pd.DataFrame)):
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
