"""Turning what a model's ``predict`` returns into an Arrow table with the source file per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

FILE_COLUMN = "file"
PREDICTION_COLUMN = "prediction"


def prediction_columns(raw: Any, rows: int) -> pa.Table:
    """The prediction column(s) of ``raw`` (array, list, Series, DataFrame or dict of columns).

    One-dimensional output is the column ``prediction``; a 2-D array gives ``prediction_0..n``;
    a DataFrame keeps its column names. Raises ``ValueError`` when the row count differs from ``rows``.
    """
    if isinstance(raw, dict):
        raw = pd.DataFrame(raw)
    if isinstance(raw, pd.DataFrame):
        table = pa.Table.from_pandas(raw.rename(columns=str), preserve_index=False)
    elif isinstance(raw, pd.Series):
        table = pa.table({PREDICTION_COLUMN: pa.array(raw.to_numpy())})
    else:
        array = np.asarray(raw)
        if array.ndim == 1:
            table = pa.table({PREDICTION_COLUMN: pa.array(array)})
        elif array.ndim == 2:
            table = pa.table({f"{PREDICTION_COLUMN}_{i}": pa.array(array[:, i]) for i in range(array.shape[1])})
        else:
            raise ValueError(f"predict returned an array of shape {array.shape}; expected 1 or 2 dimensions")
    if table.num_rows != rows:
        raise ValueError(f"predict returned {table.num_rows} rows for {rows} input rows")
    return table


def with_file_column(predictions: pa.Table, names: Sequence[str], counts: Sequence[int]) -> pa.Table:
    """``predictions`` followed by the column ``file``: ``names[i]`` repeated ``counts[i]`` times."""
    files = pa.array(np.repeat(np.asarray(names, dtype=object), np.asarray(counts, dtype=np.int64)), pa.string())
    return predictions.append_column(FILE_COLUMN, files)
