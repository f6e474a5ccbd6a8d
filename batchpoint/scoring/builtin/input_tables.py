"""One input file as the table a model takes: read as CSV or Parquet, then cast to the model's signature.

Standalone: the built-in scorer runs it inside a model's own environment, where batchpoint is not
importable. The module imports only the standard library; pandas, numpy and pyarrow are imported by
the functions that use them, and work from pandas 1.x, numpy 1.x and pyarrow 10 on, Python 3.8 on.
batchpoint's core takes ``InputSignature`` from here too (``models/signature.py``).

Reading uses pyarrow's readers: its CSV parser is several times faster than ``pandas.read_csv``.

Casting: MLflow enforces signature types strictly (an int64 column is rejected for a ``double``
field), while CSV readers guess types from the text; casting to the signature first makes CSV and
Parquet inputs score the same.

A file that cannot be scored for what it holds raises ``InputFileError`` naming the file and the problem.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING or __package__:
    from .text_excerpts import excerpt
else:  # run by script_driver.py from this folder, which it put first on sys.path
    from text_excerpts import excerpt

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd
    import pyarrow as pa

ColumnType = Literal["double", "float", "long", "integer", "boolean", "string", "datetime"]
COLUMN_TYPES: tuple[ColumnType, ...] = get_args(ColumnType)
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pqt")
CSV_BLOCK_BYTES = 1 << 20
"""pyarrow's CSV block to start with (its default); grown for files with longer rows."""
_MAX_BLOCK_BYTES = 2**31 - 1  # pyarrow's block_size is a 32-bit int
_NUMPY_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32", "boolean": "bool"}
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


class InputFileError(Exception):
    """One input file cannot be scored for its content: ``problem`` says why; the other files go on."""

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")


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


def file_format(name: str) -> str:
    """``"csv"`` or ``"parquet"`` from the file name; ``InputFileError`` for anything else."""
    lowered = name.lower()
    if lowered.endswith(CSV_SUFFIXES):
        return "csv"
    if lowered.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise InputFileError(name, "not a CSV or Parquet file: expected .csv, .parquet or .pqt")


def read_table(name: str, data: bytes) -> pd.DataFrame:
    """Parse ``data`` (the content of the file ``name``) into a DataFrame.

    A file with no bytes, or a CSV with no header, is an ``InputFileError``; a header with no rows
    is a valid, empty table.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    kind = file_format(name)
    if not data or data.isspace():
        raise InputFileError(name, "the file is empty (0 bytes of data)")
    try:
        table = read_csv(data) if kind == "csv" else pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        # ArrowInvalid names the line and column; keep it, it is what the user needs to fix. It
        # also quotes the row, which in a corrupt file is binary: an excerpt of it is enough.
        raise InputFileError(name, f"cannot be read as {kind.upper()}: {excerpt(str(exc))}") from exc
    return table.to_pandas()


def read_csv(data: bytes, block_bytes: int = CSV_BLOCK_BYTES) -> pa.Table:
    """The CSV ``data`` as a table, whatever the length of its rows.

    pyarrow parses in blocks and a row must fit in one ("straddling object straddles two block
    boundaries"). Most files fit the default block; for the others the block grows fourfold until the
    rows fit, at most to the whole file, which is in memory already: memory is the limit, not a constant.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    block = block_bytes
    while True:
        try:
            return pa_csv.read_csv(io.BytesIO(data), read_options=pa_csv.ReadOptions(block_size=block))
        except pa.ArrowInvalid as exc:
            whole = min(len(data) + 1, _MAX_BLOCK_BYTES)
            if "straddling object" not in str(exc) or block >= whole:
                raise
            block = min(block * 4, whole)


def cast_to_signature(df: pd.DataFrame, sig: InputSignature, file: str) -> pd.DataFrame:
    """``df`` with the signature's columns, in its order, cast to its types; extra columns dropped.

    Raises ``InputFileError`` naming ``file`` when required columns are missing or a value cannot be
    represented in the expected type (text in a number column, a fraction or a gap in an integer one).
    """
    import pandas as pd

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
    import pandas as pd

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
    import numpy as np
    import pandas as pd

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


def _to_boolean(series: pd.Series[Any]) -> pd.Series[Any]:
    import pandas as pd

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
