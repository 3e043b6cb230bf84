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


def labels_of(named: dict):
    """(index, columns) shared by the pandas inputs of an element-wise function, or None without any.

    Every Series and DataFrame among ``named`` (argument name -> value) must carry the same
    index (and DataFrames the same columns): the kernels pair elements by position, so inputs
    labelled differently would be combined silently wrong. A Series is 1-D (columns None).
    """
    labelled = [(arg, value) for arg, value in named.items() if isinstance(value, (pd.Series, pd.DataFrame))]
    if not labelled:
        return None
    first_arg, first = labelled[0]
    columns = first.columns if isinstance(first, pd.DataFrame) else None
    for arg, value in labelled[1:]:
        other = value.columns if isinstance(value, pd.DataFrame) else None
        same_columns = other is None if columns is None else other is not None and other.equals(columns)
        if not (value.index.equals(first.index) and same_columns):
            raise ValueError(
                f"{arg}: its labels differ from {first_arg}'s (values are paired by position, not aligned); "
                f"reindex it like {first_arg} first"
            )
    return first.index, columns


def relabel(values: np.ndarray, labels, name: str | None = None):
    """``values`` as a Series / DataFrame on ``labels`` (from :func:`labels_of`) when its shape is
    theirs; otherwise (inputs broadcast to another shape) the array unchanged."""
    if labels is None:
        return values
    index, columns = labels
    if columns is None and values.shape == (len(index),):
        return pd.Series(values, index=index, name=name)
    if columns is not None and values.shape == (len(index), len(columns)):
        return pd.DataFrame(values, index=index, columns=columns)
    return values


def relabel_fields(fields: dict[str, np.ndarray], labels):
    """Several same-shaped outputs (e.g. the Greeks): a DataFrame with one column per field for
    Series inputs, or one with (field, column) columns for DataFrame inputs; None if the shape is
    not the inputs' (they broadcast to something else)."""
    if labels is None:
        return None
    index, columns = labels
    first = next(iter(fields.values()))
    if columns is None and first.shape == (len(index),):
        return pd.DataFrame(fields, index=index)
    if columns is not None and first.shape == (len(index), len(columns)):
        return pd.concat({name: pd.DataFrame(v, index=index, columns=columns) for name, v in fields.items()}, axis=1)
    return None
