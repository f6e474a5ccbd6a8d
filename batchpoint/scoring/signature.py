"""A model's input signature in core form, and casting an input table to it.

MLflow enforces signature types strictly (an int64 column is rejected for a ``double`` field), while
CSV readers guess types from the text; casting to the signature first makes CSV and Parquet inputs
score the same. Pure: pandas only, no MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from batchpoint.errors import InputFileError

ColumnType = Literal["double", "float", "long", "integer", "boolean", "string", "datetime"]
COLUMN_TYPES: tuple[ColumnType, ...] = get_args(ColumnType)

_NUMPY_DTYPES: dict[str, str] = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One input column the model expects."""

    name: str
    type: ColumnType
    required: bool = True


@dataclass(frozen=True)
class InputSignature:
    """The columns a model expects, in order."""

    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in signature order."""
        return tuple(c.name for c in self.columns)

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON form (for manifests): ``[{"name", "type", "required"}, ...]``."""
        return [{"name": c.name, "type": c.type, "required": c.required} for c in self.columns]

    @classmethod
    def from_dict(cls, data: Sequence[Mapping[str, Any]]) -> InputSignature:
        """Inverse of ``to_dict``; unknown types raise ``ValueError`` naming the valid ones."""
        columns = []
        for item in data:
            kind = str(item["type"])
            if kind not in COLUMN_TYPES:
                raise ValueError(f"column {item['name']!r}: type {kind!r} is not one of {', '.join(COLUMN_TYPES)}")
            columns.append(ColumnSpec(str(item["name"]), kind, bool(item.get("required", True))))
        return cls(tuple(columns))


def cast_to_signature(df: pd.DataFrame, sig: InputSignature, file: str) -> pd.DataFrame:
    """``df`` with the signature's columns, in its order, cast to its types; extra columns dropped.

    Raises ``InputFileError`` naming ``file`` when required columns are missing or a value cannot be
    represented in the expected type (text in a number column, a fraction or a gap in an integer one).
    """
    present = set(map(str, df.columns))
    missing = [c.name for c in sig.columns if c.required and c.name not in present]
    if missing:
        raise InputFileError(
            file,
            f"missing column(s) {', '.join(missing)}; the model's signature expects {', '.join(sig.names)}",
        )
    out: dict[str, pd.Series[Any]] = {}
    for spec in sig.columns:
        if spec.name not in present:
            continue
        try:
            out[spec.name] = _cast(df[spec.name], spec.type)
        except (ValueError, TypeError, OverflowError) as exc:
            raise InputFileError(
                file, f"column {spec.name!r} cannot be read as {spec.type} ({df[spec.name].dtype}): {exc}"
            ) from exc
    return pd.DataFrame(out, index=df.index)


def _cast(series: pd.Series[Any], kind: ColumnType) -> pd.Series[Any]:
    if kind in ("double", "float"):
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            series = pd.to_numeric(series, errors="raise")
        return series.astype(_NUMPY_DTYPES[kind])
    if kind in ("long", "integer"):
        return _to_integer(series, _NUMPY_DTYPES[kind])
    if kind == "boolean":
        return _to_boolean(series)
    if kind == "string":
        if series.isna().any():
            raise ValueError("empty values found")
        # Object dtype of Python str is what MLflow's schema enforcement accepts on every pandas version.
        return series.astype(str).astype(object)
    return pd.to_datetime(series, errors="raise")


def _to_integer(series: pd.Series[Any], dtype: str) -> pd.Series[Any]:
    if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_extension_array_dtype(series.dtype):
        info = np.iinfo(dtype)
        if len(series) and (series.min() < info.min or series.max() > info.max):
            raise ValueError(f"values outside {info.min}..{info.max}")
        return series.astype(dtype)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(dtype)
    numbers = pd.to_numeric(series, errors="raise")
    if numbers.isna().any():
        raise ValueError("empty values found")
    if pd.api.types.is_float_dtype(numbers.dtype) and not (numbers == np.floor(numbers)).all():
        raise ValueError("values with a fractional part found")
    return _to_integer(numbers.astype("int64"), dtype)


_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def _to_boolean(series: pd.Series[Any]) -> pd.Series[Any]:
    if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
        return series.astype("bool")
    if pd.api.types.is_numeric_dtype(series.dtype):
        if not series.isin([0, 1]).all():
            raise ValueError("only 0 and 1 can be read as booleans")
        return series.astype("bool")
    text = series.astype(str).str.strip().str.lower()
    unknown = ~text.isin(_TRUE | _FALSE)
    if unknown.any():
        raise ValueError(f"{text[unknown].iloc[0]!r} is not true/false")
    return text.isin(_TRUE)
