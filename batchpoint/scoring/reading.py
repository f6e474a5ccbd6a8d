"""Reading one input file (CSV or Parquet, as the MLflow no-code path accepts) into a DataFrame.

pyarrow's readers: its CSV parser is several times faster than ``pandas.read_csv``.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from batchpoint.errors import InputFileError

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pqt")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES


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
    kind = file_format(name)
    if not data or data.isspace():
        raise InputFileError(name, "the file is empty (0 bytes of data)")
    try:
        table = pa_csv.read_csv(io.BytesIO(data)) if kind == "csv" else pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        # ArrowInvalid names the line and column; keep it, it is what the user needs to fix.
        raise InputFileError(name, f"cannot be read as {kind.upper()}: {exc}") from exc
    return table.to_pandas()
