"""Results to a folder of Parquet tables plus one JSON file, and back, exactly.

Layout of a saved result (``result.save(folder)``)::

    folder/metadata.json       kind, format version, library version, every scalar field
    folder/<field>.parquet     one per DataFrame / Series / Index / ndarray field
    folder/<field>/            a nested result (e.g. a BacktestResult's Metrics), same layout

Arrays are flattened into one Parquet column (``values``) with their shape and dtype in the
JSON, written without the pandas NaN-to-null conversion, so they load bit for bit (NaN
payloads and signed zeros included). DataFrames and Series go through pandas' own Parquet
writer, which keeps dtypes, index and column names. Floats in the JSON are written with
``repr`` (exact round trip); NaN and infinities as the strings "nan", "inf", "-inf".

Only classes of this package are rebuilt on load (the JSON names them); a folder written by
a newer format version is refused rather than half-read.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__

FORMAT_VERSION = 1
METADATA = "metadata.json"
_FORMAT_NAME = "dispersionkit-result"


def save(result, folder) -> Path:
    """Write the dataclass ``result`` into ``folder`` (created; existing files of the same name replaced)."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        raise TypeError(f"result: expected a result object, got {type(result).__name__}")
    folder = _folder(folder)
    _pyarrow()
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "dispersionkit_version": __version__,
        **_encode_dataclass(result, folder),
    }
    (folder / METADATA).write_text(json.dumps(metadata, indent=1, allow_nan=False) + "\n")
    return folder


def load(folder, expected: type | None = None):
    """The result saved in ``folder``; with ``expected``, a TypeError if the folder holds another kind."""
    folder = _folder(folder)
    path = folder / METADATA
    if not path.is_file():
        raise FileNotFoundError(f"path: {folder} holds no saved result (no {METADATA})")
    try:
        metadata = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"path: {path} is not valid JSON: {error}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != _FORMAT_NAME:
        raise ValueError(f"path: {path} is not a dispersionkit result")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"path: {path} has format version {version!r}; this dispersionkit ({__version__}) reads up to "
            f"{FORMAT_VERSION}: upgrade dispersionkit"
        )
    cls = _class(metadata.get("class"), path)
    if expected is not None and not issubclass(cls, expected):
        raise TypeError(f"path: {folder} holds a {cls.__name__}, not a {expected.__name__}")
    _pyarrow()
    return _decode_dataclass(metadata, folder)


def kind(folder) -> str:
    """The class name of the result saved in ``folder`` (reads only the JSON)."""
    folder = _folder(folder)
    try:
        return str(json.loads((folder / METADATA).read_text())["class"]).rpartition(":")[2]
    except (OSError, ValueError, KeyError, TypeError):
        raise FileNotFoundError(f"path: {folder} holds no saved result (no readable {METADATA})") from None


def _folder(folder) -> Path:
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"path: expected a folder path, got {type(folder).__name__}")
    return Path(folder)


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError("saving and loading results needs pyarrow: pip install 'dispersionkit[parquet]'") from None
    return pyarrow, pyarrow.parquet


# -- encoding ----------------------------------------------------------------------------------


def _encode_dataclass(obj, folder: Path) -> dict:
    cls = type(obj)
    if not cls.__module__.startswith("dispersionkit."):
        raise TypeError(f"cannot save a {cls.__module__}.{cls.__qualname__}: not a dispersionkit result")
    fields = {}
    for field in dataclasses.fields(obj):
        fields[field.name] = _encode(getattr(obj, field.name), folder, field.name)
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}


def _encode(value, folder: Path, name: str) -> dict:
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return {"type": "scalar", "value": value if not isinstance(value, np.bool_) else bool(value)}
    if isinstance(value, numbers.Integral):
        return {"type": "int", "value": int(value)}
    if isinstance(value, numbers.Real):
        return {"type": "float", "value": _float_out(float(value))}
    if isinstance(value, pd.Timestamp):
        return {"type": "timestamp", "value": value.isoformat(), "unit": value.unit}
    if isinstance(value, np.ndarray):
        return _write_array(value, folder, name)
    if isinstance(value, pd.Series):
        _check_label(value.name, f"{name}.name")
        _write_frame(value.to_frame(name="values"), folder, name)
        return {"type": "series", "file": f"{name}.parquet", "name": value.name, **_freq(value.index)}
    if isinstance(value, pd.DataFrame):
        _write_frame(value, folder, name)
        return {"type": "frame", "file": f"{name}.parquet", **_freq(value.index)}
    if isinstance(value, pd.RangeIndex):
        _check_label(value.name, f"{name}.name")
        return {"type": "range", "start": value.start, "stop": value.stop, "step": value.step, "name": value.name}
    if isinstance(value, pd.Index):
        _write_frame(pd.DataFrame(index=value), folder, name)
        return {"type": "index", "file": f"{name}.parquet", **_freq(value)}
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return {"type": "str_tuple", "value": list(value)}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        sub = folder / name
        sub.mkdir(exist_ok=True)
        return {"type": "dict", "folder": name, "items": {k: _encode(v, sub, k) for k, v in value.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        sub = folder / name
        sub.mkdir(exist_ok=True)
        return {"type": "dataclass", "folder": name, **_encode_dataclass(value, sub)}
    raise TypeError(f"cannot save field {name!r} of type {type(value).__name__}")


def _freq(index: pd.Index) -> dict:
    """The frequency of a DatetimeIndex (Parquet does not keep it), as {"freq": "B"} or {}."""
    freq = getattr(index, "freqstr", None)
    return {"freq": freq} if isinstance(index, pd.DatetimeIndex) and freq else {}


def _with_freq(index: pd.Index, spec: dict) -> pd.Index:
    if "freq" in spec and isinstance(index, pd.DatetimeIndex):
        index = pd.DatetimeIndex(index, freq=spec["freq"])
    return index


def _float_out(value: float):
    return value if math.isfinite(value) else repr(value)


def _check_label(label, where: str) -> None:
    if label is not None and not isinstance(label, (str, int)):
        raise TypeError(f"cannot save {where}: label {label!r} is neither a string nor an int")


def _write_frame(frame: pd.DataFrame, folder: Path, name: str) -> None:
    for column in frame.columns:
        if not isinstance(column, str):
            raise TypeError(f"cannot save field {name!r}: column label {column!r} is not a string")
    frame.to_parquet(folder / f"{name}.parquet")


def _write_array(array: np.ndarray, folder: Path, name: str) -> dict:
    pa, pq = _pyarrow()
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot save array field {name!r} of dtype {array.dtype}")
    flat = np.ascontiguousarray(array).reshape(-1)
    # from_pandas=False: NaN stays a float (bits and all), not a null.
    pq.write_table(pa.table({"values": pa.array(flat, from_pandas=False)}), folder / f"{name}.parquet")
    return {"type": "array", "file": f"{name}.parquet", "shape": list(array.shape), "dtype": array.dtype.str}


# -- decoding ----------------------------------------------------------------------------------


def _class(spec, where) -> type:
    if not isinstance(spec, str) or ":" not in spec or not spec.startswith("dispersionkit."):
        raise ValueError(f"path: {where} names no dispersionkit result class ({spec!r})")
    module, _, qualname = spec.partition(":")
    try:
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError):
        raise ValueError(f"path: {where} names {spec}, which this dispersionkit does not have") from None
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"path: {where} names {spec}, which is not a result class")
    return cls


def _decode_dataclass(spec: dict, folder: Path):
    cls = _class(spec.get("class"), folder / METADATA)
    stored = spec.get("fields", {})
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in stored:
            values[field.name] = _decode(stored[field.name], folder, field.name)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValueError(f"path: {folder}: field {field.name!r} of {cls.__name__} is missing")
    extra = sorted(set(stored) - {f.name for f in dataclasses.fields(cls)})
    if extra:
        raise ValueError(f"path: {folder}: fields {extra} are not fields of {cls.__name__} in this dispersionkit")
    return cls(**values)


def _decode(spec: dict, folder: Path, name: str):
    kind = spec["type"]
    if kind == "scalar":
        return spec["value"]
    if kind == "int":
        return int(spec["value"])
    if kind == "float":
        value = spec["value"]
        return float(value)
    if kind == "timestamp":
        return pd.Timestamp(spec["value"]).as_unit(spec.get("unit", "ns"))
    if kind == "array":
        _, pq = _pyarrow()
        column = pq.read_table(folder / spec["file"]).column("values").to_numpy()
        return column.astype(np.dtype(spec["dtype"]), copy=False).reshape(spec["shape"])
    if kind == "series":
        series = pd.read_parquet(folder / spec["file"])["values"]
        series.index = _with_freq(series.index, spec)
        return series.rename(spec["name"])
    if kind == "frame":
        frame = pd.read_parquet(folder / spec["file"])
        frame.index = _with_freq(frame.index, spec)
        return frame
    if kind == "index":
        return _with_freq(pd.read_parquet(folder / spec["file"]).index, spec)
    if kind == "range":
        return pd.RangeIndex(spec["start"], spec["stop"], spec["step"], name=spec["name"])
    if kind == "str_tuple":
        return tuple(spec["value"])
    if kind == "dict":
        sub = folder / spec["folder"]
        return {key: _decode(item, sub, key) for key, item in spec["items"].items()}
    if kind == "dataclass":
        return _decode_dataclass(spec, folder / spec["folder"])
    raise ValueError(f"path: {folder}: field {name!r} has unknown stored type {kind!r}")
