"""The local staging copy of a version's predictions file, appended to as mini-batches finish.

Azure's MLflow no-code form: comma-separated, no header, three columns per row: the row's index
within its input file (0-based), the prediction, the input's file name. Azure writes the prediction
"as returned by the model's ``predict()``", one cell per row, so a model with several outputs
(a 2-D array such as ``predict_proba``'s, a DataFrame or a dict of columns) still gives three
columns: its row's outputs as one JSON cell, a list (``[0.1, 0.9]``) for a 2-D array and an
object (``{"label": "a", "score": 0.9}``) for named outputs, quoted as CSV needs. Azure's notebooks
read either back with ``pd.read_csv(path, names=["row", "prediction", "file"])``; the typed
columns are in the lineage Parquet beside it (``outputs/lineage.py``).

``pyarrow.csv.write_csv``: ~7 M rows/s on big tables and 0.14 ms per small one, where
``DataFrame.to_csv`` is 1.7-10x slower (STACK_NOTES). Packing several outputs into JSON cells is
per row in Python, so it is the slow case; single-output models never take it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

AZURE_COLUMNS = ("row", "prediction", "file")
FILE_COLUMN = "file"
# A 2-D array's columns, as ``scoring/predictions.py`` names them: written as a JSON list per row.
_POSITIONAL = re.compile(r"prediction_\d+")
# Values containing these need quotes; others are written bare, as Azure writes them.
_NEEDS_QUOTES = r'[,"\r\n]'
_BARE = pa_csv.WriteOptions(include_header=False, quoting_style="none")
_QUOTED = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


class PredictionsFile:
    """Append-only CSV writer over a local file in Azure's three-column form; counts the rows."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self.columns: tuple[str, ...] = ()
        self._out = path.open("wb")

    def append(self, predictions: pa.Table, row_index: pa.Array | np.ndarray[Any, Any]) -> None:
        """Write ``predictions`` (prediction column(s), then ``file``) with ``row_index`` first."""
        table = azure_table(predictions, row_index)
        self.columns = AZURE_COLUMNS
        pa_csv.write_csv(table, self._out, _QUOTED if _needs_quotes(table) else _BARE)
        self.rows += table.num_rows

    def close(self) -> None:
        """Flush and close the file."""
        self._out.close()

    def __enter__(self) -> PredictionsFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def row_positions(counts: Sequence[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each row's 0-based index within its file, for files of ``counts`` rows laid end to end."""
    if not counts:
        return np.array([], np.int64)
    return np.concatenate([np.arange(c, dtype=np.int64) for c in counts])


def azure_table(predictions: pa.Table, row_index: pa.Array | np.ndarray[Any, Any]) -> pa.Table:
    """``row``, ``prediction`` (one cell per row), ``file`` from the scorer's columns.

    Raises ``ValueError`` when ``row_index`` does not have one entry per row, or there is no ``file``
    column or no prediction column.
    """
    if len(row_index) != predictions.num_rows:
        raise ValueError(f"{predictions.num_rows} prediction rows but {len(row_index)} row indexes")
    if FILE_COLUMN not in predictions.column_names or predictions.num_columns < 2:
        raise ValueError(f"expected prediction column(s) then {FILE_COLUMN!r}, got {predictions.column_names}")
    outputs = predictions.drop_columns([FILE_COLUMN])
    return pa.table(
        {
            "row": pa.array(row_index, pa.int64()),
            "prediction": prediction_cells(outputs),
            FILE_COLUMN: predictions[FILE_COLUMN],
        }
    )


def prediction_cells(outputs: pa.Table) -> pa.ChunkedArray | pa.Array:
    """One value per row: the one output as it is, or the row's outputs as a JSON list or object."""
    if outputs.num_columns == 1 and not _nested(outputs.schema.field(0).type):
        return outputs.column(0)
    names = outputs.column_names
    positional = outputs.num_columns > 1 and all(_POSITIONAL.fullmatch(n) for n in names)
    if outputs.num_columns == 1:
        cells = [_json(v) for v in outputs.column(0).to_pylist()]
    elif positional:
        cells = [_json([row[n] for n in names]) for row in outputs.to_pylist()]
    else:
        cells = [_json(row) for row in outputs.to_pylist()]
    return pa.array(cells, pa.string())


def _json(value: object) -> str:
    # default=str: timestamps, decimals and bytes become their text rather than failing the job.
    return json.dumps(value, default=str)


def _nested(kind: pa.DataType) -> bool:
    return bool(pa.types.is_nested(kind))


def _needs_quotes(table: pa.Table) -> bool:
    return any(
        (pa.types.is_string(column.type) or pa.types.is_large_string(column.type))
        and bool(pc.any(pc.match_substring_regex(column, _NEEDS_QUOTES)).as_py())
        for column in table.columns
    )
