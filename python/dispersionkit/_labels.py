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


def same_labels(names: dict, dates: dict) -> None:
    """ValueError when pandas inputs would be paired by position under different labels.

    ``names``/``dates`` map argument names to their inputs; the kernels pair rows and columns
    by position, so a weights Series ordered differently from the vols, or an index-vol Series
    on other dates, would otherwise give silently wrong numbers. Per-name labels are a
    DataFrame's columns or a Series' index; per-date labels a DataFrame's or Series' index.
    Only pandas inputs are compared; plain arrays carry no labels.
    """
    for axis, named, labels_of in (("names", names, _name_labels), ("dates", dates, _date_labels)):
        labelled = [(arg, labels_of(value)) for arg, value in named.items()]
        labelled = [(arg, labels) for arg, labels in labelled if labels is not None]
        for arg, labels in labelled[1:]:
            first, reference = labelled[0]
            if not labels.equals(reference):
                raise ValueError(
                    f"{arg}: its {axis} differ from {first}'s (pandas labels are not aligned here, "
                    f"values are paired by position); reindex it to {first}'s {axis} first"
                )


def _name_labels(value):
    if isinstance(value, pd.DataFrame):
        return value.columns
    return value.index if isinstance(value, pd.Series) else None


def _date_labels(value):
    return value.index if isinstance(value, (pd.Series, pd.DataFrame)) else None
