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
from batchpoint.text_excerpts import excerpt

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pqt")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES
CSV_BLOCK_BYTES = 1 << 20
"""pyarrow's CSV block to start with (its default); grown for files with longer rows."""
_MAX_BLOCK_BYTES = 2**31 - 1  # pyarrow's block_size is a 32-bit int


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
    block = block_bytes
    while True:
        try:
            return pa_csv.read_csv(io.BytesIO(data), read_options=pa_csv.ReadOptions(block_size=block))
        except pa.ArrowInvalid as exc:
            whole = min(len(data) + 1, _MAX_BLOCK_BYTES)
            if "straddling object" not in str(exc) or block >= whole:
                raise
            block = min(block * 4, whole)
